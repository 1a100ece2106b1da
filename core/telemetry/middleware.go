package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// HeaderRequestID carries the request id in both directions.
const HeaderRequestID = "X-Request-Id"

// safeRequestID bounds what a client may choose as its request id: it is
// echoed in a header and written to logs, so no spaces, quotes or control
// characters, and a sane length.
var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// Middleware returns, outermost first, the middleware every listener uses:
// request id, tracing span (otelhttp), then access log and request metrics.
// server names the listener ("public", "admin") in spans, logs and metrics.
func (t *Telemetry) Middleware(server string) []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{
		RequestIDMiddleware(t.Logger),
		t.TracingMiddleware(server),
		t.AccessLogMiddleware(server),
	}
}

// TracingMiddleware starts a server span per request with otelhttp, the
// maintained OpenTelemetry net/http instrumentation (otelecho was deprecated
// and removed upstream). Echo has routed the request before Use middleware
// runs, so the route template is handed to otelhttp as the request's Pattern:
// spans are named "GET /v1/sessions/:id" and carry http.route, never the raw
// path with its ids. otelhttp's own request metrics are switched off because
// AccessLogMiddleware records them (one set of instruments, not two).
func (t *Telemetry) TracingMiddleware(server string) echo.MiddlewareFunc {
	traced := echo.WrapMiddleware(otelhttp.NewMiddleware(server,
		otelhttp.WithTracerProvider(t.TracerProvider),
		otelhttp.WithPropagators(t.Propagator),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanOptions(trace.WithAttributes(attribute.String("switchyard.listener", server))),
	))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		inner := traced(next)
		return func(c echo.Context) error {
			if route := c.Path(); route != "" {
				req := c.Request().WithContext(c.Request().Context())
				req.Pattern = req.Method + " " + route
				c.SetRequest(req)
			}
			return inner(c)
		}
	}
}

// RequestIDMiddleware accepts a safe incoming X-Request-Id or generates one,
// returns it in the response and puts it, and a logger carrying it as
// request_id, into the request context (see RequestID and LoggerFrom).
func RequestIDMiddleware(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := c.Request().Header.Get(HeaderRequestID)
			if !safeRequestID.MatchString(id) {
				id = newRequestID()
			}
			c.Response().Header().Set(HeaderRequestID, id)
			ctx := context.WithValue(c.Request().Context(), requestIDKey, id)
			ctx = WithLogger(ctx, logger.With(slog.String("request_id", id)))
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// httpMetrics are the server-side request instruments: one histogram,
// whose _count is the request counter (a separate counter would only repeat
// it, which promtool rightly flags).
type httpMetrics struct {
	duration metric.Float64Histogram
}

func newHTTPMetrics(m metric.Meter) (*httpMetrics, error) {
	duration, err := m.Float64Histogram("http.server.request.duration",
		metric.WithDescription("Time to serve an HTTP request, by listener, route, method and status; its _count counts requests."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	if err != nil {
		return nil, fmt.Errorf("telemetry: duration histogram: %w", err)
	}
	return &httpMetrics{duration: duration}, nil
}

// AccessLogMiddleware logs one line per request and records the request
// metrics. It logs the method, path (never the query string), route, status,
// latency, response size and, through the context logger, the request id and
// trace id; never headers or bodies, so Authorization cannot leak. Errors a
// handler returns are handed to echo's error handler first, so the status
// logged is the one the client got.
func (t *Telemetry) AccessLogMiddleware(server string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			elapsed := time.Since(start)

			req, res := c.Request(), c.Response()
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			ctx := req.Context()
			attrs := metric.WithAttributes(
				attribute.String("server", server),
				attribute.String("http.route", route),
				attribute.String("http.request.method", req.Method),
				attribute.Int("http.response.status_code", res.Status),
			)
			t.http.duration.Record(ctx, elapsed.Seconds(), attrs)

			level := slog.LevelInfo
			if res.Status >= 500 {
				level = slog.LevelError
			}
			LoggerFrom(ctx, t.Logger).LogAttrs(ctx, level, "http request",
				slog.String("server", server),
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.String("route", route),
				slog.Int("status", res.Status),
				slog.Duration("latency", elapsed),
				slog.Int64("bytes_out", res.Size),
			)
			// Handled: returning the error would make echo handle it twice.
			return nil
		}
	}
}
