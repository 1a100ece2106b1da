package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/webhooks"
)

// withWebhooks runs fn with the app's webhooks service. Jobs it enqueues
// (resend, recover) are only inserted; a running `switchyard serve` works
// them.
func withWebhooks(cmd *cobra.Command, fn func(ctx context.Context, svc *webhooks.Service) error) error {
	return withApp(cmd, func(ctx context.Context, a *app.App) error {
		return fn(ctx, a.Webhooks)
	})
}

func printEndpoints(cmd *cobra.Command, eps []*webhooks.Endpoint) error {
	if wantJSON(cmd) {
		return printJSON(cmd.OutOrStdout(), eps)
	}
	rows := make([][]string, 0, len(eps))
	for _, e := range eps {
		state := "enabled"
		if !e.Enabled {
			state = "disabled"
		}
		target := e.URL
		if e.Kind == "ipn" {
			target = "(ipn_url of each session)"
		}
		site := e.Site
		if site == "" {
			site = "*"
		}
		types := strings.Join(e.EventTypes, " ")
		if types == "" {
			types = "*"
		}
		rows = append(rows, []string{e.ID, fmt.Sprint(e.MerchantID), site, e.Profile, e.Schedule, state, types, target})
	}
	return printTable(cmd.OutOrStdout(), []string{"ID", "MERCHANT", "SITE", "PROFILE", "SCHEDULE", "STATE", "EVENTS", "URL"}, rows)
}

// printEndpoint writes one endpoint as "field  value" lines; a disabled
// endpoint's state line says why (a 410 from the receiver names the
// delivery that got it, an operator's reason is quoted).
func printEndpoint(w io.Writer, e *webhooks.Endpoint) error {
	state := "enabled"
	if !e.Enabled {
		state = "disabled"
		if e.DisabledReason != "" {
			state += ": " + e.DisabledReason
		}
	}
	target := e.URL
	if e.Kind == "ipn" {
		target = "(ipn_url of each session; this is the site's IPN signing config)"
	}
	orAll := func(v, all string) string {
		if v == "" {
			return all
		}
		return v
	}
	rows := [][2]string{
		{"endpoint", e.ID},
		{"state", state},
		{"merchant", fmt.Sprint(e.MerchantID)},
		{"kind", e.Kind},
		{"url", target},
		{"site", orAll(e.Site, "* (every site)")},
		{"events", orAll(strings.Join(e.EventTypes, " "), "* (all)")},
		{"mode", orAll(e.Mode, "test and live")},
		{"profile", e.Profile},
		{"schedule", e.Schedule},
		{"description", orAll(e.Description, "-")},
		{"created", e.CreatedAt.Format(time.RFC3339)},
		{"updated", e.UpdatedAt.Format(time.RFC3339)},
	}
	if e.PreviousSecretExpiresAt != nil {
		rows = append(rows, [2]string{"previous secret", "valid until " + e.PreviousSecretExpiresAt.Format(time.RFC3339)})
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(w, "%-16s %s\n", r[0], r[1]); err != nil {
			return err
		}
	}
	return nil
}

func printSecret(cmd *cobra.Command, ep *webhooks.EndpointWithSecret, verb string) error {
	if wantJSON(cmd) {
		return printJSON(cmd.OutOrStdout(), ep)
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "endpoint %s %s (profile %s)\n\n  signing secret: %s\n\nStore it now: it is not shown again.\n",
		ep.ID, verb, ep.Profile, ep.Secret)
	if err == nil && ep.PreviousSecretExpiresAt != nil {
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "The previous secret stays valid until %s.\n", ep.PreviousSecretExpiresAt.Format(time.RFC3339))
	}
	return err
}

func endpointsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "endpoints", Short: "Manage merchants' webhook endpoints"}

	add := &cobra.Command{
		Use:   "add",
		Short: "Add a webhook endpoint (the signing secret is shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			var in webhooks.NewEndpoint
			in.MerchantID, _ = f.GetInt64("merchant")
			in.URL, _ = f.GetString("url")
			in.Site, _ = f.GetString("site")
			in.EventTypes, _ = f.GetStringArray("event")
			in.Mode, _ = f.GetString("mode")
			in.Profile, _ = f.GetString("profile")
			in.Schedule, _ = f.GetString("schedule")
			in.Description, _ = f.GetString("description")
			in.IPN, _ = f.GetBool("ipn")
			return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
				ep, err := svc.CreateEndpoint(ctx, in)
				if err != nil {
					return err
				}
				return printSecret(cmd, ep, "created")
			})
		},
	}
	add.Flags().Int64("merchant", 0, "merchant id (required)")
	add.Flags().String("url", "", "target URL (required unless --ipn)")
	add.Flags().String("site", "", "only events of sessions on this approved domain (default: every site)")
	add.Flags().StringArray("event", nil, "event type or prefix such as session.paid or session.* (repeatable; default: all)")
	add.Flags().String("mode", "", "only test or live sessions (default: both)")
	add.Flags().String("profile", "standard", "signing profile: standard, proe, pgapp or ecomtrade")
	add.Flags().String("schedule", "svix", "retry schedule: svix or paypro")
	add.Flags().String("description", "", "a label")
	add.Flags().Bool("ipn", false, "make this the site's IPN signing config: sessions' ipn_url deliveries are signed with it")
	addJSONFlag(add)

	list := &cobra.Command{
		Use:   "list",
		Short: "List webhook endpoints",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mid, _ := cmd.Flags().GetInt64("merchant")
			return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
				eps, err := svc.ListEndpoints(ctx, mid)
				if err != nil {
					return err
				}
				return printEndpoints(cmd, eps)
			})
		},
	}
	list.Flags().Int64("merchant", 0, "only this merchant's endpoints")
	addJSONFlag(list)

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one endpoint, with why it is disabled when it is",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
				ep, err := svc.GetEndpoint(ctx, args[0])
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), ep)
				}
				return printEndpoint(cmd.OutOrStdout(), ep)
			})
		},
	}
	addJSONFlag(show)

	rotate := &cobra.Command{
		Use:   "rotate-secret ID",
		Short: "Give an endpoint a new signing secret; the old one stays valid for --overlap",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			overlap, _ := cmd.Flags().GetDuration("overlap")
			if overlap == 0 {
				overlap = -1 // explicit 0: no overlap
			}
			return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
				ep, err := svc.RotateSecret(ctx, args[0], overlap)
				if err != nil {
					return err
				}
				return printSecret(cmd, ep, "rotated")
			})
		},
	}
	rotate.Flags().Duration("overlap", webhooks.DefaultRotateOverlap, "how long the previous secret keeps verifying (0 = none)")
	addJSONFlag(rotate)

	setEnabled := func(use, short string, enabled bool) *cobra.Command {
		c := &cobra.Command{
			Use:   use + " ID",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				reason, _ := cmd.Flags().GetString("reason")
				return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
					ep, err := svc.SetEnabled(ctx, args[0], enabled, reason)
					if err != nil {
						return err
					}
					return printEndpoints(cmd, []*webhooks.Endpoint{ep})
				})
			},
		}
		if !enabled {
			c.Flags().String("reason", "", "why (shown in listings)")
		} else {
			c.Flags().String("reason", "", "")
			_ = c.Flags().MarkHidden("reason")
		}
		addJSONFlag(c)
		return c
	}

	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an endpoint (its delivery history is kept)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
				if err := svc.DeleteEndpoint(ctx, args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "endpoint %s deleted\n", args[0])
				return err
			})
		},
	}

	test := &cobra.Command{
		Use:   "test ID",
		Short: "Send a signed webhook.test event to an endpoint now and show the answer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
				res, err := svc.TestEndpoint(ctx, args[0])
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), res)
				}
				outcome := "succeeded"
				if !res.Succeeded {
					outcome = "FAILED"
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "test event %s %s: status %d in %dms %s\n%s\n",
					res.EventID, outcome, res.StatusCode, res.LatencyMS, res.Error, res.ResponseBody)
				return err
			})
		},
	}
	addJSONFlag(test)

	cmd.AddCommand(add, list, show, rotate,
		setEnabled("disable", "Stop sending to an endpoint", false),
		setEnabled("enable", "Resume sending to an endpoint", true),
		del, test)
	return cmd
}
