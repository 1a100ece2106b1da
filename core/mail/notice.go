package mail

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/core/webhooks"
)

var _ webhooks.Notifier = (*Service)(nil)

// Notify mails a webhook notice (a delivery that used its last attempt,
// an endpoint disabled by 410 Gone) to the merchant's contact through
// webhooks.notify_mailer, rendered from WebhookDeliveryFailed or
// WebhookEndpointDisabled (the merchant's override when it has one).
func (s *Service) Notify(ctx context.Context, n webhooks.Notice) error {
	if s.ntMailer == "" {
		return fmt.Errorf("mail: no webhooks.notify_mailer is configured")
	}
	if n.Contact == "" {
		return fmt.Errorf("merchant %d has no contact email", n.MerchantID)
	}
	m, err := s.merchant(ctx, s.store.Repo, n.MerchantID)
	if err != nil {
		return err
	}
	name := WebhookDeliveryFailed
	if n.Kind == webhooks.NoticeEndpointDisabled {
		name = WebhookEndpointDisabled
	}
	data := WebhookNoticeData{Merchant: m, EndpointID: n.EndpointID, DeliveryID: n.DeliveryID, EventID: n.EventID,
		EventType: n.EventType, URL: n.URL, Attempts: n.Attempts, LastError: n.LastError, At: n.At}
	return s.send(ctx, outgoing{merchantID: n.MerchantID, name: name, to: n.Contact, data: data,
		env: envelope{mailer: s.ntMailer, from: s.ntFrom}, key: string(name) + "_" + n.DeliveryID})
}
