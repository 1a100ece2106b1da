package pluginhost

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// hostMetrics are the host's instruments: the latency and outcome of every
// plugin call, and, observed at collection, each instance's restarts and
// whether it is up.
type hostMetrics struct {
	calls metric.Float64Histogram
}

// callBuckets cover a local plugin answering in a millisecond up to a
// provider API at the call timeout's order of magnitude.
var callBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

func newHostMetrics(h *Host, m metric.Meter) (*hostMetrics, error) {
	if m == nil {
		m = noop.NewMeterProvider().Meter("pluginhost")
	}
	calls, err := m.Float64Histogram("switchyard.plugin.call.duration",
		metric.WithDescription("Plugin calls (a provider's CreatePayment, HandleWebhook, GetPayment …) by instance, kind, method and outcome: ok, or the SDK error category (declined, unavailable, retryable, invalid_input, unauthorized, not_found, internal …)."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(callBuckets...))
	if err != nil {
		return nil, fmt.Errorf("pluginhost: metrics: %w", err)
	}
	_, err = m.Int64ObservableCounter("switchyard.plugin.restarts",
		metric.WithDescription("Plugin process launches after the first, by instance and kind (crashes, hangs and refused starts that were retried)."),
		metric.WithUnit("{restart}"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			for _, id := range h.order {
				in := h.instances[id]
				in.mu.Lock()
				n := in.restarts
				in.mu.Unlock()
				o.Observe(int64(n), metric.WithAttributes(in.attrs()...))
			}
			return nil
		}))
	if err != nil {
		return nil, fmt.Errorf("pluginhost: metrics: %w", err)
	}
	_, err = m.Int64ObservableGauge("switchyard.plugin.up",
		metric.WithDescription("1 while an instance's plugin runs and its last health check said ok, else 0 (starting, crashed, hung, degraded, disabled or stopped; see state)."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			for _, id := range h.order {
				in := h.instances[id]
				st := in.health.Load().State
				up := int64(0)
				if st == StateHealthy {
					up = 1
				}
				o.Observe(up, metric.WithAttributes(append(in.attrs(), attribute.String("state", string(st)))...))
			}
			return nil
		}))
	if err != nil {
		return nil, fmt.Errorf("pluginhost: metrics: %w", err)
	}
	return &hostMetrics{calls: calls}, nil
}

func (in *instance) attrs() []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("plugin", in.id), attribute.String("kind", string(in.kind))}
}

// recordCall records one call's latency and outcome.
func (in *instance) recordCall(ctx context.Context, op string, start time.Time, err error) {
	outcome := "ok"
	if err != nil {
		outcome = string(sdkerr.CategoryOf(err))
	}
	in.h.metrics.calls.Record(context.WithoutCancel(ctx), time.Since(start).Seconds(), metric.WithAttributes(
		append(in.attrs(), attribute.String("method", strings.ReplaceAll(op, " ", "_")), attribute.String("outcome", outcome))...))
}
