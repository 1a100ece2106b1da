package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// BreakerState is one instance's report of one provider's circuit breaker.
type BreakerState struct {
	bun.BaseModel `bun:"table:breaker_states,alias:bs"`

	InstanceID string     `bun:"instance_id,pk" json:"instance_id"`
	ProviderID string     `bun:"provider_id,pk" json:"provider_id"`
	State      string     `bun:"state,notnull" json:"state"`
	Failures   int        `bun:"failures,notnull" json:"failures"`
	OpenUntil  *time.Time `bun:"open_until" json:"open_until,omitempty"`
	UpdatedAt  time.Time  `bun:"updated_at,notnull" json:"updated_at"`
}

// PublishBreakerStates replaces instance's reports with states (all of its
// providers), stamped now.
func (r *Repo) PublishBreakerStates(ctx context.Context, instance string, states []BreakerState) error {
	if len(states) == 0 {
		return nil
	}
	at := now()
	for i := range states {
		states[i].InstanceID, states[i].UpdatedAt = instance, at
	}
	_, err := r.db.NewInsert().Model(&states).
		On("CONFLICT (instance_id, provider_id) DO UPDATE").
		Set("state = EXCLUDED.state, failures = EXCLUDED.failures, open_until = EXCLUDED.open_until, updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("publish breaker states: %w", err)
	}
	return nil
}

// BreakerStates lists the reports refreshed since since, by provider and
// instance, and deletes those older than a day (instances long gone).
func (r *Repo) BreakerStates(ctx context.Context, since time.Time) ([]BreakerState, error) {
	if _, err := r.db.NewDelete().Model((*BreakerState)(nil)).
		Where("updated_at < ?", now().Add(-24*time.Hour)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("prune breaker states: %w", err)
	}
	var out []BreakerState
	err := r.db.NewSelect().Model(&out).Where("updated_at >= ?", since.UTC()).
		Order("provider_id", "instance_id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list breaker states: %w", err)
	}
	return out, nil
}

// DeleteBreakerStates removes an instance's reports (at shutdown).
func (r *Repo) DeleteBreakerStates(ctx context.Context, instance string) error {
	if _, err := r.db.NewDelete().Model((*BreakerState)(nil)).Where("instance_id = ?", instance).Exec(ctx); err != nil {
		return fmt.Errorf("delete breaker states: %w", err)
	}
	return nil
}
