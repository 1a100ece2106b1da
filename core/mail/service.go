package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// Mailers gives the current handle of a mailer plugin instance;
// *pluginhost.Host implements it.
type Mailers interface {
	Mailer(id string) (mailer.Mailer, error)
}

// Enqueuer schedules durable jobs inside a store transaction;
// *jobs.Runner implements it.
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Deps are the service's collaborators and settings.
type Deps struct {
	Store   *store.Store
	Mailers Mailers
	Jobs    Enqueuer
	// MailerIDs are the configured mailer plugin instances: a merchant's
	// mailer setting must be one of them.
	MailerIDs []string
	// DefaultMailer and DefaultFrom (mail.mailer, mail.from) apply to a
	// merchant that names none. An empty From leaves the plugin's own.
	DefaultMailer string
	DefaultFrom   string
	// NoticeMailer and NoticeFrom (webhooks.notify_mailer, notify_from)
	// send the webhook notices to merchants' contacts; without a
	// NoticeMailer, Notify fails.
	NoticeMailer string
	NoticeFrom   string
	Clock        func() time.Time
	Logger       *slog.Logger
}

// Service renders and sends mail and keeps merchants' mail settings and
// template overrides. It is safe for concurrent use.
type Service struct {
	store     *store.Store
	mailers   Mailers
	jobs      Enqueuer
	templates *Templates
	mailerIDs []string
	defMailer string
	defFrom   string
	ntMailer  string
	ntFrom    string
	clock     func() time.Time
	log       *slog.Logger
}

// New builds the service.
func New(d Deps) (*Service, error) {
	var missing []string
	if d.Store == nil {
		missing = append(missing, "Store")
	}
	if d.Mailers == nil {
		missing = append(missing, "Mailers")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("mail: missing %s", strings.Join(missing, ", "))
	}
	t, err := NewTemplates()
	if err != nil {
		return nil, err
	}
	s := &Service{store: d.Store, mailers: d.Mailers, jobs: d.Jobs, templates: t, mailerIDs: d.MailerIDs,
		defMailer: d.DefaultMailer, defFrom: d.DefaultFrom, ntMailer: d.NoticeMailer, ntFrom: d.NoticeFrom,
		clock: d.Clock, log: d.Logger}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Templates returns the parsed built-in templates.
func (s *Service) Templates() *Templates { return s.templates }

// ErrNotConfigured is returned when a mail cannot be sent because no
// mailer is configured for the merchant (nor mail.mailer).
var ErrNotConfigured = &domain.Error{Kind: domain.ErrUnprocessable, Code: "mail_not_configured",
	Message: "no mailer is configured for this merchant: set one with `switchyard merchants mail set ID --mailer ID` or mail.mailer"}

// envelope is who sends a mail and through which plugin instance.
type envelope struct {
	mailer, from, replyTo string
}

// customerEnvelope is how a merchant's customer mail is sent: the
// merchant's settings, else the configured defaults.
func (s *Service) customerEnvelope(ms *store.MailSettings) (envelope, error) {
	e := envelope{mailer: ms.Mailer, from: ms.From, replyTo: ms.ReplyTo}
	if e.mailer == "" {
		e.mailer = s.defMailer
	}
	if e.from == "" {
		e.from = s.defFrom
	}
	if e.mailer == "" {
		return envelope{}, ErrNotConfigured
	}
	return e, nil
}

// outgoing is one mail to render and send.
type outgoing struct {
	merchantID int64
	name       Name
	to         string
	data       any
	env        envelope
	// key is the idempotency key: the same on every retry of one mail, so
	// the Message-ID is too.
	key string
}

// send renders o with the merchant's override (the built-in template when
// the override fails on this data, which its save-time check makes rare)
// and hands it to the mailer plugin.
func (s *Service) send(ctx context.Context, o outgoing) error {
	if _, err := netmail.ParseAddress(o.to); err != nil {
		return domain.Invalid("invalid_recipient", "to", "recipient %q is not an email address", o.to)
	}
	var override Source
	mt, err := s.store.MailTemplate(ctx, o.merchantID, string(o.name))
	switch {
	case err == nil:
		override = Source{Subject: mt.Subject, Text: mt.Text, HTML: mt.HTML}
	case !errors.Is(err, domain.ErrNotFound):
		return err
	}
	msg, err := s.templates.Render(o.name, override, o.data)
	if err != nil && !override.Empty() {
		s.log.WarnContext(ctx, "mail: the merchant's template override failed on this mail; sent the built-in template",
			"merchant_id", o.merchantID, "template", string(o.name), "err", err)
		msg, err = s.templates.Render(o.name, Source{}, o.data)
	}
	if err != nil {
		return fmt.Errorf("mail: render %s: %w", o.name, err)
	}
	m, err := s.mailers.Mailer(o.env.mailer)
	if err != nil {
		return fmt.Errorf("mail: mailer %s: %w", o.env.mailer, err)
	}
	out := mailer.Message{From: o.env.from, To: []string{o.to}, Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML,
		Headers: map[string]string{"X-Switchyard-Template": string(o.name)}, IdempotencyKey: o.key}
	if o.env.replyTo != "" {
		out.ReplyTo = []string{o.env.replyTo}
	}
	res, err := m.Send(ctx, out)
	if err != nil {
		return fmt.Errorf("mail: send %s through %s: %w", o.name, o.env.mailer, err)
	}
	// Never the body: a service-ready mail holds a password.
	s.log.InfoContext(ctx, "mail sent", "merchant_id", o.merchantID, "template", string(o.name),
		"mailer", o.env.mailer, "message_id", res.MessageID)
	return nil
}

// Permanent reports whether a send error will not go away by retrying: the
// recipient or message was refused, or nothing is configured to send it.
func Permanent(err error) bool {
	if errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrUnprocessable) || errors.Is(err, domain.ErrNotFound) {
		return true
	}
	switch sdkerr.CategoryOf(err) {
	case sdkerr.CategoryDeclined, sdkerr.CategoryInvalidInput:
		return true
	}
	return false
}

// merchant loads the template view of a merchant.
func (s *Service) merchant(ctx context.Context, r *store.Repo, id int64) (Merchant, error) {
	m, err := r.GetMerchant(ctx, id)
	if err != nil {
		return Merchant{}, err
	}
	return Merchant{ID: m.ID, Name: m.Name, ContactEmail: m.ContactEmail}, nil
}

// knownMailer reports whether id is a configured mailer instance.
func (s *Service) knownMailer(id string) bool { return slices.Contains(s.mailerIDs, id) }
