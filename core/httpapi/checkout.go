package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/checkout"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
)

// CheckoutService is what the hosted checkout needs from the payments
// service; *payments.Service implements it.
type CheckoutService interface {
	// CheckoutView loads a session with what the shopper may see of it.
	// Unknown ids are domain.ErrNotFound.
	CheckoutView(ctx context.Context, sessionID string) (*payments.Checkout, error)
	// StartPayment routes the session to a provider for method and creates
	// the provider payment; it returns where to send the shopper. A method
	// that cannot be used is domain.ErrUnprocessable (or ErrInvalid), a
	// decline ErrUnprocessable with code payment_declined, no healthy
	// provider domain.ErrUnavailable, a session that no longer takes
	// payments domain.ErrConflict.
	StartPayment(ctx context.Context, sessionID, method, country string) (redirectURL string, err error)
	// Cancel cancels an open session; other statuses are left as they are.
	Cancel(ctx context.Context, sessionID string) (*payments.SessionView, error)
}

var _ CheckoutService = (*payments.Service)(nil)

// sessionState is the part of a payments.Checkout the pages work from, in
// the types the handlers compare and format.
type sessionState struct {
	SessionID      string
	Status         domain.SessionStatus
	Amount         string // decimal in the currency's major unit
	Currency       string
	AmountRefunded string
	MerchantName   string
	Mode           domain.IntegrationMode
	// Method is the method fixed on the session, if any.
	Method    string
	Methods   []payments.MethodView
	ReturnURL string
	CancelURL string
	ExpiresAt time.Time
	// LastAttempt is the status of the most recent payment attempt, ""
	// before the first.
	LastAttempt string
}

func stateOf(v *payments.Checkout) (sessionState, error) {
	if v == nil || v.Session == nil {
		return sessionState{}, errors.New("checkout view without a session")
	}
	s := v.Session
	st := sessionState{
		SessionID:      s.SessionID,
		Status:         s.Status,
		Amount:         s.Amount,
		Currency:       s.Currency,
		AmountRefunded: s.AmountRefunded,
		MerchantName:   v.MerchantName,
		Mode:           v.IntegrationMode,
		Method:         deref(s.Method),
		Methods:        v.Methods,
		ReturnURL:      deref(s.ReturnURL),
		CancelURL:      deref(s.CancelURL),
	}
	if s.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, s.ExpiresAt)
		if err != nil {
			return sessionState{}, fmt.Errorf("checkout view: expires_at %q: %w", s.ExpiresAt, err)
		}
		st.ExpiresAt = t
	}
	if v.LastAttempt != nil {
		st.LastAttempt = string(v.LastAttempt.Status)
	}
	return st, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Attempt statuses as sessionState.LastAttempt spells them.
const (
	attemptPending    = "pending"
	attemptProcessing = "processing"
	attemptFailed     = "failed"
)

// CheckoutOptions configures the hosted checkout routes.
type CheckoutOptions struct {
	Logger *slog.Logger
	// PublicBaseURL is how shoppers reach this listener (public.base_url or
	// http:// + public.addr); it defines which provider URLs are on our own
	// origin. Empty: the request's own scheme and host.
	PublicBaseURL string
	// FormActionOrigins are provider origins ("https://checkout.stripe.com")
	// the method form may be redirected to. Browsers apply form-action to
	// the redirects that follow a form POST, so a provider on another origin
	// must be listed here to get a direct 303; any other origin gets a
	// hand-off page whose plain navigation form-action does not govern.
	FormActionOrigins []string
	// PageOrigins, when set, returns more such origins on every request:
	// those the provider plugins describe (provider.Description.PageOrigins),
	// which are known only once the plugins run and may change on restart.
	PageOrigins func() []string
	// CountryHeader names a request header that a trusted proxy sets to
	// the shopper's ISO 3166 alpha-2 country (e.g. CF-IPCountry), for
	// country routing rules. Empty: the country is unknown.
	CountryHeader string
	// PollLimit is how many times the confirming page reloads itself before
	// it stops and tells the shopper they may leave. Default 40 (two
	// minutes at the 3 s interval).
	PollLimit int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// pollInterval is the confirming page's reload delay.
const pollInterval = 3

// codeDeclined is the payments error code of a payment the provider
// declined while creating it.
const codeDeclined = "payment_declined"

// Notices shown above the method choice.
const (
	noticeUnavailable = "This payment method is unavailable right now. Please choose another method."
	noticeChoose      = "Choose a payment method."
	noticeFailed      = "Your payment didn't go through and you have not been charged. Please try again or choose another method."
)

// checkoutHandlers serves the shopper-facing pages. Every response is HTML,
// errors included: the client is a person in a browser, not an API client.
type checkoutHandlers struct {
	svc       CheckoutService
	pages     *checkout.Renderer
	log       *slog.Logger
	selfURL   *url.URL
	allowed   []string
	described func() []string
	countryH  string
	pollLimit int
	now       func() time.Time
}

// Checkout mounts the hosted checkout: the pages under /checkout/{id} and
// the stylesheet under /checkout/assets/.
func Checkout(svc CheckoutService, r *checkout.Renderer, opts CheckoutOptions) Mount {
	h := &checkoutHandlers{
		svc: svc, pages: r, log: opts.Logger, countryH: opts.CountryHeader,
		pollLimit: opts.PollLimit, now: opts.Now, described: opts.PageOrigins,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.pollLimit <= 0 {
		h.pollLimit = 40
	}
	if h.now == nil {
		h.now = time.Now
	}
	if u, err := url.Parse(opts.PublicBaseURL); err == nil && u.Host != "" {
		h.selfURL = u
	}
	h.allowed = origins(nil, opts.FormActionOrigins)
	headers := securityHeaders(func() string { return checkoutCSP(h.formOrigins()) })
	return func(e *echo.Echo) {
		e.GET(checkout.AssetsPrefix+"*", echo.WrapHandler(r.AssetHandler()), headers)
		e.GET("/checkout/:session_id", h.show, headers)
		e.POST("/checkout/:session_id/pay", h.pay, headers)
		// A reload of the address bar after a re-rendered form lands here.
		e.GET("/checkout/:session_id/pay", h.toCheckout, headers)
		e.GET("/checkout/:session_id/return", h.returned, headers)
		e.GET("/checkout/:session_id/cancel", h.cancel, headers)
		e.POST("/checkout/:session_id/cancel", h.cancel, headers)
		e.Any("/checkout", h.notFound, headers)
		e.Any("/checkout/*", h.unrouted, headers)
	}
}

// checkoutCSP allows nothing but our stylesheet, data: images (the empty
// favicon), and form posts to ourselves and the listed provider origins.
// There is no script-src at all: the pages use none.
func checkoutCSP(formOrigins []string) string {
	formAction := "'self'"
	for _, o := range formOrigins {
		formAction += " " + o
	}
	return "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action " + formAction +
		"; frame-ancestors 'none'; base-uri 'none'"
}

// securityHeaders sets the headers every checkout response carries. Session
// pages must never be cached (they show live state and a bearer id); the
// asset handler overrides Cache-Control for its immutable files.
func securityHeaders(csp func() string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp())
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			// same-origin rather than no-referrer: under no-referrer
			// browsers send "Origin: null" on our own form posts, which
			// would make origin checks in front of us misfire.
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Cache-Control", "no-store")
			return next(c)
		}
	}
}

// page renders p with status. A rendering failure becomes the error page,
// and if even that fails, plain text: the shopper always gets an answer.
func (h *checkoutHandlers) page(c echo.Context, status int, p checkout.Page) error {
	var buf bytes.Buffer
	if err := h.pages.Render(&buf, p); err != nil {
		h.log.ErrorContext(c.Request().Context(), "render checkout page", "kind", p.Kind, "err", err)
		buf.Reset()
		status = http.StatusInternalServerError
		if err := h.pages.Render(&buf, checkout.Page{Kind: checkout.KindError}); err != nil {
			return c.String(status, "Something went wrong. Please try again.")
		}
	}
	return c.HTMLBlob(status, buf.Bytes())
}

func (h *checkoutHandlers) notFound(c echo.Context) error {
	return h.page(c, http.StatusNotFound, checkout.Page{Kind: checkout.KindNotFound})
}

// unrouted answers what no checkout route took: a known page with the
// wrong method is 405 with Allow, anything else 404. Only the id's shape is
// checked, so neither answer says whether a session exists.
func (h *checkoutHandlers) unrouted(c echo.Context) error {
	rest := strings.TrimPrefix(c.Request().URL.Path, "/checkout/")
	id, suffix, _ := strings.Cut(rest, "/")
	if allow, ok := allowedMethods(suffix); ok && domain.ValidSessionID(id) {
		c.Response().Header().Set("Allow", allow)
		return h.page(c, http.StatusMethodNotAllowed, checkout.Page{Kind: checkout.KindError})
	}
	return h.notFound(c)
}

// allowedMethods lists the methods of each page below /checkout/{id}, by
// the path segment after the id ("" is the page itself).
func allowedMethods(suffix string) (string, bool) {
	switch suffix {
	case "", "return":
		return http.MethodGet, true
	case "pay", "cancel":
		return http.MethodGet + ", " + http.MethodPost, true
	}
	return "", false
}

// failure answers a service error. Not found looks exactly like a malformed
// id, so the page reveals nothing about which ids exist.
func (h *checkoutHandlers) failure(c echo.Context, err error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return h.notFound(c)
	}
	h.log.ErrorContext(c.Request().Context(), "checkout request failed",
		"method", c.Request().Method, "path", c.Path(), "err", err)
	status := http.StatusInternalServerError
	if errors.Is(err, domain.ErrUnavailable) {
		status = http.StatusServiceUnavailable
	}
	return h.page(c, status, checkout.Page{Kind: checkout.KindError})
}

// load validates the id before anything touches the store, then loads the
// view. ok is false when a response has already been written.
func (h *checkoutHandlers) load(c echo.Context) (sessionState, bool, error) {
	id := c.Param("session_id")
	if !domain.ValidSessionID(id) {
		return sessionState{}, false, h.notFound(c)
	}
	v, err := h.state(c.Request().Context(), id)
	if err != nil {
		return sessionState{}, false, h.failure(c, err)
	}
	return v, true, nil
}

func (h *checkoutHandlers) state(ctx context.Context, id string) (sessionState, error) {
	cv, err := h.svc.CheckoutView(ctx, id)
	if err != nil {
		return sessionState{}, err
	}
	v, err := stateOf(cv)
	if err != nil {
		return sessionState{}, err
	}
	if v.Status == domain.StatusOpen && !v.ExpiresAt.IsZero() && !h.now().Before(v.ExpiresAt) {
		// The expiry job may not have run yet; the shopper must not be
		// invited to pay a session that is past its time.
		v.Status = domain.StatusExpired
	}
	return v, nil
}

func basePage(kind checkout.Kind, v sessionState) checkout.Page {
	p := checkout.Page{
		Kind:      kind,
		SessionID: v.SessionID,
		Merchant:  v.MerchantName,
		Amount:    checkout.FormatAmount(v.Currency, v.Amount),
		ReturnURL: v.ReturnURL,
		CancelURL: v.CancelURL,
	}
	for _, m := range v.Methods {
		p.Methods = append(p.Methods, checkout.Method{Value: m.Method, Label: m.Label})
	}
	// Most shoppers pay by card, then wallet: list those first (and so
	// pre-select card); anything else keeps the service's order after them.
	slices.SortStableFunc(p.Methods, func(a, b checkout.Method) int {
		return methodRank(a.Value) - methodRank(b.Value)
	})
	return p
}

func methodRank(method string) int {
	switch method {
	case "card":
		return 0
	case "wallet":
		return 1
	}
	return 2
}

// statePage is the page for a session that takes no new payment attempt,
// or ok=false when it is open.
func (h *checkoutHandlers) statePage(v sessionState, poll int) (checkout.Page, bool) {
	switch {
	case v.Status == domain.StatusRefunded:
		return basePage(checkout.KindRefunded, v), true
	case v.Status == domain.StatusRequiresReview:
		return basePage(checkout.KindReview, v), true
	case v.Status.MoneyReceived():
		p := basePage(checkout.KindPaid, v)
		p.PartiallyRefunded = v.Status == domain.StatusPartiallyRefunded ||
			(v.Status == domain.StatusDisputed && refunded(v) > 0)
		return p, true
	case v.Status == domain.StatusExpired:
		return basePage(checkout.KindExpired, v), true
	case v.Status == domain.StatusCanceled:
		return basePage(checkout.KindCanceled, v), true
	case v.Status == domain.StatusProcessing:
		return h.confirming(v, poll), true
	}
	return checkout.Page{}, false
}

// refunded is the refunded amount in minor units; an unparsable value
// counts as none, which only hides a note.
func refunded(v sessionState) int64 {
	n, err := domain.ParseAmount(v.AmountRefunded, domain.Currency(v.Currency))
	if err != nil {
		return 0
	}
	return n
}

// confirming reloads itself every few seconds until pollLimit, then stops
// and says so, instead of spinning forever on a stuck payment.
func (h *checkoutHandlers) confirming(v sessionState, poll int) checkout.Page {
	p := basePage(checkout.KindConfirming, v)
	if poll >= h.pollLimit {
		p.StillWaiting = true
		return p
	}
	p.Refresh = &checkout.Refresh{Seconds: pollInterval, URL: checkout.ReturnPollURL(v.SessionID, poll+1)}
	return p
}

func (h *checkoutHandlers) choose(c echo.Context, status int, v sessionState, selected, notice string) error {
	p := basePage(checkout.KindChoose, v)
	p.Selected, p.Notice = selected, notice
	if p.Selected == "" {
		p.Selected = v.Method
	}
	return h.page(c, status, p)
}

// show is GET /checkout/{id}: the method choice, or straight to the
// provider when the merchant already chose the method (smart routing).
func (h *checkoutHandlers) show(c echo.Context) error {
	v, ok, err := h.load(c)
	if !ok {
		return err
	}
	if p, done := h.statePage(v, 0); done {
		return h.page(c, http.StatusOK, p)
	}
	failed := v.LastAttempt == attemptFailed
	if v.Mode == domain.ModeSmartRouting && v.Method != "" && !failed {
		return h.start(c, v, v.Method, false)
	}
	notice := ""
	if failed {
		notice = noticeFailed
	}
	return h.choose(c, http.StatusOK, v, "", notice)
}

// pay is POST /checkout/{id}/pay with the chosen method. There is no CSRF
// token on purpose: the checkout sets no cookies, so a cross-site post
// carries no ambient authority, and whoever knows the unguessable session
// id can open the page and press the button anyway.
func (h *checkoutHandlers) pay(c echo.Context) error {
	v, ok, err := h.load(c)
	if !ok {
		return err
	}
	if v.Status != domain.StatusOpen {
		// Paid, expired, canceled or processing meanwhile: show that state
		// through a GET, so a reload never re-posts.
		return h.toCheckout(c)
	}
	method := c.FormValue("method")
	if method == "" {
		return h.choose(c, http.StatusUnprocessableEntity, v, "", noticeChoose)
	}
	if !slices.ContainsFunc(v.Methods, func(m payments.MethodView) bool { return m.Method == method }) {
		return h.choose(c, http.StatusUnprocessableEntity, v, "", noticeUnavailable)
	}
	return h.start(c, v, method, true)
}

// start routes and creates the provider payment, then sends the shopper to
// the provider. fromForm says the request is the method form's POST, whose
// redirects the form-action policy governs.
func (h *checkoutHandlers) start(c echo.Context, v sessionState, method string, fromForm bool) error {
	ctx := c.Request().Context()
	country := ""
	if h.countryH != "" {
		country = normalizeCountry(c.Request().Header.Get(h.countryH))
	}
	target, err := h.svc.StartPayment(ctx, v.SessionID, method, country)
	if err == nil {
		u, ok := h.redirectTarget(c, target)
		if !ok {
			h.log.ErrorContext(ctx, "provider returned an unusable redirect", "session_id", v.SessionID, "method", method)
			return h.choose(c, http.StatusBadGateway, v, method, noticeUnavailable)
		}
		if fromForm && !h.formMayReach(c, u) {
			p := basePage(checkout.KindRedirect, v)
			p.RedirectURL = u.String()
			p.Refresh = &checkout.Refresh{Seconds: 0, URL: p.RedirectURL}
			return h.page(c, http.StatusOK, p)
		}
		return c.Redirect(http.StatusSeeOther, u.String())
	}
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return h.notFound(c)
	case errors.Is(err, domain.ErrConflict):
		// The session changed under us (paid, expired, canceled, …). Show
		// the new state; if it is still open, offer the choice again
		// rather than redirecting in a loop.
		cur, lerr := h.state(ctx, v.SessionID)
		if lerr != nil {
			return h.failure(c, lerr)
		}
		if p, done := h.statePage(cur, 0); done {
			return h.page(c, http.StatusConflict, p)
		}
		return h.choose(c, http.StatusConflict, cur, method, noticeUnavailable)
	case errors.Is(err, domain.ErrInvalid), errors.Is(err, domain.ErrUnprocessable):
		notice := noticeUnavailable
		if de, ok := domain.AsError(err); ok && de.Code == codeDeclined {
			notice = noticeFailed
		}
		return h.choose(c, http.StatusUnprocessableEntity, v, method, notice)
	case errors.Is(err, domain.ErrUnavailable):
		h.log.WarnContext(ctx, "no provider could take the payment", "session_id", v.SessionID, "method", method, "err", err)
		c.Response().Header().Set("Retry-After", "5")
		return h.choose(c, http.StatusServiceUnavailable, v, method, noticeUnavailable)
	}
	return h.failure(c, err)
}

// redirectTarget accepts an absolute http(s) URL or a path on this host;
// anything else (javascript:, protocol-relative, garbage) is refused.
func (h *checkoutHandlers) redirectTarget(c echo.Context, target string) (*url.URL, bool) {
	u, err := url.Parse(target)
	if err != nil || target == "" {
		return nil, false
	}
	if u.Scheme == "" && u.Host == "" {
		if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(target, "//") || strings.HasPrefix(target, "/\\") {
			return nil, false
		}
		return u, true
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, false
	}
	return u, true
}

// formMayReach reports whether form-action allows a redirect to u.
func (h *checkoutHandlers) formMayReach(c echo.Context, u *url.URL) bool {
	if !u.IsAbs() {
		return true
	}
	o := origin(u)
	if o == h.selfOrigin(c) {
		return true
	}
	return slices.Contains(h.formOrigins(), o)
}

// formOrigins are the configured origins followed by those the plugins
// describe now, without repeats.
func (h *checkoutHandlers) formOrigins() []string {
	if h.described == nil {
		return h.allowed
	}
	return origins(slices.Clone(h.allowed), h.described())
}

// origins appends the origins of the absolute URLs in raw to out, skipping
// repeats and anything that is not a URL.
func origins(out []string, raw []string) []string {
	for _, o := range raw {
		if u, err := url.Parse(o); err == nil && u.Scheme != "" && u.Host != "" && !slices.Contains(out, origin(u)) {
			out = append(out, origin(u))
		}
	}
	return out
}

func (h *checkoutHandlers) selfOrigin(c echo.Context) string {
	if h.selfURL != nil {
		return origin(h.selfURL)
	}
	return strings.ToLower(c.Scheme() + "://" + c.Request().Host)
}

// origin is scheme://host[:port] in lower case, with default ports dropped
// as browsers compare them.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// normalizeCountry accepts a two-letter code; proxies use "XX"/"T1" and the
// like for unknown or Tor, which routing should treat as unknown.
func normalizeCountry(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s == "XX" {
		return ""
	}
	return s
}

// returned is GET /checkout/{id}/return, where providers send the shopper
// back. It is UX only: it shows the session's state and never changes it.
func (h *checkoutHandlers) returned(c echo.Context) error {
	v, ok, err := h.load(c)
	if !ok {
		return err
	}
	poll, _ := strconv.Atoi(c.QueryParam("poll"))
	poll = max(0, min(poll, h.pollLimit))
	if p, done := h.statePage(v, poll); done {
		return h.page(c, http.StatusOK, p)
	}
	switch v.LastAttempt {
	case attemptFailed:
		return h.page(c, http.StatusOK, basePage(checkout.KindFailed, v))
	case "":
		// Nothing was attempted: the shopper belongs on the checkout.
		return h.toCheckout(c)
	}
	// Pending, processing, or succeeded with the event not yet applied.
	return h.page(c, http.StatusOK, h.confirming(v, poll))
}

// cancel is GET or POST /checkout/{id}/cancel: cancel the unpaid session and
// send the shopper to the merchant's cancel_url.
func (h *checkoutHandlers) cancel(c echo.Context) error {
	v, ok, err := h.load(c)
	if !ok {
		return err
	}
	switch v.Status {
	case domain.StatusOpen:
		sv, err := h.svc.Cancel(c.Request().Context(), v.SessionID)
		if err != nil {
			if errors.Is(err, domain.ErrConflict) {
				return h.toCheckout(c)
			}
			return h.failure(c, err)
		}
		if sv != nil && sv.Status != domain.StatusCanceled {
			// A payment got under way meanwhile: it may still complete,
			// so the session was left as it is. Show that state.
			return h.toCheckout(c)
		}
	case domain.StatusCanceled:
		// Already canceled (a second click): same outcome.
	default:
		// Paid, processing or expired: nothing to cancel; show the state.
		return h.toCheckout(c)
	}
	if v.CancelURL != "" {
		return c.Redirect(http.StatusSeeOther, v.CancelURL)
	}
	v.Status = domain.StatusCanceled
	return h.page(c, http.StatusOK, basePage(checkout.KindCanceled, v))
}

// toCheckout redirects to the session's main page, which shows its state.
func (h *checkoutHandlers) toCheckout(c echo.Context) error {
	id := c.Param("session_id")
	if !domain.ValidSessionID(id) {
		return h.notFound(c)
	}
	return c.Redirect(http.StatusSeeOther, "/checkout/"+id)
}
