package payments

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// Outcomes of the switchyard.payments metric. started, declined and error
// are what the provider answered when the attempt was made; succeeded and
// failed are what a verified provider event (or reconciliation) said
// later. The success rate of a provider and method is succeeded / started.
const (
	PaymentStarted   = "started"
	PaymentDeclined  = "declined"
	PaymentError     = "error"
	PaymentSucceeded = "succeeded"
	PaymentFailed    = "failed"
)

// countPayment counts one attempt outcome.
func (s *Service) countPayment(ctx context.Context, providerID, method, outcome string) {
	s.metrics.payments.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(
		attribute.String("provider", providerID), attribute.String("method", method), attribute.String("outcome", outcome)))
}

// createOutcome names what the provider's CreatePayment answer means for
// the metric.
func createOutcome(callErr error, status provider.PaymentStatus) string {
	switch {
	case callErr != nil && sdkerr.CategoryOf(callErr) == sdkerr.CategoryDeclined:
		return PaymentDeclined
	case callErr != nil:
		return PaymentError
	case status == provider.StatusFailed:
		return PaymentFailed
	}
	return PaymentStarted
}

// countSettled counts a payment.succeeded or payment.failed event that
// changed its session, under the method of the attempt it settled. It runs
// after the event's transaction committed (a retried transaction counts
// once) and reads the session's attempts again for the method; a read that
// fails costs the count, never the event.
func (s *Service) countSettled(ctx context.Context, providerID string, ev provider.Event, out Outcome) {
	var outcome string
	switch {
	case out.Duplicate || out.Outcome != store.OutcomeApplied || out.SessionID == "":
		return
	case ev.Type == provider.PaymentSucceeded:
		outcome = PaymentSucceeded
	case ev.Type == provider.PaymentFailed:
		outcome = PaymentFailed
	default:
		return
	}
	atts, err := s.store.SessionAttempts(ctx, out.SessionID)
	if err != nil {
		s.log.WarnContext(ctx, "payment not counted: could not read its attempts", "session_id", out.SessionID, "err", err)
		return
	}
	method := "unknown"
	for i := len(atts) - 1; i >= 0; i-- {
		a := atts[i]
		if a.ProviderID != providerID {
			continue
		}
		if ev.ProviderRef == "" || a.ProviderRef == ev.ProviderRef {
			method = a.Method
			break
		}
		if method == "unknown" {
			method = a.Method // the latest at this instance, unless a ref matches
		}
	}
	s.countPayment(ctx, providerID, method, outcome)
}
