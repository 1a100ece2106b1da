package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchyard/switchyard/core/jobs"
)

func TestRetryPolicyDelay(t *testing.T) {
	webhooks := jobs.AttemptSchedule(0, 0, 5*time.Second, 5*time.Minute, 30*time.Minute,
		2*time.Hour, 5*time.Hour, 10*time.Hour, 10*time.Hour)
	tests := []struct {
		name    string
		policy  jobs.RetryPolicy
		attempt int
		want    time.Duration
		wantOK  bool
	}{
		{"webhook after 1st failure", webhooks, 1, 5 * time.Second, true},
		{"webhook after 2nd failure", webhooks, 2, 5 * time.Minute, true},
		{"webhook after 4th failure", webhooks, 4, 2 * time.Hour, true},
		{"webhook after 7th failure", webhooks, 7, 10 * time.Hour, true},
		{"beyond list repeats last", webhooks, 20, 10 * time.Hour, true},
		{"attempt 0 treated as 1", webhooks, 0, 5 * time.Second, true},
		{"exponential 1", jobs.Exponential(6, time.Second, 5*time.Second, 0), 1, time.Second, true},
		{"exponential 3", jobs.Exponential(6, time.Second, 5*time.Second, 0), 3, 4 * time.Second, true},
		{"exponential capped", jobs.Exponential(6, time.Second, 5*time.Second, 0), 5, 5 * time.Second, true},
		{"no delays defers to river", jobs.RetryPolicy{MaxAttempts: 3}, 1, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.policy.Delay(tc.attempt)
			if got != tc.want || ok != tc.wantOK {
				t.Fatalf("Delay(%d) = %s, %v; want %s, %v", tc.attempt, got, ok, tc.want, tc.wantOK)
			}
		})
	}
	if webhooks.MaxAttempts != 8 {
		t.Fatalf("webhook schedule max attempts = %d, want 8", webhooks.MaxAttempts)
	}
	if n := len(jobs.Exponential(6, time.Second, time.Minute, 0).Delays); n != 5 {
		t.Fatalf("exponential(6) has %d delays, want 5", n)
	}
}

func TestRetryPolicyNextRetry(t *testing.T) {
	now := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	p := jobs.RetryPolicy{MaxAttempts: 5, Delays: []time.Duration{10 * time.Second, time.Minute}, Jitter: 0.2}
	tests := []struct {
		name    string
		policy  jobs.RetryPolicy
		attempt int
		frac    float64
		want    time.Time
	}{
		{"lowest jitter", p, 1, 0, now.Add(8 * time.Second)},
		{"middle jitter", p, 1, 0.5, now.Add(10 * time.Second)},
		{"highest jitter", p, 2, 0.999999, now.Add(72 * time.Second)},
		{"no jitter", jobs.RetryPolicy{Delays: []time.Duration{time.Second}}, 3, 0.9, now.Add(time.Second)},
		{"zero delay is now", jobs.RetryPolicy{Delays: []time.Duration{0}, Jitter: 1}, 1, 0, now},
		{"defer to river", jobs.RetryPolicy{MaxAttempts: 2}, 1, 0.5, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.policy.NextRetry(tc.attempt, now, func() float64 { return tc.frac })
			if got.Sub(tc.want).Abs() > time.Millisecond {
				t.Fatalf("NextRetry = %v, want %v", got, tc.want)
			}
		})
	}
	// The default random source stays within the jitter band.
	for range 1000 {
		got := p.NextRetry(1, now, nil).Sub(now)
		if got < 8*time.Second || got > 12*time.Second {
			t.Fatalf("jittered delay %s outside [8s,12s]", got)
		}
	}
}

func TestRetryPolicyValidate(t *testing.T) {
	tests := []struct {
		name    string
		policy  jobs.RetryPolicy
		wantErr bool
	}{
		{"zero", jobs.RetryPolicy{}, false},
		{"webhooks", jobs.AttemptSchedule(0.1, 0, time.Second), false},
		{"negative attempts", jobs.RetryPolicy{MaxAttempts: -1}, true},
		{"jitter above 1", jobs.RetryPolicy{Jitter: 1.5}, true},
		{"negative delay", jobs.RetryPolicy{Delays: []time.Duration{-time.Second}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.policy.Validate(); (err != nil) != tc.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}

type otherArgs struct{}

func (otherArgs) Kind() string { return "test_other" }

func TestRegister(t *testing.T) {
	noop := river.WorkFunc(func(context.Context, *river.Job[otherArgs]) error { return nil })
	reg := jobs.NewRegistry()
	if err := jobs.Register[otherArgs](reg, noop, jobs.RetryPolicy{MaxAttempts: 3}); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Register[otherArgs](reg, noop, jobs.RetryPolicy{}); err == nil {
		t.Fatal("duplicate kind accepted")
	}
	if err := jobs.Register[recordArgs](reg, &recordWorker{rec: newRecorder()}, jobs.RetryPolicy{Jitter: 2}); err == nil {
		t.Fatal("invalid policy accepted")
	}
	if got := reg.Kinds(); len(got) != 1 || got[0] != "test_other" {
		t.Fatalf("Kinds() = %v", got)
	}
	if p, ok := reg.Policy("test_other"); !ok || p.MaxAttempts != 3 {
		t.Fatalf("Policy = %+v, %v", p, ok)
	}
}
