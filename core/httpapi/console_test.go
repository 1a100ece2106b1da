package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/console"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/ratelimit"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

const (
	operatorToken = "operator-token-0123456789"
	viewerToken   = "viewer-token-0123456789"
)

// consoleHarness is the console on a real store (sessions, audit log) with
// fake services behind its pages.
type consoleHarness struct {
	t        *testing.T
	e        *echo.Echo
	st       *store.Store
	fakes    *consoleFakes
	services serviceFakes
	domains  domainFakes
	log      *audit.Log

	mu  sync.Mutex
	now time.Time
}

type harnessOptions struct {
	baseURL string
	limiter ratelimit.Limiter
	tokens  []config.AdminToken
	// logger receives the console's and the audit log's log lines.
	logger *slog.Logger
}

func newConsoleHarness(t *testing.T, st *store.Store, o harnessOptions) *consoleHarness {
	t.Helper()
	h := &consoleHarness{t: t, st: st, fakes: newConsoleFakes(), log: audit.New(st, o.logger), now: time.Now()}
	h.services = serviceFakes{consoleFakes: h.fakes, last: &serviceCall{}}
	h.domains = domainFakes{consoleFakes: h.fakes, last: &domainCall{}}
	if o.limiter == nil {
		o.limiter = ratelimit.NewLocal(ratelimit.Rate{}, nil) // unlimited
	}
	if o.tokens == nil {
		o.tokens = []config.AdminToken{
			config.NewAdminToken("alice", config.RoleOperator, operatorToken),
			config.NewAdminToken("victor", config.RoleViewer, viewerToken),
		}
	}
	auth := console.NewAuth(st, console.AuthOptions{Operators: o.tokens, IdleTimeout: 30 * time.Minute, MaxAge: 12 * time.Hour, Now: h.clock})
	pages, err := console.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	svc := httpapi.ConsoleServices{Merchants: h.fakes, Webhooks: h.fakes, Sessions: h.fakes, Refunds: h.fakes, Services: h.services,
		Domains: h.domains, Plugins: h.fakes, Audit: h.log}
	h.e = httpapi.New(httpapi.Options{BodyLimit: 1 << 20},
		httpapi.AdminAccess(auth.IdentifyToken, h.log),
		httpapi.Console(svc, httpapi.ConsoleOptions{Auth: auth, Pages: pages, BaseURL: o.baseURL, LoginLimiter: o.limiter, Logger: o.logger, Now: h.clock}))
	return h
}

func (h *consoleHarness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *consoleHarness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// browser carries cookies between requests like a browser does.
type browser struct {
	h       *consoleHarness
	cookies map[string]*http.Cookie
	header  http.Header
	remote  string
}

func (h *consoleHarness) browser() *browser {
	return &browser{h: h, cookies: map[string]*http.Cookie{}, header: http.Header{}, remote: "192.0.2.10:40000"}
}

func (b *browser) do(method, target string, form url.Values) *httptest.ResponseRecorder {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.RemoteAddr = b.remote
	for k, v := range b.header {
		req.Header[k] = v
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.h.e.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
			continue
		}
		b.cookies[c.Name] = c
	}
	return rec
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf reads the form token from a page.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field in:\n%s", body)
	}
	return m[1]
}

// login signs in with token and returns the session's CSRF token.
func (b *browser) login(t *testing.T, token string) string {
	t.Helper()
	page := b.do(http.MethodGet, "/console/login", nil)
	rec := b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrfOf(t, page.Body.String())}, "token": {token}, "next": {"/console/"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/" {
		t.Fatalf("login: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	home := b.do(http.MethodGet, "/console/", nil)
	if home.Code != http.StatusOK {
		t.Fatalf("overview after login: %d\n%s", home.Code, home.Body)
	}
	return csrfOf(t, home.Body.String())
}

func (h *consoleHarness) lastAudit(t *testing.T) *store.AuditEntry {
	t.Helper()
	es, err := h.log.List(context.Background(), audit.Filter{Limit: 1})
	if err != nil || len(es) == 0 {
		t.Fatalf("audit log: %v (%d entries)", err, len(es))
	}
	return es[0]
}

// actionForms are the fields each action route is posted with when it is
// meant to succeed; every POST route of the console must be listed.
var actionForms = map[string]url.Values{
	"/console/logout":                      {},
	"/console/deliveries/resend":           {"id": {"whd_1", "whd_pending"}},
	"/console/deliveries/recover":          {"since": {"2026-12-05T00:00"}},
	"/console/deliveries/:id/resend":       {},
	"/console/endpoints":                   {"merchant": {"1"}, "url": {"https://shop.example/hooks"}},
	"/console/endpoints/:id/disable":       {"reason": {"maintenance"}},
	"/console/endpoints/:id/enable":        {},
	"/console/endpoints/:id/rotate-secret": {"overlap": {"1h"}},
	"/console/endpoints/:id/test":          {},
	"/console/merchants":                   {"name": {"Shop"}, "plan": {"pro"}, "contact_email": {"a@shop.example"}, "domains": {"shop.example"}},
	"/console/merchants/:id/suspend":       {},
	"/console/merchants/:id/reactivate":    {},
	"/console/merchants/:id/sites":         {"domain": {"www.shop.example"}},
	"/console/merchants/:id/keys":          {"mode": {"test"}, "scopes": {"sessions:write"}},
	"/console/keys/:id/revoke":             {},
	"/console/plugins/:id/test":            {},
	"/console/reviews/:id/resolve":         {"action": {"accept"}, "note": {"checked the bank statement"}},
	"/console/sessions/:id/refunds":        {"amount": {"10.00"}, "reason": {"other"}},
	"/console/services/:id/suspend":        {"reason": {"abuse report"}},
	"/console/services/:id/unsuspend":      {},
	"/console/services/:id/terminate":      {"reason": {"customer left"}},
	"/console/services/:id/retry":          {},
	"/console/services/:id/resume":         {},
	"/console/services/:id/login-link":     {"service": {"panel"}},
	"/console/services/:id/change-package": {"package": {"silver"}},
	"/console/domains/:id/renew":           {"years": {"2"}},
	"/console/domains/:id/transfer-lock":   {"locked": {"false"}},
	"/console/domains/:id/nameservers":     {"nameservers": {"ns1.host.example\nns2.host.example"}},
}

// TestConsoleAuthorizationOnEveryActionRoute walks every POST route the
// console registers (so a new one cannot be forgotten) and checks that
// nothing reaches a service without a session, from a viewer, without the
// session's CSRF token or from another origin, and that an operator's
// request does, with the outcome in the audit log either way.
func TestConsoleAuthorizationOnEveryActionRoute(t *testing.T) {
	h := newConsoleHarness(t, storetest.SQLite(t), harnessOptions{})
	var routes []string
	for _, r := range h.e.Routes() {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/console/") && r.Path != "/console/login" && !strings.HasSuffix(r.Path, "/*") {
			routes = append(routes, r.Path)
		}
	}
	if len(routes) != len(actionForms) {
		t.Errorf("the console has %d action routes, the test knows %d: %v", len(routes), len(actionForms), routes)
	}
	for _, route := range routes {
		t.Run(strings.TrimPrefix(route, "/console/"), func(t *testing.T) {
			extra, ok := actionForms[route]
			if !ok {
				t.Fatalf("no form for %s: add it to actionForms", route)
			}
			target := strings.ReplaceAll(route, ":id", "1")
			form := func(csrf string) url.Values {
				v := url.Values{"csrf": {csrf}}
				for k, vs := range extra {
					v[k] = vs
				}
				return v
			}
			check := func(name string, rec *httptest.ResponseRecorder, wantCode int) {
				t.Helper()
				if rec.Code != wantCode {
					t.Errorf("%s: status %d, want %d\n%s", name, rec.Code, wantCode, rec.Body)
				}
				if n := h.fakes.total(); n != 0 {
					t.Errorf("%s: %d service calls reached the services: %v", name, n, h.fakes.calls)
				}
			}

			// No session: sent to the login page, nothing done.
			h.fakes.reset()
			anon := h.browser()
			rec := anon.do(http.MethodPost, target, form("whatever"))
			check("no session", rec, http.StatusSeeOther)
			if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, "/console/login") {
				t.Errorf("no session: redirected to %q", loc)
			}

			op := h.browser()
			opCSRF := op.login(t, operatorToken)
			viewer := h.browser()
			viewerCSRF := viewer.login(t, viewerToken)

			// A session but the wrong CSRF token, or none.
			for _, bad := range []string{"", "forged-" + opCSRF, viewerCSRF} {
				h.fakes.reset()
				check("bad CSRF", op.do(http.MethodPost, target, form(bad)), http.StatusForbidden)
				if e := h.lastAudit(t); e.Outcome != audit.Denied || e.Actor != "alice" {
					t.Errorf("bad CSRF audit: %+v", e)
				}
			}
			// The right token from another origin.
			h.fakes.reset()
			op.header.Set("Origin", "https://evil.example")
			check("cross origin", op.do(http.MethodPost, target, form(opCSRF)), http.StatusForbidden)
			op.header.Del("Origin")

			if route == "/console/logout" {
				// Viewers may sign out; the session is gone afterwards.
				rec := viewer.do(http.MethodPost, target, form(viewerCSRF))
				if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/login?signed_out=1" {
					t.Errorf("viewer logout: %d %s", rec.Code, rec.Header().Get("Location"))
				}
				if rec := viewer.do(http.MethodGet, "/console/", nil); rec.Code != http.StatusSeeOther {
					t.Errorf("after logout the overview answers %d", rec.Code)
				}
				return
			}

			// A viewer with a valid token: refused, recorded.
			h.fakes.reset()
			rec = viewer.do(http.MethodPost, target, form(viewerCSRF))
			check("viewer", rec, http.StatusForbidden)
			if !strings.Contains(rec.Body.String(), "viewer role") {
				t.Errorf("viewer refusal does not say why:\n%s", rec.Body)
			}
			if e := h.lastAudit(t); e.Outcome != audit.Denied || e.Actor != "victor" || e.Role != config.RoleViewer || e.Via != audit.ViaConsole {
				t.Errorf("viewer audit: %+v", e)
			}

			// The operator: done, and recorded.
			h.fakes.reset()
			rec = op.do(http.MethodPost, target, form(opCSRF))
			if rec.Code == http.StatusForbidden || rec.Code >= 500 {
				t.Errorf("operator: %d\n%s", rec.Code, rec.Body)
			}
			if h.fakes.total() == 0 {
				t.Errorf("operator: no service was called")
			}
			if e := h.lastAudit(t); e.Actor != "alice" || e.Role != config.RoleOperator || e.Outcome == audit.Denied || e.Action == "" {
				t.Errorf("operator audit: %+v", e)
			}
		})
	}
}

func TestConsoleLogin(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newConsoleHarness(t, st, harnessOptions{})
		b := h.browser()

		// Unauthenticated pages send the browser to the login page and
		// remember where it was going.
		rec := b.do(http.MethodGet, "/console/sessions?status=paid", nil)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/login?next=%2Fconsole%2Fsessions%3Fstatus%3Dpaid" {
			t.Fatalf("anonymous: %d %q", rec.Code, rec.Header().Get("Location"))
		}

		page := b.do(http.MethodGet, "/console/login", nil)
		formToken := csrfOf(t, page.Body.String())
		wantHeaders(t, page)

		// Without the login cookie's token: refused (login CSRF).
		rec = b.do(http.MethodPost, "/console/login", url.Values{"csrf": {"nope"}, "token": {operatorToken}})
		if rec.Code != http.StatusForbidden || h.lastAudit(t).Outcome != audit.Denied {
			t.Fatalf("login without the form token: %d", rec.Code)
		}
		// A wrong token: 401, recorded without an actor, and the token is
		// not echoed anywhere.
		page = b.do(http.MethodGet, "/console/login", nil)
		formToken = csrfOf(t, page.Body.String())
		rec = b.do(http.MethodPost, "/console/login", url.Values{"csrf": {formToken}, "token": {"not-a-token-0123456789"}})
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "That token is not valid") ||
			strings.Contains(rec.Body.String(), "not-a-token-0123456789") {
			t.Fatalf("wrong token: %d\n%s", rec.Code, rec.Body)
		}
		if e := h.lastAudit(t); e.Action != "login" || e.Outcome != audit.Denied || e.Actor != "" || e.RemoteAddr != "192.0.2.10" {
			t.Errorf("failed login audit: %+v", e)
		}

		// The right token, going back to where the browser wanted to be.
		page = b.do(http.MethodGet, "/console/login?next=%2Fconsole%2Fsessions%3Fstatus%3Dpaid", nil)
		rec = b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrfOf(t, page.Body.String())}, "token": {operatorToken},
			"next": {"/console/sessions?status=paid"}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/sessions?status=paid" {
			t.Fatalf("login: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		var sc *http.Cookie
		for _, c := range rec.Result().Cookies() {
			if c.Name == "sy_console" {
				sc = c
			}
		}
		if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Secure || sc.Path != "/" {
			t.Fatalf("session cookie: %+v", sc)
		}
		if e := h.lastAudit(t); e.Action != "login" || e.Outcome != audit.OK || e.Actor != "alice" {
			t.Errorf("login audit: %+v", e)
		}
		// The cookie holds a secret whose hash keys the stored session.
		var n int
		if err := st.DB().NewSelect().Table("console_sessions").ColumnExpr("COUNT(*)").Where("id = ?", sc.Value).Scan(context.Background(), &n); err != nil || n != 0 {
			t.Errorf("the cookie value is stored as is (%d rows, %v)", n, err)
		}

		// A redirect target outside the console is ignored.
		for _, next := range []string{"https://evil.example/", "//evil.example/console/", "/console/\\evil"} {
			o := h.browser()
			page := o.do(http.MethodGet, "/console/login", nil)
			rec := o.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrfOf(t, page.Body.String())}, "token": {operatorToken}, "next": {next}})
			if rec.Header().Get("Location") != "/console/" {
				t.Errorf("next %q: redirected to %q", next, rec.Header().Get("Location"))
			}
		}

		// Idle too long: the session ends and the browser is told so.
		if rec := b.do(http.MethodGet, "/console/", nil); rec.Code != http.StatusOK {
			t.Fatalf("overview: %d", rec.Code)
		}
		h.advance(29 * time.Minute)
		if rec := b.do(http.MethodGet, "/console/", nil); rec.Code != http.StatusOK {
			t.Fatalf("29 minutes idle: %d", rec.Code)
		}
		h.advance(31 * time.Minute)
		rec = b.do(http.MethodGet, "/console/", nil)
		if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "expired=1") {
			t.Fatalf("31 minutes idle: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		if n := countRows(t, st, "console_sessions", "operator = 'alice'"); n != 5-2 {
			// the idle session was deleted; the three from the redirect checks remain
			t.Errorf("console sessions of alice: %d, want 3", n)
		}
	})
}

func countRows(t *testing.T, st *store.Store, table, where string) int {
	t.Helper()
	var n int
	if err := st.DB().NewSelect().Table(table).ColumnExpr("COUNT(*)").Where(where).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantHeaders checks the security headers every console page carries.
func wantHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows something unsafe: %q", csp)
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
		"Referrer-Policy": "same-origin", "Cache-Control": "no-store", "Cross-Origin-Opener-Policy": "same-origin"} {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
}

func TestConsoleLoginRateLimit(t *testing.T) {
	h := newConsoleHarness(t, storetest.SQLite(t), harnessOptions{
		limiter: ratelimit.NewLocal(ratelimit.Rate{PerSecond: 1.0 / 60, Burst: 2}, nil)})
	b := h.browser()
	for i, want := range []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusTooManyRequests} {
		page := b.do(http.MethodGet, "/console/login", nil)
		rec := b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrfOf(t, page.Body.String())}, "token": {"guess-0123456789-" + string(rune('a'+i))}})
		if rec.Code != want {
			t.Fatalf("attempt %d: %d, want %d", i+1, rec.Code, want)
		}
		if want == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
	}
	// The right token is refused too while the address is over its limit.
	page := b.do(http.MethodGet, "/console/login", nil)
	if rec := b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrfOf(t, page.Body.String())}, "token": {operatorToken}}); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("the right token over the limit: %d", rec.Code)
	}
	if e := h.lastAudit(t); e.Outcome != audit.Denied || !strings.Contains(e.Detail, "too many") {
		t.Errorf("rate limit audit: %+v", e)
	}
}

func TestConsoleSecureCookies(t *testing.T) {
	st := storetest.SQLite(t)
	for _, tc := range []struct {
		name    string
		baseURL string
		header  string
	}{
		{name: "base_url https", baseURL: "https://ops.example.com"},
		{name: "behind a TLS proxy", header: "https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newConsoleHarness(t, st, harnessOptions{baseURL: tc.baseURL})
			b := h.browser()
			if tc.header != "" {
				// Echo trusts forwarded headers from private and loopback
				// peers only: the proxy's address.
				b.header.Set("X-Forwarded-Proto", tc.header)
				b.remote = "10.0.0.5:50000"
			}
			page := b.do(http.MethodGet, "/console/login", nil)
			if tc.baseURL != "" {
				// Forms must come from the configured origin.
				b.header.Set("Origin", "http://127.0.0.1:8081")
				rec := b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrfOf(t, page.Body.String())}, "token": {operatorToken}})
				if rec.Code != http.StatusForbidden {
					t.Fatalf("login from another origin: %d", rec.Code)
				}
				b.header.Set("Origin", tc.baseURL)
				page = b.do(http.MethodGet, "/console/login", nil)
			}
			rec := b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrfOf(t, page.Body.String())}, "token": {operatorToken}})
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("login: %d\n%s", rec.Code, rec.Body)
			}
			var found bool
			for _, c := range rec.Result().Cookies() {
				if c.Name == "__Host-sy_console" {
					found = c.Secure && c.HttpOnly && c.SameSite == http.SameSiteStrictMode && c.Path == "/" && c.Domain == ""
				}
			}
			if !found {
				t.Fatalf("no Secure __Host- session cookie: %v", rec.Result().Cookies())
			}
		})
	}
}

// TestConsoleSessionEndsWithItsToken: a session lives only as long as the
// token that opened it is configured; a new role applies at once.
func TestConsoleSessionEndsWithItsToken(t *testing.T) {
	st := storetest.SQLite(t)
	h := newConsoleHarness(t, st, harnessOptions{})
	b := h.browser()
	b.login(t, operatorToken)

	// Same name, now a viewer: the running session is a viewer's.
	demoted := newConsoleHarness(t, st, harnessOptions{tokens: []config.AdminToken{config.NewAdminToken("alice", config.RoleViewer, operatorToken)}})
	b.h = demoted
	if rec := b.do(http.MethodGet, "/console/", nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "viewer</strong> role") {
		t.Fatalf("after the role change: %d", rec.Code)
	}
	// The token rotated: the session is over.
	b.h = newConsoleHarness(t, st, harnessOptions{tokens: []config.AdminToken{config.NewAdminToken("alice", config.RoleOperator, "rotated-token-0123456789")}})
	if rec := b.do(http.MethodGet, "/console/", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("after the token rotated: %d", rec.Code)
	}
}

// TestConsolePages renders every page with the fake services behind it.
func TestConsolePages(t *testing.T) {
	h := newConsoleHarness(t, storetest.SQLite(t), harnessOptions{})
	b := h.browser()
	b.login(t, operatorToken)
	for _, tc := range []struct {
		path  string
		code  int
		wants []string
	}{
		{"/console/reviews", 200, []string{fakeReviewID, "amount_mismatch", "Resolve review", "USD&nbsp;40.00"}},
		{"/console/", 200, []string{"Sessions in review", fakeReviewID[:0] + fakeSessionID, "Today's payments", "sandbox", "USD 149.85", "75.0%", "410 Gone from the receiver", "whm", "crashed"}},
		{"/console/sessions?status=paid&from=2026-12-01&to=2026-12-05&q=ORDER-1001", 200, []string{"ORDER-1001", fakeSessionID, "Older sessions", "before=" + fakeSessionID}},
		{"/console/sessions?status=bogus", 400, []string{"unknown session status"}},
		{"/console/sessions?from=yesterday", 400, []string{"from must be a date"}},
		{"/console/sessions/" + fakeSessionID, 200, []string{"Payment attempt 1", "rule card: sandbox (weight 100)", "Provider event payment.succeeded",
			"[redacted]", "Merchant event session.paid", "whd_1", "Resend", "Held for review: amount_mismatch", "Resolve review",
			fakeRefundID, "sbx_re_1", "declined", "card declined the refund", `action="/console/sessions/` + fakeSessionID + `/refunds"`,
			`name="idempotency_key" value="console_`, "<option>duplicate</option>",
			"Services and domains", `href="/console/services/` + fakeServiceID + `"`, `href="/console/domains/` + fakeDomainID + `"`, "register, 1 year"}},
		{"/console/sessions/cs_nope", 404, []string{"no such session"}},
		{"/console/deliveries?status=failed&event_type=session.paid", 200, []string{"whd_1", "whd_2", "Resend selected", "Recover"}},
		{"/console/deliveries?status=nope", 400, []string{"status must be one of"}},
		{"/console/deliveries/whd_1", 200, []string{"Attempts", "session.paid", fakeSessionID}},
		{"/console/endpoints", 200, []string{"https://shop.example/hooks", "Add an endpoint"}},
		{"/console/endpoints/new?merchant=1", 200, []string{"Signing profile", "session.paid"}},
		{"/console/endpoints/ep_1", 200, []string{"Send a test event", "Rotate secret", "Disable"}},
		{"/console/merchants", 200, []string{"Demo Store", "Create a merchant"}},
		{"/console/merchants/1", 200, []string{"Demo Store", "sk_test_ABCD", "Create an API key", "Suspend"}},
		{"/console/plugins", 200, []string{"sandbox", "<dt>Mode</dt><dd>test</dd>", "connection refused", "Restarts", "Test connection"}},
		{"/console/services?status=failed&merchant=1&session=" + fakeSessionID, 200, []string{fakeServiceID, "failed", fakePanelError,
			"shop.example", "shopexam", "HOST-GOLD · gold", "whm", `<option selected>failed</option>`}},
		{"/console/services?merchant=2", 200, []string{"svc_page49", "More services", "after=svc_page49"}},
		{"/console/services?status=bogus", 400, []string{"status must be one of pending, active, suspended, terminated, failed"}},
		{"/console/services?merchant=x", 400, []string{"merchant"}},
		{"/console/services/" + fakeServiceID, 200, []string{"Why it failed", fakePanelError, "Retry the failed setup", "/console/services/" + fakeServiceID + "/retry",
			"Terminate…", "HOST-GOLD (provision)", "ns1.host.example, ns2.host.example", "Actions so far", "payment", "never shown"}},
		{"/console/services/" + fakeActiveID, 200, []string{"paused", "dispute dp_1 opened", "/resume", "Suspend…", "Login link…", `value="webmail"`}},
		{"/console/services/svc_missing", 404, []string{"no such service"}},
		{"/console/domains?status=active&merchant=1", 200, []string{fakeDomainID, "bücher.example", "register", "2027-12-05 09:10:00 UTC", "Domains"}},
		{"/console/domains?status=bogus", 400, []string{"status must be pending, active, failed, expired or attention"}},
		{"/console/domains/" + fakeDomainID, 200, []string{"bücher.example", "xn--bcher-kva.example", "ns-1.awsdns.example", "dop_1", "Registrar operations", "locked"}},
		{"/console/domains/dom_nope", 404, []string{"no such domain"}},
		{"/console/audit", 200, []string{"login", "alice"}},
		{"/console/nowhere", 404, []string{"no console page"}},
	} {
		rec := b.do(http.MethodGet, tc.path, nil)
		if rec.Code != tc.code {
			t.Errorf("%s: %d, want %d\n%s", tc.path, rec.Code, tc.code, rec.Body)
			continue
		}
		wantHeaders(t, rec)
		body := strings.ReplaceAll(rec.Body.String(), "&#43;", "+")
		for _, w := range tc.wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", tc.path, w)
			}
		}
	}
}

// TestConsoleSecretsShownOnce: a new key's and endpoint's secret appear on
// the page that answers the create, never cached, and on no later page.
func TestConsoleSecretsShownOnce(t *testing.T) {
	h := newConsoleHarness(t, storetest.SQLite(t), harnessOptions{})
	b := h.browser()
	csrf := b.login(t, operatorToken)
	rec := b.do(http.MethodPost, "/console/merchants/1/keys", url.Values{"csrf": {csrf}, "mode": {"test"}})
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), "sk_test_ABCDsecretsecretsecret") || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("create key: %d %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	if e := h.lastAudit(t); e.Action != "key.create" || strings.Contains(e.Detail, "secret") || e.TargetID != "1" {
		t.Errorf("key audit: %+v", e)
	}
	if rec := b.do(http.MethodGet, "/console/merchants/1", nil); strings.Contains(rec.Body.String(), "sk_test_ABCDsecret") {
		t.Errorf("the key is shown again")
	}
	rec = b.do(http.MethodPost, "/console/endpoints", url.Values{"csrf": {csrf}, "merchant": {"1"}, "url": {"https://shop.example/h"}})
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), "whsec_fakesecret") {
		t.Fatalf("create endpoint: %d", rec.Code)
	}
	// Bad input re-renders the form with the error and what was typed.
	rec = b.do(http.MethodPost, "/console/endpoints", url.Values{"csrf": {csrf}, "merchant": {"1"}, "description": {"kept"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "url is required") || !strings.Contains(rec.Body.String(), `value="kept"`) {
		t.Fatalf("invalid endpoint: %d\n%s", rec.Code, rec.Body)
	}
	if e := h.lastAudit(t); e.Action != "endpoint.create" || e.Outcome != audit.Failed {
		t.Errorf("failed create audit: %+v", e)
	}
}

// TestConsoleBulkResend: each selected delivery is resent and recorded on
// its own; one that cannot be is named in the notice.
func TestConsoleBulkResend(t *testing.T) {
	h := newConsoleHarness(t, storetest.SQLite(t), harnessOptions{})
	b := h.browser()
	csrf := b.login(t, operatorToken)
	rec := b.do(http.MethodPost, "/console/deliveries/resend", url.Values{"csrf": {csrf}, "id": {"whd_1", "whd_pending", "whd_3"},
		"back": {"/console/deliveries?status=failed"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/deliveries?status=failed" {
		t.Fatalf("bulk resend: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	page := b.do(http.MethodGet, "/console/deliveries?status=failed", nil).Body.String()
	if !strings.Contains(page, "2 of 3 selected deliveries scheduled") || !strings.Contains(page, "whd_pending: delivery whd_pending already has an attempt scheduled") {
		t.Errorf("notice missing:\n%s", page)
	}
	es, err := h.log.List(context.Background(), audit.Filter{Action: "delivery.resend_selected"})
	if err != nil || len(es) != 3 {
		t.Fatalf("bulk audit entries: %d %v", len(es), err)
	}
	outcomes := map[string]string{}
	for _, e := range es {
		outcomes[e.TargetID] = e.Outcome
	}
	if outcomes["whd_1"] != audit.OK || outcomes["whd_pending"] != audit.Failed || outcomes["whd_3"] != audit.OK {
		t.Errorf("outcomes %v", outcomes)
	}
	// The notice is shown once.
	if page := b.do(http.MethodGet, "/console/deliveries", nil).Body.String(); strings.Contains(page, "selected deliveries scheduled") {
		t.Errorf("the notice is shown twice")
	}
}

// TestAdminAccess: on the admin API a viewer token reads and nothing
// else; an operator's changes are audited by name with the route.
func TestAdminAccess(t *testing.T) {
	h := newConsoleHarness(t, storetest.SQLite(t), harnessOptions{})
	e := httpapi.New(httpapi.Options{}, func(e *echo.Echo) {
		httpapi.AdminAccess(func(tok string) (string, string, bool) {
			switch tok {
			case operatorToken:
				return "alice", config.RoleOperator, true
			case viewerToken:
				return "victor", config.RoleViewer, true
			}
			return "", "", false
		}, h.log)(e)
	}, httpapi.AdminMerchants(h.fakes, []string{operatorToken, viewerToken}))
	call := func(method, path, token, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	if rec := call("GET", "/admin/v1/merchants", viewerToken, ""); rec.Code != http.StatusOK {
		t.Fatalf("viewer GET: %d %s", rec.Code, rec.Body)
	}
	h.fakes.reset()
	rec := call("POST", "/admin/v1/merchants/5/suspend", viewerToken, "")
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "read_only_token") || h.fakes.total() != 0 {
		t.Fatalf("viewer POST: %d %s (calls %v)", rec.Code, rec.Body, h.fakes.calls)
	}
	if en := h.lastAudit(t); en.Actor != "victor" || en.Via != audit.ViaAPI || en.Outcome != audit.Denied || en.Action != "POST /admin/v1/merchants/:id/suspend" || en.TargetID != "id=5" {
		t.Errorf("viewer audit: %+v", en)
	}
	if rec := call("POST", "/admin/v1/merchants/5/suspend", operatorToken, ""); rec.Code != http.StatusOK {
		t.Fatalf("operator POST: %d %s", rec.Code, rec.Body)
	}
	if en := h.lastAudit(t); en.Actor != "alice" || en.Outcome != audit.OK || en.TargetID != "id=5" {
		t.Errorf("operator audit: %+v", en)
	}
	if rec := call("POST", "/admin/v1/merchants", operatorToken, `{"name":""}`); rec.Code != http.StatusBadRequest {
		t.Fatalf("invalid create: %d", rec.Code)
	}
	if en := h.lastAudit(t); en.Outcome != audit.Failed || en.Detail != "name is required" {
		t.Errorf("failed call audit: %+v", en)
	}
	// Reads are not audited; unknown tokens are AdminAuth's to refuse.
	before := countRows(t, h.st, "audit_log", "1=1")
	call("GET", "/admin/v1/merchants/5", operatorToken, "")
	if rec := call("POST", "/admin/v1/merchants/5/suspend", "nobody-0123456789", ""); rec.Code != http.StatusUnauthorized {
		t.Fatalf("unknown token: %d", rec.Code)
	}
	if after := countRows(t, h.st, "audit_log", "1=1"); after != before {
		t.Errorf("reads or unknown tokens were audited: %d -> %d", before, after)
	}
}
