package jobs

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// queueStates are the river_job states reported by switchyard.jobs: the
// queue (available: due now; scheduled: due later; retryable: failed and
// waiting for its next try), the jobs being worked, and discarded ones
// (retries exhausted, kept by River for a week).
var queueStates = []string{"available", "scheduled", "retryable", "running", "discarded"}

// RegisterMetrics reports the job queue as switchyard.jobs{kind, state},
// counted in river_job at each collection (one grouped query on db). Every
// kind kinds lists is reported in every state, 0 when it has no jobs there,
// so a queue that empties shows 0 rather than disappearing. Register once
// per process: the runners built afterwards share the table.
func RegisterMetrics(m metric.Meter, db bun.IDB, kinds func() []string) error {
	_, err := m.Int64ObservableGauge("switchyard.jobs",
		metric.WithDescription("Background jobs by kind and state: available (due now; the queue depth), scheduled (due later), retryable (failed, will be retried), running, discarded (gave up)."),
		metric.WithUnit("{job}"),
		metric.WithInt64Callback(func(ctx context.Context, o metric.Int64Observer) error {
			counts, err := queueCounts(ctx, db)
			if err != nil {
				return err
			}
			for _, k := range kinds() {
				for _, st := range queueStates {
					if _, ok := counts[[2]string{k, st}]; !ok {
						counts[[2]string{k, st}] = 0
					}
				}
			}
			for ks, n := range counts {
				o.Observe(n, metric.WithAttributes(attribute.String("kind", ks[0]), attribute.String("state", ks[1])))
			}
			return nil
		}))
	if err != nil {
		return fmt.Errorf("jobs: metrics: %w", err)
	}
	return nil
}

// queueCounts counts river_job rows by (kind, state) in queueStates.
func queueCounts(ctx context.Context, db bun.IDB) (map[[2]string]int64, error) {
	var rows []struct {
		Kind  string `bun:"kind"`
		State string `bun:"state"`
		N     int64  `bun:"n"`
	}
	err := db.NewRaw("SELECT kind, state, count(*) AS n FROM river_job WHERE state IN (?) GROUP BY kind, state",
		bun.In(queueStates)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("jobs: count queue: %w", err)
	}
	out := make(map[[2]string]int64, len(rows))
	for _, r := range rows {
		out[[2]string{r.Kind, r.State}] = r.N
	}
	return out, nil
}

// Kinds lists the job kinds this runner's registry knows.
func (r *Runner) Kinds() []string {
	if r == nil || r.registry == nil {
		return nil
	}
	return r.registry.Kinds()
}
