package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/switchyard/switchyard/core/domain"
)

// Options configures one listener's echo instance.
type Options struct {
	Logger *slog.Logger
	// Middleware runs before any route (request ids, tracing, access log);
	// core/app passes telemetry's set so this package stays independent of it.
	Middleware []echo.MiddlewareFunc
	BodyLimit  int64
	// Ready reports whether this instance can serve traffic (database
	// reachable, migrations current). Nil means always ready.
	Ready func(ctx context.Context) error
	// HSTSMaxAge, when positive, adds Strict-Transport-Security with this
	// max-age to every response. core/app sets it on the public listener
	// when public.base_url is https (a browser ignores the header over
	// plain HTTP, and one that reached us over HTTPS through the proxy must
	// never fall back).
	HSTSMaxAge time.Duration
}

// Mount registers a group of routes on an echo instance. Feature packages
// (merchant API, checkout, admin) provide one each; app decides which
// listener gets which.
type Mount func(e *echo.Echo)

// New builds an echo instance with the shared error handler, body limit,
// recovery, health endpoints and the given route groups.
func New(opts Options, mounts ...Mount) *echo.Echo {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// c.RealIP() is the TCP peer, never a client-supplied X-Forwarded-For or
	// X-Real-IP: the echo v4 advisories GO-2026-6872 and GO-2026-6875 have no
	// v4 fix, and this is half of why Switchyard is not exposed
	// (docs/decisions.md).
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = newErrorHandler(opts.Logger)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			opts.Logger.ErrorContext(c.Request().Context(), "panic in handler", "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(opts.Middleware...)
	if opts.HSTSMaxAge > 0 {
		e.Use(hsts(opts.HSTSMaxAge))
	}
	e.Use(singleAuthorization)
	if opts.BodyLimit > 0 {
		e.Use(bodyLimit(opts.BodyLimit))
	}
	e.Match([]string{http.MethodGet, http.MethodHead}, "/favicon.ico", favicon)
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", func(c echo.Context) error {
		if opts.Ready != nil {
			ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
			defer cancel()
			if err := opts.Ready(ctx); err != nil {
				return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not_ready", "reason": err.Error()})
			}
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	for _, m := range mounts {
		m(e)
	}
	return e
}

// bodyLimit rejects oversized bodies with 413 before a handler reads them,
// and caps streaming bodies that lie about (or omit) their length.
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > limit {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
			}
			req.Body = &limitedBody{rc: http.MaxBytesReader(c.Response(), req.Body, limit)}
			return next(c)
		}
	}
}

// limitedBody turns http.MaxBytesError into echo's 413 so readBody callers
// get the right status through the one error handler.
type limitedBody struct {
	rc interface {
		Read([]byte) (int, error)
		Close() error
	}
}

func (l *limitedBody) Read(p []byte) (int, error) {
	n, err := l.rc.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return n, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	return n, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }

// hsts sets Strict-Transport-Security on every response, errors included.
func hsts(maxAge time.Duration) echo.MiddlewareFunc {
	value := "max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("Strict-Transport-Security", value)
			return next(c)
		}
	}
}

// singleAuthorization refuses a request with more than one Authorization
// header: which one would count depends on who reads it (Switchyard takes
// the first, a proxy or a plugin may take another), so the request is
// ambiguous and is answered 400 before any credential is looked at.
func singleAuthorization(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if n := len(c.Request().Header.Values(echo.HeaderAuthorization)); n > 1 {
			return domain.Invalid("duplicate_header", "",
				"the Authorization header was sent %d times; send it once", n)
		}
		return next(c)
	}
}

// bearerToken extracts the token of an "Authorization: Bearer …" header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get(echo.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// AdminAuth admits requests bearing one of the configured operator tokens.
// Tokens are compared as SHA-256 digests in constant time so neither their
// content nor their length leaks through timing.
func AdminAuth(tokens []string) echo.MiddlewareFunc {
	digests := make([][32]byte, 0, len(tokens))
	for _, t := range tokens {
		if t != "" {
			digests = append(digests, sha256.Sum256([]byte(t)))
		}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			tok, ok := bearerToken(c.Request())
			if !ok {
				return &domain.Error{Kind: domain.ErrUnauthorized, Code: "missing_token", Message: "an operator token is required: Authorization: Bearer <token>"}
			}
			d := sha256.Sum256([]byte(tok))
			match := 0
			for _, want := range digests {
				match |= subtle.ConstantTimeCompare(d[:], want[:])
			}
			if match != 1 {
				return &domain.Error{Kind: domain.ErrUnauthorized, Code: "invalid_token", Message: "the operator token is not valid"}
			}
			return next(c)
		}
	}
}
