package ratelimit

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Decision is a limiter's answer for one request.
type Decision struct {
	Allowed bool
	// RetryAfter is, when not Allowed, how long until a request would pass.
	RetryAfter time.Duration
}

// Limiter decides for one request under key. A nil error with
// !Allowed means "over the limit"; an error means no decision could be
// made (only a fail-closed Shared returns one: ErrUnavailable).
type Limiter interface {
	Allow(ctx context.Context, key string) (Decision, error)
}

// ErrUnavailable is returned by a fail-closed Shared limiter whose Redis
// cannot be reached: the request must be refused, but it is not the
// caller's fault (503, not 429).
var ErrUnavailable = errors.New("rate limiter unavailable")

// Rate is a token bucket: PerSecond tokens refill every second, up to
// Burst. PerSecond <= 0 means unlimited.
type Rate struct {
	PerSecond float64
	Burst     int
}

func (r Rate) burst() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return max(1, int(r.PerSecond))
}

// idleAfter is the time an empty bucket needs to refill completely.
func (r Rate) idleAfter() time.Duration {
	return time.Duration(float64(r.burst())/r.PerSecond*float64(time.Second)) + time.Second
}

// Local holds one token bucket per key in this process's memory. Idle
// buckets are dropped by a periodic sweep, so keys that stop sending do not
// accumulate.
type Local struct {
	rate Rate
	now  func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim      *rate.Limiter
	lastUsed time.Time
}

// sweepEvery is how often idle buckets are looked for. A bucket idle
// longer than it takes to refill is full, so dropping it changes nothing.
const sweepEvery = time.Minute

// NewLocal returns per-process buckets of r; now is the clock (nil:
// time.Now).
func NewLocal(r Rate, now func() time.Time) *Local {
	if now == nil {
		now = time.Now
	}
	return &Local{rate: r, now: now, buckets: map[string]*bucket{}}
}

// Allow implements Limiter. It takes a token for key; when none is
// available it takes nothing and says how long until one is.
func (l *Local) Allow(_ context.Context, key string) (Decision, error) {
	if l.rate.PerSecond <= 0 {
		return Decision{Allowed: true}, nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > sweepEvery {
		idle := l.rate.idleAfter()
		for k, b := range l.buckets {
			if now.Sub(b.lastUsed) > idle {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.rate.PerSecond), l.rate.burst())}
		l.buckets[key] = b
	}
	b.lastUsed = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return Decision{RetryAfter: time.Second}, nil
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return Decision{RetryAfter: d}, nil
	}
	return Decision{Allowed: true}, nil
}
