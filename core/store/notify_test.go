package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// A notification sent by one process reaches a listener in another on the
// same schema, and not one on another schema; a listener that lost its
// connection comes back and says so.
func TestNotifyListen(t *testing.T) {
	storetest.ForPostgres(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got := make(chan string, 8)
		listening := make(chan struct{}, 8)
		listen := func(st *store.Store, into chan string) chan error {
			done := make(chan error, 1)
			go func() {
				done <- st.Listen(ctx, "test_channel", store.Listener{
					OnNotify:    func(p string) { into <- p },
					OnListening: func() { listening <- struct{}{} },
					Retry:       50 * time.Millisecond,
				})
			}()
			return done
		}
		done := listen(s, got)
		other := storetest.Postgres(t) // another schema
		otherGot := make(chan string, 8)
		otherDone := listen(other, otherGot)
		for range 2 {
			select {
			case <-listening:
			case <-time.After(10 * time.Second):
				t.Fatal("LISTEN did not start")
			}
		}

		sender := storetest.Reopen(t, s)
		if err := sender.Notify(ctx, "test_channel", "revoked:42"); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p != "revoked:42" {
				t.Fatalf("payload %q", p)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("notification not received")
		}
		select {
		case p := <-otherGot:
			t.Fatalf("a listener on another schema heard %q", p)
		case <-time.After(200 * time.Millisecond):
		}

		// Kill the listening backend: the listener reconnects and
		// reports it, then hears the next notification.
		if _, err := sender.DB().ExecContext(ctx,
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid() AND query LIKE ?",
			"%"+s.Schema()+"%"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-listening:
		case <-time.After(10 * time.Second):
			t.Fatal("listener did not come back after its connection was killed")
		}
		if err := sender.Notify(ctx, "test_channel", "again"); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p != "again" {
				t.Fatalf("payload after reconnect %q", p)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("notification after reconnect not received")
		}
		cancel()
		for _, d := range []chan error{done, otherDone} {
			if err := <-d; err != context.Canceled {
				t.Fatalf("Listen returned %v, want context.Canceled", err)
			}
		}
	})
}

// On SQLite there is nobody else to tell: Notify and Listen do nothing.
func TestNotifyListenSQLite(t *testing.T) {
	s := storetest.SQLite(t)
	if err := s.Notify(context.Background(), "c", "p"); err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(context.Background(), "c", store.Listener{}); err != nil {
		t.Fatal(err)
	}
}
