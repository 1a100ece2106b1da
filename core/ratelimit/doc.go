// Package ratelimit decides whether one more request under a key (an API
// key, a provider webhook source) may pass now. Local keeps token buckets
// in this process: with N instances behind a balancer a key gets up to N
// times its rate. Shared keeps them in Redis (GCRA through
// github.com/go-redis/redis_rate, on Redis's clock), so every instance draws
// from one bucket; when Redis cannot be reached it either falls back to the
// local buckets (fail open) or refuses with ErrUnavailable (fail closed),
// and says so in metrics and logs.
package ratelimit
