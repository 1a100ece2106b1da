package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/webhooks"
)

// withWebhookCommands returns the CLI root with the webhook commands,
// whether or not main.go registers them yet.
func withWebhookCommands(root *cobra.Command) *cobra.Command {
	for _, c := range []*cobra.Command{endpointsCmd(), eventsCmd(), deliveriesCmd(), listenCmd()} {
		if found, _, err := root.Find([]string{c.Name()}); err != nil || found == root {
			root.AddCommand(c)
		}
	}
	return root
}

// whCLI runs the CLI, webhook commands included, with ctx.
func whCLI(ctx context.Context, t *testing.T, stdout io.Writer, args ...string) (string, int) {
	t.Helper()
	var errb bytes.Buffer
	root := withWebhookCommands(newRoot(stdout, &errb))
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		return errb.String() + err.Error(), 1
	}
	return errb.String(), 0
}

func TestEndpointsEventsDeliveriesCommands(t *testing.T) {
	ctx := context.Background()
	cfg := writeConfig(t, "webhooks:\n  allow_private_targets: true\n")
	if _, stderr, code := cli(t, "migrate", "--config", cfg); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	out, stderr, code := cli(t, "merchants", "create", "--config", cfg, "--name", "Shop", "--plan", "pro",
		"--domain", "shop.test", "--contact-email", "ops@shop.test", "--json")
	if code != 0 {
		t.Fatalf("merchant: %s", stderr)
	}
	var m struct{ ID int64 }
	_ = json.Unmarshal([]byte(out), &m)
	mid := strings.TrimSpace(itoaCLI(m.ID))

	run := func(args ...string) (string, string, int) {
		t.Helper()
		var buf bytes.Buffer
		stderr, code := whCLI(ctx, t, &buf, append(args, "--config", cfg)...)
		return buf.String(), stderr, code
	}
	out, stderr, code = run("endpoints", "add", "--merchant", mid, "--url", "http://127.0.0.1:9/hooks", "--event", "session.*", "--profile", "pgapp", "--json")
	if code != 0 {
		t.Fatalf("add: %s", stderr)
	}
	var ep struct{ ID, Secret, Profile string }
	_ = json.Unmarshal([]byte(out), &ep)
	if !strings.HasPrefix(ep.Secret, "whsec_") || ep.Profile != "pgapp" || !strings.HasPrefix(ep.ID, "ep_") {
		t.Fatalf("add output %s", out)
	}
	out, _, code = run("endpoints", "list", "--merchant", mid)
	if code != 0 || !strings.Contains(out, ep.ID) || !strings.Contains(out, "session.*") || strings.Contains(out, "whsec_") {
		t.Fatalf("list: %s", out)
	}
	out, _, code = run("endpoints", "rotate-secret", ep.ID, "--overlap", "1h")
	if code != 0 || !strings.Contains(out, "whsec_") || strings.Contains(out, ep.Secret) || !strings.Contains(out, "stays valid until") {
		t.Fatalf("rotate: %s", out)
	}
	out, _, code = run("endpoints", "disable", ep.ID, "--reason", "maintenance")
	if code != 0 || !strings.Contains(out, "disabled") {
		t.Fatalf("disable: %s", out)
	}
	out, _, code = run("endpoints", "show", ep.ID)
	if code != 0 || !strings.Contains(out, "state            disabled: maintenance") || !strings.Contains(out, "http://127.0.0.1:9/hooks") ||
		!strings.Contains(out, "session.*") || strings.Contains(out, "whsec_") {
		t.Fatalf("show: %s", out)
	}
	out, _, code = run("endpoints", "show", ep.ID, "--json")
	var shown struct {
		Enabled        bool   `json:"enabled"`
		DisabledReason string `json:"disabled_reason"`
	}
	if err := json.Unmarshal([]byte(out), &shown); code != 0 || err != nil || shown.Enabled || shown.DisabledReason != "maintenance" {
		t.Fatalf("show --json: %s", out)
	}
	if _, stderr, code := run("endpoints", "show", "ep_nope"); code == 0 || !strings.Contains(stderr, "no such") {
		t.Fatalf("show unknown: %d %s", code, stderr)
	}
	if out, _, code = run("events", "list", "--merchant", mid, "--json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("events: %q", out)
	}
	if out, _, code = run("deliveries", "list", "--status", "failed", "--since", "24h", "--json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("deliveries: %q", out)
	}
	if out, _, code = run("deliveries", "recover", "--since", "2026-01-01T00:00:00Z"); code != 0 ||
		out != "0 failed deliveries and 0 disabled deliveries scheduled for resend, 0 skipped\n" {
		t.Fatalf("recover: %q", out)
	}
	if _, stderr, code = run("deliveries", "resend", "whd_nope"); code == 0 || !strings.Contains(stderr, "no such delivery") {
		t.Fatalf("resend unknown: %d %s", code, stderr)
	}
	if _, stderr, code = run("deliveries", "recover"); code == 0 || !strings.Contains(stderr, "--since") {
		t.Fatalf("recover without since: %d %s", code, stderr)
	}
	if _, stderr, code = run("endpoints", "delete", ep.ID); code != 0 {
		t.Fatalf("delete: %s", stderr)
	}
	if out, _, _ = run("endpoints", "list", "--json"); strings.Contains(out, ep.ID) {
		t.Fatalf("deleted endpoint listed: %s", out)
	}

	strict := writeConfig(t, "webhooks:\n  allow_private_targets: false\n")
	if _, stderr, code := cli(t, "migrate", "--config", strict); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	var buf bytes.Buffer
	stderr, code = whCLI(ctx, t, &buf, "endpoints", "add", "--config", strict, "--merchant", "1", "--url", "http://localhost:8080/x")
	if code == 0 || !strings.Contains(stderr, "forbidden_url") {
		t.Fatalf("loopback accepted without allow_private_targets: %d %s", code, stderr)
	}
}

func itoaCLI(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestPrintRecover: recover's summary counts failed and disabled
// deliveries apart, in the right number, and says why any were skipped.
func TestPrintRecover(t *testing.T) {
	for _, tc := range []struct {
		res  webhooks.RecoverResult
		want string
	}{
		{webhooks.RecoverResult{}, "0 failed deliveries and 0 disabled deliveries scheduled for resend, 0 skipped\n"},
		{webhooks.RecoverResult{Resent: 1, ResentFailed: 1}, "1 failed delivery and 0 disabled deliveries scheduled for resend, 0 skipped\n"},
		{webhooks.RecoverResult{Resent: 3, ResentFailed: 2, ResentDisabled: 1}, "2 failed deliveries and 1 disabled delivery scheduled for resend, 0 skipped\n"},
		{webhooks.RecoverResult{Resent: 2, ResentDisabled: 2, Skipped: 1, Errors: []string{"whd_1: endpoint ep_1 is disabled: maintenance; enable it before resending"}},
			"0 failed deliveries and 2 disabled deliveries scheduled for resend, 1 skipped\n  skipped whd_1: endpoint ep_1 is disabled: maintenance; enable it before resending\n"},
		{webhooks.RecoverResult{Skipped: 22, Errors: make([]string, 20)}, "0 failed deliveries and 0 disabled deliveries scheduled for resend, 22 skipped\n" +
			strings.Repeat("  skipped \n", 20) + "  … and 2 more\n"},
	} {
		var buf bytes.Buffer
		if err := printRecover(&buf, &tc.res); err != nil || buf.String() != tc.want {
			t.Errorf("%+v:\n%q\nwant\n%q", tc.res, buf.String(), tc.want)
		}
	}
}
