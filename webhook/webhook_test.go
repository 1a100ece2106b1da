package webhook_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/webhook"
)

// The vectors below were computed outside Go (openssl dgst -hmac and a
// Python hmac one-liner), so a bug shared by Sign and Verify cannot hide.
const (
	vecBody   = `{"id":"evt_01HX4R0000000000000000000","event":"session.paid","created_at":"2026-04-18T14:22:11Z","tenant_id":42,"sequence":2,"data":{}}`
	vecSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	vecID     = "evt_01HX4R0000000000000000000"
	vecTS     = 1713450131

	vecBodyHex  = "c065596759454293f9146996c42d9753cc72f129822af93037805f857614929e"
	vecPGAppHex = "19e381a28f961ffecf6783ed0b49b760b80be4689f6fc0b2544bcdc6d147f6f7"
	vecStandard = "v1,psy+wL2o6AAYdn4oeAka5jWSbbVNDUf1jZqOsgr/Xlk="
)

// TestStandardWebhooksPublishedVector is the test vector published by the
// Standard Webhooks project (libraries/go/webhook_test.go, TestWebhookSign).
func TestStandardWebhooksPublishedVector(t *testing.T) {
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	at := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	h, err := webhook.Sign(webhook.ProfileStandard, []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "msg_p5jXN8AQM9LWM0D4loKWxJek", at, body)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("webhook-signature"); got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
	// The spec's secrets work with or without the whsec_ prefix.
	for _, secret := range []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		hdr := http.Header{}
		hdr.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
		hdr.Set("webhook-timestamp", "1614265330")
		hdr.Set("webhook-signature", want)
		if err := webhook.VerifyAt(at.Add(time.Minute), webhook.ProfileStandard, []string{secret}, hdr, body, 0); err != nil {
			t.Errorf("verify with %q: %v", secret[:8], err)
		}
	}
}

func TestSignMatchesIndependentVectors(t *testing.T) {
	at := time.Unix(vecTS, 0)
	tests := []struct {
		profile string
		header  string
		want    string
	}{
		{webhook.ProfileStandard, "webhook-signature", vecStandard},
		{webhook.ProfilePROE, "X-PROE-Signature", vecBodyHex},
		{webhook.ProfilePGApp, "X-Signature-HMAC-SHA256", vecPGAppHex},
		{webhook.ProfilePGApp, "X-Signature-Timestamp", "1713450131"},
		{webhook.ProfileEcomtrade, "X-Signature", "sha256=" + vecBodyHex},
	}
	for _, tc := range tests {
		t.Run(tc.profile+"/"+tc.header, func(t *testing.T) {
			h, err := webhook.Sign(tc.profile, []string{vecSecret}, vecID, at, []byte(vecBody))
			if err != nil {
				t.Fatal(err)
			}
			if got := h.Get(tc.header); got != tc.want {
				t.Fatalf("%s = %q, want %q", tc.header, got, tc.want)
			}
			if h.Get("webhook-id") != vecID || h.Get("webhook-timestamp") != "1713450131" {
				t.Errorf("id/timestamp headers: %v", h)
			}
		})
	}
}

func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestVerify(t *testing.T) {
	at := time.Unix(vecTS, 0)
	body := []byte(vecBody)
	other := webhook.NewSecret()
	stdHdr := func(sig string) http.Header {
		return headers("webhook-id", vecID, "webhook-timestamp", "1713450131", "webhook-signature", sig)
	}
	tests := []struct {
		name    string
		profile string
		secrets []string
		hdr     http.Header
		body    []byte
		now     time.Time
		wantErr error
	}{
		{"standard ok", webhook.ProfileStandard, []string{vecSecret}, stdHdr(vecStandard), body, at, nil},
		{"standard rotated: old secret listed second", webhook.ProfileStandard, []string{other, vecSecret}, stdHdr(vecStandard), body, at, nil},
		{"standard several signatures, one valid", webhook.ProfileStandard, []string{vecSecret},
			stdHdr("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,xyz " + vecStandard), body, at, nil},
		{"standard wrong secret", webhook.ProfileStandard, []string{other}, stdHdr(vecStandard), body, at, webhook.ErrInvalidSignature},
		{"standard altered body", webhook.ProfileStandard, []string{vecSecret}, stdHdr(vecStandard), append([]byte(vecBody), ' '), at, webhook.ErrInvalidSignature},
		{"standard other id", webhook.ProfileStandard, []string{vecSecret},
			headers("webhook-id", "evt_other", "webhook-timestamp", "1713450131", "webhook-signature", vecStandard), body, at, webhook.ErrInvalidSignature},
		{"standard signature version v2 only", webhook.ProfileStandard, []string{vecSecret}, stdHdr("v2," + strings.TrimPrefix(vecStandard, "v1,")), body, at, webhook.ErrInvalidSignature},
		{"standard too old", webhook.ProfileStandard, []string{vecSecret}, stdHdr(vecStandard), body, at.Add(5*time.Minute + time.Second), webhook.ErrTimestamp},
		{"standard too new", webhook.ProfileStandard, []string{vecSecret}, stdHdr(vecStandard), body, at.Add(-5*time.Minute - time.Second), webhook.ErrTimestamp},
		{"standard missing id", webhook.ProfileStandard, []string{vecSecret},
			headers("webhook-timestamp", "1713450131", "webhook-signature", vecStandard), body, at, webhook.ErrMissingHeader},
		{"standard garbage timestamp", webhook.ProfileStandard, []string{vecSecret},
			headers("webhook-id", vecID, "webhook-timestamp", "soon", "webhook-signature", vecStandard), body, at, webhook.ErrTimestamp},
		{"standard secret not base64", webhook.ProfileStandard, []string{"whsec_!!"}, stdHdr(vecStandard), body, at, webhook.ErrNoSecret},

		{"proe ok", webhook.ProfilePROE, []string{vecSecret}, headers("X-PROE-Signature", vecBodyHex), body, at, nil},
		{"proe uppercase hex ok", webhook.ProfilePROE, []string{vecSecret}, headers("X-PROE-Signature", strings.ToUpper(vecBodyHex)), body, at, nil},
		{"proe no timestamp check", webhook.ProfilePROE, []string{vecSecret}, headers("X-PROE-Signature", vecBodyHex), body, at.Add(24 * time.Hour), nil},
		{"proe wrong", webhook.ProfilePROE, []string{other}, headers("X-PROE-Signature", vecBodyHex), body, at, webhook.ErrInvalidSignature},
		{"proe missing", webhook.ProfilePROE, []string{vecSecret}, headers("X-Signature", vecBodyHex), body, at, webhook.ErrMissingHeader},

		{"pgapp ok", webhook.ProfilePGApp, []string{vecSecret},
			headers("X-Signature-Timestamp", "1713450131", "X-Signature-HMAC-SHA256", vecPGAppHex), body, at, nil},
		{"pgapp timestamp swapped", webhook.ProfilePGApp, []string{vecSecret},
			headers("X-Signature-Timestamp", "1713450132", "X-Signature-HMAC-SHA256", vecPGAppHex), body, at, webhook.ErrInvalidSignature},
		{"pgapp stale", webhook.ProfilePGApp, []string{vecSecret},
			headers("X-Signature-Timestamp", "1713450131", "X-Signature-HMAC-SHA256", vecPGAppHex), body, at.Add(time.Hour), webhook.ErrTimestamp},
		{"pgapp body-only signature refused", webhook.ProfilePGApp, []string{vecSecret},
			headers("X-Signature-Timestamp", "1713450131", "X-Signature-HMAC-SHA256", vecBodyHex), body, at, webhook.ErrInvalidSignature},

		{"ecomtrade ok", webhook.ProfileEcomtrade, []string{vecSecret}, headers("X-Signature", "sha256="+vecBodyHex), body, at, nil},
		{"ecomtrade bare hex ok", webhook.ProfileEcomtrade, []string{vecSecret}, headers("X-Signature", vecBodyHex), body, at, nil},
		{"ecomtrade alias header", webhook.ProfileEcomtrade, []string{vecSecret}, headers("X-Ecomtrade24-Signature", "sha256="+vecBodyHex), body, at, nil},
		{"ecomtrade webhook alias", webhook.ProfileEcomtrade, []string{vecSecret}, headers("X-Webhook-Signature", vecBodyHex), body, at, nil},
		{"ecomtrade wrong", webhook.ProfileEcomtrade, []string{vecSecret}, headers("X-Signature", "sha256="+vecPGAppHex), body, at, webhook.ErrInvalidSignature},

		{"unknown profile", "hmac", []string{vecSecret}, headers(), body, at, webhook.ErrUnknownProfile},
		{"no secrets", webhook.ProfilePROE, []string{""}, headers("X-PROE-Signature", vecBodyHex), body, at, webhook.ErrNoSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.VerifyAt(tc.now, tc.profile, tc.secrets, tc.hdr, tc.body, 0)
			if tc.wantErr == nil && err != nil {
				t.Fatalf("want ok, got %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("want %v, got %v", tc.wantErr, err)
			}
		})
	}
}

func TestRotationSignsWithEverySecret(t *testing.T) {
	oldS, newS := webhook.NewSecret(), webhook.NewSecret()
	at := time.Now()
	body := []byte(`{"id":"evt_1"}`)
	h, err := webhook.Sign(webhook.ProfileStandard, []string{newS, oldS}, "evt_1", at, body)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(h.Get("webhook-signature"))); n != 2 {
		t.Fatalf("want 2 signatures, got %d: %q", n, h.Get("webhook-signature"))
	}
	for _, s := range []string{oldS, newS} {
		if err := webhook.Verify(webhook.ProfileStandard, []string{s}, h, body, time.Minute); err != nil {
			t.Errorf("receiver holding one of the secrets: %v", err)
		}
	}
}

func TestEverySignedProfileVerifies(t *testing.T) {
	secret := webhook.NewSecret()
	if !strings.HasPrefix(secret, "whsec_") || len(secret) != len("whsec_")+44 {
		t.Fatalf("secret shape %q", secret)
	}
	body := []byte(`{"x":1}`)
	for _, p := range webhook.Profiles() {
		if !webhook.ValidProfile(p) {
			t.Fatalf("%s not valid", p)
		}
		h, err := webhook.Sign(p, []string{secret}, "evt_x", time.Now(), body)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if err := webhook.Verify(p, []string{secret}, h, body, 0); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if webhook.ValidProfile("hmac") {
		t.Error("unknown profile accepted")
	}
}
