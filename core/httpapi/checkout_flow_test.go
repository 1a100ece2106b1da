package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/switchyard/switchyard/core/checkout"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
)

// flowEnv is the checkout, the provider pages and the webhook intake
// mounted over the real payments service, real SQLite and the sandbox
// provider behind the real gRPC adapters, served on a real listener; a
// shopper is played by an HTTP client that follows nothing by itself, so
// every hop is checked.
type flowEnv struct {
	env  *paymentstest.Env
	base string
	c    *http.Client
}

func newFlowEnv(t *testing.T) *flowEnv {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	env := paymentstest.New(t, storetest.SQLite(t), paymentstest.Options{
		BaseURL:   base,
		RealClock: true,
		Instances: []paymentstest.Instance{{
			ID: "sandbox", Impl: sandbox.New(),
			Settings: map[string]string{sandbox.SettingSigningSecret: "flow-test-signing-secret-0123456789"},
		}},
	})
	pages, err := checkout.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = httpapi.New(httpapi.Options{BodyLimit: 1 << 20},
		httpapi.Checkout(env.Service, pages, httpapi.CheckoutOptions{PublicBaseURL: base}),
		httpapi.ProviderHTTP(env.Providers, pages, httpapi.ProviderHTTPOptions{PublicBaseURL: base}),
		httpapi.ProviderHooks(env.Service, httpapi.ProviderHooksOptions{}),
	)
	srv.Start()
	t.Cleanup(srv.Close)
	return &flowEnv{env: env, base: base, c: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (f *flowEnv) principal(t *testing.T, plan domain.Plan) *merchants.Principal {
	t.Helper()
	m := f.env.Merchant(t, plan, "shop.example")
	_, p := f.env.Key(t, m.ID, domain.Mode("test"))
	return p
}

func (f *flowEnv) session(t *testing.T, p *merchants.Principal, order, method string) *payments.SessionView {
	t.Helper()
	resp, err := f.env.Service.CreateSession(context.Background(), p, &payments.CreateSessionRequest{
		Domain: "shop.example", Amount: json.RawMessage(`"49.95"`), Currency: "USD", OrderID: order,
		ReturnURL: "https://shop.example/success", CancelURL: "https://shop.example/cancel", Method: method,
	}, "")
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	var v payments.SessionView
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func (f *flowEnv) status(t *testing.T, p *merchants.Principal, id string) domain.SessionStatus {
	t.Helper()
	v, err := f.env.Service.GetSession(context.Background(), p, id)
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	return v.Status
}

type hop struct {
	status int
	loc    string
	body   string
	doc    *html.Node
}

func (f *flowEnv) do(t *testing.T, method, rawURL string, form url.Values) hop {
	t.Helper()
	if strings.HasPrefix(rawURL, "/") {
		rawURL = f.base + rawURL
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := f.c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := html.Parse(strings.NewReader(string(b)))
	return hop{status: resp.StatusCode, loc: resp.Header.Get("Location"), body: string(b), doc: doc}
}

func (h hop) expect(t *testing.T, status int, texts ...string) {
	t.Helper()
	if h.status != status {
		t.Fatalf("status %d, want %d:\n%s", h.status, status, h.body)
	}
	for _, s := range texts {
		if !strings.Contains(h.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, h.body)
		}
	}
}

// pressSandbox submits the sandbox pay page's form whose button reads
// label, exactly as a browser would.
func (f *flowEnv) pressSandbox(t *testing.T, page hop, label string) hop {
	t.Helper()
	for _, form := range findAll(page.doc, "form") {
		buttons := findAll(form, "button")
		if len(buttons) != 1 || nodeText(buttons[0]) != label {
			continue
		}
		vals := url.Values{}
		for _, in := range findAll(form, "input") {
			vals.Set(attrOf(in, "name"), attrOf(in, "value"))
		}
		return f.do(t, http.MethodPost, attrOf(form, "action"), vals)
	}
	t.Fatalf("sandbox page has no %q button:\n%s", label, page.body)
	return hop{}
}

func findAll(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	if n != nil {
		walk(n)
	}
	return out
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

func TestCheckoutFlowWithSandbox(t *testing.T) {
	f := newFlowEnv(t)
	hosted := f.principal(t, domain.PlanFree)
	smart := f.principal(t, domain.PlanPro)

	t.Run("hosted checkout: choose, succeed, paid", func(t *testing.T) {
		s := f.session(t, hosted, "ORDER-H1", "")
		page := "/checkout/" + s.SessionID
		f.do(t, http.MethodGet, s.CheckoutURL, nil).expect(t, 200, "Choose how to pay", "Card (sandbox)", "USD\u00a049.95", "Shop free")

		pay := f.do(t, http.MethodPost, page+"/pay", url.Values{"method": {"card"}})
		pay.expect(t, http.StatusSeeOther)
		if !strings.HasPrefix(pay.loc, f.base+"/p/sandbox/pay/") {
			t.Fatalf("pay redirected to %q, want the same-origin sandbox page", pay.loc)
		}
		// Back on the return page before paying: the attempt is pending.
		f.do(t, http.MethodGet, page+"/return", nil).expect(t, 200, "Payment received, confirming", `http-equiv="refresh"`)

		sbx := f.do(t, http.MethodGet, pay.loc, nil)
		sbx.expect(t, 200, "49.95 USD")
		back := f.pressSandbox(t, sbx, "Succeed")
		back.expect(t, http.StatusSeeOther)
		if back.loc != f.base+page+"/return" {
			t.Fatalf("sandbox sent the shopper to %q", back.loc)
		}
		f.do(t, http.MethodGet, back.loc, nil).expect(t, 200, "Payment received", "was successful", `href="https://shop.example/success"`)
		if got := f.status(t, hosted, s.SessionID); got != domain.StatusPaid {
			t.Errorf("status %q, want paid", got)
		}
		// The checkout link of a paid session says so and starts nothing.
		f.do(t, http.MethodGet, page, nil).expect(t, 200, "Payment received")
		f.do(t, http.MethodPost, page+"/pay", url.Values{"method": {"card"}}).expect(t, http.StatusSeeOther)
		f.do(t, http.MethodGet, page+"/cancel", nil).expect(t, http.StatusSeeOther)
		if got := f.status(t, hosted, s.SessionID); got != domain.StatusPaid {
			t.Errorf("after cancel attempts status %q, want paid", got)
		}
	})

	t.Run("smart routing: straight to the provider", func(t *testing.T) {
		s := f.session(t, smart, "ORDER-S1", "card")
		first := f.do(t, http.MethodGet, s.CheckoutURL, nil)
		first.expect(t, http.StatusSeeOther)
		if !strings.HasPrefix(first.loc, f.base+"/p/sandbox/pay/") {
			t.Fatalf("smart routing redirected to %q", first.loc)
		}
		sbx := f.do(t, http.MethodGet, first.loc, nil)
		back := f.pressSandbox(t, sbx, "Processing, then succeed")
		f.do(t, http.MethodGet, back.loc, nil).expect(t, 200, "Payment received")
		if got := f.status(t, smart, s.SessionID); got != domain.StatusPaid {
			t.Errorf("status %q, want paid", got)
		}
	})

	t.Run("decline, then another method", func(t *testing.T) {
		s := f.session(t, hosted, "ORDER-H2", "")
		page := "/checkout/" + s.SessionID
		pay := f.do(t, http.MethodPost, page+"/pay", url.Values{"method": {"card"}})
		back := f.pressSandbox(t, f.do(t, http.MethodGet, pay.loc, nil), "Decline")
		f.do(t, http.MethodGet, back.loc, nil).expect(t, 200, "Payment failed", "try another method", `href="`+page+`"`)
		if got := f.status(t, hosted, s.SessionID); got != domain.StatusOpen {
			t.Fatalf("a declined session must stay open, status %q", got)
		}
		f.do(t, http.MethodGet, page, nil).expect(t, 200, "didn&#39;t go through", "Bank transfer (sandbox)")

		pay = f.do(t, http.MethodPost, page+"/pay", url.Values{"method": {"bank_transfer"}})
		back = f.pressSandbox(t, f.do(t, http.MethodGet, pay.loc, nil), "Succeed")
		f.do(t, http.MethodGet, back.loc, nil).expect(t, 200, "Payment received")
		if got := f.status(t, hosted, s.SessionID); got != domain.StatusPaid {
			t.Errorf("status %q, want paid", got)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		s := f.session(t, hosted, "ORDER-H3", "")
		page := "/checkout/" + s.SessionID
		c := f.do(t, http.MethodGet, page+"/cancel", nil)
		c.expect(t, http.StatusSeeOther)
		if c.loc != "https://shop.example/cancel" {
			t.Fatalf("cancel went to %q", c.loc)
		}
		if got := f.status(t, hosted, s.SessionID); got != domain.StatusCanceled {
			t.Fatalf("status %q, want canceled", got)
		}
		f.do(t, http.MethodGet, page, nil).expect(t, 200, "Checkout canceled")
		f.do(t, http.MethodPost, page+"/pay", url.Values{"method": {"card"}}).expect(t, http.StatusSeeOther)
	})

	t.Run("unknown and malformed ids look alike", func(t *testing.T) {
		a := f.do(t, http.MethodGet, "/checkout/"+domain.NewSessionID(), nil)
		b := f.do(t, http.MethodGet, "/checkout/cs_x", nil)
		a.expect(t, 404)
		b.expect(t, 404)
		if a.body != b.body {
			t.Errorf("404 pages differ between an unknown and a malformed id")
		}
	})
}
