// Command testprovider serves the pluginhost test provider and test mailer.
package main

import (
	"fmt"
	"os"

	"github.com/switchyard/switchyard/core/pluginhost/internal/testprovider"
	"github.com/switchyard/switchyard/sdk"
)

func main() {
	// The logger is made before Serve so it holds the real stderr, which the
	// host parses; go-plugin redirects os.Stderr once serving.
	log := sdk.NewLogger("testprovider")
	if err := sdk.Serve(sdk.ServeOpts{Provider: testprovider.New(log), Mailer: testprovider.Mailer{}, Logger: log}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
