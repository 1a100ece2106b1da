package mail

import (
	"context"
	"errors"
	netmail "net/mail"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// Settings are a merchant's mail settings as the admin API and CLI show
// them: what is stored, and what applies once the defaults are filled in.
type Settings struct {
	MerchantID      int64  `json:"merchant_id"`
	ReceiptsEnabled bool   `json:"receipts_enabled"`
	Mailer          string `json:"mailer"`
	From            string `json:"from"`
	ReplyTo         string `json:"reply_to"`
	// EffectiveMailer and EffectiveFrom are what a mail would be sent with
	// (the merchant's value or mail.mailer / mail.from; an empty From is the
	// plugin's own sender).
	EffectiveMailer string     `json:"effective_mailer"`
	EffectiveFrom   string     `json:"effective_from"`
	UpdatedAt       *time.Time `json:"updated_at"`
}

// SettingsUpdate changes the fields that are not nil.
type SettingsUpdate struct {
	ReceiptsEnabled *bool   `json:"receipts_enabled"`
	Mailer          *string `json:"mailer"`
	From            *string `json:"from"`
	ReplyTo         *string `json:"reply_to"`
}

func (s *Service) settingsView(ms *store.MailSettings, found bool) *Settings {
	v := &Settings{MerchantID: ms.MerchantID, ReceiptsEnabled: ms.ReceiptsEnabled, Mailer: ms.Mailer, From: ms.From,
		ReplyTo: ms.ReplyTo, EffectiveMailer: ms.Mailer, EffectiveFrom: ms.From}
	if v.EffectiveMailer == "" {
		v.EffectiveMailer = s.defMailer
	}
	if v.EffectiveFrom == "" {
		v.EffectiveFrom = s.defFrom
	}
	if found {
		at := ms.UpdatedAt.UTC()
		v.UpdatedAt = &at
	}
	return v
}

// Settings returns a merchant's mail settings (receipts off and the
// defaults for one that never saved any).
func (s *Service) Settings(ctx context.Context, merchantID int64) (*Settings, error) {
	if _, err := s.store.GetMerchant(ctx, merchantID); err != nil {
		return nil, err
	}
	ms, found, err := s.store.MailSettings(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	return s.settingsView(ms, found), nil
}

// UpdateSettings validates and stores a change of a merchant's mail
// settings. A mailer must be a configured mailer instance, From and
// Reply-To mailboxes; receipts cannot be enabled without a mailer (the
// merchant's or mail.mailer). A refused change changes nothing.
func (s *Service) UpdateSettings(ctx context.Context, merchantID int64, in SettingsUpdate) (*Settings, error) {
	if _, err := s.store.GetMerchant(ctx, merchantID); err != nil {
		return nil, err
	}
	ms, _, err := s.store.MailSettings(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	if in.ReceiptsEnabled != nil {
		ms.ReceiptsEnabled = *in.ReceiptsEnabled
	}
	if in.Mailer != nil {
		if *in.Mailer != "" && !s.knownMailer(*in.Mailer) {
			return nil, domain.Invalid("unknown_mailer", "mailer", "%q is not a configured mailer plugin instance (plugins.instances of kind mailer)", *in.Mailer)
		}
		ms.Mailer = *in.Mailer
	}
	if in.From != nil {
		if err := checkMailbox(*in.From, "from"); err != nil {
			return nil, err
		}
		ms.From = *in.From
	}
	if in.ReplyTo != nil {
		if err := checkMailbox(*in.ReplyTo, "reply_to"); err != nil {
			return nil, err
		}
		ms.ReplyTo = *in.ReplyTo
	}
	if ms.ReceiptsEnabled && ms.Mailer == "" && s.defMailer == "" {
		return nil, domain.Invalid("mailer_required", "mailer", "receipts need a mailer: name a mailer plugin instance (or set mail.mailer)")
	}
	if err := s.store.PutMailSettings(ctx, ms); err != nil {
		return nil, err
	}
	return s.settingsView(ms, true), nil
}

// checkMailbox accepts "" or one RFC 5322 mailbox ("Shop <billing@shop.example>").
func checkMailbox(v, field string) error {
	if v == "" {
		return nil
	}
	if a, err := netmail.ParseAddress(v); err != nil || a.Address == "" {
		return domain.Invalid("invalid_mailbox", field, "%s must be a mailbox such as \"Shop <billing@shop.example>\"", field)
	}
	return nil
}

// TemplateView is a template as the admin API shows it for one merchant:
// the source that applies (override parts in place of built-in ones),
// which parts are overridden, and the variables it may use.
type TemplateView struct {
	Name        Name       `json:"name"`
	Description string     `json:"description"`
	Subject     string     `json:"subject"`
	Text        string     `json:"text"`
	HTML        string     `json:"html"`
	Overridden  []string   `json:"overridden"`
	UpdatedAt   *time.Time `json:"updated_at"`
	Variables   []Variable `json:"variables"`
}

func (s *Service) templateView(name Name, mt *store.MailTemplate) (*TemplateView, error) {
	sp, ok := specOf(name)
	if !ok {
		return nil, unknownTemplate(name)
	}
	src, err := Builtin(name)
	if err != nil {
		return nil, err
	}
	v := &TemplateView{Name: name, Description: sp.description, Subject: src.Subject, Text: src.Text, HTML: src.HTML,
		Overridden: []string{}, Variables: Variables(name)}
	if mt == nil {
		return v, nil
	}
	at := mt.UpdatedAt.UTC()
	v.UpdatedAt = &at
	for _, p := range []struct {
		part, value string
		dst         *string
	}{{"subject", mt.Subject, &v.Subject}, {"text", mt.Text, &v.Text}, {"html", mt.HTML, &v.HTML}} {
		if p.value != "" {
			*p.dst = p.value
			v.Overridden = append(v.Overridden, p.part)
		}
	}
	return v, nil
}

// ListTemplates lists every template as it applies to a merchant.
func (s *Service) ListTemplates(ctx context.Context, merchantID int64) ([]*TemplateView, error) {
	if _, err := s.store.GetMerchant(ctx, merchantID); err != nil {
		return nil, err
	}
	mts, err := s.store.MailTemplates(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	byName := map[string]*store.MailTemplate{}
	for _, mt := range mts {
		byName[mt.Name] = mt
	}
	out := make([]*TemplateView, 0, len(specs))
	for _, name := range Names() {
		v, err := s.templateView(name, byName[string(name)])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Template returns one template as it applies to a merchant.
func (s *Service) Template(ctx context.Context, merchantID int64, name Name) (*TemplateView, error) {
	if _, ok := specOf(name); !ok {
		return nil, unknownTemplate(name)
	}
	if _, err := s.store.GetMerchant(ctx, merchantID); err != nil {
		return nil, err
	}
	mt, err := s.store.MailTemplate(ctx, merchantID, string(name))
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	return s.templateView(name, mt)
}

// PutTemplate checks an override (it must parse and render against the
// template's sample data) and stores it in place of the merchant's
// previous one. Parts left empty use the built-in ones. A refused
// override changes nothing.
func (s *Service) PutTemplate(ctx context.Context, merchantID int64, name Name, src Source) (*TemplateView, error) {
	if _, ok := specOf(name); !ok {
		return nil, unknownTemplate(name)
	}
	if _, err := s.store.GetMerchant(ctx, merchantID); err != nil {
		return nil, err
	}
	if err := s.templates.Check(name, src); err != nil {
		return nil, err
	}
	mt := &store.MailTemplate{MerchantID: merchantID, Name: string(name), Subject: src.Subject, Text: src.Text, HTML: src.HTML}
	if err := s.store.PutMailTemplate(ctx, mt); err != nil {
		return nil, err
	}
	return s.templateView(name, mt)
}

// DeleteTemplate removes a merchant's override: the built-in template
// applies again.
func (s *Service) DeleteTemplate(ctx context.Context, merchantID int64, name Name) error {
	if _, ok := specOf(name); !ok {
		return unknownTemplate(name)
	}
	if _, err := s.store.GetMerchant(ctx, merchantID); err != nil {
		return err
	}
	return s.store.DeleteMailTemplate(ctx, merchantID, string(name))
}

// Preview renders a template for a merchant on its sample data: with src
// when it has parts set (checked first, as PutTemplate would), else with
// the merchant's stored override.
func (s *Service) Preview(ctx context.Context, merchantID int64, name Name, src Source) (Message, error) {
	v, err := s.Template(ctx, merchantID, name)
	if err != nil {
		return Message{}, err
	}
	if src.Empty() {
		src = Source{Subject: v.Subject, Text: v.Text, HTML: v.HTML}
	} else if err := s.templates.Check(name, src); err != nil {
		return Message{}, err
	}
	sample, err := Sample(name)
	if err != nil {
		return Message{}, err
	}
	return s.templates.Render(name, src, sample)
}
