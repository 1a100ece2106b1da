package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/app"
)

func serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Migrate the database and serve the public and admin listeners",
		Args:  cobra.NoArgs,
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
				if err := a.Migrate(ctx); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "database %s is up to date\n", a.Store)
				return nil
			})
		},
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
