package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/store"
)

const (
	demoMerchantName = "Demo Store"
	demoKeyName      = "demo (make run)"
)

// demoCmd bootstraps the demo merchant `make run` uses. It is idempotent:
// the merchant is created once; each run revokes the previous demo key and
// prints a fresh one, because a key's secret can only be shown when made.
func demoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Create the demo merchant (plan pro, domain localhost) and print a fresh test key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				m, err := demoMerchant(ctx, a)
				if err != nil {
					return err
				}
				keys, err := a.Merchants.ListKeys(ctx, m.ID)
				if err != nil {
					return err
				}
				for _, k := range keys {
					if k.Name == demoKeyName && !k.Revoked() {
						if _, err := a.Merchants.RevokeKey(ctx, k.ID); err != nil {
							return err
						}
					}
				}
				k, err := a.Merchants.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID, Mode: "test", Name: demoKeyName})
				if err != nil {
					return err
				}
				base := a.PublicBaseURL()
				fmt.Fprintf(cmd.OutOrStdout(), `
Demo merchant %d (%q, plan %s, domain localhost).
Test API key (shown once; a new one is made on every make run):

    %s

Public listener: %s    Admin listener: http://%s
Try it:

    curl -s %s/v1/sessions \
      -H 'Authorization: Bearer %s' \
      -H 'Content-Type: application/json' \
      -d '{"domain":"localhost","amount":"49.95","currency":"USD","order_id":"ORDER-1001","method":"card","return_url":"http://localhost/thanks"}'

`, m.ID, m.Name, m.Plan, k.Secret, base, a.Config.Admin.Addr, base, k.Secret)
				return nil
			})
		},
	}
}

func demoMerchant(ctx context.Context, a *app.App) (*store.Merchant, error) {
	all, err := a.Merchants.ListMerchants(ctx, store.Page{})
	if err != nil {
		return nil, err
	}
	for _, m := range all {
		if m.Name == demoMerchantName {
			return m, nil
		}
	}
	return a.Merchants.CreateMerchant(ctx, merchants.NewMerchant{
		Name: demoMerchantName, Plan: "pro", ContactEmail: "demo@localhost.localdomain", Domains: []string{"localhost"},
	})
}
