package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/domains"
)

// withDomains runs fn with the domains service. launch starts the plugin
// instances first, for commands that ask the registrar synchronously
// (check, auth-code, records); the others only store an operation that a
// running server's job makes.
func withDomains(cmd *cobra.Command, launch bool, fn func(ctx context.Context, svc *domains.Service) error) error {
	return withApp(cmd, func(ctx context.Context, a *app.App) error {
		if launch {
			if err := a.Plugins.Start(ctx); err != nil {
				return fmt.Errorf("start plugins: %w", err)
			}
		}
		return fn(ctx, a.Domains)
	})
}

// printOp prints an accepted operation.
func printOp(cmd *cobra.Command, op *domains.OperationView) error {
	if wantJSON(cmd) {
		return printJSON(cmd.OutOrStdout(), op)
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "operation %s (%s): %s — a running server makes the registrar call\n", op.OperationID, op.Type, op.Status)
	return err
}

func domainsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "domains", Short: "Domains bought through session items: list, inspect, renew, lock, DNS"}

	list := &cobra.Command{Use: "list", Short: "List domains", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var p domains.ListParams
			p.MerchantID, _ = cmd.Flags().GetInt64("merchant")
			p.Status, _ = cmd.Flags().GetString("status")
			p.Limit, _ = cmd.Flags().GetInt("limit")
			return withDomains(cmd, false, func(ctx context.Context, svc *domains.Service) error {
				ds, err := svc.List(ctx, p)
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), ds)
				}
				rows := make([][]string, 0, len(ds))
				for _, d := range ds {
					exp := "-"
					if d.ExpiresAt != nil {
						exp = *d.ExpiresAt
					}
					rows = append(rows, []string{d.DomainID, d.Domain, d.Status, fmt.Sprint(d.MerchantID), exp})
				}
				return printTable(cmd.OutOrStdout(), []string{"ID", "DOMAIN", "STATUS", "MERCHANT", "EXPIRES"}, rows)
			})
		}}
	list.Flags().Int64("merchant", 0, "only this merchant's domains")
	list.Flags().String("status", "", "pending, active, failed, expired or attention")
	list.Flags().Int("limit", domains.DefaultListLimit, "at most this many")
	addJSONFlag(list)

	show := &cobra.Command{Use: "show DOMAIN", Short: "Show a domain (dom_… or its name) with its operations", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDomains(cmd, false, func(ctx context.Context, svc *domains.Service) error {
				d, err := svc.Show(ctx, args[0])
				if err != nil {
					return err
				}
				return printJSON(cmd.OutOrStdout(), d)
			})
		}}

	check := &cobra.Command{Use: "check DOMAIN...", Short: "Ask the registrar whether names can be registered", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, _ := cmd.Flags().GetString("registrar")
			return withDomains(cmd, true, func(ctx context.Context, svc *domains.Service) error {
				av, err := svc.Check(ctx, reg, args)
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), av)
				}
				rows := make([][]string, 0, len(av))
				for _, a := range av {
					rows = append(rows, []string{a.Domain, fmt.Sprint(a.Available), a.Reason})
				}
				return printTable(cmd.OutOrStdout(), []string{"DOMAIN", "AVAILABLE", "REASON"}, rows)
			})
		}}
	check.Flags().String("registrar", "route53", "registrar plugin instance id")
	addJSONFlag(check)

	renew := &cobra.Command{Use: "renew DOMAIN", Short: "Renew a domain (once per current expiry)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			years, _ := cmd.Flags().GetInt("years")
			return withDomains(cmd, false, func(ctx context.Context, svc *domains.Service) error {
				op, err := svc.Renew(ctx, args[0], years, "cli")
				if err != nil {
					return err
				}
				return printOp(cmd, op)
			})
		}}
	renew.Flags().Int("years", 1, "1-10")
	addJSONFlag(renew)

	lock := &cobra.Command{Use: "transfer-lock DOMAIN on|off", Short: "Turn the registrar transfer lock on or off", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[1] != "on" && args[1] != "off" {
				return &exitError{code: 2, err: fmt.Errorf("transfer-lock takes on or off, got %q", args[1])}
			}
			return withDomains(cmd, false, func(ctx context.Context, svc *domains.Service) error {
				op, err := svc.SetLock(ctx, args[0], args[1] == "on", "cli")
				if err != nil {
					return err
				}
				return printOp(cmd, op)
			})
		}}
	addJSONFlag(lock)

	auth := &cobra.Command{Use: "auth-code DOMAIN", Short: "Print the domain's transfer (EPP) code once; it is not stored or logged", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDomains(cmd, true, func(ctx context.Context, svc *domains.Service) error {
				code, err := svc.AuthCode(ctx, args[0])
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), code)
				return err
			})
		}}

	ns := &cobra.Command{Use: "nameservers DOMAIN NS1 NS2 [NS…]", Short: "Delegate a domain to nameservers", Args: cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDomains(cmd, false, func(ctx context.Context, svc *domains.Service) error {
				op, err := svc.SetNameservers(ctx, args[0], args[1:], "cli")
				if err != nil {
					return err
				}
				return printOp(cmd, op)
			})
		}}
	addJSONFlag(ns)

	records := &cobra.Command{Use: "records DOMAIN", Short: "List the domain's DNS records, or set the mail records with --mail-dns", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mailDNS, _ := cmd.Flags().GetBool("mail-dns")
			dkim, _ := cmd.Flags().GetString("dkim")
			return withDomains(cmd, !mailDNS, func(ctx context.Context, svc *domains.Service) error {
				if mailDNS {
					op, err := svc.MailRecords(ctx, args[0], dkim, "cli")
					if err != nil {
						return err
					}
					return printOp(cmd, op)
				}
				recs, err := svc.Records(ctx, args[0])
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), domains.RecordViews(recs))
				}
				rows := make([][]string, 0, len(recs))
				for _, r := range recs {
					rows = append(rows, []string{r.Name, r.Type, fmt.Sprint(r.TTL), fmt.Sprint(r.Values)})
				}
				return printTable(cmd.OutOrStdout(), []string{"NAME", "TYPE", "TTL", "VALUES"}, rows)
			})
		}}
	records.Flags().Bool("mail-dns", false, "upsert SPF (merged), DKIM and DMARC")
	records.Flags().String("dkim", "", "with --mail-dns: the DKIM value to set")
	addJSONFlag(records)

	cmd.AddCommand(list, show, check, renew, lock, auth, ns, records)
	return cmd
}
