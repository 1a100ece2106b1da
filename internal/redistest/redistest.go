// Package redistest gives tests the Redis named by SWITCHYARD_TEST_REDIS_URL
// (.ci/run starts one and sets it). Without it the test is skipped, unless
// SWITCHYARD_REQUIRE_REDIS=1, which makes a missing Redis a failure, as CI
// requires.
package redistest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Environment variables read by this package.
const (
	EnvRedisURL     = "SWITCHYARD_TEST_REDIS_URL"
	EnvRequireRedis = "SWITCHYARD_REQUIRE_REDIS"
)

// URL returns the test Redis URL after checking that it answers, or skips
// (fails, when required) the test.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(EnvRedisURL)
	if url == "" {
		if os.Getenv(EnvRequireRedis) == "1" {
			t.Fatalf("%s=1 but %s is not set: Redis tests cannot run", EnvRequireRedis, EnvRedisURL)
		}
		t.Skipf("Redis test skipped: %s is not set", EnvRedisURL)
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", EnvRedisURL, err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s does not answer (is redis-server running?): %v", EnvRedisURL, err)
	}
	return url
}
