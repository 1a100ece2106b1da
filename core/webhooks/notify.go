package webhooks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard/sdk/mailer"
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
// history is the record.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// Mailer sends one plain-text mail; core/app adapts the mailer plugin to it.
type Mailer interface {
	SendMail(ctx context.Context, to, subject, text string) error
}

// PluginMailer adapts a mailer plugin instance (sdk/mailer, e.g. through
// pluginhost.Host.Mailer) to Mailer. The handle is looked up per mail, so a
// restarted plugin is picked up.
type PluginMailer struct {
	// Get returns the plugin instance's current handle.
	Get func() (mailer.Mailer, error)
	// From is the sender mailbox, e.g. "Switchyard <noreply@shop.example>".
	From string
}

var _ Mailer = PluginMailer{}

// SendMail implements Mailer.
func (p PluginMailer) SendMail(ctx context.Context, to, subject, text string) error {
	m, err := p.Get()
	if err != nil {
		return fmt.Errorf("mailer plugin: %w", err)
	}
	if _, err := m.Send(ctx, mailer.Message{From: p.From, To: []string{to}, Subject: subject, Text: text,
		Headers: map[string]string{"X-Switchyard-Notice": "webhooks"}}); err != nil {
		return fmt.Errorf("mailer plugin: %w", err)
	}
	return nil
}

// MailNotifier mails the merchant's contact through a Mailer.
type MailNotifier struct {
	Mailer Mailer
}

var _ Notifier = MailNotifier{}

// Notify implements Notifier.
func (m MailNotifier) Notify(ctx context.Context, n Notice) error {
	if n.Contact == "" {
		return fmt.Errorf("merchant %d has no contact email", n.MerchantID)
	}
	subject, text := n.Mail()
	return m.Mailer.SendMail(ctx, n.Contact, subject, text)
}

// Mail renders the notice as a subject and a plain-text body.
func (n Notice) Mail() (subject, text string) {
	var b strings.Builder
	switch n.Kind {
	case NoticeEndpointDisabled:
		subject = "Webhook endpoint disabled: " + n.URL
		fmt.Fprintf(&b, "Your webhook endpoint %s (%s) answered 410 Gone, so Switchyard disabled it.\n", n.EndpointID, n.URL)
		fmt.Fprintf(&b, "No events are sent to it until it is enabled again.\n")
	default:
		subject = "Webhook delivery failed: " + n.EventType
		fmt.Fprintf(&b, "Switchyard could not deliver event %s (%s) to %s after %d attempts.\n", n.EventID, n.EventType, n.URL, n.Attempts)
	}
	fmt.Fprintf(&b, "\nDelivery: %s\nLast error: %s\nTime: %s\n", n.DeliveryID, n.LastError, n.At.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "\nResend it with: switchyard deliveries resend %s\n", n.DeliveryID)
	return subject, b.String()
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
