package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"reflect"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/switchyard/switchyard/core/domain"
)

// Name identifies a template.
type Name string

// The templates.
const (
	PaymentReceipt          Name = "payment_receipt"
	RefundReceipt           Name = "refund_receipt"
	ServiceReady            Name = "service_ready"
	ServiceSuspended        Name = "service_suspended"
	WebhookDeliveryFailed   Name = "webhook_delivery_failed"
	WebhookEndpointDisabled Name = "webhook_endpoint_disabled"
)

// Source is a template's source: any part may be empty in an override,
// meaning the built-in part.
type Source struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// Empty reports whether no part is set.
func (s Source) Empty() bool { return s.Subject == "" && s.Text == "" && s.HTML == "" }

// Message is a rendered template.
type Message struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// Limits on overrides and on what a template may produce.
const (
	MaxSubjectSource = 1 << 10
	MaxBodySource    = 64 << 10
	// maxOutput bounds one rendered part ({{range 1000000000}} must not
	// fill memory).
	maxOutput = 512 << 10
	// MaxSubject bounds a rendered subject in characters.
	MaxSubject = 255
)

//go:embed templates
var builtinFS embed.FS

// spec describes one template: what it is for and its data type, with
// the sample data overrides are checked against.
type spec struct {
	name        Name
	description string
	// samples are rendered by every override at save time: one with every
	// optional value set, one with none, so both branches are exercised.
	samples []any
}

var specs = []spec{
	{PaymentReceipt, "sent to the customer when a session is paid and the merchant enabled receipts",
		[]any{samplePaymentReceipt(true), samplePaymentReceipt(false)}},
	{RefundReceipt, "sent to the customer when a refund succeeds and the merchant enabled receipts",
		[]any{sampleRefundReceipt(true), sampleRefundReceipt(false)}},
	{ServiceReady, "sent to the customer when fulfillment created their hosting account (login details)",
		[]any{sampleServiceReady(true), sampleServiceReady(false)}},
	{ServiceSuspended, "sent to the customer when fulfillment suspended their hosting account",
		[]any{sampleServiceSuspended(true), sampleServiceSuspended(false)}},
	{DomainRenewalReminder, "sent to a domain's registrant before the domain expires (domains.reminder_days)",
		[]any{sampleDomainRenewal(true), sampleDomainRenewal(false)}},
	{WebhookDeliveryFailed, "sent to the merchant's contact when a webhook delivery used its last attempt",
		[]any{sampleWebhookNotice(true), sampleWebhookNotice(false)}},
	{WebhookEndpointDisabled, "sent to the merchant's contact when an endpoint answered 410 Gone and was disabled",
		[]any{sampleWebhookNotice(true), sampleWebhookNotice(false)}},
}

func specOf(name Name) (spec, bool) {
	for _, s := range specs {
		if s.name == name {
			return s, true
		}
	}
	return spec{}, false
}

// Names lists every template in a stable order.
func Names() []Name {
	out := make([]Name, len(specs))
	for i, s := range specs {
		out[i] = s.name
	}
	return out
}

// compiled is a template's three parts, parsed.
type compiled struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// funcs are the functions templates may call.
var funcs = map[string]any{
	"date": formatDate,
	"join": strings.Join,
}

// formatDate renders a time (or *time.Time) for people: "5 Dec 2026 14:03 UTC";
// a zero or nil time is "".
func formatDate(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	}
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006 15:04 MST")
}

// PartError is a template part that does not parse or render.
type PartError struct {
	Part string // subject, text or html
	Err  error
}

func (e *PartError) Error() string { return e.Part + ": " + e.Err.Error() }
func (e *PartError) Unwrap() error { return e.Err }

// compile parses the parts of src that are set; unset parts stay nil.
func compile(name Name, src Source) (*compiled, error) {
	var c compiled
	var err error
	if src.Subject != "" {
		if c.subject, err = texttemplate.New(string(name) + ".subject").Option("missingkey=error").Funcs(funcs).Parse(src.Subject); err != nil {
			return nil, &PartError{"subject", err}
		}
	}
	if src.Text != "" {
		if c.text, err = texttemplate.New(string(name) + ".txt").Option("missingkey=error").Funcs(funcs).Parse(src.Text); err != nil {
			return nil, &PartError{"text", err}
		}
	}
	if src.HTML != "" {
		if c.html, err = htmltemplate.New(string(name) + ".html").Option("missingkey=error").Funcs(funcs).Parse(src.HTML); err != nil {
			return nil, &PartError{"html", err}
		}
	}
	return &c, nil
}

// over is c with the parts o has set replacing c's.
func (c *compiled) over(o *compiled) *compiled {
	if o == nil {
		return c
	}
	out := *c
	if o.subject != nil {
		out.subject = o.subject
	}
	if o.text != nil {
		out.text = o.text
	}
	if o.html != nil {
		out.html = o.html
	}
	return &out
}

type executor interface {
	Execute(w io.Writer, data any) error
}

var errTooLong = errors.New("output is longer than 512 KiB")

// capped is a writer that refuses to grow past maxOutput.
type capped struct{ bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if c.Len()+len(p) > maxOutput {
		return 0, errTooLong
	}
	return c.Buffer.Write(p)
}

func execute(part string, t executor, data any) (string, error) {
	if t == nil || reflect.ValueOf(t).IsNil() {
		return "", nil
	}
	var b capped
	if err := t.Execute(&b, data); err != nil {
		return "", &PartError{part, err}
	}
	return b.String(), nil
}

// render runs the parts that are set on data. The subject is made one line
// (runs of white space, line breaks included, become one space) so that no
// value can add a header; it must not end up empty.
func (c *compiled) render(data any) (Message, error) {
	var m Message
	var err error
	if m.Subject, err = execute("subject", c.subject, data); err != nil {
		return Message{}, err
	}
	if c.subject != nil {
		m.Subject = strings.Join(strings.Fields(m.Subject), " ")
		if m.Subject == "" {
			return Message{}, &PartError{"subject", errors.New("renders empty")}
		}
		if r := []rune(m.Subject); len(r) > MaxSubject {
			m.Subject = string(r[:MaxSubject-1]) + "…"
		}
	}
	if m.Text, err = execute("text", c.text, data); err != nil {
		return Message{}, err
	}
	if m.HTML, err = execute("html", c.html, data); err != nil {
		return Message{}, err
	}
	return m, nil
}

// Templates holds the built-in templates, parsed once.
type Templates struct {
	builtin map[Name]*compiled
}

// NewTemplates parses the built-in templates and checks each against its
// samples.
func NewTemplates() (*Templates, error) {
	t := &Templates{builtin: map[Name]*compiled{}}
	for _, sp := range specs {
		src, err := Builtin(sp.name)
		if err != nil {
			return nil, err
		}
		c, err := compile(sp.name, src)
		if err != nil {
			return nil, fmt.Errorf("mail: built-in %s: %w", sp.name, err)
		}
		for _, sample := range sp.samples {
			if _, err := c.render(sample); err != nil {
				return nil, fmt.Errorf("mail: built-in %s: %w", sp.name, err)
			}
		}
		t.builtin[sp.name] = c
	}
	return t, nil
}

// Builtin returns the source of a built-in template.
func Builtin(name Name) (Source, error) {
	if _, ok := specOf(name); !ok {
		return Source{}, unknownTemplate(name)
	}
	read := func(ext string) (string, error) {
		b, err := builtinFS.ReadFile("templates/" + string(name) + ext)
		if err != nil {
			return "", fmt.Errorf("mail: built-in %s%s: %w", name, ext, err)
		}
		return string(b), nil
	}
	var src Source
	var err error
	if src.Subject, err = read(".subject"); err != nil {
		return Source{}, err
	}
	if src.Text, err = read(".txt"); err != nil {
		return Source{}, err
	}
	if src.HTML, err = read(".html"); err != nil {
		return Source{}, err
	}
	return src, nil
}

func unknownTemplate(name Name) error {
	return &domain.Error{Kind: domain.ErrNotFound, Code: "unknown_template",
		Message: fmt.Sprintf("no mail template %q (the templates are %s)", name, joinNames())}
}

func joinNames() string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = string(s.name)
	}
	return strings.Join(names, ", ")
}

// Check parses an override and renders it against the template's sample
// data. Problems are *domain.Error values of kind ErrInvalid, code
// invalid_template, naming the part (field subject, text or html) and
// Go's own description with its line number.
func (t *Templates) Check(name Name, src Source) error {
	sp, ok := specOf(name)
	if !ok {
		return unknownTemplate(name)
	}
	if src.Empty() {
		return domain.Invalid("empty_override", "", "give at least one of subject, text and html (delete the override to go back to the built-in template)")
	}
	for _, p := range []struct {
		field, value string
		max          int
	}{{"subject", src.Subject, MaxSubjectSource}, {"text", src.Text, MaxBodySource}, {"html", src.HTML, MaxBodySource}} {
		if len(p.value) > p.max {
			return domain.Invalid("template_too_large", p.field, "%s is %d bytes, at most %d", p.field, len(p.value), p.max)
		}
		if p.value != "" && strings.TrimSpace(p.value) == "" {
			return domain.Invalid("invalid_template", p.field, "%s is only white space (leave it empty to keep the built-in one)", p.field)
		}
	}
	c, err := compile(name, src)
	if err != nil {
		return invalidTemplate(err)
	}
	full := t.builtin[name].over(c)
	for _, sample := range sp.samples {
		if _, err := full.render(sample); err != nil {
			return invalidTemplate(err)
		}
	}
	return nil
}

func invalidTemplate(err error) error {
	var pe *PartError
	if errors.As(err, &pe) {
		return domain.Invalid("invalid_template", pe.Part, "%s template: %v", pe.Part, pe.Err)
	}
	return domain.Invalid("invalid_template", "", "template: %v", err)
}

// Render renders template name on data, with override's parts (when set)
// in place of the built-in ones. data must be the template's data type
// (PaymentReceiptData for PaymentReceipt, …).
func (t *Templates) Render(name Name, override Source, data any) (Message, error) {
	b, ok := t.builtin[name]
	if !ok {
		return Message{}, unknownTemplate(name)
	}
	c := b
	if !override.Empty() {
		o, err := compile(name, override)
		if err != nil {
			return Message{}, err
		}
		c = b.over(o)
	}
	return c.render(data)
}

// Sample returns the sample data of a template (every optional value set),
// for previews.
func Sample(name Name) (any, error) {
	sp, ok := specOf(name)
	if !ok {
		return nil, unknownTemplate(name)
	}
	return sp.samples[0], nil
}
