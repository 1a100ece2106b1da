package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/app"
)

func secretsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "secrets", Short: "Manage credentials encrypted at rest"}
	rewrap := &cobra.Command{
		Use:   "rewrap",
		Short: "Re-encrypt stored credentials under the newest keyring key (the first in secrets.keys)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				report, err := a.RewrapSecrets(ctx)
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), report)
				}
				for _, c := range report.Columns {
					fmt.Fprintf(cmd.OutOrStdout(), "%-40s %d rewrapped\n", c.Column, c.Rewrapped)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%d values now under key %q\n", report.Rewrapped(), a.Keyring.PrimaryID())
				return err
			})
		},
	}
	addJSONFlag(rewrap)
	cmd.AddCommand(rewrap)
	return cmd
}
