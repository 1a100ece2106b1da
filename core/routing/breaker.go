package routing

import (
	"context"
	"errors"
	"sync"
	"time"
)

// BreakerState is a circuit breaker position.
type BreakerState string

const (
	// BreakerClosed: traffic flows; consecutive failures are counted.
	BreakerClosed BreakerState = "closed"
	// BreakerOpen: the provider is skipped until the cooldown ends.
	BreakerOpen BreakerState = "open"
	// BreakerHalfOpen: the cooldown ended; traffic flows again, the next
	// success closes the breaker and the next failure reopens it at once.
	BreakerHalfOpen BreakerState = "half_open"
)

// breaker is one provider's circuit breaker. Half-open admits all traffic
// rather than a single probe: a probe reserved by Route might never be tried
// (it may be ranked behind a working provider), which would keep the
// provider out of rotation; with payment volumes a few concurrent requests
// against a recovering provider are the lesser cost.
type breaker struct {
	threshold int
	cooldown  time.Duration

	mu        sync.Mutex
	failures  int       // consecutive, while closed
	openUntil time.Time // zero when closed
}

func (b *breaker) state(now time.Time) BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stateLocked(now)
}

func (b *breaker) stateLocked(now time.Time) BreakerState {
	switch {
	case b.openUntil.IsZero():
		return BreakerClosed
	case now.Before(b.openUntil):
		return BreakerOpen
	default:
		return BreakerHalfOpen
	}
}

// snapshot is the breaker as metrics and `plugins list` show it.
func (b *breaker) snapshot(now time.Time) (BreakerState, int, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stateLocked(now), b.failures, b.openUntil
}

// record counts one outcome and reports whether the breaker opened or
// closed because of it.
func (b *breaker) record(now time.Time, err error) (changed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	before := b.stateLocked(now)
	defer func() { changed = b.stateLocked(now) != before }()
	if err == nil {
		b.failures, b.openUntil = 0, time.Time{}
		return
	}
	switch b.stateLocked(now) {
	case BreakerHalfOpen:
		b.openUntil = now.Add(b.cooldown)
	case BreakerOpen:
		// Late results of calls started before it opened do not extend it.
	case BreakerClosed:
		b.failures++
		if b.failures >= b.threshold {
			b.failures = 0
			b.openUntil = now.Add(b.cooldown)
		}
	}
	return
}

// countsAsFailure keeps caller-side cancellation from tripping a breaker: a
// shopper closing the tab says nothing about the provider.
func countsAsFailure(err error) bool {
	return err != nil && !errors.Is(err, context.Canceled)
}
