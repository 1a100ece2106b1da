package webhooks

import (
	"context"
	"time"
)

// NoticeKind says what a merchant is told about.
type NoticeKind string

const (
	// NoticeDeliveryFailed: a delivery used its last scheduled attempt.
	NoticeDeliveryFailed NoticeKind = "delivery_failed"
	// NoticeEndpointDisabled: a receiver answered 410 Gone.
	NoticeEndpointDisabled NoticeKind = "endpoint_disabled"
)

// Notice is one thing to tell a merchant's contact.
type Notice struct {
	Kind       NoticeKind
	MerchantID int64
	// Contact is the merchant's contact_email ("" when unknown).
	Contact    string
	EndpointID string
	DeliveryID string
	EventID    string
	EventType  string
	URL        string
	Attempts   int
	LastError  string
	At         time.Time
}

// Notifier tells a merchant about failed deliveries and disabled
// endpoints. Failures are logged and otherwise ignored: the delivery
// history is the record. core/mail's Service mails them (templates
// webhook_delivery_failed and webhook_endpoint_disabled).
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// notify logs, counts and, when a Notifier is configured, sends n. It
// runs after the transaction that caused it committed.
func (s *Service) notify(ctx context.Context, n notice) {
	contact, err := s.store.MerchantContact(ctx, n.d.MerchantID)
	if err != nil {
		s.log.WarnContext(ctx, "webhooks: cannot read merchant contact", "merchant_id", n.d.MerchantID, "err", err)
	}
	nt := Notice{
		Kind: n.kind, MerchantID: n.d.MerchantID, Contact: contact, DeliveryID: n.d.ID,
		EventID: n.d.EventID, EventType: n.d.EventType, URL: n.d.URL, Attempts: n.d.Attempts,
		LastError: n.d.LastError, At: n.d.UpdatedAt,
	}
	if n.ep != nil {
		nt.EndpointID = n.ep.ID
	}
	switch n.kind {
	case NoticeEndpointDisabled:
		s.metrics.disabled.Add(ctx, 1)
		s.log.WarnContext(ctx, "webhook endpoint disabled after 410 Gone", "merchant_id", nt.MerchantID,
			"endpoint_id", nt.EndpointID, "delivery_id", nt.DeliveryID, "url", nt.URL)
	default:
		s.metrics.failed.Add(ctx, 1)
		s.log.WarnContext(ctx, "webhook delivery failed after its last attempt", "merchant_id", nt.MerchantID,
			"endpoint_id", nt.EndpointID, "delivery_id", nt.DeliveryID, "event_id", nt.EventID,
			"attempts", nt.Attempts, "last_error", nt.LastError)
	}
	if s.notifier == nil {
		return
	}
	if err := s.notifier.Notify(ctx, nt); err != nil {
		s.log.WarnContext(ctx, "webhooks: notifying merchant failed", "merchant_id", nt.MerchantID, "kind", string(nt.Kind), "err", err)
	}
}
