package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestServerSpans checks the otelhttp-based tracing middleware the listeners
// use: one server span per request, named by the route template (not the raw
// path with its ids), with the status code, the listener name, the incoming
// W3C trace context as parent, and an error status for 5xx only.
func TestServerSpans(t *testing.T) {
	tel := newTelemetry(t, "json", io.Discard)
	rec := tracetest.NewSpanRecorder()
	tel.AddSpanProcessor(rec)
	e := newServer(tel)
	e.GET("/boom", func(c echo.Context) error { return c.NoContent(http.StatusBadGateway) })

	const parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	serve(e, http.MethodGet, "/v1/things/42", http.Header{
		"Traceparent": {"00-" + parentTrace + "-00f067aa0ba902b7-01"},
	})
	serve(e, http.MethodPost, "/fail", nil)
	serve(e, http.MethodGet, "/boom", nil)
	serve(e, http.MethodGet, "/nowhere/cs_123", nil)

	spans := rec.Ended()
	if len(spans) != 4 {
		t.Fatalf("want 4 server spans, got %d", len(spans))
	}
	tests := []struct {
		name, route string
		status      int64
		code        codes.Code
	}{
		{"GET /v1/things/:id", "/v1/things/:id", 200, codes.Unset},
		{"POST /fail", "/fail", 409, codes.Unset},
		{"GET /boom", "/boom", 502, codes.Error},
		{"GET", "", 404, codes.Unset},
	}
	for i, tt := range tests {
		s := spans[i]
		attrs := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes() {
			attrs[kv.Key] = kv.Value
		}
		if s.Name() != tt.name {
			t.Errorf("span %d name %q, want %q", i, s.Name(), tt.name)
		}
		if got := attrs["http.route"].AsString(); got != tt.route {
			t.Errorf("span %q http.route %q, want %q", s.Name(), got, tt.route)
		}
		if got := attrs["http.response.status_code"].AsInt64(); got != tt.status {
			t.Errorf("span %q status %d, want %d", s.Name(), got, tt.status)
		}
		if got := attrs["switchyard.listener"].AsString(); got != "public" {
			t.Errorf("span %q listener %q, want public", s.Name(), got)
		}
		if s.Status().Code != tt.code {
			t.Errorf("span %q status code %v, want %v", s.Name(), s.Status().Code, tt.code)
		}
	}
	if got := spans[0].SpanContext().TraceID().String(); got != parentTrace {
		t.Errorf("span trace id %s, want the incoming traceparent's %s", got, parentTrace)
	}
	if !spans[0].Parent().IsRemote() {
		t.Errorf("span parent is not the remote caller's span")
	}
}

// TestSpansRecordedOnlyWhenConsumed checks that without an OTLP endpoint
// spans are not recorded (recording them for nobody cost 8 % of a session
// create's CPU) yet keep a valid context, whose trace id logs and plugins
// carry, and that adding a span processor starts recording.
func TestSpansRecordedOnlyWhenConsumed(t *testing.T) {
	tel := newTelemetry(t, "json", io.Discard)
	tracer := tel.TracerProvider.Tracer("test")

	_, span := tracer.Start(context.Background(), "unconsumed")
	if span.IsRecording() {
		t.Error("a span is recorded although nothing consumes spans")
	}
	if !span.SpanContext().IsValid() {
		t.Error("an unrecorded span lost its trace context")
	}
	span.End()

	rec := tracetest.NewSpanRecorder()
	tel.AddSpanProcessor(rec)
	_, span = tracer.Start(context.Background(), "consumed")
	if !span.IsRecording() {
		t.Error("a span is not recorded after AddSpanProcessor")
	}
	span.End()
	if ended := rec.Ended(); len(ended) != 1 || ended[0].Name() != "consumed" {
		t.Errorf("recorder got %d spans, want the one started after AddSpanProcessor", len(ended))
	}
}
