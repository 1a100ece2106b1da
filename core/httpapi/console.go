package httpapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/console"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/core/ratelimit"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
)

// The operator console: server-rendered pages under /console/ on the
// admin listener. Its handlers call the same services as the admin API and
// the CLI (MerchantAdmin, WebhookAdmin, …); what it adds is login, roles,
// CSRF protection and the audit log.

// ConsoleWebhooks is what the console needs from outbound webhooks: the
// admin API's operations plus the overview's failing endpoints.
type ConsoleWebhooks interface {
	WebhookAdmin
	FailingEndpoints(ctx context.Context, since time.Time) ([]*webhooks.EndpointHealth, error)
}

// SessionLookup is the operators' view of sessions and their money
// reviews: the admin API's ReviewAdmin plus search and today's volume;
// *payments.Service implements it.
type SessionLookup interface {
	ReviewAdmin
	FindSessions(ctx context.Context, q payments.SessionQuery) (*payments.SessionPage, error)
	AttemptVolume(ctx context.Context, since time.Time) ([]*payments.VolumeRow, error)
}

// PluginAdmin is the plugin host as operators see it; *pluginhost.Host
// implements it.
type PluginAdmin interface {
	Instances() []pluginhost.InstanceInfo
	Test(ctx context.Context, id string, packages []string) (*pluginhost.TestReport, error)
}

// AuditLog records and lists operators' actions; *audit.Log implements it.
type AuditLog interface {
	Record(ctx context.Context, e audit.Entry) error
	List(ctx context.Context, f audit.Filter) ([]*store.AuditEntry, error)
}

var (
	_ ConsoleWebhooks = (*webhooks.Service)(nil)
	_ SessionLookup   = (*payments.Service)(nil)
	_ PluginAdmin     = (*pluginhost.Host)(nil)
	_ AuditLog        = (*audit.Log)(nil)
)

// ConsoleServices are the services behind the console's pages.
type ConsoleServices struct {
	Merchants MerchantAdmin
	Webhooks  ConsoleWebhooks
	Sessions  SessionLookup
	// Refunds is the refunds service the admin API uses.
	Refunds RefundService
	// Services is fulfillment's services (list, show, operator actions,
	// login links).
	Services ServiceAdmin
	// Domains is the domains service (list and show).
	Domains DomainLookup
	Plugins PluginAdmin
	Audit   AuditLog
}

// ConsoleOptions configures the console.
type ConsoleOptions struct {
	Auth  *console.Auth
	Pages *console.Renderer
	// LoginLimiter limits login attempts per client address.
	LoginLimiter ratelimit.Limiter
	// BaseURL is admin.console.base_url: when https, cookies are Secure;
	// when set, it is the only origin forms may come from.
	BaseURL string
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

type consoleHandlers struct {
	svc     ConsoleServices
	auth    *console.Auth
	pages   *console.Renderer
	limiter ratelimit.Limiter
	origin  string // from BaseURL; "" means the request's own
	secure  bool   // BaseURL is https
	log     *slog.Logger
	now     func() time.Time
}

// Console mounts the operator console under /console/.
func Console(svc ConsoleServices, opts ConsoleOptions) Mount {
	h := &consoleHandlers{svc: svc, auth: opts.Auth, pages: opts.Pages, limiter: opts.LoginLimiter, log: opts.Logger, now: opts.Now}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.limiter == nil {
		h.limiter = ratelimit.NewLocal(ratelimit.Rate{PerSecond: 10.0 / 60, Burst: 5}, nil)
	}
	if u, err := url.Parse(opts.BaseURL); err == nil && u.Host != "" {
		h.origin = u.Scheme + "://" + u.Host
		h.secure = u.Scheme == "https"
	}
	return h.routes
}

// routes is the console's route table. Every POST that changes something
// goes through act, which checks the form's origin and CSRF token and the
// operator's role, and records the outcome in the audit log.
func (h *consoleHandlers) routes(e *echo.Echo) {
	headers := securityHeaders(func() string { return consoleCSP })
	e.GET("/console", h.toIndex, headers)
	g := e.Group("/console", headers)
	g.GET("/assets/*", echo.WrapHandler(h.pages.AssetHandler()))
	g.GET("/login", h.loginForm)
	g.POST("/login", h.login)

	a := g.Group("", h.requireSession)
	a.POST("/logout", h.logout, h.act("logout", "", "", false))
	a.GET("/", h.overview)

	a.GET("/sessions", h.sessions)
	a.GET("/sessions/:id", h.session)
	a.POST("/sessions/:id/refunds", h.createRefund, h.act("refund.create", "session", "id", true))
	a.GET("/reviews", h.reviews)
	a.POST("/reviews/:id/resolve", h.resolveReview, h.act("review.resolve", "review", "id", true))

	a.GET("/deliveries", h.deliveries)
	a.POST("/deliveries/resend", h.resendSelected, h.act("delivery.resend_selected", "delivery", "", true))
	a.POST("/deliveries/recover", h.recoverDeliveries, h.act("delivery.recover", "", "", true))
	a.GET("/deliveries/:id", h.delivery)
	a.POST("/deliveries/:id/resend", h.resendDelivery, h.act("delivery.resend", "delivery", "id", true))

	a.GET("/endpoints", h.endpoints)
	a.GET("/endpoints/new", h.newEndpoint)
	a.POST("/endpoints", h.createEndpoint, h.act("endpoint.create", "endpoint", "", true))
	a.GET("/endpoints/:id", h.endpoint)
	a.POST("/endpoints/:id/disable", h.disableEndpoint, h.act("endpoint.disable", "endpoint", "id", true))
	a.POST("/endpoints/:id/enable", h.enableEndpoint, h.act("endpoint.enable", "endpoint", "id", true))
	a.POST("/endpoints/:id/rotate-secret", h.rotateSecret, h.act("endpoint.rotate_secret", "endpoint", "id", true))
	a.POST("/endpoints/:id/test", h.testEndpoint, h.act("endpoint.test", "endpoint", "id", true))

	a.GET("/merchants", h.merchants)
	a.POST("/merchants", h.createMerchant, h.act("merchant.create", "merchant", "", true))
	a.GET("/merchants/:id", h.merchant)
	a.POST("/merchants/:id/suspend", h.suspendMerchant, h.act("merchant.suspend", "merchant", "id", true))
	a.POST("/merchants/:id/reactivate", h.reactivateMerchant, h.act("merchant.reactivate", "merchant", "id", true))
	a.POST("/merchants/:id/sites", h.addSite, h.act("site.add", "merchant", "id", true))
	a.POST("/merchants/:id/keys", h.createKey, h.act("key.create", "merchant", "id", true))
	a.POST("/keys/:id/revoke", h.revokeKey, h.act("key.revoke", "key", "id", true))

	a.GET("/services", h.listServices)
	a.GET("/services/:id", h.showService)
	a.POST("/services/:id/suspend", h.serviceAction(ServiceAdmin.Suspend, "suspension queued."), h.act("service.suspend", "service", "id", true))
	a.POST("/services/:id/unsuspend", h.serviceAction(ServiceAdmin.Unsuspend, "unsuspension queued."), h.act("service.unsuspend", "service", "id", true))
	a.POST("/services/:id/terminate", h.serviceAction(ServiceAdmin.Terminate, "termination queued."), h.act("service.terminate", "service", "id", true))
	a.POST("/services/:id/retry", h.serviceAction(ServiceAdmin.Retry, "the failed actions are queued again."), h.act("service.retry", "service", "id", true))
	a.POST("/services/:id/resume", h.serviceAction(ServiceAdmin.Resume, "resumed; its paused actions are queued again."), h.act("service.resume", "service", "id", true))
	a.POST("/services/:id/change-package", h.changeServicePackage, h.act("service.change_package", "service", "id", true))
	a.POST("/services/:id/login-link", h.serviceLoginLink, h.act("service.login_link", "service", "id", true))

	a.GET("/domains", h.listDomains)
	a.GET("/domains/:id", h.showDomain)
	a.POST("/domains/:id/renew", h.renewDomain, h.act("domain.renew", "domain", "id", true))
	a.POST("/domains/:id/transfer-lock", h.setDomainLock, h.act("domain.transfer_lock", "domain", "id", true))
	a.POST("/domains/:id/nameservers", h.setDomainNameservers, h.act("domain.nameservers", "domain", "id", true))

	a.GET("/plugins", h.plugins)
	a.POST("/plugins/:id/test", h.testPlugin, h.act("plugin.test", "plugin", "id", true))

	a.GET("/audit", h.auditLog)

	g.Any("/*", h.notFound)
}

// consoleCSP allows our own stylesheet and script only, forms to ourselves,
// no framing and no network access from scripts.
const consoleCSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Cookie names. The __Host- prefix (only over https) makes browsers refuse
// the cookie unless it is Secure, host-only and for path /.
const (
	sessionCookie       = "sy_console"
	secureSessionCookie = "__Host-sy_console"
	loginCookie         = "sy_console_login"
	secureLoginCookie   = "__Host-sy_console_login"
)

func (h *consoleHandlers) toIndex(c echo.Context) error {
	return c.Redirect(http.StatusMovedPermanently, "/console/")
}

// isSecure is whether the browser talks to us over https: console.base_url
// says so, or the request came over TLS or through a proxy that says it did
// (trusting the header can only add Secure, which a spoofer gains nothing
// from).
func (h *consoleHandlers) isSecure(c echo.Context) bool {
	return h.secure || c.Scheme() == "https"
}

func (h *consoleHandlers) cookieName(c echo.Context, plain, secure string) string {
	if h.isSecure(c) {
		return secure
	}
	return plain
}

func (h *consoleHandlers) setCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: h.isSecure(c), SameSite: http.SameSiteStrictMode})
}

func cookieValue(c echo.Context, name string) string {
	ck, err := c.Cookie(name)
	if err != nil {
		return ""
	}
	return ck.Value
}

// clientAddr is the direct peer: forwarded headers are not trusted for
// rate limiting or the record (the admin listener is normally reached
// through one proxy, whose address every client then shares).
func clientAddr(c echo.Context) string {
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		return c.Request().RemoteAddr
	}
	return host
}

const sessionKey = "console.session"

func sessionOf(c echo.Context) *console.Session {
	s, _ := c.Get(sessionKey).(*console.Session)
	return s
}

// requireSession resumes the operator's session or sends the browser to
// the login page (for a POST too: nothing is done without a session).
func (h *consoleHandlers) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		secret := cookieValue(c, h.cookieName(c, sessionCookie, secureSessionCookie))
		sess, err := h.auth.Resume(c.Request().Context(), secret)
		if errors.Is(err, domain.ErrUnauthorized) {
			q := url.Values{}
			if c.Request().Method == http.MethodGet {
				q.Set("next", c.Request().URL.RequestURI())
			}
			if secret != "" {
				q.Set("expired", "1")
				h.setCookie(c, h.cookieName(c, sessionCookie, secureSessionCookie), "", -1)
			}
			target := "/console/login"
			if len(q) > 0 {
				target += "?" + q.Encode()
			}
			return c.Redirect(http.StatusSeeOther, target)
		}
		if err != nil {
			return h.fail(c, err)
		}
		c.Set(sessionKey, sess)
		return next(c)
	}
}

// actionRecord is the audit entry of the action being handled, filled in
// by the handler (target, outcome, detail) and stored by act.
type actionRecord struct {
	entry audit.Entry
	// items, when set, are recorded instead of entry (one per target of a
	// bulk action).
	items []audit.Entry
	set   bool
}

const actionKey = "console.action"

func actionOf(c echo.Context) *actionRecord {
	r, _ := c.Get(actionKey).(*actionRecord)
	if r == nil {
		r = &actionRecord{} // a handler called outside act records nothing
	}
	return r
}

// target names the action's target when the route does not (a create).
func (r *actionRecord) target(id string) { r.entry.TargetID = id }

// ok marks the action done, with a sentence for the record.
func (r *actionRecord) ok(detail string) {
	r.entry.Outcome, r.entry.Detail, r.set = audit.OK, detail, true
}

// failed marks the action refused or failed by the service.
func (r *actionRecord) failed(err error) {
	r.entry.Outcome, r.entry.Detail, r.set = audit.Failed, publicMessage(err), true
}

// item adds one target's outcome of a bulk action.
func (r *actionRecord) item(targetID string, err error, detail string) {
	e := r.entry
	e.TargetID, e.Outcome, e.Detail = targetID, audit.OK, detail
	if err != nil {
		e.Outcome, e.Detail = audit.Failed, publicMessage(err)
	}
	r.items = append(r.items, e)
	r.set = true
}

// act guards a state-changing POST: the form must come from the console
// (Origin, CSRF token) and, when operatorOnly, the operator's role must
// allow acting. It records the action in the audit log, refused or not.
func (h *consoleHandlers) act(action, targetType, param string, operatorOnly bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			sess := sessionOf(c)
			rec := &actionRecord{entry: audit.Entry{Actor: sess.Operator.Name, Role: sess.Operator.Role, Via: audit.ViaConsole,
				Action: action, TargetType: targetType, RemoteAddr: clientAddr(c)}}
			if param != "" {
				rec.entry.TargetID = c.Param(param)
			}
			if !h.sameOrigin(c) || !sess.CheckCSRF(c.Request().PostFormValue("csrf")) {
				rec.entry.Outcome, rec.entry.Detail = audit.Denied, "the form's CSRF token or origin was wrong"
				h.record(c, rec)
				return h.errorPage(c, http.StatusForbidden, "Form rejected",
					"This form did not come from this console session (its security token is missing, wrong or from a session that ended). Nothing was changed. Go back, reload the page and try again.")
			}
			if operatorOnly && !sess.Operator.CanAct() {
				rec.entry.Outcome, rec.entry.Detail = audit.Denied, "the viewer role can only read"
				h.record(c, rec)
				return h.errorPage(c, http.StatusForbidden, "Not allowed",
					"You are signed in as "+sess.Operator.Name+" with the viewer role, which can look at everything but change nothing. Nothing was changed.")
			}
			c.Set(actionKey, rec)
			err := next(c)
			if !rec.set {
				if err != nil {
					rec.failed(err)
				} else {
					rec.ok("")
				}
			}
			h.record(c, rec)
			return err
		}
	}
}

// record stores the action's audit entries. A store failure is logged by
// the audit log itself (the entry is in the log either way).
func (h *consoleHandlers) record(c echo.Context, rec *actionRecord) {
	entries := rec.items
	if len(entries) == 0 {
		entries = []audit.Entry{rec.entry}
	}
	for _, e := range entries {
		if err := h.svc.Audit.Record(c.Request().Context(), e); err != nil {
			h.log.ErrorContext(c.Request().Context(), "audit entry not stored", "action", e.Action, "err", err)
		}
	}
}

// sameOrigin checks the Origin header of a form post, when the browser
// sent one (every current browser does on POST): it must be the console's
// own. The CSRF token is the main defence; this is a second one.
func (h *consoleHandlers) sameOrigin(c echo.Context) bool {
	origin := c.Request().Header.Get("Origin")
	if origin == "" {
		return true
	}
	want := h.origin
	if want == "" {
		want = c.Scheme() + "://" + c.Request().Host
	}
	return strings.EqualFold(origin, want)
}

// render writes a page with the session's operator, CSRF token and flash.
func (h *consoleHandlers) render(c echo.Context, status int, name string, p *console.Page) error {
	if sess := sessionOf(c); sess != nil {
		op := sess.Operator
		p.Operator, p.CSRF = &op, sess.CSRF
		if p.Flash == nil {
			p.Flash = sess.Flash
		}
	}
	var buf bytes.Buffer
	if err := h.pages.Render(&buf, name, p); err != nil {
		h.log.ErrorContext(c.Request().Context(), "render console page", "page", name, "err", err)
		return c.String(http.StatusInternalServerError, "The console could not render this page; see the server log.")
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// errorData is the error page's content.
type errorData struct {
	Message string
}

func (h *consoleHandlers) errorPage(c echo.Context, status int, title, message string) error {
	return h.render(c, status, "error", &console.Page{Title: title, Data: errorData{Message: message}})
}

// fail renders a service error as a page: its own message for the
// caller's mistakes, a generic one (and a log line) for ours.
func (h *consoleHandlers) fail(c echo.Context, err error) error {
	status := statusFor(err)
	if status >= 500 && status != http.StatusServiceUnavailable {
		h.log.ErrorContext(c.Request().Context(), "console request failed", "path", c.Path(), "err", err)
	}
	title := http.StatusText(status)
	if status == http.StatusNotFound {
		title = "Not found"
	}
	return h.errorPage(c, status, title, publicMessage(err))
}

// publicMessage is what an operator may read about err: a domain error's
// message, or a generic sentence for internal failures.
func publicMessage(err error) string {
	if de, ok := domain.AsError(err); ok && (statusFor(err) < 500 || errors.Is(err, domain.ErrUnavailable)) {
		return de.Message
	}
	return "Something went wrong on the server; the details are in its log."
}

func (h *consoleHandlers) notFound(c echo.Context) error {
	if sessionOf(c) == nil {
		// Outside the session group: show the page without an operator.
		secret := cookieValue(c, h.cookieName(c, sessionCookie, secureSessionCookie))
		if sess, err := h.auth.Resume(c.Request().Context(), secret); err == nil {
			c.Set(sessionKey, sess)
		}
	}
	return h.errorPage(c, http.StatusNotFound, "Not found", "There is no console page at this address.")
}

// done finishes an action: it records the outcome, leaves a notice for the
// next page and sends the browser there (303, so a reload does not post
// again).
func (h *consoleHandlers) done(c echo.Context, err error, okMessage, next string) error {
	rec := actionOf(c)
	flash := console.Flash{Message: okMessage}
	if err != nil {
		rec.failed(err)
		flash = console.Flash{Error: true, Message: publicMessage(err)}
		if statusFor(err) >= 500 && statusFor(err) != http.StatusServiceUnavailable {
			h.log.ErrorContext(c.Request().Context(), "console action failed", "action", rec.entry.Action, "err", err)
		}
	} else if !rec.set {
		rec.ok(okMessage)
	}
	if err := h.auth.SetFlash(c.Request().Context(), sessionOf(c), flash); err != nil {
		return h.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// noStore marks a response that shows a secret once: never cached, never
// stored by the browser's back-forward cache.
func noStore(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "no-store")
}
