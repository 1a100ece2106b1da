package main

import (
	"context"
	"fmt"
	"os"
	"os/user"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/payments"
)

func reviewsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reviews",
		Short: "List and resolve money held or flagged for an operator (amount mismatches, refunds beyond what was paid)",
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List reviews, oldest first (default: the queue, open and refund_pending)",
		Args:  cobra.NoArgs,
		RunE:  runReviewsList,
	}
	list.Flags().String("status", "pending", "pending (open and refund_pending), open, refund_pending, resolved or all")
	list.Flags().Int64("merchant", 0, "only this merchant's reviews")
	list.Flags().String("after", "", "only reviews after this id (paging)")
	list.Flags().Int("limit", 100, "at most this many")
	addJSONFlag(list)

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a review",
		Args:  cobra.ExactArgs(1),
		RunE:  runReviewsShow,
	}
	addJSONFlag(show)

	resolve := &cobra.Command{
		Use:   "resolve ID (--accept | --refund) [--note TEXT]",
		Short: "Accept the money as it is, or decide it goes back to the shopper",
		Long: `Resolve an open review.

--accept   a session held in requires_review becomes paid (session.paid is sent);
           a flag on a paid session (more money than asked, a refund or dispute
           beyond what was paid) is acknowledged.
--refund   the money received (all of it for a held session, the excess for an
           overpaid one) is to go back. The decision and amount are recorded
           (refund_pending); make the refund in the provider's dashboard until
           Switchyard's refunds service does it. The provider's refund event
           closes the review.`,
		Args: cobra.ExactArgs(1),
		RunE: runReviewsResolve,
	}
	resolve.Flags().Bool("accept", false, "accept the money received")
	resolve.Flags().Bool("refund", false, "send the money back")
	resolve.Flags().String("note", "", "why (kept with the decision)")
	resolve.MarkFlagsMutuallyExclusive("accept", "refund")
	resolve.MarkFlagsOneRequired("accept", "refund")
	addJSONFlag(resolve)

	cmd.AddCommand(list, show, resolve)
	return cmd
}

func withPayments(cmd *cobra.Command, fn func(ctx context.Context, svc *payments.Service) error) error {
	return withApp(cmd, func(ctx context.Context, a *app.App) error {
		return fn(ctx, a.Payments)
	})
}

func runReviewsList(cmd *cobra.Command, _ []string) error {
	f := cmd.Flags()
	var in payments.ReviewListRequest
	in.Status, _ = f.GetString("status")
	in.MerchantID, _ = f.GetInt64("merchant")
	in.After, _ = f.GetString("after")
	in.Limit, _ = f.GetInt("limit")
	return withPayments(cmd, func(ctx context.Context, svc *payments.Service) error {
		rvs, err := svc.ListReviews(ctx, in)
		if err != nil {
			return err
		}
		if wantJSON(cmd) {
			return printJSON(cmd.OutOrStdout(), rvs)
		}
		rows := make([][]string, 0, len(rvs))
		for _, rv := range rvs {
			rows = append(rows, []string{rv.ID, rv.SessionID, string(rv.Reason), string(rv.Status),
				rv.ExpectedAmount + " " + rv.ExpectedCurrency, rv.ReceivedAmount + " " + rv.ReceivedCurrency, rv.CreatedAt})
		}
		return printTable(cmd.OutOrStdout(), []string{"ID", "SESSION", "REASON", "STATUS", "EXPECTED", "REPORTED", "CREATED"}, rows)
	})
}

func runReviewsShow(cmd *cobra.Command, args []string) error {
	return withPayments(cmd, func(ctx context.Context, svc *payments.Service) error {
		rv, err := svc.GetReview(ctx, args[0])
		if err != nil {
			return err
		}
		return printReview(cmd, rv)
	})
}

func runReviewsResolve(cmd *cobra.Command, args []string) error {
	f := cmd.Flags()
	action := "accept"
	if refund, _ := f.GetBool("refund"); refund {
		action = "refund"
	}
	note, _ := f.GetString("note")
	return withPayments(cmd, func(ctx context.Context, svc *payments.Service) error {
		rv, err := svc.ResolveReview(ctx, args[0], payments.ResolveReviewRequest{Action: action, Note: note, Operator: cliOperator()})
		if err != nil {
			return err
		}
		return printReview(cmd, rv)
	})
}

// cliOperator attributes a CLI decision to the local user.
func cliOperator() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	if name := os.Getenv("USER"); name != "" {
		return "cli:" + name
	}
	return "cli"
}

func printReview(cmd *cobra.Command, rv *payments.ReviewView) error {
	if wantJSON(cmd) {
		return printJSON(cmd.OutOrStdout(), rv)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "review    %s (%s)\n", rv.ID, rv.Status)
	fmt.Fprintf(w, "session   %s (merchant %d, %s)\n", rv.SessionID, rv.MerchantID, rv.Mode)
	fmt.Fprintf(w, "reason    %s: %s\n", rv.Reason, rv.Detail)
	fmt.Fprintf(w, "expected  %s %s\n", rv.ExpectedAmount, rv.ExpectedCurrency)
	fmt.Fprintf(w, "reported  %s %s (%s from %s, event %s)\n", rv.ReceivedAmount, rv.ReceivedCurrency, rv.Event, rv.ProviderID, rv.ProviderEventID)
	fmt.Fprintf(w, "created   %s\n", rv.CreatedAt)
	if rv.Resolution != nil {
		fmt.Fprintf(w, "decision  %s by %s at %s\n", *rv.Resolution, deref(rv.ResolvedBy), deref(rv.ResolvedAt))
	}
	if rv.RefundAmount != nil {
		fmt.Fprintf(w, "refund    %s %s\n", *rv.RefundAmount, deref(rv.RefundCurrency))
	}
	if rv.Note != nil {
		fmt.Fprintf(w, "note      %s\n", *rv.Note)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}
