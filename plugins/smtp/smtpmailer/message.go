package smtpmailer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"net/mail"
	"regexp"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/mailer"
)

// maxRecipients bounds one message; transactional mail has one or a few.
const maxRecipients = 100

// reservedHeaders are set from Message's own fields or by the plugin and
// cannot be given in Message.Headers.
var reservedHeaders = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "reply-to": true, "subject": true, "sender": true,
	"date": true, "message-id": true, "mime-version": true, "content-type": true,
	"content-transfer-encoding": true, "return-path": true,
}

var headerName = regexp.MustCompile(`^[!-9;-~]{1,76}$`) // RFC 5322 field name: printable ASCII but ':'

func invalid(field, format string, args ...any) error {
	return sdk.Invalid(format, args...).WithField(field).WithCode("invalid_message")
}

func parseList(field string, in []string) ([]*mail.Address, error) {
	out := make([]*mail.Address, 0, len(in))
	for _, s := range in {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, invalid(field, "%s: %q is not an address: %v", field, s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// build turns a message into a go-mail message: UTF-8 throughout, header
// words RFC 2047-encoded where needed, bodies quoted-printable,
// multipart/alternative when both text and HTML are given.
func (s *settings) build(msg mailer.Message) (*gomail.Msg, string, error) {
	to, err := parseList("to", msg.To)
	if err != nil {
		return nil, "", err
	}
	cc, err := parseList("cc", msg.Cc)
	if err != nil {
		return nil, "", err
	}
	bcc, err := parseList("bcc", msg.Bcc)
	if err != nil {
		return nil, "", err
	}
	replyTo, err := parseList("reply_to", msg.ReplyTo)
	if err != nil {
		return nil, "", err
	}
	switch n := len(to) + len(cc) + len(bcc); {
	case n == 0:
		return nil, "", invalid("to", "the message has no recipients")
	case n > maxRecipients:
		return nil, "", invalid("to", "%d recipients; at most %d", n, maxRecipients)
	}
	from := s.from
	if msg.From != "" {
		if from, err = mail.ParseAddress(msg.From); err != nil {
			return nil, "", invalid("from", "from: %q is not an address: %v", msg.From, err)
		}
	}
	if strings.ContainsAny(msg.Subject, "\r\n") {
		return nil, "", invalid("subject", "the subject must be one line")
	}
	if msg.Text == "" && msg.HTML == "" {
		return nil, "", invalid("text", "the message has neither a text nor an HTML body")
	}

	m := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP), gomail.WithNoDefaultUserAgent())
	m.EnvelopeFromMailAddress(s.from)
	m.FromMailAddress(from)
	if len(to) > 0 {
		m.ToMailAddress(to...)
	}
	if len(cc) > 0 {
		m.CcMailAddress(cc...)
	}
	if len(bcc) > 0 {
		m.BccMailAddress(bcc...)
	}
	if len(replyTo) > 0 {
		m.ReplyToMailAddress(replyTo...)
	}
	m.Subject(msg.Subject)
	for k, v := range msg.Headers {
		if !headerName.MatchString(k) {
			return nil, "", invalid("headers", "header name %q is not valid", k)
		}
		if reservedHeaders[strings.ToLower(k)] || strings.HasPrefix(strings.ToLower(k), "content-") {
			return nil, "", invalid("headers", "header %q is set from the message's own fields", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, "", invalid("headers", "header %q: the value must be one line", k)
		}
		m.SetGenHeader(gomail.Header(k), v)
	}
	id := messageID(msg.IdempotencyKey, s.from.Address)
	m.SetMessageIDWithValue(id)
	switch {
	case msg.Text != "" && msg.HTML != "":
		m.SetBodyString(gomail.TypeTextPlain, msg.Text)
		m.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	case msg.Text != "":
		m.SetBodyString(gomail.TypeTextPlain, msg.Text)
	default:
		m.SetBodyString(gomail.TypeTextHTML, msg.HTML)
	}
	return m, "<" + id + ">", nil
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// messageID is the Message-ID without brackets, at the sender's domain. A
// message with an idempotency key gets the same id on every retry, so a
// mail sent twice after a lost answer shows up as the same message to
// receivers that de-duplicate on it.
func messageID(key, from string) string {
	domain := "switchyard.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 {
		domain = from[at+1:]
	}
	var raw []byte
	if key != "" {
		sum := sha256.Sum256([]byte("switchyard-mail:" + key))
		raw = sum[:20]
	} else {
		raw = make([]byte, 20)
		_, _ = rand.Read(raw)
	}
	return strings.ToLower(idEncoding.EncodeToString(raw)) + "@" + domain
}
