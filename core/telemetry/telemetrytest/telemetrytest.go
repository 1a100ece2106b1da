package telemetrytest

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Metrics collects what the meters it hands out record.
type Metrics struct {
	t        testing.TB
	reader   *sdkmetric.ManualReader
	provider *sdkmetric.MeterProvider
}

// New returns an empty collector, shut down when the test ends.
func New(t testing.TB) *Metrics {
	t.Helper()
	r := sdkmetric.NewManualReader()
	p := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return &Metrics{t: t, reader: r, provider: p}
}

// Meter returns a meter whose instruments this collector reads.
func (m *Metrics) Meter() metric.Meter { return m.provider.Meter("test") }

// Provider is the MeterProvider behind Meter.
func (m *Metrics) Provider() metric.MeterProvider { return m.provider }

// Value is the current value of instrument name at exactly the attribute
// set attrs: a counter's or up-down counter's sum, a gauge's last value,
// or a histogram's count. ok is false when nothing was recorded there.
func (m *Metrics) Value(name string, attrs ...attribute.KeyValue) (v float64, ok bool) {
	m.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := m.reader.Collect(context.Background(), &rm); err != nil {
		m.t.Fatalf("telemetrytest: collect: %v", err)
	}
	want := attribute.NewSet(attrs...)
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			if md.Name != name {
				continue
			}
			switch d := md.Data.(type) {
			case metricdata.Sum[int64]:
				return find(d.DataPoints, want, func(p metricdata.DataPoint[int64]) float64 { return float64(p.Value) })
			case metricdata.Sum[float64]:
				return find(d.DataPoints, want, func(p metricdata.DataPoint[float64]) float64 { return p.Value })
			case metricdata.Gauge[int64]:
				return find(d.DataPoints, want, func(p metricdata.DataPoint[int64]) float64 { return float64(p.Value) })
			case metricdata.Gauge[float64]:
				return find(d.DataPoints, want, func(p metricdata.DataPoint[float64]) float64 { return p.Value })
			case metricdata.Histogram[float64]:
				return findHist(d.DataPoints, want)
			case metricdata.Histogram[int64]:
				return findHist(d.DataPoints, want)
			default:
				m.t.Fatalf("telemetrytest: %s has unsupported data %T", name, md.Data)
			}
		}
	}
	return 0, false
}

// Int is Value for whole-number instruments, 0 when nothing was recorded.
func (m *Metrics) Int(name string, attrs ...attribute.KeyValue) int64 {
	m.t.Helper()
	v, _ := m.Value(name, attrs...)
	return int64(v)
}

func find[N int64 | float64](points []metricdata.DataPoint[N], want attribute.Set, val func(metricdata.DataPoint[N]) float64) (float64, bool) {
	for _, p := range points {
		if p.Attributes.Equals(&want) {
			return val(p), true
		}
	}
	return 0, false
}

func findHist[N int64 | float64](points []metricdata.HistogramDataPoint[N], want attribute.Set) (float64, bool) {
	for _, p := range points {
		if p.Attributes.Equals(&want) {
			return float64(p.Count), true
		}
	}
	return 0, false
}
