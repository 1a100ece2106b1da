package licenses

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/webhook"
)

func licenseEvent() provider.Event {
	return provider.Event{
		Type: provider.LicenseRequested, ProviderEventID: "18304429:12:21976543", SessionID: "cs_lic",
		RawType: "LicenseRequested", Data: map[string]string{"order_id": "18304429", "custom_license_info": "edition=pro"},
	}
}

// keygenServer is a merchant's key generator that verifies the signature
// and answers with handler.
type keygenServer struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	got    []request
	ids    []string
}

func newKeygen(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) *keygenServer {
	t.Helper()
	k := &keygenServer{secret: webhook.NewSecret()}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(webhook.ProfileStandard, []string{k.secret}, r.Header, body, 0); err != nil {
			http.Error(w, "bad signature: "+err.Error(), http.StatusUnauthorized)
			return
		}
		var req request
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		k.mu.Lock()
		k.got = append(k.got, req)
		k.ids = append(k.ids, r.Header.Get(webhook.HeaderID))
		k.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(k.Close)
	return k
}

func (k *keygenServer) targets() Targets {
	return TargetsFunc(func(_ context.Context, providerID string, ev provider.Event) (Target, error) {
		if providerID != "paypro" || ev.SessionID != "cs_lic" {
			return Target{}, domain.NotFound("license target")
		}
		return Target{URL: k.URL, Secrets: []string{k.secret}}, nil
	})
}

func newTestKeygen(t *testing.T, targets Targets, timeout time.Duration) *Keygen {
	t.Helper()
	kg, err := New(targets, Options{Timeout: timeout, AllowPrivateTargets: true})
	if err != nil {
		t.Fatal(err)
	}
	return kg
}

func TestIssue(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	cases := []struct {
		name     string
		handler  func(w http.ResponseWriter, r *http.Request)
		want     int
		wantBody string
	}{
		{"success", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "SYPRO-AAAA-BBBB\r\n") }, http.StatusOK, "SYPRO-AAAA-BBBB\r\n"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}, http.StatusGatewayTimeout, "license key generator timed out"},
		{"500", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "db down: secret stack trace", 500) }, http.StatusBadGateway, "license key generator answered 500"},
		{"empty key", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, " \n") }, http.StatusBadGateway, "license key generator answered no key"},
		{"huge key", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, strings.Repeat("k", DefaultMaxKey+1)) }, http.StatusBadGateway, "license key generator answer too large"},
		{"redirect not followed to a key", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }, http.StatusBadGateway, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newKeygen(t, tc.handler)
			kg := newTestKeygen(t, srv.targets(), 300*time.Millisecond)
			resp := kg.Issue(context.Background(), "paypro", licenseEvent())
			if resp.Status != tc.want {
				t.Fatalf("status %d %q, want %d", resp.Status, resp.Body, tc.want)
			}
			if tc.wantBody != "" && string(resp.Body) != tc.wantBody {
				t.Errorf("body %q, want %q", resp.Body, tc.wantBody)
			}
			if resp.Headers.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Errorf("content type %q", resp.Headers.Get("Content-Type"))
			}
			if strings.Contains(string(resp.Body), "secret stack trace") {
				t.Error("the merchant's error body reached the provider")
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if len(srv.got) == 0 {
				t.Fatal("key generator was not called (or the signature did not verify)")
			}
			got := srv.got[0]
			if got.Event != EventType || got.Provider != "paypro" || got.SessionID != "cs_lic" || got.Data["custom_license_info"] != "edition=pro" {
				t.Errorf("request %+v", got)
			}
		})
	}
}

func TestIssueMessageIDStable(t *testing.T) {
	srv := newKeygen(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "K") })
	kg := newTestKeygen(t, srv.targets(), time.Second)
	for range 2 {
		if r := kg.Issue(context.Background(), "paypro", licenseEvent()); r.Status != http.StatusOK {
			t.Fatalf("status %d", r.Status)
		}
	}
	other := licenseEvent()
	other.ProviderEventID = "18304430:12:1"
	kg.Issue(context.Background(), "paypro", other)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.ids) != 3 || srv.ids[0] != srv.ids[1] || srv.ids[0] == srv.ids[2] || srv.ids[0] != MessageID("paypro", licenseEvent()) {
		t.Errorf("webhook ids %v: a retry must reuse the id, another order must not", srv.ids)
	}
}

func TestIssueWithoutTarget(t *testing.T) {
	kg := newTestKeygen(t, TargetsFunc(func(context.Context, string, provider.Event) (Target, error) {
		return Target{}, domain.NotFound("license target")
	}), time.Second)
	if r := kg.Issue(context.Background(), "paypro", licenseEvent()); r.Status != http.StatusServiceUnavailable {
		t.Errorf("no target: %d", r.Status)
	}
	kg = newTestKeygen(t, TargetsFunc(func(context.Context, string, provider.Event) (Target, error) {
		return Target{URL: "http://127.0.0.1:1/keygen"}, nil // no secret
	}), time.Second)
	if r := kg.Issue(context.Background(), "paypro", licenseEvent()); r.Status != http.StatusServiceUnavailable {
		t.Errorf("unsigned target: %d", r.Status)
	}
}

func TestIssueRefusesInternalTargetsByDefault(t *testing.T) {
	srv := newKeygen(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "K") })
	kg, err := New(srv.targets(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := kg.Issue(context.Background(), "paypro", licenseEvent()); r.Status != http.StatusBadGateway {
		t.Errorf("loopback keygen with the default client: %d, want 502", r.Status)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.got) != 0 {
		t.Error("the guard let a request through to loopback")
	}
}

func TestNewOptions(t *testing.T) {
	for _, d := range []time.Duration{-time.Second, MaxTimeout + time.Second} {
		if _, err := New(TargetsFunc(nil), Options{Timeout: d}); err == nil {
			t.Errorf("timeout %s accepted", d)
		}
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("nil targets accepted")
	}
	for _, c := range []struct{ in, want time.Duration }{{0, DefaultTimeout}, {3 * time.Second, 3 * time.Second}, {MaxTimeout, MaxTimeout}} {
		k, err := New(TargetsFunc(nil), Options{Timeout: c.in})
		if err != nil || k.Timeout() != c.want {
			t.Errorf("Timeout %s: got %v, %v; want %s", c.in, k, err, c.want)
		}
	}
}

// The config validates licenses.timeout against its own copy of the bound
// (it cannot import this package); a value it accepts must be one New
// accepts, and the default must agree.
func TestMaxTimeoutMatchesConfig(t *testing.T) {
	if config.LicensesMaxTimeout != MaxTimeout {
		t.Errorf("config.LicensesMaxTimeout = %s, licenses.MaxTimeout = %s", config.LicensesMaxTimeout, MaxTimeout)
	}
	if d := config.Defaults().Licenses.Timeout; d != DefaultTimeout {
		t.Errorf("config default licenses.timeout = %s, licenses.DefaultTimeout = %s", d, DefaultTimeout)
	}
}

// fakeProvider answers every webhook with out.
type fakeProvider struct {
	provider.Client
	out provider.WebhookResponse
}

func (f fakeProvider) HandleWebhook(context.Context, provider.WebhookRequest) (provider.WebhookResponse, error) {
	return f.out, nil
}

func TestWrap(t *testing.T) {
	ok := newKeygen(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "KEY-1") })
	failing := newKeygen(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", 500) })
	pluginAnswer := provider.WebhookResponse{
		Events:   []provider.Event{licenseEvent()},
		Response: provider.HTTPResponse{Status: http.StatusServiceUnavailable, Body: []byte("license key not available")},
	}
	t.Run("key issued", func(t *testing.T) {
		p := Wrap("paypro", fakeProvider{out: pluginAnswer}, newTestKeygen(t, ok.targets(), time.Second))
		out, err := p.HandleWebhook(context.Background(), provider.WebhookRequest{})
		if err != nil || out.Response.Status != http.StatusOK || string(out.Response.Body) != "KEY-1" || len(out.Events) != 1 {
			t.Errorf("%+v %v", out, err)
		}
	})
	t.Run("keygen fails", func(t *testing.T) {
		p := Wrap("paypro", fakeProvider{out: pluginAnswer}, newTestKeygen(t, failing.targets(), time.Second))
		out, err := p.HandleWebhook(context.Background(), provider.WebhookRequest{})
		if err != nil || out.Response.Status != http.StatusBadGateway || len(out.Events) != 0 {
			t.Errorf("%+v %v", out, err)
		}
	})
	t.Run("other webhooks untouched", func(t *testing.T) {
		fresh := newKeygen(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "KEY-2") })
		plain := provider.WebhookResponse{Events: []provider.Event{{Type: provider.PaymentSucceeded}}, Response: provider.HTTPResponse{Status: 200, Body: []byte("OK")}}
		p := Wrap("paypro", fakeProvider{out: plain}, newTestKeygen(t, fresh.targets(), time.Second))
		out, _ := p.HandleWebhook(context.Background(), provider.WebhookRequest{})
		if string(out.Response.Body) != "OK" || len(out.Events) != 1 {
			t.Errorf("%+v", out)
		}
		fresh.mu.Lock()
		defer fresh.mu.Unlock()
		if len(fresh.got) != 0 {
			t.Error("keygen called for a non-license webhook")
		}
	})
}
