// Command whm is Switchyard's cPanel/WHM provisioner plugin: hosting
// accounts over WHM API 1 with an API token. The host launches it; run by
// hand it only explains that it is a plugin.
package main

import (
	"github.com/switchyard/switchyard/plugins/whm/whmprovisioner"
	"github.com/switchyard/switchyard/sdk"
)

func main() {
	sdk.Serve(sdk.ServeOpts{Provisioner: whmprovisioner.New(whmprovisioner.WithLogger(sdk.NewLogger("whm")))})
}
