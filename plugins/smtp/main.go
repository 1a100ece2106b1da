// Command smtp is Switchyard's SMTP mailer plugin (MXRoute, SendGrid,
// Postmark, SES or any submission server). The host launches it; run by
// hand it only explains that it is a plugin.
package main

import (
	"github.com/switchyard/switchyard/plugins/smtp/smtpmailer"
	"github.com/switchyard/switchyard/sdk"
)

func main() {
	sdk.Serve(sdk.ServeOpts{Mailer: smtpmailer.New(smtpmailer.WithLogger(sdk.NewLogger("smtp")))})
}
