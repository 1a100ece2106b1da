package wire

import (
	"github.com/switchyard/switchyard/sdk/mailer"
	mailerv1 "github.com/switchyard/switchyard/sdk/proto/mailer/v1"
)

// MessageToProto converts a mail message.
func MessageToProto(m mailer.Message) *mailerv1.Message {
	return &mailerv1.Message{
		From: m.From, To: m.To, Cc: m.Cc, Bcc: m.Bcc, ReplyTo: m.ReplyTo, Subject: m.Subject,
		Text: m.Text, Html: m.HTML, Headers: m.Headers, IdempotencyKey: m.IdempotencyKey,
	}
}

// MessageFromProto converts a mail message.
func MessageFromProto(p *mailerv1.Message) mailer.Message {
	return mailer.Message{
		From: p.GetFrom(), To: p.GetTo(), Cc: p.GetCc(), Bcc: p.GetBcc(), ReplyTo: p.GetReplyTo(),
		Subject: p.GetSubject(), Text: p.GetText(), HTML: p.GetHtml(), Headers: p.GetHeaders(),
		IdempotencyKey: p.GetIdempotencyKey(),
	}
}
