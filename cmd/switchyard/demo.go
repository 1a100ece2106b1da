package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
)

const (
	demoMerchantName = "Demo Store"
	demoKeyName      = "demo (make run)"
	demoEndpointDesc = "demo inbox (make run)"
)

// demoCmd bootstraps the demo `make run` uses. It is idempotent: the
// merchant (and its endpoint to the demo inbox) is created once; each run
// revokes the previous demo key and prints a fresh one, because a key's
// secret can only be shown when made, and creates a fresh demo session for
// the console walk-through.
func demoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Create the demo merchant (plan pro, domain localhost), print a fresh test key and make a demo session",
		Long: `demo prepares what make run shows: the demo merchant (plan pro, domain
localhost) with a fresh test API key, a webhook endpoint to the admin
listener's demo inbox (when admin.demo_inbox is on), and a new demo session
whose webhooks go there, so an operator can find it in the console, read its
timeline and resend its webhook. It prints how to sign in to the console:
the names of the configured admin tokens, and the value only of the example
configuration's development tokens (never of a token given by reference).`,
		Args: cobra.NoArgs,
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
				w := cmd.OutOrStdout()
				printDemo(w, demoInfo{
					Merchant: m, Key: k.Secret, Public: a.PublicBaseURL(), Admin: a.Config.Admin.Addr,
					Config: cfgPath, OrderID: demoOrderID(),
				})
				return consoleDemo(ctx, w, a, m, k.Secret, cfgPath)
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

// consoleDemo prepares and prints the console walk-through: how to sign
// in, and a fresh demo session whose webhooks go to the demo inbox.
func consoleDemo(ctx context.Context, w io.Writer, a *app.App, m *store.Merchant, key, cfgPath string) error {
	printConsoleHelp(w, a.Config, cfgPath)
	inbox := ""
	if a.Config.Admin.DemoInbox {
		inbox = "http://" + a.Config.Admin.Addr + httpapi.DemoInboxPath
		if err := demoEndpoint(ctx, a, m.ID, inbox); err != nil {
			return err
		}
	}
	sess, err := demoSession(ctx, a, key)
	var de *domain.Error
	if errors.As(err, &de) && !errors.Is(err, domain.ErrUnavailable) {
		// A configuration that cannot route card payments (no rules):
		// there is nothing to pay, so no demo session.
		fmt.Fprintf(w, "No demo session: %s\n\n", de.Message)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Demo session %s (order %s), to pay in a browser: %s\n", sess.SessionID, sess.OrderID, sess.CheckoutURL)
	if inbox != "" {
		fmt.Fprintf(w, "Its webhooks go to the demo inbox %s (serve logs each one). In the console: Sessions,\n"+
			"search %s, open it to read its timeline, and Resend its session.created webhook.\n\n", inbox, sess.OrderID)
	} else {
		fmt.Fprintf(w, "Add a webhook endpoint for merchant %d (console: Endpoints) to see its deliveries.\n\n", m.ID)
	}
	return nil
}

// printConsoleHelp says where the console is and who may sign in. Token
// values are printed only for the example configuration's development
// tokens (literals named dev-…-change-me): anything else stays secret.
func printConsoleHelp(w io.Writer, cfg *config.Config, cfgPath string) {
	if !cfg.Admin.Console.Enabled {
		return
	}
	fmt.Fprintf(w, "Operator console: http://%s/console/\n", cfg.Admin.Addr)
	ops := cfg.Admin.Operators()
	if len(ops) == 0 {
		fmt.Fprintf(w, "  No admin.tokens are configured in %s: add one to sign in.\n\n", cfgPath)
		return
	}
	fmt.Fprintf(w, "  Sign in with one of the admin.tokens of %s:\n", cfgPath)
	for i, op := range ops {
		tok := cfg.Admin.Tokens[i].Token
		hint := "its token is in the config (or where its reference points)"
		if v := tok.Value(); tok.Ref() == "" && strings.HasPrefix(v, "dev-") && strings.HasSuffix(v, "-change-me") {
			hint = "development token " + v
		}
		fmt.Fprintf(w, "    %-16s %-9s %s\n", op.Name, op.Role, hint)
	}
	fmt.Fprintln(w)
}

// demoEndpoint makes sure the demo merchant has its endpoint to the inbox.
func demoEndpoint(ctx context.Context, a *app.App, merchantID int64, url string) error {
	eps, err := a.Webhooks.ListEndpoints(ctx, merchantID)
	if err != nil {
		return err
	}
	for _, ep := range eps {
		if ep.URL == url {
			return nil
		}
	}
	_, err = a.Webhooks.CreateEndpoint(ctx, webhooks.NewEndpoint{MerchantID: merchantID, URL: url, Description: demoEndpointDesc})
	return err
}

// demoSession creates a new card session with the demo key, as a
// merchant's backend would, with an order id of its own.
func demoSession(ctx context.Context, a *app.App, key string) (*payments.SessionView, error) {
	p, err := a.Merchants.Authenticate(ctx, key)
	if err != nil {
		return nil, err
	}
	amount, _ := json.Marshal("49.95")
	resp, err := a.Payments.CreateSession(ctx, p, &payments.CreateSessionRequest{
		Domain: "localhost", Amount: amount, Currency: "USD", Method: "card",
		OrderID: "DEMO" + strings.TrimPrefix(demoOrderID(), "ORDER"), ReturnURL: "http://localhost/thanks",
	}, "")
	if err != nil {
		return nil, err
	}
	var v payments.SessionView
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}
