package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"

	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/telemetry/telemetrytest"
)

// TestQueueMetrics: switchyard.jobs counts river_job rows by kind and
// state at each collection, and reports a registered kind with no jobs as
// 0 in every state.
func TestQueueMetrics(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		reg := jobs.NewRegistry()
		if err := jobs.Register[recordArgs](reg, &recordWorker{rec: newRecorder(), name: "w"}, jobs.RetryPolicy{MaxAttempts: 3}); err != nil {
			t.Fatal(err)
		}
		cli, err := jobs.New(s, jobs.Options{Registry: reg, InsertOnly: true, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		m := telemetrytest.New(t)
		if err := jobs.RegisterMetrics(m.Meter(), s.DB(), func() []string { return append(cli.Kinds(), "idle_kind") }); err != nil {
			t.Fatal(err)
		}
		err = s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for i := range 3 {
				if _, err := cli.EnqueueTx(ctx, tx, recordArgs{Tag: fmt.Sprint("now", i)}, nil); err != nil {
					return err
				}
			}
			_, err := cli.EnqueueTx(ctx, tx, recordArgs{Tag: "later"}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			kind, state string
			want        int64
		}{
			{"test_record", "available", 3},
			{"test_record", "scheduled", 1},
			{"test_record", "running", 0},
			{"idle_kind", "available", 0},
			{"idle_kind", "discarded", 0},
		} {
			v, ok := m.Value("switchyard.jobs", attribute.String("kind", tc.kind), attribute.String("state", tc.state))
			if !ok || int64(v) != tc.want {
				t.Errorf("jobs{%s,%s} = %v (reported %v), want %d", tc.kind, tc.state, v, ok, tc.want)
			}
		}
	})
}
