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

func merchantsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "merchants", Short: "Manage merchants (tenants)"}

	create := &cobra.Command{
		Use:   "create",
		Short: "Create a merchant with its approved site domains",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, _ := cmd.Flags().GetString("name")
			plan, _ := cmd.Flags().GetString("plan")
			email, _ := cmd.Flags().GetString("contact-email")
			domains, _ := cmd.Flags().GetStringArray("domain")
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				m, err := a.Merchants.CreateMerchant(ctx, merchants.NewMerchant{Name: name, Plan: plan, ContactEmail: email, Domains: domains})
				if err != nil {
					return err
				}
				return printMerchant(cmd, m)
			})
		},
	}
	create.Flags().String("name", "", "merchant name (required)")
	create.Flags().String("plan", "", "plan: free, starter, pro or unlimited (required)")
	create.Flags().String("contact-email", "", "contact email (required)")
	create.Flags().StringArray("domain", nil, "approved site domain (repeatable, at least one)")
	addJSONFlag(create)

	list := &cobra.Command{
		Use:   "list",
		Short: "List merchants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				ms, err := a.Merchants.ListMerchants(ctx, store.Page{})
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					if ms == nil {
						ms = []*store.Merchant{}
					}
					return printJSON(cmd.OutOrStdout(), ms)
				}
				rows := make([][]string, 0, len(ms))
				for _, m := range ms {
					rows = append(rows, []string{strconv.FormatInt(m.ID, 10), m.Name, string(m.Plan), string(m.Status), strings.Join(m.Domains(), ",")})
				}
				return printTable(cmd.OutOrStdout(), []string{"ID", "NAME", "PLAN", "STATUS", "DOMAINS"}, rows)
			})
		},
	}
	addJSONFlag(list)

	show := merchantCmd("show", "Show one merchant", func(ctx context.Context, cmd *cobra.Command, a *app.App, id int64) error {
		m, err := a.Merchants.GetMerchant(ctx, id)
		if err != nil {
			return err
		}
		return printMerchant(cmd, m)
	})

	cmd.AddCommand(create, list, show, merchantMailCmd(), merchantTemplatesCmd(),
		merchantStatusCmd("suspend", "Suspend a merchant: its API keys are refused (403 merchant_suspended)", store.MerchantSuspended),
		merchantStatusCmd("reactivate", "Reactivate a suspended merchant", store.MerchantActive))
	return cmd
}

// merchantStatusCmd is `merchants suspend ID` / `merchants reactivate ID`.
// Running instances on PostgreSQL apply it within a second (their
// authentication caches are told); on SQLite a running serve applies it
// within api.auth_cache_ttl.
func merchantStatusCmd(use, short string, status store.MerchantStatus) *cobra.Command {
	return merchantCmd(use, short, func(ctx context.Context, cmd *cobra.Command, a *app.App, id int64) error {
		m, err := a.Merchants.SetMerchantStatus(ctx, id, status)
		if err != nil {
			return err
		}
		return printMerchant(cmd, m)
	})
}

// merchantCmd is `merchants … USE ID` with --json: run gets the merchant
// id and the app.
func merchantCmd(use, short string, run func(ctx context.Context, cmd *cobra.Command, a *app.App, id int64) error) *cobra.Command {
	c := &cobra.Command{
		Use:   use + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0], "merchant")
			if err != nil {
				return err
			}
			return withApp(cmd, func(ctx context.Context, a *app.App) error { return run(ctx, cmd, a, id) })
		},
	}
	addJSONFlag(c)
	return c
}

func printMerchant(cmd *cobra.Command, m *store.Merchant) error {
	if wantJSON(cmd) {
		return printJSON(cmd.OutOrStdout(), m)
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "merchant %d\n  name:    %s\n  plan:    %s\n  status:  %s\n  contact: %s\n  domains: %s\n",
		m.ID, m.Name, m.Plan, m.Status, m.ContactEmail, strings.Join(m.Domains(), ", "))
	return err
}

func sitesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sites", Short: "Manage a merchant's approved site domains"}
	add := &cobra.Command{
		Use:   "add",
		Short: "Approve a site domain for a merchant",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mid, _ := cmd.Flags().GetInt64("merchant")
			d, _ := cmd.Flags().GetString("domain")
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				s, err := a.Merchants.AddSite(ctx, mid, d)
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), s)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "site %d: %s approved for merchant %d\n", s.ID, s.Domain, s.MerchantID)
				return err
			})
		},
	}
	add.Flags().Int64("merchant", 0, "merchant id (required)")
	add.Flags().String("domain", "", "domain to approve (required)")
	addJSONFlag(add)

	list := &cobra.Command{
		Use:   "list",
		Short: "List a merchant's site domains",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mid, _ := cmd.Flags().GetInt64("merchant")
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				sites, err := a.Merchants.ListSites(ctx, mid)
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					if sites == nil {
						sites = []*store.Site{}
					}
					return printJSON(cmd.OutOrStdout(), sites)
				}
				rows := make([][]string, 0, len(sites))
				for _, s := range sites {
					rows = append(rows, []string{strconv.FormatInt(s.ID, 10), s.Domain, s.CreatedAt.Format("2006-01-02T15:04:05Z")})
				}
				return printTable(cmd.OutOrStdout(), []string{"ID", "DOMAIN", "CREATED"}, rows)
			})
		},
	}
	list.Flags().Int64("merchant", 0, "merchant id (required)")
	addJSONFlag(list)
	cmd.AddCommand(add, list)
	return cmd
}
