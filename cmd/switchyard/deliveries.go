package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
)

func deliveriesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "deliveries", Short: "Inspect, resend and recover webhook deliveries"}

	list := &cobra.Command{
		Use:   "list",
		Short: "List deliveries, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			var df store.DeliveryFilter
			df.MerchantID, _ = f.GetInt64("merchant")
			df.EndpointID, _ = f.GetString("endpoint")
			df.Status, _ = f.GetString("status")
			df.EventType, _ = f.GetString("event-type")
			df.EventID, _ = f.GetString("event")
			df.Limit, _ = f.GetInt("limit")
			since, _ := f.GetString("since")
			var err error
			if df.Since, err = parseSince(since); err != nil {
				return err
			}
			return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
				ds, err := svc.ListDeliveries(ctx, df)
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), ds)
				}
				rows := make([][]string, 0, len(ds))
				for _, d := range ds {
					code := "-"
					if d.LastStatusCode != nil {
						code = fmt.Sprint(*d.LastStatusCode)
					}
					rows = append(rows, []string{d.ID, d.EventID, d.EventType, d.Status, fmt.Sprint(d.Attempts), code,
						d.CreatedAt.Format(time.RFC3339), d.URL})
				}
				return printTable(cmd.OutOrStdout(), []string{"ID", "EVENT", "TYPE", "STATUS", "ATTEMPTS", "LAST", "CREATED", "URL"}, rows)
			})
		},
	}
	list.Flags().Int64("merchant", 0, "only this merchant's deliveries")
	list.Flags().String("endpoint", "", "only this endpoint's deliveries")
	list.Flags().String("status", "", "pending, succeeded, failed or disabled")
	list.Flags().String("event-type", "", "only this event type")
	list.Flags().String("event", "", "only this event's deliveries")
	list.Flags().String("since", "", "only deliveries created since (RFC 3339, or a duration such as 24h)")
	list.Flags().Int("limit", webhooks.DefaultListLimit, "at most this many")
	addJSONFlag(list)

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a delivery with every attempt",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
				d, err := svc.GetDelivery(ctx, args[0])
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), d)
				}
				printDelivery(cmd, d)
				return nil
			})
		},
	}
	addJSONFlag(show)

	resend := &cobra.Command{
		Use:   "resend ID",
		Short: "Schedule one more attempt of a delivery now (a running server sends it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
				d, err := svc.Resend(ctx, args[0])
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), d)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "delivery %s scheduled for resend to %s\n", d.ID, d.URL)
				return err
			})
		},
	}
	addJSONFlag(resend)

	recoverCmd := &cobra.Command{
		Use:   "recover",
		Short: "Resend every failed (and re-enabled disabled) delivery created since a time",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			var req webhooks.RecoverRequest
			req.MerchantID, _ = f.GetInt64("merchant")
			req.EndpointID, _ = f.GetString("endpoint")
			since, _ := f.GetString("since")
			if since == "" {
				return &exitError{code: 2, err: fmt.Errorf("--since is required")}
			}
			var err error
			if req.Since, err = parseSince(since); err != nil {
				return err
			}
			return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
				res, err := svc.Recover(ctx, req)
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), res)
				}
				return printRecover(cmd.OutOrStdout(), res)
			})
		},
	}
	recoverCmd.Long = "Resend, once each, every delivery created since a time whose retries ran out (failed), and every one\n" +
		"recorded while its endpoint was disabled (disabled) if the endpoint is enabled again. The rest are skipped, with the reason."
	recoverCmd.Flags().String("since", "", "RFC 3339 time, or a duration such as 24h (required)")
	recoverCmd.Flags().Int64("merchant", 0, "only this merchant's deliveries")
	recoverCmd.Flags().String("endpoint", "", "only this endpoint's deliveries")
	addJSONFlag(recoverCmd)

	cmd.AddCommand(list, show, resend, recoverCmd)
	return cmd
}

// printRecover says what recover scheduled, failed and disabled deliveries
// apart, and why any were skipped.
func printRecover(w io.Writer, res *webhooks.RecoverResult) error {
	_, err := fmt.Fprintf(w, "%s and %s scheduled for resend, %d skipped\n",
		count(res.ResentFailed, "failed delivery", "failed deliveries"),
		count(res.ResentDisabled, "disabled delivery", "disabled deliveries"), res.Skipped)
	for _, e := range res.Errors {
		if err == nil {
			_, err = fmt.Fprintf(w, "  skipped %s\n", e)
		}
	}
	if more := res.Skipped - len(res.Errors); more > 0 && err == nil {
		_, err = fmt.Fprintf(w, "  … and %d more\n", more)
	}
	return err
}

// count is n with the noun in the right number: "1 failed delivery",
// "2 failed deliveries", "0 failed deliveries".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
