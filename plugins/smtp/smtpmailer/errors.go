package smtpmailer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/textproto"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/switchyard/switchyard/sdk"
)

// classifyDial categorizes a failure to connect, upgrade or log in.
func classifyDial(ctx context.Context, s *settings, err error) error {
	if ctx.Err() != nil {
		return sdk.Unavailable("smtp %s: %w", s.host, ctx.Err())
	}
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var proto *textproto.Error
	msg := err.Error()
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return sdk.Unavailable("smtp %s:%d: the server's TLS certificate does not verify: %v", s.host, s.port, err).WithCode("tls_untrusted")
	case strings.Contains(msg, "does not support STARTTLS"):
		return sdk.Unavailable("smtp %s:%d offers no STARTTLS, and security is %q: refusing to send in clear", s.host, s.port, s.security).
			WithCode("tls_required")
	case strings.HasPrefix(msg, "SMTP AUTH failed"):
		if errors.As(err, &proto) && proto.Code/100 == 4 {
			return sdk.Retryable("smtp %s: login deferred: %d %s", s.host, proto.Code, proto.Msg).WithCode("auth_deferred")
		}
		return sdk.Unauthorized("smtp %s: the server refused the credentials of %q: %v", s.host, s.username, errors.Unwrap(err)).
			WithCode("auth_failed")
	case strings.Contains(msg, "server does not support SMTP AUTH") || errors.Is(err, gomail.ErrNoSupportedAuthDiscovered):
		return sdk.Unauthorized("smtp %s: cannot log in: %v", s.host, err).WithCode("auth_unsupported")
	case errors.As(err, &proto):
		if proto.Code/100 == 4 {
			return sdk.Retryable("smtp %s: %d %s", s.host, proto.Code, proto.Msg).WithCode("deferred")
		}
		return sdk.Unavailable("smtp %s: %d %s", s.host, proto.Code, proto.Msg).WithCode("refused")
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return sdk.Unavailable("smtp %s:%d: no answer in time: %v", s.host, s.port, err).WithCode("timeout")
	}
	return sdk.Unavailable("smtp %s:%d: %v", s.host, s.port, err).WithCode("unreachable")
}

// classifySend categorizes a failure during the mail transaction: 5xx on a
// recipient is a decline, 4xx (greylisting, a full queue) is retryable.
func classifySend(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return sdk.Unavailable("smtp: %w", ctx.Err())
	}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return sdk.Unavailable("smtp: %v", err).WithCode("unreachable")
	}
	code := se.ErrorCode()
	if se.IsTemp() || code/100 == 4 {
		return sdk.Retryable("smtp: deferred: %v", se).WithCode("deferred")
	}
	switch se.Reason {
	case gomail.ErrSMTPRcptTo:
		return sdk.Declined("smtp: recipient refused: %v", se).WithCode("recipient_rejected").WithField("to")
	case gomail.ErrSMTPMailFrom:
		return sdk.Declined("smtp: sender refused: %v", se).WithCode("sender_rejected").WithField("from")
	case gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
		if code/100 == 5 {
			return sdk.Declined("smtp: message refused: %v", se).WithCode("message_rejected")
		}
	}
	return sdk.Unavailable("smtp: %v", se).WithCode("send_failed")
}
