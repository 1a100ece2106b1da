// Package smtpmailer is Switchyard's SMTP mailer on
// github.com/wneessen/go-mail: one connection per message, STARTTLS
// required by default (implicit TLS on port 465; plaintext only when
// explicitly configured and without credentials), AUTH, a configured
// sending mailbox used as the envelope sender, and messages built as
// UTF-8 multipart/alternative (text and HTML, quoted-printable, RFC 2047
// header words). SMTP replies become SDK categories: refused credentials
// are unauthorized, a refused recipient is declined, a 4xx reply
// (greylisting) is retryable, an unreachable server unavailable.
package smtpmailer
