package mailer

import (
	"context"

	"github.com/switchyard/switchyard/sdk/meta"
)

// Mailer sends transactional mail. Implementations must be safe for
// concurrent use; errors should be *sdk.Error values (a rejected recipient is
// sdk.CategoryDeclined, a greylisting 4xx sdk.CategoryRetryable).
type Mailer interface {
	Describe(ctx context.Context) (meta.Info, error)
	Configure(ctx context.Context, settings map[string]string) error
	CheckHealth(ctx context.Context) (meta.Health, error)
	// TestConnection connects and authenticates without sending mail.
	TestConnection(ctx context.Context) (meta.TestResult, error)
	Send(ctx context.Context, msg Message) (SendResult, error)
}

// Message is one mail. Addresses are RFC 5322 mailboxes ("Ann <ann@x.test>"
// or "ann@x.test"). At least one of Text and HTML is set; with both the
// plugin sends multipart/alternative.
type Message struct {
	From    string
	To      []string
	Cc      []string
	Bcc     []string
	ReplyTo []string
	Subject string
	Text    string
	HTML    string
	// Headers are extra headers (List-Unsubscribe, X-Switchyard-Event …);
	// they never override From, To, Cc or Subject.
	Headers map[string]string
	// IdempotencyKey lets APIs that support it drop duplicates on retry.
	IdempotencyKey string
}

// SendResult identifies the accepted message.
type SendResult struct {
	// MessageID is the Message-ID header or the API's id.
	MessageID string
}
