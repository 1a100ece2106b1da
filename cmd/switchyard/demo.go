package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

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
				cfgPath, _ := cmd.Flags().GetString("config")
				printDemo(cmd.OutOrStdout(), demoInfo{
					Merchant: m, Key: k.Secret, Public: a.PublicBaseURL(), Admin: a.Config.Admin.Addr,
					Config: cfgPath, OrderID: demoOrderID(),
				})
				return nil
			})
		},
	}
}

// demoOrderID is a fresh order id for the printed curl: the time, and
// random digits so two runs in one second differ too.
func demoOrderID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail on supported platforms
	return fmt.Sprintf("ORDER-%s-%X", time.Now().UTC().Format("20060102-150405"), b)
}

type demoInfo struct {
	Merchant                            *store.Merchant
	Key, Public, Admin, Config, OrderID string
}

// printDemo shows the key and a session-creating curl with an order id of
// its own: order ids are the merchant's, and an order already paid in an
// earlier run (var/ persists) would rightly answer 409 order_already_paid.
func printDemo(w io.Writer, d demoInfo) {
	fmt.Fprintf(w, `
Demo merchant %d (%q, plan %s, domain localhost).
Test API key (shown once; a new one is made on every make run):

    %s

Public listener: %s    Admin listener: http://%s
Try it (a new order id each time, e.g. ORDER-$(date +%%s) in a shell):

    curl -s %s/v1/sessions \
      -H 'Authorization: Bearer %s' \
      -H 'Content-Type: application/json' \
      -d '{"domain":"localhost","amount":"49.95","currency":"USD","order_id":"%s","method":"card","return_url":"http://localhost/thanks"}'

Watch this merchant's webhooks:

    bin/switchyard listen --config %s --merchant %d

`, d.Merchant.ID, d.Merchant.Name, d.Merchant.Plan, d.Key, d.Public, d.Admin, d.Public, d.Key, d.OrderID, d.Config, d.Merchant.ID)
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
