package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// SharedOptions configure a Shared limiter.
type SharedOptions struct {
	// Name labels this limiter in Redis keys, metrics and logs ("api",
	// "hooks"); limiters with different names never share buckets.
	Name string
	Rate Rate
	// FailClosed refuses requests (ErrUnavailable) while Redis cannot be
	// reached; otherwise (fail open) each instance falls back to its own
	// Local buckets of the same Rate, so a key gets at most N times its
	// rate across N instances until Redis answers again.
	FailClosed bool
	// RetryAfter is how long Redis is left alone after a failure, so a
	// Redis that is down costs one timeout per interval, not one per
	// request. Default 1s.
	RetryAfter time.Duration
	Meter      metric.Meter
	Logger     *slog.Logger
	// Now is the fallback buckets' clock (nil: time.Now).
	Now func() time.Time
}

// Shared keeps the buckets in Redis, so all instances share them.
type Shared struct {
	lim      *redis_rate.Limiter
	limit    redis_rate.Limit
	opts     SharedOptions
	fallback *Local
	log      *slog.Logger

	downUntil atomic.Int64 // unix nanos; Redis is skipped until then
	mu        sync.Mutex   // serialises up/down transitions (logs)
	up        atomic.Bool

	errors metric.Int64Counter
	attrs  metric.MeasurementOption
}

// NewShared returns a limiter on client. The client should have short
// dial, read and write timeouts (NewRedisClient sets them): they bound the
// delay a request suffers when Redis hangs.
func NewShared(client redis.UniversalClient, o SharedOptions) (*Shared, error) {
	if o.Name == "" {
		return nil, fmt.Errorf("ratelimit: shared limiter needs a name")
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Second
	}
	if o.Meter == nil {
		o.Meter = noop.NewMeterProvider().Meter("")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Shared{
		lim:      redis_rate.NewLimiter(client),
		limit:    gcraLimit(o.Rate),
		opts:     o,
		fallback: NewLocal(o.Rate, o.Now),
		log:      o.Logger.With("limiter", o.Name),
	}
	s.up.Store(true)
	policy := "open"
	if o.FailClosed {
		policy = "closed"
	}
	var err error
	s.errors, err = o.Meter.Int64Counter("switchyard.ratelimit.redis.errors",
		metric.WithDescription("Rate-limit decisions Redis could not make, by limiter and failure policy (open: this instance's own buckets decided; closed: the request was refused with 503)."),
		metric.WithUnit("{decision}"))
	if err != nil {
		return nil, err
	}
	_, err = o.Meter.Int64ObservableGauge("switchyard.ratelimit.redis.up",
		metric.WithDescription("1 while the shared rate limiter reaches Redis, 0 while it falls back (open) or refuses (closed)."),
		metric.WithInt64Callback(func(_ context.Context, ob metric.Int64Observer) error {
			v := int64(0)
			if s.up.Load() {
				v = 1
			}
			ob.Observe(v, metric.WithAttributes(attribute.String("limiter", o.Name)))
			return nil
		}))
	if err != nil {
		return nil, err
	}
	s.attrs = metric.WithAttributes(attribute.String("limiter", o.Name), attribute.String("policy", policy))
	return s, nil
}

// gcraLimit expresses r as redis_rate's GCRA limit: one token per
// 1/PerSecond, up to Burst, which is exact for fractional rates too.
func gcraLimit(r Rate) redis_rate.Limit {
	if r.PerSecond <= 0 {
		return redis_rate.Limit{}
	}
	return redis_rate.Limit{Rate: 1, Period: time.Duration(float64(time.Second) / r.PerSecond), Burst: r.burst()}
}

// Allow implements Limiter.
func (s *Shared) Allow(ctx context.Context, key string) (Decision, error) {
	if s.limit.IsZero() {
		return Decision{Allowed: true}, nil
	}
	if time.Now().UnixNano() >= s.downUntil.Load() {
		res, err := s.lim.Allow(ctx, s.opts.Name+":"+key, s.limit)
		if err == nil {
			s.markUp()
			if res.Allowed > 0 {
				return Decision{Allowed: true}, nil
			}
			return Decision{RetryAfter: max(res.RetryAfter, time.Millisecond)}, nil
		}
		if ctx.Err() != nil {
			// The client went away; that says nothing about Redis.
			return Decision{}, ctx.Err()
		}
		s.markDown(err)
	}
	s.errors.Add(ctx, 1, s.attrs)
	if s.opts.FailClosed {
		return Decision{}, ErrUnavailable
	}
	return s.fallback.Allow(ctx, key)
}

func (s *Shared) markDown(err error) {
	s.downUntil.Store(time.Now().Add(s.opts.RetryAfter).UnixNano())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.up.Swap(false) {
		if s.opts.FailClosed {
			s.log.Error("rate limiter cannot reach Redis: refusing rate-limited requests until it answers (fail closed)", "err", err)
		} else {
			s.log.Warn("rate limiter cannot reach Redis: this instance applies its own limits until it answers (fail open)", "err", err)
		}
	}
}

func (s *Shared) markUp() {
	if s.up.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.up.Swap(true) {
		s.log.Info("rate limiter reaches Redis again: limits are shared across instances")
	}
}

// NewRedisClient opens a client for url (redis://[user:password@]host:port/db
// or rediss:// for TLS) with timeouts short enough that a hung Redis delays
// a request by at most about timeout, and no retries (the fallback policy
// decides instead).
func NewRedisClient(url string, timeout time.Duration) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		// ParseURL's errors do not echo the URL, which may hold a password.
		return nil, fmt.Errorf("redis url: %w", err)
	}
	if timeout <= 0 {
		timeout = 250 * time.Millisecond
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = timeout, timeout, timeout
	opts.MaxRetries = -1
	opts.ContextTimeoutEnabled = true
	return redis.NewClient(opts), nil
}
