package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
)

// parseSince accepts an RFC 3339 time or a duration back from now ("24h").
func parseSince(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, &exitError{code: 2, err: fmt.Errorf("--since %q is neither an RFC 3339 time nor a duration such as 24h", v)}
	}
	return t, nil
}

func eventsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "Inspect outbound webhook events"}

	list := &cobra.Command{
		Use:   "list",
		Short: "List events, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			var ef store.EventFilter
			ef.MerchantID, _ = f.GetInt64("merchant")
			ef.Type, _ = f.GetString("type")
			ef.SessionID, _ = f.GetString("session")
			ef.Limit, _ = f.GetInt("limit")
			since, _ := f.GetString("since")
			var err error
			if ef.Since, err = parseSince(since); err != nil {
				return err
			}
			return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
				evs, err := svc.ListEvents(ctx, ef)
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), evs)
				}
				rows := make([][]string, 0, len(evs))
				for _, e := range evs {
					rows = append(rows, []string{e.ID, e.Event, fmt.Sprint(e.TenantID), e.SessionID, fmt.Sprint(e.Sequence), e.CreatedAt.Format(time.RFC3339)})
				}
				return printTable(cmd.OutOrStdout(), []string{"ID", "EVENT", "MERCHANT", "SESSION", "SEQ", "CREATED"}, rows)
			})
		},
	}
	list.Flags().Int64("merchant", 0, "only this merchant's events")
	list.Flags().String("type", "", "only this event type")
	list.Flags().String("session", "", "only this session's events")
	list.Flags().String("since", "", "only events created since (RFC 3339, or a duration such as 24h)")
	list.Flags().Int("limit", webhooks.DefaultListLimit, "at most this many")
	addJSONFlag(list)

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show an event with its deliveries and every attempt",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withWebhooks(cmd, func(ctx context.Context, svc *webhooks.Service) error {
				ev, err := svc.GetEvent(ctx, args[0])
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), ev)
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "%s  %s  merchant %d  session %s  seq %d  %s\n%s\n",
					ev.ID, ev.Event.Event, ev.TenantID, ev.SessionID, ev.Sequence, ev.CreatedAt.Format(time.RFC3339), ev.Data)
				for _, d := range ev.Deliveries {
					printDelivery(cmd, d)
				}
				return nil
			})
		},
	}
	addJSONFlag(show)
	cmd.AddCommand(list, show)
	return cmd
}

// printDelivery writes a delivery and its attempt log for humans.
func printDelivery(cmd *cobra.Command, d *webhooks.Delivery) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "\ndelivery %s → %s\n  status %s after %s", d.ID, d.URL, d.Status, count(d.Attempts, "attempt", "attempts"))
	if d.NextAttemptAt != nil {
		fmt.Fprintf(w, ", next at %s", d.NextAttemptAt.Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	for _, a := range d.AttemptLog {
		code := "-"
		if a.StatusCode != nil {
			code = fmt.Sprint(*a.StatusCode)
		}
		at := "scheduled " + a.ScheduledAt.Format(time.RFC3339)
		if a.AttemptedAt != nil {
			at = a.AttemptedAt.Format(time.RFC3339)
		}
		var latency string
		if a.LatencyMS != nil {
			latency = fmt.Sprintf(" %dms", *a.LatencyMS)
		}
		fmt.Fprintf(w, "  #%d %-7s %-9s %s  %s%s %s\n", a.N, a.Cause, a.State, at, code, latency, a.Error)
		if body := strings.TrimSpace(a.ResponseBody); body != "" {
			fmt.Fprintf(w, "     %s\n", truncate(body, 200))
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
