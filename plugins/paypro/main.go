// Command paypro is Switchyard's PayPro Global payment provider plugin. The
// host launches it; run by hand it only explains that it is a plugin.
package main

import (
	"fmt"
	"os"

	"github.com/switchyard/switchyard/plugins/paypro/payproprovider"
	"github.com/switchyard/switchyard/sdk"
)

func main() {
	if err := sdk.Serve(sdk.ServeOpts{Provider: payproprovider.New()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
