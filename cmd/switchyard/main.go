package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries a specific exit status through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// run executes the CLI and returns the process exit status. Errors go to
// stderr; 2 means the configuration or the command line is wrong.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if errors.As(err, new(*config.ValidationError)) {
		fmt.Fprintf(stderr, "switchyard: %s\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "switchyard: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "switchyard",
		Short:         "Self-hosted payment gateway router",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().String("config", os.Getenv("SWITCHYARD_CONFIG"), "YAML configuration file (default $SWITCHYARD_CONFIG)")
	// Flags named after config keys override the file and the environment.
	root.PersistentFlags().String("store-dsn", "", "database: sqlite:PATH or postgres://… (overrides store.dsn)")
	root.PersistentFlags().String("plugins-dir", "", "plugin binary directory (overrides plugins.dir)")
	root.PersistentFlags().String("log-level", "", "debug, info, warn or error (overrides log.level; commands other than serve log at warn unless given)")
	root.AddCommand(
		serveCmd(), migrateCmd(), configCmd(), versionCmd(),
		merchantsCmd(), sitesCmd(), keysCmd(), secretsCmd(), demoCmd(),
		pluginsCmd(), endpointsCmd(), eventsCmd(), deliveriesCmd(), listenCmd(), simulateCmd(), reviewsCmd(), refundsCmd(), domainsCmd(), servicesCmd(),
	)
	return root
}
