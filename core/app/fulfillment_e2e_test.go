package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/servetest"
	"github.com/switchyard/switchyard/plugins/smtp/smtptest"
	"github.com/switchyard/switchyard/plugins/whm/whmfake"
	"github.com/switchyard/switchyard/webhook"
)

// hostingEnv is `switchyard serve` with the real sandbox, whm and smtp
// plugin binaries: whm against whmfake (HTTPS, certificate pinned by its
// fingerprint), smtp against the in-process SMTP server (STARTTLS on a
// test CA, AUTH PLAIN), a hosting product in the YAML file, and a merchant
// whose webhook endpoint (a local receiver) subscribes to service events.
type hostingEnv struct {
	whm   *whmfake.Server
	smtp  *smtptest.Server
	hooks *hookReceiver
	env   *servetest.Env
	proc  *servetest.Proc
	key   string
}

// hostingOptions add to the hosting environment: more plugins, instances
// (YAML entries as servetest.Options.Instances), products (YAML list
// entries), event subscriptions, environment, and how the endpoint checks
// signatures.
type hostingOptions struct {
	plugins   []string
	instances string
	products  string
	events    []string
	env       []string
	// profile is the endpoint's signing profile and verify how the
	// receiver checks it; default the standard profile, webhook.Verify.
	profile string
	verify  func(secret string, h http.Header, body []byte) error
	// keyMode is the merchant key's mode (default test); edit, when set,
	// changes the configuration file before the server starts.
	keyMode string
	edit    func(t *testing.T, cfg string)
	// plan is the merchant's plan (default free); routeTo, when set,
	// sends the card payments of that plan to this provider instance.
	plan, routeTo string
}

// hookReceiver is a merchant's endpoint: it verifies each delivery as
// docs/webhooks.md tells merchants (raw body, standard profile) and keeps
// the verified events; a delivery that does not verify is counted and
// answered 401.
type hookReceiver struct {
	srv *httptest.Server

	mu         sync.Mutex
	secret     string
	verify     func(secret string, h http.Header, body []byte) error
	events     []webhook.Event
	raw        []string
	unverified int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	h := &hookReceiver{verify: verifyStandard}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := h.verify(h.secret, r.Header, body); err != nil {
			h.unverified++
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var ev webhook.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			h.unverified++
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		h.events = append(h.events, ev)
		h.raw = append(h.raw, string(body))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// verifyStandard checks a delivery as docs/webhooks.md tells merchants
// (standard profile).
func verifyStandard(secret string, h http.Header, body []byte) error {
	return webhook.Verify(webhook.ProfileStandard, []string{secret}, h, body, 5*time.Minute)
}

// wait returns the verified deliveries of type typ once there are n.
func (h *hookReceiver) wait(t *testing.T, typ string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		h.mu.Lock()
		var got []string
		for i, ev := range h.events {
			if ev.Event == typ {
				got = append(got, h.raw[i])
			}
		}
		unverified := h.unverified
		h.mu.Unlock()
		if unverified > 0 {
			t.Fatalf("%d deliveries did not verify", unverified)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d verified %s deliveries, want %d", len(got), typ, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newHostingEnv(t *testing.T, dsn string) *hostingEnv {
	t.Helper()
	return newHostingEnvWith(t, dsn, hostingOptions{})
}

func newHostingEnvWith(t *testing.T, dsn string, o hostingOptions) *hostingEnv {
	t.Helper()
	h := prepareHosting(t, dsn, o)
	h.proc = h.env.Serve(t)
	return h
}

// prepareHosting writes the configuration, migrates, and makes the
// merchant, its key and its endpoint; it does not start the server.
func prepareHosting(t *testing.T, dsn string, o hostingOptions) *hostingEnv {
	t.Helper()
	h := &hostingEnv{whm: whmfake.New(t, whmfake.Options{}), smtp: smtptest.New(t, smtptest.Options{}), hooks: newHookReceiver(t)}
	whm, whmEnv := servetest.WHMInstance("whmtest", h.whm)
	mail, mailEnv := servetest.SMTPInstance(t, "mailtest", h.smtp)
	env := append(append(whmEnv, mailEnv...),
		"SWITCHYARD_MAIL__MAILER=mailtest",
		// Retries of a panel outage come after a second, not 30.
		"SWITCHYARD_FULFILLMENT__RETRY_DELAY=1s")
	e := servetest.New(t, servetest.Options{DSN: dsn, Plugins: append([]string{"whm", "smtp"}, o.plugins...),
		Instances: whm + mail + o.instances, Env: append(env, o.env...)})
	h.env = e
	e.SetProducts(t, `products:
  - sku: hosting-basic
    name: Basic hosting
    fulfillment:
      kind: provision
      provisioner: whmtest
      package: basic
      on_refund: suspend
`+o.products)
	if o.plan == "" {
		o.plan = "free"
	}
	if o.routeTo != "" {
		e.RouteCardTo(t, o.plan, o.routeTo)
	}
	e.CLI(t, "migrate")
	m := e.NewMerchant(t, "Acme Hosting", o.plan)
	id := fmt.Sprint(m.ID)
	h.key = m.Key
	if o.keyMode != "" {
		var k struct{ Key string }
		if err := json.Unmarshal(e.CLI(t, "keys", "create", "--merchant", id, "--mode", o.keyMode, "--json"), &k); err != nil {
			t.Fatal(err)
		}
		h.key = k.Key
	}
	args := []string{"endpoints", "add", "--merchant", id, "--url", h.hooks.srv.URL + "/hooks", "--json", "--profile", webhook.ProfileStandard}
	if o.profile != "" {
		args[len(args)-1] = o.profile
	}
	for _, ev := range append([]string{"service.*"}, o.events...) {
		args = append(args, "--event", ev)
	}
	var ep struct{ ID, Secret string }
	if err := json.Unmarshal(e.CLI(t, args...), &ep); err != nil || !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("endpoints add: %+v %v", ep, err)
	}
	h.hooks.mu.Lock()
	h.hooks.secret = ep.Secret
	if o.verify != nil {
		h.hooks.verify = o.verify
	}
	h.hooks.mu.Unlock()
	if o.edit != nil {
		o.edit(t, e.Config)
	}
	return h
}

// buyHosting creates a session with one hosting item and pays it on the
// sandbox's page.
func (h *hostingEnv) buyHosting(t *testing.T, order, username, domainName string) string {
	t.Helper()
	id := h.hostingSession(t, order, username, domainName, "")
	servetest.PayWithSandbox(t, h.proc, id)
	return id
}

// hostingSession creates a session of 49.95 USD with one hosting item
// (method, when not "", chosen at create).
func (h *hostingEnv) hostingSession(t *testing.T, order, username, domainName, method string) string {
	t.Helper()
	body := map[string]any{
		"domain": "shop.test", "amount": "49.95", "currency": "USD", "order_id": order,
		"customer_email": username + "@customer.example",
		"items":          []map[string]any{{"sku": "hosting-basic", "domain": domainName, "username": username}},
	}
	if method != "" {
		body["method"] = method
	}
	var s struct {
		SessionID string `json:"session_id"`
	}
	if code, raw := servetest.Call(t, "POST", h.proc.Public+"/v1/sessions", h.key, body, &s); code != http.StatusCreated {
		t.Fatalf("create session: %d %s", code, raw)
	}
	return s.SessionID
}

// waitCalls waits until whmfake received n calls of function for user.
func (h *hostingEnv) waitCalls(t *testing.T, function, userParam, user string, n int) []whmfake.Call {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var got []whmfake.Call
		for _, c := range h.whm.Calls(function) {
			if c.Params.Get(userParam) == user {
				got = append(got, c)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("whmfake received %d %s calls for %s, want %d", len(got), function, user, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMail waits for the mail of template tmpl to rcpt.
func (h *hostingEnv) waitMail(t *testing.T, tmpl, rcpt string) (netmail.Header, string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		for _, m := range h.smtp.Messages() {
			msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
			if err != nil {
				t.Fatal(err)
			}
			if msg.Header.Get("X-Switchyard-Template") == tmpl && strings.Join(m.To, ",") == rcpt {
				if !m.TLS || m.AuthUser != h.smtp.Username() {
					t.Errorf("mail sent without TLS (%v) or AUTH (%q)", m.TLS, m.AuthUser)
				}
				return msg.Header, mailText(t, msg)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s mail to %s arrived (%d mails in all)", tmpl, rcpt, len(h.smtp.Messages()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mailText is the text/plain part of a multipart/alternative mail.
func mailText(t *testing.T, msg *netmail.Message) string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(p) // multipart decodes quoted-printable
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

// TestServeHostingLifecycle: a session with a hosting item is paid through
// the sandbox; whmfake gets exactly one createacct, service.activated is
// delivered (signature verified, no password in it) and the service-ready
// mail with the login details arrives. A full refund through the merchant
// API then suspends the account (suspendacct) and service.suspended is
// delivered.
func TestServeHostingLifecycle(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		h := newHostingEnv(t, dsn)
		id := h.buyHosting(t, "HOST-1", "shopone", "shop-one.example")

		activated := h.hooks.wait(t, "service.activated", 1)
		acct, ok := h.whm.Account("shopone")
		if !ok || acct.Domain != "shop-one.example" || acct.Plan != "basic" {
			t.Fatalf("whmfake account: %+v (exists %v)", acct, ok)
		}
		if n := len(h.waitCalls(t, "createacct", "username", "shopone", 1)); n != 1 || h.whm.Accounts() != 1 {
			t.Fatalf("createacct calls %d, accounts %d; want 1, 1", n, h.whm.Accounts())
		}
		if !strings.Contains(activated[0], `"shopone"`) || !strings.Contains(activated[0], id) ||
			strings.Contains(activated[0], acct.Password) || strings.Contains(strings.ToLower(activated[0]), "password") {
			t.Fatalf("service.activated: %s", activated[0])
		}

		hdr, text := h.waitMail(t, "service_ready", "shopone@customer.example")
		if !strings.Contains(text, "shopone") || !strings.Contains(text, "shop-one.example") || !strings.Contains(text, acct.Password) {
			t.Fatalf("service-ready mail lacks the login details (%v):\n%s", hdr, text)
		}

		// A full refund (no amount) through the merchant API.
		if code, raw := servetest.Call(t, "POST", h.proc.Public+"/v1/sessions/"+id+"/refunds", h.key, map[string]string{}, nil); code != http.StatusCreated {
			t.Fatalf("refund: %d %s", code, raw)
		}
		suspended := h.hooks.wait(t, "service.suspended", 1)
		if n := len(h.waitCalls(t, "suspendacct", "user", "shopone", 1)); n != 1 {
			t.Fatalf("suspendacct calls %d, want 1", n)
		}
		if acct, _ := h.whm.Account("shopone"); !acct.Suspended {
			t.Fatalf("account not suspended on whmfake: %+v", acct)
		}
		if !strings.Contains(suspended[0], `"suspended"`) || strings.Contains(suspended[0], acct.Password) {
			t.Fatalf("service.suspended: %s", suspended[0])
		}
		if n := len(h.whm.Calls("createacct")); n != 1 {
			t.Errorf("createacct calls after the refund: %d, want 1", n)
		}
	})
}

// TestServeHostingOutageRetried: WHM answers 503 to the first createacct;
// the action is retried and the account is made once.
func TestServeHostingOutageRetried(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		h := newHostingEnv(t, dsn)
		h.whm.Inject("createacct", whmfake.Fault{Kind: whmfake.Outage})
		id := h.buyHosting(t, "HOST-2", "shoptwo", "shop-two.example")

		activated := h.hooks.wait(t, "service.activated", 1)
		if !strings.Contains(activated[0], id) {
			t.Fatalf("service.activated: %s", activated[0])
		}
		if n := len(h.waitCalls(t, "createacct", "username", "shoptwo", 2)); n != 2 {
			t.Fatalf("createacct calls %d, want 2 (the outage and the retry)", n)
		}
		if acct, ok := h.whm.Account("shoptwo"); !ok || acct.Domain != "shop-two.example" || h.whm.Accounts() != 1 {
			t.Fatalf("accounts on whmfake: %d, shoptwo %+v", h.whm.Accounts(), acct)
		}
		h.waitMail(t, "service_ready", "shoptwo@customer.example")
	})
}
