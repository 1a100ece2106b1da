package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/store"
)

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage merchant API keys"}

	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key (the secret is shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mid, _ := cmd.Flags().GetInt64("merchant")
			mode, _ := cmd.Flags().GetString("mode")
			scopes, _ := cmd.Flags().GetStringArray("scope")
			name, _ := cmd.Flags().GetString("name")
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				k, err := a.Merchants.CreateKey(ctx, merchants.NewKey{MerchantID: mid, Mode: mode, Scopes: scopes, Name: name})
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), k)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "key %d created for merchant %d (%s, scopes %s)\n\n  %s\n\nStore it now: it is not shown again.\n",
					k.ID, k.MerchantID, k.Mode, strings.Join(k.Scopes, " "), k.Secret)
				return err
			})
		},
	}
	create.Flags().Int64("merchant", 0, "merchant id (required)")
	create.Flags().String("mode", "test", "test or live")
	create.Flags().StringArray("scope", nil, "scope to grant (repeatable; default all: sessions:write sessions:read me:read refunds:write)")
	create.Flags().String("name", "", "a label for the key")
	addJSONFlag(create)

	list := &cobra.Command{
		Use:   "list",
		Short: "List a merchant's API keys (prefixes only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mid, _ := cmd.Flags().GetInt64("merchant")
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				keys, err := a.Merchants.ListKeys(ctx, mid)
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					if keys == nil {
						keys = []*store.APIKey{}
					}
					return printJSON(cmd.OutOrStdout(), keys)
				}
				rows := make([][]string, 0, len(keys))
				for _, k := range keys {
					state := "active"
					if k.Revoked() {
						state = "revoked"
					}
					rows = append(rows, []string{strconv.FormatInt(k.ID, 10), k.Prefix + "…", string(k.Mode), strings.Join(k.Scopes, " "), state, k.Name})
				}
				return printTable(cmd.OutOrStdout(), []string{"ID", "PREFIX", "MODE", "SCOPES", "STATE", "NAME"}, rows)
			})
		},
	}
	list.Flags().Int64("merchant", 0, "merchant id (required)")
	addJSONFlag(list)

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0], "key")
			if err != nil {
				return err
			}
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				k, err := a.Merchants.RevokeKey(ctx, id)
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), k)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "key %d (%s…) revoked\n", k.ID, k.Prefix)
				return err
			})
		},
	}
	addJSONFlag(revoke)
	cmd.AddCommand(create, list, revoke)
	return cmd
}
