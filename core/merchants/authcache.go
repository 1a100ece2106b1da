package merchants

import (
	"sync"
	"time"
)

// DefaultAuthCacheTTL is how long a successful authentication is reused
// when Options.AuthCacheTTL is zero.
const DefaultAuthCacheTTL = 2 * time.Second

// authCacheMax bounds the cache; past it, the cache starts over. Only
// keys that authenticated successfully are kept, so an attacker trying
// random keys cannot grow it.
const authCacheMax = 10_000

// authCache keeps recent successful authentications for a few seconds, so
// a busy key costs one database read per TTL instead of one per request.
// Changes made through this Service take effect here at once
// (invalidate); on PostgreSQL every other instance hears of them through
// NOTIFY and invalidates too (Service.ListenForChanges), so staleness up
// to the TTL remains only where notifications cannot arrive (SQLite with
// a second process, LISTEN off, a notification lost while reconnecting,
// which reconnection itself covers by invalidating). Entries are keyed by
// the key's hash, never the key.
type authCache struct {
	ttl time.Duration

	mu      sync.RWMutex
	entries map[string]authEntry
	// gen counts invalidations. An authentication read before an
	// invalidation must not be cached after it: it may predate the change.
	gen uint64
}

type authEntry struct {
	p       *Principal
	expires time.Time
}

func newAuthCache(ttl time.Duration) *authCache {
	if ttl <= 0 {
		return nil
	}
	return &authCache{ttl: ttl, entries: map[string]authEntry{}}
}

func (c *authCache) get(hash string, now time.Time) (*Principal, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[hash]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.p, true
}

// generation is read before the database lookup whose result put caches.
func (c *authCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put caches p unless the cache was invalidated since gen was read.
func (c *authCache) put(hash string, p *Principal, gen uint64, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= authCacheMax {
		for h, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, h)
			}
		}
		if len(c.entries) >= authCacheMax {
			clear(c.entries)
		}
	}
	c.entries[hash] = authEntry{p: p, expires: now.Add(c.ttl)}
}

// invalidate forgets every entry: called after any change that could make
// a cached authentication wrong (revoked key, new site). Such changes are
// rare, so precision is not worth tracking which entries they touch.
func (c *authCache) invalidate() {
	if c == nil {
		return
	}
	c.mu.Lock()
	clear(c.entries)
	c.gen++
	c.mu.Unlock()
}
