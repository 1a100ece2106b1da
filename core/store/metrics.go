package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// queryMetrics records how long each query bun runs took, in seconds, as
// db.client.operation.duration (OpenTelemetry's database semantic
// convention). It replaces bunotel's go.sql.query_timing, whose
// whole-millisecond values in a "milliseconds" unit Prometheus tooling
// rejects (promtool: use base unit "seconds"). The prepared hot statements
// (hot.go) do not pass through bun and are not in it.
type queryMetrics struct {
	duration metric.Float64Histogram
	system   attribute.KeyValue
}

var _ bun.QueryHook = (*queryMetrics)(nil)

// queryBuckets span an SQLite point read (tens of microseconds) to a
// statement waiting on a lock for seconds.
var queryBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func newQueryMetrics(mp metric.MeterProvider, d Dialect) (*queryMetrics, error) {
	h, err := mp.Meter("github.com/switchyard/switchyard/core/store").Float64Histogram("db.client.operation.duration",
		metric.WithDescription("Duration of database statements run through bun, by database system, operation (SELECT, INSERT …) and error type."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(queryBuckets...))
	if err != nil {
		return nil, fmt.Errorf("store: metrics: %w", err)
	}
	system := "sqlite"
	if d == DialectPostgres {
		system = "postgresql"
	}
	return &queryMetrics{duration: h, system: attribute.String("db.system.name", system)}, nil
}

func (q *queryMetrics) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (q *queryMetrics) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	attrs := []attribute.KeyValue{q.system, attribute.String("db.operation.name", e.Operation())}
	if e.Err != nil && !errors.Is(e.Err, sql.ErrNoRows) && !errors.Is(e.Err, sql.ErrTxDone) {
		attrs = append(attrs, attribute.String("error.type", errorType(e.Err)))
	}
	q.duration.Record(context.WithoutCancel(ctx), time.Since(e.StartTime).Seconds(), metric.WithAttributes(attrs...))
}

// errorType is a low-cardinality name for a failed statement's error.
func errorType(err error) string {
	switch {
	case IsUniqueViolation(err):
		return "unique_violation"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "other"
}
