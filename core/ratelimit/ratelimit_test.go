package ratelimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/switchyard/switchyard/core/ratelimit"
	"github.com/switchyard/switchyard/internal/redistest"
)

func randomKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return t.Name() + ":" + hex.EncodeToString(b)
}

func TestLocalBucket(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	tests := []struct {
		name      string
		rate      ratelimit.Rate
		burstSent int
		wantOK    int
	}{
		{"burst then refused", ratelimit.Rate{PerSecond: 2, Burst: 3}, 5, 3},
		{"burst defaults to the rate", ratelimit.Rate{PerSecond: 4}, 6, 4},
		{"unlimited", ratelimit.Rate{}, 100, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := ratelimit.NewLocal(tc.rate, clock)
			ok := 0
			var last ratelimit.Decision
			for range tc.burstSent {
				d, err := l.Allow(context.Background(), "k")
				if err != nil {
					t.Fatal(err)
				}
				if d.Allowed {
					ok++
				}
				last = d
			}
			if ok != tc.wantOK {
				t.Fatalf("allowed %d of %d, want %d", ok, tc.burstSent, tc.wantOK)
			}
			if ok < tc.burstSent && (last.Allowed || last.RetryAfter <= 0) {
				t.Fatalf("refusal without a retry delay: %+v", last)
			}
			if d, _ := l.Allow(context.Background(), "other"); !d.Allowed {
				t.Fatal("another key shares the bucket")
			}
		})
	}
}

// Two Shared limiters on separate Redis connections (two instances) draw
// from one bucket: together they admit the burst, not twice the burst.
func TestSharedAcrossInstances(t *testing.T) {
	url := redistest.URL(t)
	rate := ratelimit.Rate{PerSecond: 1, Burst: 10}
	var limiters []*ratelimit.Shared
	for range 2 {
		c, err := ratelimit.NewRedisClient(url, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		l, err := ratelimit.NewShared(c, ratelimit.SharedOptions{Name: "test", Rate: rate})
		if err != nil {
			t.Fatal(err)
		}
		limiters = append(limiters, l)
	}
	key := randomKey(t)
	start := time.Now()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := limiters[i%2].Allow(context.Background(), key)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				allowed.Add(1)
			} else if d.RetryAfter <= 0 {
				t.Errorf("refusal without a retry delay: %+v", d)
			}
		}()
	}
	wg.Wait()
	// At most the burst plus what refilled while the requests ran.
	limit := int64(rate.Burst) + int64(time.Since(start).Seconds()*rate.PerSecond) + 1
	if got := allowed.Load(); got < int64(rate.Burst) || got > limit {
		t.Fatalf("two instances admitted %d of 40, want %d..%d (one shared bucket)", got, rate.Burst, limit)
	}
}

// deadRedis is an address where nothing listens.
func deadRedis(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "redis://" + addr + "/0"
}

func errorCount(t *testing.T, r *metric.ManualReader) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "switchyard.ratelimit.redis.errors" {
				var n int64
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					n += dp.Value
				}
				return n
			}
		}
	}
	return 0
}

func TestSharedWithoutRedis(t *testing.T) {
	rate := ratelimit.Rate{PerSecond: 1, Burst: 2}
	for _, closed := range []bool{false, true} {
		name := "fail open"
		if closed {
			name = "fail closed"
		}
		t.Run(name, func(t *testing.T) {
			c, err := ratelimit.NewRedisClient(deadRedis(t), 200*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			reader := metric.NewManualReader()
			l, err := ratelimit.NewShared(c, ratelimit.SharedOptions{Name: "test", Rate: rate, FailClosed: closed,
				Meter: metric.NewMeterProvider(metric.WithReader(reader)).Meter("test")})
			if err != nil {
				t.Fatal(err)
			}
			var allowed, unavailable int
			for range 4 {
				d, err := l.Allow(context.Background(), "k")
				switch {
				case errors.Is(err, ratelimit.ErrUnavailable):
					unavailable++
				case err != nil:
					t.Fatal(err)
				case d.Allowed:
					allowed++
				}
			}
			if closed && (unavailable != 4 || allowed != 0) {
				t.Fatalf("fail closed: %d unavailable, %d allowed; want every request refused as unavailable", unavailable, allowed)
			}
			if !closed && (unavailable != 0 || allowed != rate.Burst) {
				t.Fatalf("fail open: %d allowed, %d unavailable; want this instance's own bucket (%d) to decide", allowed, unavailable, rate.Burst)
			}
			if n := errorCount(t, reader); n != 4 {
				t.Fatalf("switchyard.ratelimit.redis.errors = %d, want 4", n)
			}
		})
	}
}
