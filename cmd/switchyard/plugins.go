package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/telemetry"
	"github.com/switchyard/switchyard/sdk/meta"
)

// pluginsCmd is `switchyard plugins`: inspect the configured plugins.
func pluginsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "plugins", Short: "Inspect plugin instances and binaries"}
	cmd.AddCommand(pluginsListCmd(), pluginsTestCmd(), pluginsHashCmd())
	return cmd
}

func pluginsListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Launch the configured plugins, show id, kind, version, methods, health and circuit breakers, then stop them",
		Long: "Launches every enabled plugin instance exactly as serve would (binary confined to " +
			"plugins.dir, sha256 pin, handshake, Describe, Configure), asks each for its health, " +
			"prints the result and shuts them down. Exits non-zero when an enabled instance is not healthy. " +
			"BREAKER shows each provider's circuit breaker on every running serve instance, as they " +
			"last reported it to the database (breakers are per instance).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			h, err := quietHost(cmd, cfg.Log, cfg.Plugins)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			defer closeHost(ctx, h)
			// Failures are shown per instance below, not as one error.
			_ = h.Start(ctx)

			// Start has asked each running plugin for its health once, so the
			// plugin's own view (credentials, upstream reachability) shows.
			infos := h.Instances()
			breakers := runningBreakers(ctx, cmd, cfg.Store.DSN)
			unhealthy := 0
			for _, in := range infos {
				if in.Health.State != pluginhost.StateHealthy && in.Health.State != pluginhost.StateDisabled {
					unhealthy++
				}
			}

			if wantJSON(cmd) {
				out := make([]listedPlugin, 0, len(infos))
				for _, in := range infos {
					lp := newListedPlugin(in)
					if in.Kind == meta.KindProvider {
						lp.Breakers = breakers[in.ID]
					}
					out = append(out, lp)
				}
				if err := printJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			} else {
				rows := make([][]string, 0, len(infos))
				for _, in := range infos {
					health := string(in.Health.State)
					if in.Health.Message != "" {
						health += ": " + in.Health.Message
					}
					breaker := "-"
					if in.Kind == meta.KindProvider && breakers != nil {
						breaker = breakerSummary(breakers[in.ID])
					}
					mode := in.Mode
					if mode == "" {
						mode = "-"
					}
					rows = append(rows, []string{in.ID, string(in.Kind), mode, in.Name, in.Version, methodNames(in), health, breaker})
				}
				if err := printTable(cmd.OutOrStdout(), []string{"ID", "KIND", "MODE", "NAME", "VERSION", "METHODS", "HEALTH", "BREAKER"}, rows); err != nil {
					return err
				}
			}
			if unhealthy > 0 {
				return fmt.Errorf("%d plugin instance(s) not healthy", unhealthy)
			}
			return nil
		},
	}
	addJSONFlag(cmd)
	return cmd
}

// quietHost builds a plugin host for a one-shot command. Launch chatter
// would bury the output; warnings and errors (why a plugin failed) still
// go to stderr.
func quietHost(cmd *cobra.Command, logCfg config.LogConfig, plugins config.PluginsConfig) (*pluginhost.Host, error) {
	if logCfg.Level == "" || logCfg.Level == "info" {
		logCfg.Level = "warn"
	}
	logger, err := telemetry.NewLogger(logCfg, cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	return pluginhost.New(plugins, pluginhost.Options{Logger: logger})
}

// closeHost stops the plugins; they must not outlive the command, even on
// Ctrl-C.
func closeHost(ctx context.Context, h *pluginhost.Host) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = h.Close(cctx)
}

// listedPlugin is the --json shape: InstanceInfo with the SDK's method
// type (which has no JSON names) spelled in snake case like the rest.
type listedPlugin struct {
	pluginhost.InstanceInfo
	Methods []listedMethod `json:"methods,omitempty"`
	// Breakers are this provider's circuit breakers, one per running
	// serve instance.
	Breakers []store.BreakerState `json:"breakers,omitempty"`
}

// runningBreakers reads the breaker reports of running serve instances,
// by provider id. nil (and a note on stderr) when the database cannot say.
func runningBreakers(ctx context.Context, cmd *cobra.Command, dsn string) map[string][]store.BreakerState {
	note := func(err error) map[string][]store.BreakerState {
		fmt.Fprintf(cmd.ErrOrStderr(), "circuit breakers unknown: %v\n", err)
		return nil
	}
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return note(err)
	}
	defer st.Close()
	rows, err := st.BreakerStates(ctx, time.Now().Add(-app.BreakerReportMaxAge))
	if err != nil {
		// An unmigrated database has no table to read: say what to do,
		// not the driver's "no such table".
		if pending, perr := st.PendingMigrations(ctx); perr == nil && len(pending) > 0 {
			return note(fmt.Errorf("the database needs `switchyard migrate` (%d migrations pending)", len(pending)))
		}
		return note(err)
	}
	out := map[string][]store.BreakerState{}
	for _, r := range rows {
		out[r.ProviderID] = append(out[r.ProviderID], r)
	}
	return out
}

// breakerSummary is the BREAKER column: "closed on 3 instances", or the
// instances whose breaker is not closed, each with its state.
func breakerSummary(rs []store.BreakerState) string {
	if len(rs) == 0 {
		return "no serve instance reporting"
	}
	closed := 0
	var other []string
	for _, r := range rs {
		switch {
		case r.State == "closed":
			closed++
		case r.State == "open" && r.OpenUntil != nil:
			other = append(other, fmt.Sprintf("open on %s until %s", r.InstanceID, r.OpenUntil.UTC().Format(time.TimeOnly)))
		default:
			other = append(other, r.State+" on "+r.InstanceID)
		}
	}
	if closed > 0 {
		other = append(other, fmt.Sprintf("closed on %d instance(s)", closed))
	}
	return strings.Join(other, "; ")
}

type listedMethod struct {
	Method     string        `json:"method"`
	Label      string        `json:"label,omitempty"`
	Currencies []string      `json:"currencies,omitempty"`
	Countries  []string      `json:"countries,omitempty"`
	Limits     []listedLimit `json:"limits,omitempty"`
}

type listedLimit struct {
	Currency string `json:"currency,omitempty"`
	Min      int64  `json:"min,omitempty"`
	Max      int64  `json:"max,omitempty"`
}

func newListedPlugin(in pluginhost.InstanceInfo) listedPlugin {
	out := listedPlugin{InstanceInfo: in}
	for _, m := range in.Methods {
		lm := listedMethod{Method: m.Method, Label: m.Label, Currencies: m.Currencies, Countries: m.Countries}
		for _, l := range m.Limits {
			lm.Limits = append(lm.Limits, listedLimit{Currency: l.Currency, Min: l.Min, Max: l.Max})
		}
		out.Methods = append(out.Methods, lm)
	}
	return out
}

func methodNames(in pluginhost.InstanceInfo) string {
	if in.Kind != meta.KindProvider {
		return "-"
	}
	names := make([]string, 0, len(in.Methods))
	for _, m := range in.Methods {
		names = append(names, m.Method)
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ",")
}

func pluginsHashCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "hash FILE",
		Short: "Print a plugin binary's sha256, to pin it in plugins.instances[].sha256",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sum, err := pluginhost.HashFile(args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), sum)
			return err
		},
	}
}
