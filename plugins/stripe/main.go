// Command stripe is Switchyard's Stripe payment provider plugin: Stripe
// Checkout, refunds, verified webhooks and Connect Standard onboarding. The
// host launches it; run by hand it only explains that it is a plugin.
package main

import (
	"fmt"
	"os"

	"github.com/switchyard/switchyard/plugins/stripe/stripeprovider"
	"github.com/switchyard/switchyard/sdk"
)

func main() {
	if err := sdk.Serve(sdk.ServeOpts{Provider: stripeprovider.New(stripeprovider.WithLogger(sdk.NewLogger("stripe")))}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
