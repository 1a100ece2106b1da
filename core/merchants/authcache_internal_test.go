package merchants

import (
	"testing"
	"time"
)

// An authentication read before an invalidation is not cached after it:
// it may have read the key or merchant before the change committed.
func TestAuthCacheIgnoresReadsOlderThanAnInvalidation(t *testing.T) {
	c := newAuthCache(time.Minute)
	now := time.Now()
	p := &Principal{}

	gen := c.generation()
	c.invalidate() // a revocation lands while the lookup runs
	c.put("h", p, gen, now)
	if _, ok := c.get("h", now); ok {
		t.Fatal("a lookup that started before the invalidation was cached")
	}

	gen = c.generation()
	c.put("h", p, gen, now)
	if got, ok := c.get("h", now); !ok || got != p {
		t.Fatal("a lookup after the invalidation was not cached")
	}
	if _, ok := c.get("h", now.Add(time.Minute)); ok {
		t.Fatal("entry outlived its TTL")
	}
}
