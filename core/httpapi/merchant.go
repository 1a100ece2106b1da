package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/ratelimit"
)

// SessionService is what the merchant API handlers call;
// *payments.Service implements it.
type SessionService interface {
	CreateSession(ctx context.Context, p *merchants.Principal, req *payments.CreateSessionRequest, idemKey string) (*payments.Response, error)
	GetSession(ctx context.Context, p *merchants.Principal, id string) (*payments.SessionView, error)
	Me(ctx context.Context, p *merchants.Principal) (*payments.MeView, error)
}

// Authenticator resolves a bearer API key; *merchants.Service implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*merchants.Principal, error)
}

var (
	_ SessionService = (*payments.Service)(nil)
	_ Authenticator  = (*merchants.Service)(nil)
)

// MerchantAPIOptions configure the merchant API.
type MerchantAPIOptions struct {
	// Limiter limits each API key (api.rate_limit); nil means a
	// per-instance ratelimit.Local of RequestsPerSecond and Burst.
	Limiter ratelimit.Limiter
	// RequestsPerSecond and Burst are the per-key token bucket used when
	// Limiter is nil. RequestsPerSecond <= 0 disables the limit.
	RequestsPerSecond float64
	Burst             int
	// Now is that bucket's clock; nil means time.Now.
	Now func() time.Time
	// Refunds serves the refund routes; nil leaves them out.
	Refunds RefundService
}

// principalKey is where the auth middleware leaves the caller.
const principalKey = "switchyard.principal"

// IdempotencyKeyHeader names the header that makes a create retry-safe.
const IdempotencyKeyHeader = "Idempotency-Key"

// MerchantAPI mounts the merchant endpoints and their seed-API aliases, which
// share handlers and therefore behaviour exactly:
//
//	POST /v1/sessions        POST /gateway/session.php              sessions:write
//	GET  /v1/sessions/:id    GET  /gateway/status.php?session_id=   sessions:read
//	GET  /v1/me              GET  /gateway/me.php                   me:read
//	POST /v1/sessions/:id/refunds  POST /gateway/refund.php?session_id=  refunds:write
//	GET  /v1/sessions/:id/refunds                                   sessions:read
//	GET  /v1/refunds/:refund_id                                     sessions:read
//
// Every route needs Authorization: Bearer <api key>; each key is rate
// limited by opts.Limiter: shared through Redis, or a token bucket held in
// this process's memory, in which case with N instances behind a balancer
// a key gets up to N times the configured rate.
func MerchantAPI(svc SessionService, auth Authenticator, opts MerchantAPIOptions) Mount {
	h := &merchantHandlers{svc: svc}
	limiter := opts.Limiter
	if limiter == nil {
		limiter = ratelimit.NewLocal(ratelimit.Rate{PerSecond: opts.RequestsPerSecond, Burst: opts.Burst}, opts.Now)
	}
	limit := keyLimit(limiter)
	authn := authenticate(auth)
	return func(e *echo.Echo) {
		route := func(method, path string, scope domain.Scope, handler echo.HandlerFunc) {
			e.Add(method, path, handler, authn, limit, requireScope(scope))
		}
		for _, p := range []string{"/v1/sessions", "/gateway/session.php"} {
			route(http.MethodPost, p, domain.ScopeSessionsWrite, h.create)
		}
		route(http.MethodGet, "/v1/sessions/:id", domain.ScopeSessionsRead, h.status)
		route(http.MethodGet, "/gateway/status.php", domain.ScopeSessionsRead, h.status)
		for _, p := range []string{"/v1/me", "/gateway/me.php"} {
			route(http.MethodGet, p, domain.ScopeMeRead, h.me)
		}
		if opts.Refunds != nil {
			rh := &refundHandlers{svc: opts.Refunds, caller: merchantCaller}
			route(http.MethodPost, "/v1/sessions/:id/refunds", domain.ScopeRefundsWrite, rh.create)
			route(http.MethodPost, "/gateway/refund.php", domain.ScopeRefundsWrite, rh.create)
			route(http.MethodGet, "/v1/sessions/:id/refunds", domain.ScopeSessionsRead, rh.listSession)
			route(http.MethodGet, "/v1/refunds/:refund_id", domain.ScopeSessionsRead, rh.get)
		}
	}
}

type merchantHandlers struct {
	svc SessionService
}

func principal(c echo.Context) *merchants.Principal {
	p, _ := c.Get(principalKey).(*merchants.Principal)
	return p
}

func (h *merchantHandlers) create(c echo.Context) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req payments.CreateSessionRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	resp, err := h.svc.CreateSession(c.Request().Context(), principal(c), &req, c.Request().Header.Get(IdempotencyKeyHeader))
	if err != nil {
		return err
	}
	if resp.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	return c.Blob(resp.Status, echo.MIMEApplicationJSON, resp.Body)
}

func (h *merchantHandlers) status(c echo.Context) error {
	id := c.Param("id")
	if c.Path() == "/gateway/status.php" {
		id = c.QueryParam("session_id")
		if id == "" {
			return domain.Invalid("missing_field", "session_id", "session_id is required")
		}
	}
	v, err := h.svc.GetSession(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	body, err := payments.RenderView(v)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}

func (h *merchantHandlers) me(c echo.Context) error {
	v, err := h.svc.Me(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// authenticate admits requests with a valid, unrevoked API key and stores
// the principal for the handlers. Failures are 401 with a code saying which
// (missing, malformed, unknown, revoked) and never echo the key.
func authenticate(auth Authenticator) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			tok, ok := bearerToken(c.Request())
			if !ok {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="switchyard"`)
				return &domain.Error{Kind: domain.ErrUnauthorized, Code: "missing_api_key",
					Message: "an API key is required: Authorization: Bearer sk_test_… or sk_live_…"}
			}
			p, err := auth.Authenticate(c.Request().Context(), tok)
			if err != nil {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="switchyard", error="invalid_token"`)
				return err
			}
			c.Set(principalKey, p)
			return next(c)
		}
	}
}

// requireScope rejects keys that lack scope with 403 insufficient_scope.
func requireScope(scope domain.Scope) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principal(c)
			if p == nil || !p.Key.HasScope(string(scope)) {
				return &domain.Error{Kind: domain.ErrForbidden, Code: "insufficient_scope",
					Message: "this API key lacks the " + string(scope) + " scope"}
			}
			return next(c)
		}
	}
}

// keyLimit applies the limiter to each authenticated request, keyed by
// the API key.
func keyLimit(l ratelimit.Limiter) echo.MiddlewareFunc {
	return limitBy(l, apiKeyOf, func(_ echo.Context, wait time.Duration) error {
		return &retryAfterError{
			err: &domain.Error{Kind: domain.ErrRateLimited, Code: "rate_limited",
				Message: "too many requests for this API key; retry after the Retry-After delay"},
			after: wait,
		}
	})
}

// apiKeyOf is the merchant API's limiter key. The public prefix, not the
// id: it is unique across deployments sharing one Redis (ids restart at 1
// in every database). A request without a principal is not limited here.
func apiKeyOf(c echo.Context) (string, bool) {
	p := principal(c)
	if p == nil {
		return "", false
	}
	return "key:" + p.Key.Prefix, true
}

// limitBy applies l to each request with a key (keyOf's false lets it
// pass); over the limit the request gets tooMany's error, built from the
// wait until a token is free. A limiter that cannot decide (a fail-closed
// shared limiter without Redis) refuses with 503: the caller did nothing
// wrong. Every rate limit of the public listener goes through here.
func limitBy(l ratelimit.Limiter, keyOf func(echo.Context) (string, bool), tooMany func(echo.Context, time.Duration) error) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key, ok := keyOf(c)
			if !ok {
				return next(c)
			}
			d, err := l.Allow(c.Request().Context(), key)
			if err != nil {
				return &retryAfterError{
					err: &domain.Error{Kind: domain.ErrUnavailable, Code: "rate_limiter_unavailable",
						Message: "the rate limiter is unavailable; retry shortly"},
					after: time.Second,
				}
			}
			if !d.Allowed {
				return tooMany(c, d.RetryAfter)
			}
			return next(c)
		}
	}
}
