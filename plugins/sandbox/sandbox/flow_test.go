package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

const base = "https://pay.switchyard.test"

// clock is a settable clock safe to read from the plugin's goroutines.
type clock struct{ unix atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(c.unix.Load(), 0) }
func (c *clock) advance(d time.Duration) { c.unix.Add(int64(d / time.Second)) }

func newClock() *clock {
	c := &clock{}
	c.unix.Store(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC).Unix())
	return c
}

// configured returns the host's view of a configured sandbox.
func configured(t *testing.T, c *clock) provider.Client {
	t.Helper()
	p := sdktest.ProviderClient(t, sandbox.New(sandbox.WithClock(c.now)))
	if err := p.Configure(context.Background(), settings()); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return p
}

func paymentRequest(session string) provider.CreatePaymentRequest {
	return provider.CreatePaymentRequest{
		SessionID: session, AttemptID: session + "_a", IdempotencyKey: session + "_a",
		Amount: 4995, Currency: "USD", Method: "card",
		ReturnURL:       base + "/checkout/" + session + "/return",
		WebhookURL:      base + "/hooks/sandbox/prv_1",
		ProviderBaseURL: base + "/p/prv_1",
	}
}

// payPage follows the redirect of CreatePayment into HandleHTTP, as the
// host does for /p/{provider_id}/…, and returns the page.
func payPage(t *testing.T, p provider.Client, resp provider.CreatePaymentResponse) provider.HTTPResponse {
	t.Helper()
	u, err := url.Parse(resp.NextAction.URL)
	if err != nil {
		t.Fatalf("redirect URL: %v", err)
	}
	path, ok := strings.CutPrefix(u.Path, "/p/prv_1")
	if !ok {
		t.Fatalf("redirect %q is not under the provider base", resp.NextAction.URL)
	}
	page, err := p.HandleHTTP(context.Background(), provider.HTTPRequest{
		Method: http.MethodGet, Path: path, Query: u.RawQuery, BaseURL: base + "/p/prv_1",
	})
	if err != nil {
		t.Fatalf("HandleHTTP: %v", err)
	}
	return page
}

type form struct {
	action, button string
	values         url.Values
}

// forms extracts the forms of an HTML page the way a browser submits them.
func forms(t *testing.T, body []byte) []form {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	var out []form
	var walk func(n *html.Node, f *form)
	walk = func(n *html.Node, f *form) {
		if n.Type == html.ElementNode {
			attr := func(k string) string {
				for _, a := range n.Attr {
					if a.Key == k {
						return a.Val
					}
				}
				return ""
			}
			switch n.Data {
			case "form":
				out = append(out, form{action: attr("action"), values: url.Values{}})
				f = &out[len(out)-1]
				if attr("method") != "post" {
					t.Errorf("form method %q, want post", attr("method"))
				}
			case "input":
				if f != nil {
					f.values.Add(attr("name"), attr("value"))
				}
			case "button":
				if f != nil && n.FirstChild != nil {
					f.button = n.FirstChild.Data
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, f)
		}
	}
	walk(doc, nil)
	return out
}

func post(t *testing.T, p provider.Client, values url.Values) provider.WebhookResponse {
	t.Helper()
	resp, err := p.HandleWebhook(context.Background(), provider.WebhookRequest{
		Method: http.MethodPost, Path: "/hooks/sandbox/prv_1",
		Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body:    []byte(values.Encode()), RemoteAddr: "198.51.100.4:1234",
	})
	if err != nil {
		t.Fatalf("HandleWebhook: %v", err)
	}
	return resp
}

func choiceForm(t *testing.T, fs []form, choice string) form {
	t.Helper()
	for _, f := range fs {
		if f.values.Get("choice") == choice {
			return f
		}
	}
	t.Fatalf("pay page has no form for %q", choice)
	return form{}
}

func TestPayPageChoices(t *testing.T) {
	cases := []struct {
		choice     string
		wantEvents []provider.EventType
		wantStatus provider.PaymentStatus
	}{
		{sandbox.ChoiceSucceed, []provider.EventType{provider.PaymentSucceeded}, provider.StatusSucceeded},
		{sandbox.ChoiceDecline, []provider.EventType{provider.PaymentFailed}, provider.StatusFailed},
		{sandbox.ChoiceProcessingThenSucceed, []provider.EventType{provider.PaymentProcessing, provider.PaymentSucceeded}, provider.StatusSucceeded},
	}
	for _, tc := range cases {
		t.Run(tc.choice, func(t *testing.T) {
			c := newClock()
			p := configured(t, c)
			req := paymentRequest("cs_" + tc.choice)
			created, err := p.CreatePayment(context.Background(), req)
			if err != nil {
				t.Fatalf("CreatePayment: %v", err)
			}
			page := payPage(t, p, created)
			if page.Status != http.StatusOK {
				t.Fatalf("pay page status %d: %s", page.Status, page.Body)
			}
			fs := forms(t, page.Body)
			if len(fs) != 3 {
				t.Fatalf("pay page has %d forms, want 3", len(fs))
			}
			f := choiceForm(t, fs, tc.choice)
			if f.action != req.WebhookURL {
				t.Errorf("form action %q, want the webhook URL %q", f.action, req.WebhookURL)
			}
			if f.button == "" {
				t.Error("form has no labelled button")
			}

			c.advance(2 * time.Minute) // the shopper reads the page
			resp := post(t, p, f.values)
			if resp.Response.Status != http.StatusSeeOther || resp.Response.Headers.Get("Location") != req.ReturnURL {
				t.Errorf("response %d Location %q, want 303 to %q", resp.Response.Status, resp.Response.Headers.Get("Location"), req.ReturnURL)
			}
			if len(resp.Events) != len(tc.wantEvents) {
				t.Fatalf("events %+v, want types %v", resp.Events, tc.wantEvents)
			}
			for i, e := range resp.Events {
				if e.Type != tc.wantEvents[i] {
					t.Errorf("event %d: type %s, want %s", i, e.Type, tc.wantEvents[i])
				}
				if e.ProviderRef != created.ProviderRef || e.SessionID != req.SessionID || e.Amount != req.Amount || e.Currency != req.Currency {
					t.Errorf("event %d: %+v does not describe the payment", i, e)
				}
				if i > 0 && !e.OccurredAt.After(resp.Events[i-1].OccurredAt) {
					t.Errorf("event %d does not occur after event %d", i, i-1)
				}
			}

			// A double submit yields the same event ids, so the host
			// de-duplicates it.
			again := post(t, p, f.values)
			for i := range again.Events {
				if again.Events[i].ProviderEventID != resp.Events[i].ProviderEventID {
					t.Errorf("resubmitted event %d has a new id", i)
				}
			}

			got, err := p.GetPayment(context.Background(), provider.GetPaymentRequest{ProviderRef: created.ProviderRef})
			if err != nil {
				t.Fatalf("GetPayment: %v", err)
			}
			if got.Status != tc.wantStatus {
				t.Errorf("GetPayment status %s, want %s", got.Status, tc.wantStatus)
			}
		})
	}
}

func TestCallbackRejected(t *testing.T) {
	c := newClock()
	p := configured(t, c)
	created, err := p.CreatePayment(context.Background(), paymentRequest("cs_reject"))
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	valid := choiceForm(t, forms(t, payPage(t, p, created).Body), sandbox.ChoiceSucceed).values

	cases := []struct {
		name   string
		mutate func(v url.Values)
		age    time.Duration
	}{
		{"amount changed", func(v url.Values) { v.Set("amount", "1") }, 0},
		{"choice changed", func(v url.Values) { v.Set("choice", sandbox.ChoiceDecline) }, 0},
		{"session changed", func(v url.Values) { v.Set("session_id", "cs_other") }, 0},
		{"return url changed", func(v url.Values) { v.Set("return_url", "https://evil.test/") }, 0},
		{"signature removed", func(v url.Values) { v.Del("sig") }, 0},
		{"extra field", func(v url.Values) { v.Add("amount", "1") }, 0},
		{"expired", func(url.Values) {}, 2 * time.Hour},
		{"signed with another secret", func(v url.Values) {
			cb := sandbox.Callback{Choice: "succeed", Ref: v.Get("ref"), SessionID: v.Get("session_id"), Amount: 4995, Currency: "USD", TS: c.now()}
			for k, vs := range sandbox.SignCallback("some-other-secret-0123456789", cb) {
				v[k] = vs
			}
		}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{}
			for k, vs := range valid {
				v[k] = append([]string(nil), vs...)
			}
			tc.mutate(v)
			c.advance(tc.age)
			defer c.advance(-tc.age)
			resp := post(t, p, v)
			if resp.Response.Status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.Response.Status)
			}
			if len(resp.Events) != 0 {
				t.Errorf("rejected callback produced events: %+v", resp.Events)
			}
		})
	}

	// The untouched form is still accepted: the rejections above are about
	// the changes, not about the form.
	if resp := post(t, p, valid); len(resp.Events) != 1 {
		t.Errorf("valid callback: %d events, want 1", len(resp.Events))
	}
}

func TestPayLinkTampered(t *testing.T) {
	p := configured(t, newClock())
	created, err := p.CreatePayment(context.Background(), paymentRequest("cs_link"))
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	u, _ := url.Parse(created.NextAction.URL)
	q := u.Query()
	q.Set("amount", "1")
	u.RawQuery = q.Encode()
	page := payPage(t, p, provider.CreatePaymentResponse{NextAction: provider.NextAction{URL: u.String()}})
	if page.Status != http.StatusBadRequest {
		t.Errorf("tampered pay link: status %d, want 400", page.Status)
	}
	if len(forms(t, page.Body)) != 0 {
		t.Error("tampered pay link still offers payment forms")
	}
}

func TestRefunds(t *testing.T) {
	c := newClock()
	p := configured(t, c)
	ctx := context.Background()
	created, err := p.CreatePayment(ctx, paymentRequest("cs_refund"))
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	ref := created.ProviderRef

	_, err = p.Refund(ctx, provider.RefundRequest{ProviderRef: ref, IdempotencyKey: "r0"})
	if sdk.CategoryOf(err) != sdk.CategoryInvalidInput {
		t.Errorf("refund of an unpaid payment: %v, want invalid input", err)
	}

	post(t, p, choiceForm(t, forms(t, payPage(t, p, created).Body), sandbox.ChoiceSucceed).values)

	steps := []struct {
		name       string
		req        provider.RefundRequest
		wantAmount int64
		wantCat    sdk.Category
	}{
		{"partial", provider.RefundRequest{ProviderRef: ref, Amount: 1000, Currency: "USD", IdempotencyKey: "r1"}, 1000, ""},
		{"partial replayed", provider.RefundRequest{ProviderRef: ref, Amount: 1000, Currency: "USD", IdempotencyKey: "r1"}, 1000, ""},
		{"too much", provider.RefundRequest{ProviderRef: ref, Amount: 5000, IdempotencyKey: "r2"}, 0, sdk.CategoryInvalidInput},
		{"wrong currency", provider.RefundRequest{ProviderRef: ref, Amount: 10, Currency: "EUR", IdempotencyKey: "r3"}, 0, sdk.CategoryInvalidInput},
		{"rest", provider.RefundRequest{ProviderRef: ref, IdempotencyKey: "r4"}, 3995, ""},
		{"nothing left", provider.RefundRequest{ProviderRef: ref, IdempotencyKey: "r5"}, 0, sdk.CategoryInvalidInput},
		{"unknown payment", provider.RefundRequest{ProviderRef: "sbx_nope", IdempotencyKey: "r6"}, 0, sdk.CategoryNotFound},
	}
	var first string
	for _, s := range steps {
		res, err := p.Refund(ctx, s.req)
		if got := sdk.CategoryOf(err); got != s.wantCat {
			t.Fatalf("%s: error %v, want category %q", s.name, err, s.wantCat)
		}
		if err != nil {
			continue
		}
		if res.Amount != s.wantAmount || res.Status != provider.RefundSucceeded {
			t.Errorf("%s: %+v, want %d succeeded", s.name, res, s.wantAmount)
		}
		switch s.name {
		case "partial":
			first = res.RefundRef
		case "partial replayed":
			if res.RefundRef != first {
				t.Errorf("replayed refund got a new ref %q, want %q", res.RefundRef, first)
			}
		}
	}
	got, err := p.GetPayment(ctx, provider.GetPaymentRequest{ProviderRef: ref})
	if err != nil || got.AmountRefunded != 4995 {
		t.Errorf("GetPayment after refunds: %+v %v, want 4995 refunded", got, err)
	}
}

func TestConfigureRejects(t *testing.T) {
	cases := []struct {
		name     string
		settings map[string]string
		field    string
	}{
		{"no secret", map[string]string{}, sandbox.SettingSigningSecret},
		{"short secret", map[string]string{sandbox.SettingSigningSecret: "short"}, sandbox.SettingSigningSecret},
		{"bad ttl", map[string]string{sandbox.SettingSigningSecret: secret, sandbox.SettingCallbackTTL: "soon"}, sandbox.SettingCallbackTTL},
		{"unknown key", map[string]string{sandbox.SettingSigningSecret: secret, "api_key": "x"}, "api_key"},
	}
	p := sdktest.ProviderClient(t, sandbox.New())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Configure(context.Background(), tc.settings)
			e, ok := sdk.AsError(err)
			if !ok || e.Category != sdk.CategoryInvalidInput || e.Field != tc.field {
				t.Fatalf("Configure: %v, want invalid input on field %s", err, tc.field)
			}
			if strings.Contains(err.Error(), secret) {
				t.Error("error message leaks the signing secret")
			}
		})
	}
	// Unconfigured, the sandbox reports itself down and refuses payments.
	h, err := p.CheckHealth(context.Background())
	if err != nil || h.Status != "down" {
		t.Errorf("CheckHealth unconfigured: %+v %v", h, err)
	}
	_, err = p.CreatePayment(context.Background(), paymentRequest("cs_unconfigured"))
	if sdk.CategoryOf(err) != sdk.CategoryUnavailable {
		t.Errorf("CreatePayment unconfigured: %v, want unavailable", err)
	}
}

func TestIdempotencyMismatch(t *testing.T) {
	p := configured(t, newClock())
	req := paymentRequest("cs_idem")
	if _, err := p.CreatePayment(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	req.Amount++
	_, err := p.CreatePayment(context.Background(), req)
	var e *sdk.Error
	if !errors.As(err, &e) || e.Code != "idempotency_mismatch" {
		t.Errorf("reused key with another amount: %v, want idempotency_mismatch", err)
	}
}
