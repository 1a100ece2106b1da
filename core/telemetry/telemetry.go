package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchyard/switchyard/config"
)

// ScopeName is the instrumentation scope of Switchyard's own telemetry.
const ScopeName = "github.com/switchyard/switchyard"

// Telemetry holds the process's logger and OpenTelemetry providers. Build it
// once in core/app and pass its parts down; call Shutdown on exit to flush.
type Telemetry struct {
	// Logger writes structured logs; records logged with a context that
	// carries a span gain trace_id and span_id.
	Logger *slog.Logger
	// TracerProvider samples by telemetry.sample_ratio and exports over
	// OTLP/HTTP when telemetry.otlp_endpoint is set. Without an endpoint
	// spans are still created, so trace ids propagate to plugins and logs,
	// but they are not recorded until a span processor is added with
	// AddSpanProcessor: recording spans nobody reads cost 8 % of serve's
	// CPU per session create (docs/benchmarks.md).
	TracerProvider *sdktrace.TracerProvider
	// MeterProvider's metrics are served by MetricsHandler.
	MeterProvider *sdkmetric.MeterProvider
	// Propagator is the W3C TraceContext + Baggage propagator, also
	// installed as OpenTelemetry's global one.
	Propagator propagation.TextMapPropagator

	registry *prometheus.Registry
	http     *httpMetrics
	// recording is whether anything consumes spans (see exportSampler).
	recording *atomic.Bool
}

// New builds telemetry from config, writing logs to out. version becomes the
// service.version resource attribute.
func New(ctx context.Context, cfg config.LogConfig, tcfg config.TelemetryConfig, out io.Writer, version string) (*Telemetry, error) {
	logger, err := NewLogger(cfg, out)
	if err != nil {
		return nil, err
	}

	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(tcfg.ServiceName),
		semconv.ServiceVersion(version),
	))
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}

	recording := new(atomic.Bool)
	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(exportSampler{
			Sampler:   sdktrace.ParentBased(sdktrace.TraceIDRatioBased(tcfg.SampleRatio)),
			recording: recording,
		}),
	}
	if tcfg.OTLPEndpoint != "" {
		recording.Store(true)
		endpoint, err := tracesURL(tcfg.OTLPEndpoint)
		if err != nil {
			return nil, err
		}
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
		if err != nil {
			return nil, fmt.Errorf("telemetry: otlp exporter: %w", err)
		}
		tpOpts = append(tpOpts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)

	registry := prometheus.NewRegistry()
	if err := registry.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("telemetry: go collector: %w", err)
	}
	if err := registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("telemetry: process collector: %w", err)
	}
	exporter, err := otelprom.New(
		otelprom.WithRegisterer(registry),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(exporter))

	hm, err := newHTTPMetrics(mp.Meter(ScopeName))
	if err != nil {
		return nil, err
	}

	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	otel.SetTextMapPropagator(prop)

	return &Telemetry{
		Logger:         logger,
		TracerProvider: tp,
		MeterProvider:  mp,
		Propagator:     prop,
		registry:       registry,
		http:           hm,
		recording:      recording,
	}, nil
}

// AddSpanProcessor registers sp with TracerProvider and starts recording
// spans for it (sampled by telemetry.sample_ratio), as an OTLP endpoint
// does.
func (t *Telemetry) AddSpanProcessor(sp sdktrace.SpanProcessor) {
	t.TracerProvider.RegisterSpanProcessor(sp)
	t.recording.Store(true)
}

// exportSampler drops every span while nothing consumes them (no OTLP
// endpoint, no processor added): a dropped span is not recorded, but its
// context is valid, so its trace id still reaches logs and plugins.
// Otherwise it defers to Sampler.
type exportSampler struct {
	sdktrace.Sampler
	recording *atomic.Bool
}

func (s exportSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if s.recording.Load() {
		return s.Sampler.ShouldSample(p)
	}
	return sdktrace.SamplingResult{Decision: sdktrace.Drop, Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState()}
}

func (s exportSampler) Description() string {
	return "ExportSampler{" + s.Sampler.Description() + "}"
}

// tracesURL accepts a collector base URL (http://host:4318) and adds the
// standard /v1/traces path, which WithEndpointURL would not.
func tracesURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("telemetry: otlp_endpoint must be an http(s) URL")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// Tracer returns a tracer for a Switchyard component.
func (t *Telemetry) Tracer(name string) trace.Tracer { return t.TracerProvider.Tracer(name) }

// Meter returns a meter for a Switchyard component.
func (t *Telemetry) Meter(name string) metric.Meter { return t.MeterProvider.Meter(name) }

// Registry is the Prometheus registry MetricsHandler serves, for collectors
// that are not OpenTelemetry instruments (e.g. database pool stats).
func (t *Telemetry) Registry() *prometheus.Registry { return t.registry }

// MetricsHandler serves the metrics in Prometheus text format (/metrics).
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{})
}

// Shutdown flushes pending spans and stops the providers.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	return errors.Join(t.TracerProvider.Shutdown(ctx), t.MeterProvider.Shutdown(ctx))
}
