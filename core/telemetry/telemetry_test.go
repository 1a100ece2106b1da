package telemetry_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/telemetry"
)

// syncBuffer lets the race detector see log writes and reads as ordered.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTelemetry(t *testing.T, format string, out io.Writer) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.New(context.Background(),
		config.LogConfig{Level: "info", Format: format},
		config.TelemetryConfig{ServiceName: "switchyard-test", SampleRatio: 1},
		out, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return tel
}

// newServer wires the middleware the way the listeners do, with a handler
// that logs through the request's logger.
func newServer(tel *telemetry.Telemetry) *echo.Echo {
	e := echo.New()
	e.Use(tel.Middleware("public")...)
	e.GET("/v1/things/:id", func(c echo.Context) error {
		ctx := c.Request().Context()
		telemetry.LoggerFrom(ctx, tel.Logger).InfoContext(ctx, "handler ran", "thing", c.Param("id"))
		return c.String(http.StatusOK, telemetry.RequestID(ctx))
	})
	e.POST("/fail", func(c echo.Context) error {
		return echo.NewHTTPError(http.StatusConflict, "nope")
	})
	return e
}

func serve(e *echo.Echo, method, target string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(`{"card":"4242424242424242"}`))
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestRequestID(t *testing.T) {
	tel := newTelemetry(t, "text", io.Discard)
	e := newServer(tel)
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name     string
		incoming string
		want     string // "" means: a generated id
	}{
		{"generated when absent", "", ""},
		{"accepted when safe", "01HX4R9QZ2-abc.def:1", "01HX4R9QZ2-abc.def:1"},
		{"replaced when unsafe", "abc\" onload=x", ""},
		{"replaced when too long", strings.Repeat("a", 129), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.incoming != "" {
				h.Set(telemetry.HeaderRequestID, tt.incoming)
			}
			rec := serve(e, http.MethodGet, "/v1/things/7", h)
			got := rec.Header().Get(telemetry.HeaderRequestID)
			if tt.want != "" && got != tt.want || tt.want == "" && !generated.MatchString(got) {
				t.Errorf("X-Request-Id = %q, want %q (or generated)", got, tt.want)
			}
			if body := rec.Body.String(); body != got {
				t.Errorf("context request id %q differs from header %q", body, got)
			}
		})
	}
	a := serve(e, http.MethodGet, "/v1/things/1", nil).Header().Get(telemetry.HeaderRequestID)
	b := serve(e, http.MethodGet, "/v1/things/1", nil).Header().Get(telemetry.HeaderRequestID)
	if a == b {
		t.Errorf("two requests got the same generated id %q", a)
	}
}

func TestJSONLogs(t *testing.T) {
	var out syncBuffer
	tel := newTelemetry(t, "json", &out)
	e := newServer(tel)
	rec := serve(e, http.MethodGet, "/v1/things/42?session_id=cs_123", http.Header{
		"Authorization":           {"Bearer sk_test_TOPSECRET"},
		telemetry.HeaderRequestID: {"req-abc"},
	})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	serve(e, http.MethodPost, "/fail", http.Header{"Authorization": {"Bearer sk_test_TOPSECRET"}})

	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("want 3 log lines (handler, 2 access), got %d:\n%s", len(lines), out.String())
	}
	handler, access, failed := lines[0], lines[1], lines[2]
	if handler["msg"] != "handler ran" || handler["request_id"] != "req-abc" || handler["thing"] != "42" {
		t.Errorf("handler line: %v", handler)
	}
	if tid, _ := handler["trace_id"].(string); len(tid) != 32 {
		t.Errorf("handler line lacks a trace id: %v", handler)
	}
	want := map[string]any{"msg": "http request", "request_id": "req-abc", "method": "GET", "path": "/v1/things/42",
		"route": "/v1/things/:id", "status": float64(200), "server": "public"}
	for k, v := range want {
		if access[k] != v {
			t.Errorf("access line %s = %v, want %v (line %v)", k, access[k], v, access)
		}
	}
	if _, ok := access["latency"]; !ok {
		t.Errorf("access line lacks latency: %v", access)
	}
	if failed["status"] != float64(http.StatusConflict) || failed["route"] != "/fail" {
		t.Errorf("failed request line: %v", failed)
	}
	for _, secret := range []string{"TOPSECRET", "Authorization", "authorization", "4242424242424242", "session_id"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("logs contain %q:\n%s", secret, out.String())
		}
	}
}

func TestTextLogsOmitAuthorization(t *testing.T) {
	var out syncBuffer
	tel := newTelemetry(t, "text", &out)
	serve(newServer(tel), http.MethodGet, "/v1/things/1", http.Header{"Authorization": {"Bearer sk_live_TOPSECRET"}})
	got := out.String()
	if !strings.Contains(got, "msg=\"http request\"") || !strings.Contains(got, "request_id=") {
		t.Fatalf("no access line: %s", got)
	}
	if strings.Contains(got, "TOPSECRET") || strings.Contains(strings.ToLower(got), "authorization") {
		t.Errorf("Authorization leaked into logs: %s", got)
	}
}

func TestMetricsHandler(t *testing.T) {
	tel := newTelemetry(t, "text", io.Discard)
	e := newServer(tel)
	for range 3 {
		serve(e, http.MethodGet, "/v1/things/9", nil)
	}
	serve(e, http.MethodPost, "/fail", nil)
	serve(e, http.MethodGet, "/nowhere", nil)

	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics status %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^http_server_request_duration_seconds_count\{[^}]*http_response_status_code="200"[^}]*http_route="/v1/things/:id"[^}]*server="public"[^}]*\} 3$`),
		regexp.MustCompile(`(?m)^http_server_request_duration_seconds_count\{[^}]*http_response_status_code="409"[^}]*http_route="/fail"[^}]*\} 1$`),
		regexp.MustCompile(`(?m)^http_server_request_duration_seconds_count\{[^}]*http_response_status_code="404"[^}]*http_route="unmatched"[^}]*\} 1$`),
		regexp.MustCompile(`(?m)^go_goroutines `),
	} {
		if !want.MatchString(body) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(body, "http_server"))
		}
	}
	// The histogram's _count is the request counter; a separate counter
	// would only repeat it.
	if strings.Contains(body, "http_server_requests_total") {
		t.Errorf("/metrics still has http_server_requests_total beside the histogram's count")
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		log  config.LogConfig
		tel  config.TelemetryConfig
	}{
		{"level", config.LogConfig{Level: "loud", Format: "json"}, config.TelemetryConfig{SampleRatio: 1}},
		{"format", config.LogConfig{Level: "info", Format: "xml"}, config.TelemetryConfig{SampleRatio: 1}},
		{"endpoint", config.LogConfig{Level: "info", Format: "json"}, config.TelemetryConfig{OTLPEndpoint: "collector:4318"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := telemetry.New(context.Background(), tt.log, tt.tel, io.Discard, "test"); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestOTLPExport(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()

	tel, err := telemetry.New(context.Background(), config.LogConfig{Level: "info", Format: "json"},
		config.TelemetryConfig{ServiceName: "switchyard-test", OTLPEndpoint: collector.URL, SampleRatio: 1}, io.Discard, "test")
	if err != nil {
		t.Fatal(err)
	}
	serve(newServer(tel), http.MethodGet, "/v1/things/1", nil)
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown (flushes spans): %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) == 0 || paths[0] != "/v1/traces" {
		t.Errorf("collector saw %v, want a POST to /v1/traces", paths)
	}
}
