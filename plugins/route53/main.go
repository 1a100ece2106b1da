// Command route53 is Switchyard's registrar plugin for Amazon Route 53
// Domains and Route 53 DNS. The host launches it; run by hand it only
// explains that it is a plugin.
package main

import (
	"fmt"
	"os"

	"github.com/switchyard/switchyard/plugins/route53/route53registrar"
	"github.com/switchyard/switchyard/sdk"
)

func main() {
	if err := sdk.Serve(sdk.ServeOpts{Registrar: route53registrar.New(route53registrar.WithLogger(sdk.NewLogger("route53")))}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
