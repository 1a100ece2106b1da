package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/mail"
)

// merchantMailCmd is `merchants mail show|set ID`: receipts, mailer, From
// and Reply-To of the mail sent to a merchant's customers.
func merchantMailCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "mail", Short: "Show or change a merchant's customer mail settings (receipts, mailer, From)"}
	show := merchantCmd("show", "Show a merchant's mail settings", func(ctx context.Context, cmd *cobra.Command, a *app.App, id int64) error {
		s, err := a.Mail.Settings(ctx, id)
		if err != nil {
			return err
		}
		return printMailSettings(cmd, s)
	})
	set := &cobra.Command{
		Use:   "set ID",
		Short: "Change a merchant's mail settings (only the flags given)",
		Example: `  switchyard merchants mail set 42 --receipts=true --mailer smtp --from "Acme Billing <billing@acme.example>"
  switchyard merchants mail set 42 --receipts=false`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0], "merchant")
			if err != nil {
				return err
			}
			var in mail.SettingsUpdate
			f := cmd.Flags()
			if f.Changed("receipts") {
				v, _ := f.GetBool("receipts")
				in.ReceiptsEnabled = &v
			}
			for flag, dst := range map[string]**string{"mailer": &in.Mailer, "from": &in.From, "reply-to": &in.ReplyTo} {
				if f.Changed(flag) {
					v, _ := f.GetString(flag)
					*dst = &v
				}
			}
			if in == (mail.SettingsUpdate{}) {
				return fmt.Errorf("nothing to change: give --receipts, --mailer, --from or --reply-to")
			}
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				s, err := a.Mail.UpdateSettings(ctx, id, in)
				if err != nil {
					return err
				}
				return printMailSettings(cmd, s)
			})
		},
	}
	set.Flags().Bool("receipts", false, "send payment and refund receipts to customers (--receipts=false turns them off)")
	set.Flags().String("mailer", "", "mailer plugin instance id (empty: mail.mailer)")
	set.Flags().String("from", "", `sender mailbox, e.g. "Acme Billing <billing@acme.example>" (empty: mail.from, else the plugin's)`)
	set.Flags().String("reply-to", "", "Reply-To mailbox (empty: none)")
	addJSONFlag(set)
	cmd.AddCommand(show, set)
	return cmd
}

func printMailSettings(cmd *cobra.Command, s *mail.Settings) error {
	if wantJSON(cmd) {
		return printJSON(cmd.OutOrStdout(), s)
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "merchant %d mail\n  receipts: %t\n  mailer:   %s\n  from:     %s\n  reply-to: %s\n",
		s.MerchantID, s.ReceiptsEnabled, orDefault(s.Mailer, s.EffectiveMailer, "mail.mailer"),
		orDefault(s.From, s.EffectiveFrom, "mail.from"), orNone(s.ReplyTo))
	return err
}

// orDefault shows a merchant's own value, or the default that applies
// instead and where it comes from.
func orDefault(own, effective, key string) string {
	switch {
	case own != "":
		return own
	case effective != "":
		return effective + " (" + key + ")"
	}
	return "(none)"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// merchantTemplatesCmd is `merchants templates list|show|set|reset|preview`:
// a merchant's overrides of the mail templates.
func merchantTemplatesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "templates", Short: "Override a merchant's mail templates (" + strings.Join(templateNames(), ", ") + ")"}
	list := merchantCmd("list", "List the mail templates and which parts the merchant overrides",
		func(ctx context.Context, cmd *cobra.Command, a *app.App, id int64) error {
			ts, err := a.Mail.ListTemplates(ctx, id)
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), ts)
			}
			rows := make([][]string, 0, len(ts))
			for _, t := range ts {
				rows = append(rows, []string{string(t.Name), orNone(strings.Join(t.Overridden, ",")), t.Description})
			}
			return printTable(cmd.OutOrStdout(), []string{"TEMPLATE", "OVERRIDDEN", "SENT"}, rows)
		})
	cmd.AddCommand(list, templateShowCmd(), templateSetCmd(), templateResetCmd(), templatePreviewCmd())
	return cmd
}

func templateNames() []string {
	var out []string
	for _, n := range mail.Names() {
		out = append(out, string(n))
	}
	return out
}

func templateArgs(args []string) (int64, mail.Name, error) {
	id, err := parseID(args[0], "merchant")
	return id, mail.Name(args[1]), err
}

func templateShowCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "show ID TEMPLATE",
		Short: "Show the template that applies to the merchant, with its variables",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, name, err := templateArgs(args)
			if err != nil {
				return err
			}
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				v, err := a.Mail.Template(ctx, id, name)
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), v)
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "template %s (merchant %d; overridden: %s)\n%s\n\n", v.Name, id, orNone(strings.Join(v.Overridden, ",")), v.Description)
				fmt.Fprintf(w, "--- subject\n%s\n--- text\n%s\n--- html\n%s\n--- variables\n", strings.TrimSpace(v.Subject), v.Text, v.HTML)
				for _, vr := range v.Variables {
					fmt.Fprintf(w, "  {{%s}}  %s: %s\n", vr.Name, vr.Type, vr.Description)
				}
				return nil
			})
		},
	}
	addJSONFlag(c)
	return c
}

func templateSetCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "set ID TEMPLATE",
		Short: "Override parts of a template for the merchant (checked against sample data first; parts not given are the built-in ones)",
		Example: `  switchyard merchants templates set 42 payment_receipt --subject "Danke! {{.Amount}} {{.Currency}}" \
    --text-file receipt.txt --html-file receipt.html`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, name, err := templateArgs(args)
			if err != nil {
				return err
			}
			var src mail.Source
			src.Subject, _ = cmd.Flags().GetString("subject")
			for flag, dst := range map[string]*string{"text-file": &src.Text, "html-file": &src.HTML} {
				path, _ := cmd.Flags().GetString(flag)
				if path == "" {
					continue
				}
				b, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("--%s: %w", flag, err)
				}
				*dst = string(b)
			}
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				v, err := a.Mail.PutTemplate(ctx, id, name, src)
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), v)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "template %s of merchant %d overridden: %s\n", v.Name, id, strings.Join(v.Overridden, ","))
				return err
			})
		},
	}
	c.Flags().String("subject", "", "subject template (text/template)")
	c.Flags().String("text-file", "", "file with the text body template (text/template)")
	c.Flags().String("html-file", "", "file with the HTML body template (html/template)")
	addJSONFlag(c)
	return c
}

func templateResetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reset ID TEMPLATE",
		Short: "Remove the merchant's override: the built-in template applies again",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, name, err := templateArgs(args)
			if err != nil {
				return err
			}
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				if err := a.Mail.DeleteTemplate(ctx, id, name); err != nil {
					return err
				}
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "template %s of merchant %d: built-in\n", name, id)
				return err
			})
		},
	}
}

func templatePreviewCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "preview ID TEMPLATE",
		Short: "Render the template that applies to the merchant on sample data",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, name, err := templateArgs(args)
			if err != nil {
				return err
			}
			return withApp(cmd, func(ctx context.Context, a *app.App) error {
				m, err := a.Mail.Preview(ctx, id, name, mail.Source{})
				if err != nil {
					return err
				}
				if wantJSON(cmd) {
					return printJSON(cmd.OutOrStdout(), m)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "Subject: %s\n\n%s\n--- html\n%s", m.Subject, m.Text, m.HTML)
				return err
			})
		},
	}
	addJSONFlag(c)
	return c
}
