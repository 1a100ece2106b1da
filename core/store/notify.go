package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notify sends payload on channel to every process listening on this
// PostgreSQL database (pg_notify; delivered when the sending transaction
// commits, here at once). On SQLite, which serves one instance, it does
// nothing.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if s.pool == nil {
		return nil
	}
	if _, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", s.channel(channel), payload); err != nil {
		return fmt.Errorf("store: notify %s: %w", channel, err)
	}
	return nil
}

// channel scopes a channel name to the store's schema, so deployments (and
// tests) sharing one database in different schemas do not hear each other.
func (s *Store) channel(name string) string {
	if s.schema == "" {
		return name
	}
	return s.schema + "." + name
}

// Listener receives notifications from Listen.
type Listener struct {
	// OnNotify is called with each payload, in order, on Listen's
	// goroutine.
	OnNotify func(payload string)
	// OnListening is called each time LISTEN takes effect: first at start,
	// then after every reconnection. Notifications sent while the
	// connection was down are lost, so callers drop whatever those would
	// have invalidated here.
	OnListening func()
	// OnError, when set, hears why the connection was lost (before the
	// pause and reconnection).
	OnError func(error)
	// Retry is the pause before reconnecting. Default 1s.
	Retry time.Duration
}

// Listen holds one pooled PostgreSQL connection in LISTEN on channel and
// calls l's functions until ctx ends, reconnecting after failures. It
// returns ctx's error, or at once with nil on SQLite.
func (s *Store) Listen(ctx context.Context, channel string, l Listener) error {
	if s.pool == nil {
		return nil
	}
	if l.Retry <= 0 {
		l.Retry = time.Second
	}
	for {
		err := s.listenOnce(ctx, s.channel(channel), l)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if l.OnError != nil {
			l.OnError(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(l.Retry):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, channel string, l Listener) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection had LISTEN on it: it goes back closed, never to the
	// pool, where a later user would receive our notifications.
	defer func() { _ = conn.Hijack().Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	if l.OnListening != nil {
		l.OnListening()
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return ctx.Err()
			}
			return err
		}
		if l.OnNotify != nil {
			l.OnNotify(n.Payload)
		}
	}
}
