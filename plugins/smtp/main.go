// Command smtp is Switchyard's SMTP mailer plugin (MXRoute, SendGrid,
// Postmark, SES or any submission server). The host launches it; run by
// hand it only explains that it is a plugin.
package main

import (
	"fmt"
	"os"

	"github.com/switchyard/switchyard/plugins/smtp/smtpmailer"
	"github.com/switchyard/switchyard/sdk"
)

func main() {
	if err := sdk.Serve(sdk.ServeOpts{Mailer: smtpmailer.New(smtpmailer.WithLogger(sdk.NewLogger("smtp")))}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
