package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/refunds"
)

func withRefunds(cmd *cobra.Command, fn func(ctx context.Context, svc *refunds.Service) error) error {
	return withApp(cmd, func(ctx context.Context, a *app.App) error {
		return fn(ctx, a.Refunds)
	})
}

func refundsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "refunds", Short: "Refund sessions and inspect refunds (as an operator)"}

	create := &cobra.Command{
		Use:   "create SESSION_ID",
		Short: "Refund all or part of a paid session (a running server makes the provider call)",
		Long: "Creates the refund as the merchant API does, with the operator as its source: the refund and the job\n" +
			"that calls the provider are stored together; `switchyard serve` (any instance) runs the job.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			var req refunds.CreateRequest
			if amount, _ := f.GetString("amount"); amount != "" {
				b, _ := json.Marshal(amount)
				req.Amount = b
			}
			req.Reason, _ = f.GetString("reason")
			pairs, _ := f.GetStringArray("metadata")
			for _, kv := range pairs {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return &exitError{code: 2, err: fmt.Errorf("--metadata %q is not KEY=VALUE", kv)}
				}
				if req.Metadata == nil {
					req.Metadata = map[string]string{}
				}
				req.Metadata[k] = v
			}
			key, _ := f.GetString("idempotency-key")
			return withRefunds(cmd, func(ctx context.Context, svc *refunds.Service) error {
				resp, err := svc.Create(ctx, refunds.Operator(), args[0], &req, key)
				if err != nil {
					return err
				}
				var v refunds.RefundView
				if err := json.Unmarshal(resp.Body, &v); err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), v)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "refund %s of %s %s on session %s: %s\n", v.RefundID, v.Amount, v.Currency, v.SessionID, v.Status)
				return err
			})
		},
	}
	create.Flags().String("amount", "", "decimal amount in the session's currency (default: everything left)")
	create.Flags().String("reason", "", "requested_by_customer (default), duplicate, fraudulent or other")
	create.Flags().StringArray("metadata", nil, "KEY=VALUE (repeatable)")
	create.Flags().String("idempotency-key", "", "make the command safe to repeat")
	addJSONFlag(create)

	list := &cobra.Command{
		Use:   "list",
		Short: "List refunds, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			var p refunds.ListParams
			p.MerchantID, _ = f.GetInt64("merchant")
			status, _ := f.GetString("status")
			p.Status = domain.RefundStatus(status)
			p.StartingAfter, _ = f.GetString("starting-after")
			p.Limit, _ = f.GetInt("limit")
			session, _ := f.GetString("session")
			return withRefunds(cmd, func(ctx context.Context, svc *refunds.Service) error {
				var (
					v   *refunds.ListView
					err error
				)
				if session != "" {
					v, err = svc.ListSession(ctx, refunds.Operator(), session, p)
				} else {
					v, err = svc.List(ctx, p)
				}
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), v)
				}
				rows := make([][]string, 0, len(v.Data))
				for _, r := range v.Data {
					rows = append(rows, []string{r.RefundID, r.SessionID, r.Amount + " " + r.Currency, string(r.Status),
						string(r.Source), string(r.Reason), r.CreatedAt})
				}
				if err := printTable(cmd.OutOrStdout(), []string{"ID", "SESSION", "AMOUNT", "STATUS", "SOURCE", "REASON", "CREATED"}, rows); err != nil {
					return err
				}
				if v.HasMore {
					_, err = fmt.Fprintf(cmd.OutOrStdout(), "more: --starting-after %s\n", v.Data[len(v.Data)-1].RefundID)
				}
				return err
			})
		},
	}
	list.Flags().Int64("merchant", 0, "only this merchant's refunds")
	list.Flags().String("session", "", "only this session's refunds")
	list.Flags().String("status", "", "pending, succeeded or failed")
	list.Flags().String("starting-after", "", "the last refund id of the previous page")
	list.Flags().Int("limit", refunds.DefaultListLimit, fmt.Sprintf("at most this many (1-%d)", refunds.MaxListLimit))
	addJSONFlag(list)

	show := &cobra.Command{
		Use:   "show REFUND_ID",
		Short: "Show one refund",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRefunds(cmd, func(ctx context.Context, svc *refunds.Service) error {
				v, err := svc.Get(ctx, refunds.Operator(), args[0])
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), v)
				}
				printRefund(cmd.OutOrStdout(), v)
				return nil
			})
		},
	}
	addJSONFlag(show)

	cmd.AddCommand(create, list, show)
	return cmd
}

func printRefund(w io.Writer, v *refunds.RefundView) {
	opt := func(s *string) string {
		if s == nil {
			return "-"
		}
		return *s
	}
	fmt.Fprintf(w, "refund     %s\nsession    %s\nstatus     %s\namount     %s %s\nreason     %s\nsource     %s\nprovider   %s\n",
		v.RefundID, v.SessionID, v.Status, v.Amount, v.Currency, v.Reason, v.Source, opt(v.ProviderReference))
	if v.FailureMessage != nil {
		fmt.Fprintf(w, "failure    %s: %s\n", opt(v.FailureCode), *v.FailureMessage)
	}
	fmt.Fprintf(w, "created    %s\nsettled    %s\nmetadata   %s\n", v.CreatedAt, opt(v.SettledAt), v.Metadata)
}
