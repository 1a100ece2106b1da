package payments

import (
	"context"

	"github.com/switchyard/switchyard/sdk/provider"
)

// ApplyEventForTest applies one normalized event as if a webhook carried
// it, for tests that need a single event out of a provider's batch.
func ApplyEventForTest(s *Service, ctx context.Context, providerID string, ev provider.Event) (Outcome, error) {
	return s.applyProviderEvent(ctx, providerID, nil, ev)
}

// ExpireDueSessionsForTest runs the expiry sweep with a small batch size,
// so tests cover paging without creating a hundred sessions.
func ExpireDueSessionsForTest(s *Service, ctx context.Context, batch int) (int, error) {
	return s.expireDueSessions(ctx, batch)
}
