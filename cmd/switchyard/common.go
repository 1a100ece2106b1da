package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/app"
)

// loadConfig reads the file named by --config, the environment and any flag
// whose name is a config key path. Without a file, an invalid result is
// first of all a missing --config, and the error says so.
func loadConfig(cmd *cobra.Command) (*config.Config, error) {
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(config.LoadOptions{Path: path, Flags: cmd.Flags()})
	if err != nil && path == "" && errors.As(err, new(*config.ValidationError)) {
		return nil, fmt.Errorf("no configuration file given: pass --config FILE or set SWITCHYARD_CONFIG "+
			"(config/switchyard.example.yaml is a complete example); defaults and environment alone are not enough: %w", err)
	}
	return cfg, err
}

// keepLogLevel marks a command that logs at the configured level (serve);
// every other command logs warnings and errors only, unless the level is
// asked for with --log-level or SWITCHYARD_LOG_LEVEL, so a management
// command's output is its answer, not the job queue's start-up chatter.
const keepLogLevel = "switchyard/keep-log-level"

func cliLogLevel(cmd *cobra.Command, cfg *config.Config) {
	if cmd.Annotations[keepLogLevel] != "" || cmd.Flags().Changed("log-level") || os.Getenv(config.EnvPrefix+"LOG_LEVEL") != "" {
		return
	}
	if cfg.Log.Level != "error" {
		cfg.Log.Level = "warn"
	}
}

// withApp loads config, builds the app, runs fn and closes the app.
func withApp(cmd *cobra.Command, fn func(ctx context.Context, a *app.App) error) error {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	cliLogLevel(cmd, cfg)
	ctx := cmd.Context()
	a, err := app.New(ctx, cfg, app.Options{LogOutput: cmd.ErrOrStderr()})
	if err != nil {
		return err
	}
	defer a.Close(context.WithoutCancel(ctx))
	return fn(ctx, a)
}

// addJSONFlag gives a command the --json switch every create/list command has.
func addJSONFlag(cmd *cobra.Command) {
	cmd.Flags().Bool("json", false, "print machine-readable JSON")
}

func wantJSON(cmd *cobra.Command) bool {
	v, _ := cmd.Flags().GetBool("json")
	return v
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printTable writes rows under a header, aligned.
func printTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
	return tw.Flush()
}

func parseID(s, what string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, &exitError{code: 2, err: fmt.Errorf("%s id %q is not a positive integer", what, s)}
	}
	return id, nil
}
