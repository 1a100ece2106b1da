package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/store"
)

func serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "serve",
		Short:       "Migrate the database and serve the public and admin listeners",
		Args:        cobra.NoArgs,
		Annotations: map[string]string{keepLogLevel: "yes"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				return a.Serve(ctx, func(l app.Listening) {
					fmt.Fprintf(cmd.OutOrStdout(), "public listener: http://%s\nadmin listener:  http://%s\n", l.Public, l.Admin)
				})
			})
		},
	}
	cmd.Flags().String("public-addr", "", "public listen address (overrides public.addr)")
	cmd.Flags().String("admin-addr", "", "admin listen address (overrides admin.addr)")
	return cmd
}

func migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				applied, err := a.Migrate(ctx)
				if err != nil {
					return err
				}
				printApplied(cmd.OutOrStdout(), a.Store.String(), applied)
				return nil
			})
		},
	}
}

// printApplied says what a migrate run did: each migration it applied, or
// that there was nothing to do.
func printApplied(w io.Writer, db string, applied store.Applied) {
	if applied.Empty() {
		fmt.Fprintf(w, "database %s is up to date (no pending migrations)\n", db)
		return
	}
	fmt.Fprintf(w, "database %s: applied %s", db, count(len(applied.Switchyard), "Switchyard migration", "Switchyard migrations"))
	if r := len(applied.River); r > 0 {
		fmt.Fprintf(w, " and %s", count(r, "job queue (River) migration", "job queue (River) migrations"))
	}
	fmt.Fprintln(w)
	for _, m := range applied.Switchyard {
		fmt.Fprintf(w, "  applied %s %s\n", m.Name, m.Comment)
	}
	if len(applied.River) > 0 {
		fmt.Fprintf(w, "  applied River schema versions %d to %d\n", applied.River[0], applied.River[len(applied.River)-1])
	}
}

func configCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect configuration"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and list every problem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := loadConfig(cmd); err != nil {
				return err
			}
			path, _ := cmd.Flags().GetString("config")
			if path == "" {
				path = "(defaults and environment)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: configuration is valid\n", path)
			return nil
		},
	})
	return cmd
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "switchyard %s\n", app.Version)
			return err
		},
	}
}
