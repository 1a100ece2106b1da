package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"

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
	// OTLP/HTTP when telemetry.otlp_endpoint is set; without an endpoint
	// spans are still created so trace ids propagate to plugins and logs.
	TracerProvider *sdktrace.TracerProvider
	// MeterProvider's metrics are served by MetricsHandler.
	MeterProvider *sdkmetric.MeterProvider
	// Propagator is the W3C TraceContext + Baggage propagator, also
	// installed as OpenTelemetry's global one.
	Propagator propagation.TextMapPropagator

	registry *prometheus.Registry
	http     *httpMetrics
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

	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(tcfg.SampleRatio))),
	}
	if tcfg.OTLPEndpoint != "" {
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
	}, nil
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
