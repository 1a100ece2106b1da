// Command whm is Switchyard's cPanel/WHM provisioner plugin: hosting
// accounts over WHM API 1 with an API token. The host launches it; run by
// hand it only explains that it is a plugin.
package main

import (
	"fmt"
	"os"

	"github.com/switchyard/switchyard/plugins/whm/whmprovisioner"
	"github.com/switchyard/switchyard/sdk"
)

func main() {
	if err := sdk.Serve(sdk.ServeOpts{Provisioner: whmprovisioner.New(whmprovisioner.WithLogger(sdk.NewLogger("whm")))}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
