package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// GroupQueued reports how many RunInGroupTx callers wait for a group.
func (s *Store) GroupQueued() int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.queue)
}

// GroupLanes is how many groups RunInGroupTx runs at once.
func (s *Store) GroupLanes() int { return s.group.lanes }

// RedoMigrationForTest runs migration name's down step, then between (to
// write rows as the schema before it had them), then its up step again,
// in one transaction: a test of what the migration does to existing data.
func RedoMigrationForTest(ctx context.Context, s *Store, name string, between func(ctx context.Context, tx bun.Tx) error) error {
	for _, m := range migrationList() {
		if m.name != name {
			continue
		}
		return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := m.down(ctx, tx, s.dialect); err != nil {
				return fmt.Errorf("down: %w", err)
			}
			if err := between(ctx, tx); err != nil {
				return err
			}
			if err := m.up(ctx, tx, s.dialect); err != nil {
				return fmt.Errorf("up: %w", err)
			}
			return nil
		})
	}
	return fmt.Errorf("no migration %s", name)
}
