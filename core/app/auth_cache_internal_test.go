package app

import (
	"testing"
	"time"
)

func TestAuthCacheTTL(t *testing.T) {
	for _, tt := range []struct {
		config, want time.Duration
	}{
		{0, -1}, // api.auth_cache_ttl: 0s is off; merchants reads 0 as its default
		{2 * time.Second, 2 * time.Second},
		{time.Minute, time.Minute},
	} {
		if got := authCacheTTL(tt.config); got != tt.want {
			t.Errorf("authCacheTTL(%s) = %s, want %s", tt.config, got, tt.want)
		}
	}
}
