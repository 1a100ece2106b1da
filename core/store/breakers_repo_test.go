package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

func TestBreakerStates(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		until := time.Now().Add(30 * time.Second).UTC().Truncate(time.Second)
		if err := s.PublishBreakerStates(ctx, "host-a:1", []store.BreakerState{
			{ProviderID: "stripe", State: "open", OpenUntil: &until},
			{ProviderID: "sandbox", State: "closed", Failures: 2},
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.PublishBreakerStates(ctx, "host-b:2", []store.BreakerState{{ProviderID: "stripe", State: "closed"}}); err != nil {
			t.Fatal(err)
		}
		// A second report from an instance replaces its first.
		if err := s.PublishBreakerStates(ctx, "host-b:2", []store.BreakerState{{ProviderID: "stripe", State: "half_open"}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.BreakerStates(ctx, time.Now().Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var summary []string
		for _, b := range got {
			summary = append(summary, b.ProviderID+"@"+b.InstanceID+"="+b.State)
		}
		want := "[sandbox@host-a:1=closed stripe@host-a:1=open stripe@host-b:2=half_open]"
		if s := "[" + strings.Join(summary, " ") + "]"; s != want {
			t.Fatalf("states %s, want %s", s, want)
		}
		if got[1].OpenUntil == nil || !got[1].OpenUntil.Equal(until) || got[0].Failures != 2 {
			t.Fatalf("fields lost: %+v", got[:2])
		}
		if got, _ := s.BreakerStates(ctx, time.Now().Add(time.Minute)); len(got) != 0 {
			t.Fatalf("reports older than since listed: %+v", got)
		}
		if err := s.DeleteBreakerStates(ctx, "host-a:1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.BreakerStates(ctx, time.Now().Add(-time.Minute)); len(got) != 1 || got[0].InstanceID != "host-b:2" {
			t.Fatalf("after deleting host-a: %+v", got)
		}
	})
}
