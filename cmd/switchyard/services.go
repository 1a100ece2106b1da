package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/sdk/provisioner"
)

// withServices runs fn with the fulfillment service, the one the admin
// API's /admin/v1/services calls. launch starts the plugin instances first,
// for the commands that ask the panel synchronously (change-package checks
// the package against listpkgs, login-url makes the link); the others only
// store an action whose job a running server makes.
func withServices(cmd *cobra.Command, launch bool, fn func(ctx context.Context, svc *fulfillment.Service) error) error {
	return withApp(cmd, func(ctx context.Context, a *app.App) error {
		if launch {
			if err := a.Plugins.Start(ctx); err != nil {
				return fmt.Errorf("start plugins: %w", err)
			}
		}
		return fn(ctx, a.Fulfillment)
	})
}

func servicesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "services", Short: "Hosting services made by fulfillment: list, inspect, suspend, retry, log in"}

	list := &cobra.Command{Use: "list", Short: "List services, oldest first", Args: cobra.NoArgs, RunE: runServicesList}
	list.Flags().String("status", "", "pending, active, suspended, terminated or failed")
	list.Flags().Int64("merchant", 0, "only this merchant's services")
	list.Flags().String("session", "", "only this session's services")
	list.Flags().String("after", "", "only services after this id (paging)")
	list.Flags().Int("limit", fulfillment.DefaultListLimit, fmt.Sprintf("at most this many (1-%d)", fulfillment.MaxListLimit))
	addJSONFlag(list)

	show := &cobra.Command{Use: "show ID", Short: "Show a service with its actions", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServices(cmd, false, func(ctx context.Context, svc *fulfillment.Service) error {
				d, err := svc.GetService(ctx, args[0])
				if err != nil {
					return err
				}
				return printServiceDetail(cmd, d)
			})
		}}
	addJSONFlag(show)

	ops := []struct {
		use, short string
		launch     bool
		fn         serviceOperation
	}{
		{"suspend ID", "Suspend a service (the reason is shown in the panel)", false, (*fulfillment.Service).Suspend},
		{"unsuspend ID", "Lift a suspension", false, (*fulfillment.Service).Unsuspend},
		{"terminate ID", "Remove the account at the panel (final)", false, (*fulfillment.Service).Terminate},
		{"change-package ID PACKAGE", "Move the account to another package (checked against the panel's listpkgs now)", true, (*fulfillment.Service).ChangePackage},
		{"retry ID", "Queue again the failed actions of a failed service, after fixing the cause", false, (*fulfillment.Service).Retry},
		{"resume ID", "Lift a pause (a dispute): the paused actions are queued again", false, (*fulfillment.Service).Resume},
	}
	for _, op := range ops {
		cmd.AddCommand(operateCmd(op.use, op.short, op.launch, op.fn))
	}

	login := &cobra.Command{Use: "login-url ID", Short: "Print a one-time panel login link (it is not stored or logged)", Args: cobra.ExactArgs(1),
		RunE: runServicesLoginURL}
	login.Flags().String("service", "", "panel (default) or webmail")
	addJSONFlag(login)

	cmd.AddCommand(list, show, login)
	return cmd
}

// serviceOperation is an operator action of the fulfillment service, the
// same method the admin API's POST /admin/v1/services/:id/<action> calls.
type serviceOperation func(*fulfillment.Service, context.Context, string, fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error)

// operateCmd is each command queueing an operator action: ID (and PACKAGE
// for change-package) in, the service with its actions out. A running
// server's job makes the panel call.
func operateCmd(use, short string, launch bool, fn serviceOperation) *cobra.Command {
	nargs := len(strings.Fields(use)) - 1
	c := &cobra.Command{Use: use, Short: short, Long: short + ".\nThe action is queued; `switchyard serve` (any instance) makes the panel call.",
		Args: cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := fulfillment.OperatorRequest{Operator: cliOperator()}
			in.Reason, _ = cmd.Flags().GetString("reason")
			if len(args) > 1 {
				in.Package = args[1]
			}
			return withServices(cmd, launch, func(ctx context.Context, svc *fulfillment.Service) error {
				d, err := fn(svc, ctx, args[0], in)
				if err != nil {
					return err
				}
				return printServiceDetail(cmd, d)
			})
		}}
	c.Flags().String("reason", "", "why (kept with the action; a suspension's reason is shown in the panel)")
	addJSONFlag(c)
	return c
}

func runServicesList(cmd *cobra.Command, _ []string) error {
	f := cmd.Flags()
	var in fulfillment.ServiceListRequest
	in.Status, _ = f.GetString("status")
	in.MerchantID, _ = f.GetInt64("merchant")
	in.SessionID, _ = f.GetString("session")
	in.After, _ = f.GetString("after")
	in.Limit, _ = f.GetInt("limit")
	return withServices(cmd, false, func(ctx context.Context, svc *fulfillment.Service) error {
		ss, err := svc.ListServices(ctx, in)
		if err != nil {
			return err
		}
		if wantJSON(cmd) {
			return printJSON(cmd.OutOrStdout(), ss)
		}
		rows := make([][]string, 0, len(ss))
		for _, s := range ss {
			status := string(s.Status)
			if s.Paused {
				status += " (paused)"
			}
			rows = append(rows, []string{s.ID, status, s.Domain, s.Username, s.Package, fmt.Sprint(s.MerchantID), s.SessionID, deref(s.LastError)})
		}
		return printTable(cmd.OutOrStdout(), []string{"ID", "STATUS", "DOMAIN", "USERNAME", "PACKAGE", "MERCHANT", "SESSION", "LAST ERROR"}, rows)
	})
}

// runServicesLoginURL prints the link once, to stdout only: it is a
// credential, never logged.
func runServicesLoginURL(cmd *cobra.Command, args []string) error {
	service, _ := cmd.Flags().GetString("service")
	if service != "" && service != provisioner.LoginServicePanel && service != provisioner.LoginServiceWebmail {
		return &exitError{code: 2, err: fmt.Errorf("--service must be %s or %s, got %q", provisioner.LoginServicePanel, provisioner.LoginServiceWebmail, service)}
	}
	return withServices(cmd, true, func(ctx context.Context, svc *fulfillment.Service) error {
		u, err := svc.LoginURL(ctx, args[0], service)
		if err != nil {
			return err
		}
		if wantJSON(cmd) {
			out := struct {
				URL       string  `json:"url"`
				ExpiresAt *string `json:"expires_at"`
			}{URL: u.URL}
			if !u.ExpiresAt.IsZero() {
				t := u.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")
				out.ExpiresAt = &t
			}
			return printJSON(cmd.OutOrStdout(), out)
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), u.URL)
		return err
	})
}

func printServiceDetail(cmd *cobra.Command, d *fulfillment.ServiceDetail) error {
	if wantJSON(cmd) {
		return printJSON(cmd.OutOrStdout(), d)
	}
	w := cmd.OutOrStdout()
	printService(w, d.ServiceView)
	if len(d.Actions) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(d.Actions))
	for _, a := range d.Actions {
		rows = append(rows, []string{a.ID, string(a.Action), string(a.Status), a.Source, fmt.Sprint(a.Attempts), a.Reason, deref(a.LastError), a.CreatedAt})
	}
	return printTable(w, []string{"ACTION ID", "ACTION", "STATUS", "SOURCE", "ATTEMPTS", "REASON", "LAST ERROR", "CREATED"}, rows)
}

func printService(w io.Writer, s *fulfillment.ServiceView) {
	fmt.Fprintf(w, "service      %s (%s)\n", s.ID, s.Status)
	if s.Paused {
		fmt.Fprintf(w, "paused       %s\n", deref(s.PauseReason))
	}
	if s.LastError != nil {
		fmt.Fprintf(w, "last error   %s\n", *s.LastError)
	}
	if s.SuspendReason != nil {
		fmt.Fprintf(w, "suspended    %s (%s)\n", *s.SuspendReason, deref(s.SuspendedAt))
	}
	fmt.Fprintf(w, "merchant     %d (%s)\nsession      %s (item %s)\nclient       %s\n", s.MerchantID, s.Mode, s.SessionID, s.ItemID, deref(s.ClientID))
	fmt.Fprintf(w, "product      %s (%s)\naccount      %s on %s, package %s, domain %s\n", s.SKU, s.Kind, s.Username, s.Provisioner, s.Package, s.Domain)
	ns := "-"
	if len(s.Nameservers) > 0 {
		ns = strings.Join(s.Nameservers, ", ")
	}
	fmt.Fprintf(w, "server       %s (ip %s, nameservers %s)\n", deref(s.Server), deref(s.IP), ns)
	fmt.Fprintf(w, "created      %s\nactivated    %s\nterminated   %s\n", s.CreatedAt, deref(s.ActivatedAt), deref(s.TerminatedAt))
}
