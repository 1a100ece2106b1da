// Command paypro is Switchyard's PayPro Global payment provider plugin. The
// host launches it; run by hand it only explains that it is a plugin.
package main

import (
	"github.com/switchyard/switchyard/plugins/paypro/payproprovider"
	"github.com/switchyard/switchyard/sdk"
)

func main() {
	sdk.Serve(sdk.ServeOpts{Provider: payproprovider.New()})
}
