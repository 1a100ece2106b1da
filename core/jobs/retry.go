package jobs

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryPolicy says how often a kind of job is attempted and how long to
// wait between attempts. The zero value means River's defaults (25
// attempts, backoff of attempt^4 seconds).
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included.
	// After the last failed attempt the job is discarded. 0 keeps River's
	// default of 25.
	MaxAttempts int

	// Delays[i] is the wait after failed attempt i+1 before the next
	// attempt. Failures beyond the list reuse its last entry. Empty means
	// River's default backoff.
	Delays []time.Duration

	// Jitter spreads each delay uniformly by ±Jitter×delay (0 to 1), so
	// jobs that failed together (a merchant endpoint down) do not retry in
	// lockstep.
	Jitter float64
}

// AttemptSchedule builds a policy from a schedule of attempts such as
// outbound webhooks use: schedule[0] is the first attempt (0 = at once) and
// schedule[i] is the wait after attempt i fails before attempt i+1, so
// len(schedule) is the number of attempts. A non-zero schedule[0] is not a
// retry delay: pass it as InsertOpts.ScheduledAt when enqueueing.
//
//	jobs.AttemptSchedule(0.1, 0, 5*time.Second, 5*time.Minute, 30*time.Minute,
//		2*time.Hour, 5*time.Hour, 10*time.Hour, 10*time.Hour)
func AttemptSchedule(jitter float64, schedule ...time.Duration) RetryPolicy {
	p := RetryPolicy{MaxAttempts: len(schedule), Jitter: jitter}
	if len(schedule) > 1 {
		p.Delays = append([]time.Duration(nil), schedule[1:]...)
	}
	return p
}

// Exponential builds a policy of maxAttempts attempts whose delays double
// from base up to ceiling.
func Exponential(maxAttempts int, base, ceiling time.Duration, jitter float64) RetryPolicy {
	p := RetryPolicy{MaxAttempts: maxAttempts, Jitter: jitter}
	d := base
	for i := 1; i < maxAttempts; i++ {
		p.Delays = append(p.Delays, min(d, ceiling))
		if d < ceiling {
			d *= 2
		}
	}
	return p
}

// Validate reports a policy that cannot be applied as written.
func (p RetryPolicy) Validate() error {
	if p.MaxAttempts < 0 {
		return fmt.Errorf("retry policy: max attempts %d is negative", p.MaxAttempts)
	}
	if p.Jitter < 0 || p.Jitter > 1 {
		return fmt.Errorf("retry policy: jitter %v is outside 0..1", p.Jitter)
	}
	for i, d := range p.Delays {
		if d < 0 {
			return fmt.Errorf("retry policy: delay %d (%s) is negative", i, d)
		}
	}
	return nil
}

// Delay is the wait, before jitter, after failed attempt number attempt
// (1-based). ok is false when the policy leaves the choice to River.
func (p RetryPolicy) Delay(attempt int) (d time.Duration, ok bool) {
	if len(p.Delays) == 0 {
		return 0, false
	}
	i := min(max(attempt, 1), len(p.Delays)) - 1
	return p.Delays[i], true
}

// NextRetry is when the attempt after failed attempt number attempt should
// run, measured from now; the zero time when the policy defers to River.
// frac supplies the jitter in [0,1); nil uses math/rand/v2.
func (p RetryPolicy) NextRetry(attempt int, now time.Time, frac func() float64) time.Time {
	d, ok := p.Delay(attempt)
	if !ok {
		return time.Time{}
	}
	if p.Jitter > 0 && d > 0 {
		if frac == nil {
			frac = rand.Float64
		}
		spread := float64(d) * p.Jitter
		d += time.Duration(spread * (2*frac() - 1))
	}
	// River treats a retry time before "now" as a broken policy and falls
	// back to its default backoff, so never return one.
	return now.Add(max(d, 0))
}
