package refunds_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/internal/servetest"
	"github.com/switchyard/switchyard/internal/testbin"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/plugins/stripe/stripefake"
	"github.com/switchyard/switchyard/plugins/stripe/stripeprovider"
)

// newServeEnv is the example configuration run by the real binaries, the
// sandbox keeping a ledger the test reads and the stripe plugin built too;
// extraInstances is inserted into plugins.instances.
func newServeEnv(t *testing.T, dsn, extraInstances string) *servetest.Env {
	t.Helper()
	return servetest.New(t, servetest.Options{DSN: dsn, Plugins: []string{"stripe"}, Instances: extraInstances, Ledger: true})
}

// merchantKey makes a merchant on plan and returns its key, whose
// default scopes must include refunds:write.
func merchantKey(t *testing.T, e *servetest.Env, plan string) string {
	t.Helper()
	m := e.NewMerchant(t, "Refunds", plan)
	if !strings.Contains(strings.Join(m.Scopes, " "), "refunds:write") {
		t.Fatalf("a new key's default scopes %v lack refunds:write", m.Scopes)
	}
	return m.Key
}

func createSession(t *testing.T, p *servetest.Proc, key, order string) string {
	t.Helper()
	var v struct {
		SessionID string `json:"session_id"`
	}
	if code, raw := servetest.Call(t, "POST", p.Public+"/v1/sessions", key, map[string]string{
		"domain": "shop.test", "amount": "49.95", "currency": "USD", "order_id": order,
	}, &v); code != http.StatusCreated {
		t.Fatalf("create session: %d %s", code, raw)
	}
	return v.SessionID
}

type refundJSON struct {
	RefundID          string  `json:"refund_id"`
	Status            string  `json:"status"`
	Amount            string  `json:"amount"`
	Source            string  `json:"source"`
	ProviderReference *string `json:"provider_reference"`
}

func waitRefund(t *testing.T, p *servetest.Proc, key, id, status string) refundJSON {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var v refundJSON
		servetest.Call(t, "GET", p.Public+"/v1/refunds/"+id, key, nil, &v)
		if v.Status == status {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("refund %s is %q, want %s", id, v.Status, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sessionRefunded(t *testing.T, p *servetest.Proc, key, id string) (string, string) {
	t.Helper()
	var s struct {
		Status         string `json:"status"`
		AmountRefunded string `json:"amount_refunded"`
	}
	servetest.Call(t, "GET", p.Public+"/v1/sessions/"+id, key, nil, &s)
	return s.Status, s.AmountRefunded
}

// TestServeRefundsWithTheSandbox is the whole flow with the real binaries:
// a shopper pays on the sandbox's page, the merchant refunds over HTTP and
// River's worker makes the provider call; a refund created with the CLI
// while no server runs (the process that committed it is gone before any
// provider call) is made by the next server; a refund whose first call
// failed is made once after the server is killed with SIGKILL and started
// again. The sandbox's ledger counts exactly one provider refund each.
func TestServeRefundsWithTheSandbox(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		e := newServeEnv(t, dsn, "")
		e.CLI(t, "migrate")
		key := merchantKey(t, e, "free")
		p := e.Serve(t)
		id := createSession(t, p, key, "E2E-1")
		servetest.PayWithSandbox(t, p, id)
		if st, _ := sessionRefunded(t, p, key, id); st != "paid" {
			t.Fatalf("session after paying: %s", st)
		}

		var a refundJSON
		if code, raw := servetest.Call(t, "POST", p.Public+"/v1/sessions/"+id+"/refunds", key, map[string]string{"amount": "10.00"}, &a); code != http.StatusCreated || a.Status != "pending" {
			t.Fatalf("refund over HTTP: %d %s", code, raw)
		}
		if got := waitRefund(t, p, key, a.RefundID, "succeeded"); got.ProviderReference == nil {
			t.Errorf("succeeded refund without the sandbox's reference: %+v", got)
		}

		// A refund whose first provider call meets an outage (7.77): the
		// server is killed while the retry waits, and the next one makes it.
		var o refundJSON
		if code, raw := servetest.Call(t, "POST", p.Public+"/gateway/refund.php?session_id="+id, key, map[string]string{"amount": "7.77"}, &o); code != http.StatusCreated {
			t.Fatalf("refund through the alias: %d %s", code, raw)
		}
		waitLedger(t, e.Ledger, sandbox.OpRefundUnavailable, 1)
		// River records the failed attempt asynchronously; killed before
		// that, the job would stay "running" until River rescues it (minutes
		// later, still exactly once). Wait for the retry to be scheduled.
		waitRetryScheduled(t, dsn)
		p.Kill9(t)

		// With no server running, an operator refunds with the CLI: the
		// refund and its job are committed and the CLI exits.
		var c refundJSON
		if err := json.Unmarshal(e.CLI(t, "refunds", "create", id, "--amount", "5.00", "--reason", "other", "--json"), &c); err != nil || c.Status != "pending" {
			t.Fatalf("refunds create: %+v %v", c, err)
		}
		if n := ledgerCount(t, e.Ledger, sandbox.OpRefund); n != 1 {
			t.Fatalf("the sandbox made %d refunds before the restart, want 1", n)
		}

		start := time.Now()
		p2 := e.Serve(t)
		waitRefund(t, p2, key, c.RefundID, "succeeded")
		t.Logf("CLI refund made %s after the restart", time.Since(start))
		waitRefund(t, p2, key, o.RefundID, "succeeded")
		t.Logf("retried refund made %s after the restart", time.Since(start))
		if n := ledgerCount(t, e.Ledger, sandbox.OpRefund); n != 3 {
			t.Errorf("the sandbox made %d refunds for three refunds, want 3", n)
		}
		if st, amt := sessionRefunded(t, p2, key, id); st != "partially_refunded" || amt != "22.77" {
			t.Errorf("session: %s, refunded %s; want partially_refunded, 22.77", st, amt)
		}

		var list struct {
			Data    []refundJSON
			HasMore bool `json:"has_more"`
		}
		if code, raw := servetest.Call(t, "GET", p2.Public+"/v1/sessions/"+id+"/refunds", key, nil, &list); code != 200 || len(list.Data) != 3 || list.HasMore {
			t.Errorf("session refunds: %d %s", code, raw)
		}
		var shown refundJSON
		if err := json.Unmarshal(e.CLI(t, "refunds", "show", c.RefundID, "--json"), &shown); err != nil || shown.Status != "succeeded" || shown.Source != "operator" {
			t.Errorf("refunds show: %+v %v", shown, err)
		}
		var admin struct{ Data []refundJSON }
		if code, raw := servetest.Call(t, "GET", p2.Admin+"/admin/v1/refunds?status=succeeded", servetest.AdminToken, nil, &admin); code != 200 || len(admin.Data) != 3 {
			t.Errorf("admin refunds: %d %s", code, raw)
		}
		// The rest, then nothing is left.
		var rest refundJSON
		servetest.Call(t, "POST", p2.Public+"/v1/sessions/"+id+"/refunds", key, nil, &rest)
		waitRefund(t, p2, key, rest.RefundID, "succeeded")
		if code, raw := servetest.Call(t, "POST", p2.Public+"/v1/sessions/"+id+"/refunds", key, map[string]string{}, nil); code != http.StatusConflict ||
			!strings.Contains(string(raw), "already_refunded") {
			t.Errorf("refund of a refunded session: %d %s", code, raw)
		}
		if st, amt := sessionRefunded(t, p2, key, id); st != "refunded" || amt != "49.95" {
			t.Errorf("session: %s, refunded %s; want refunded, 49.95", st, amt)
		}
		if n := ledgerCount(t, e.Ledger, sandbox.OpRefund); n != 4 {
			t.Errorf("the sandbox made %d refunds, want 4", n)
		}
		// This server made three of them: the operator's and two of the API.
		_, metrics := servetest.Call(t, "GET", p2.Admin+"/metrics", "", nil, nil)
		for _, want := range []string{
			`switchyard_refunds_total{otel_scope_name="switchyard/refunds",otel_scope_schema_url="",otel_scope_version="",outcome="succeeded",source="api"} 2`,
			`switchyard_refunds_total{otel_scope_name="switchyard/refunds",otel_scope_schema_url="",otel_scope_version="",outcome="succeeded",source="operator"} 1`,
		} {
			if !strings.Contains(string(metrics), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

// TestServeReviewRefund: an underpaid session goes to review; the
// operator resolves it with a refund over the admin API, and the running
// server's refunds service (wired into payments as its ReviewRefunder in
// core/app) makes exactly that provider refund.
func TestServeReviewRefund(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		e := newServeEnv(t, dsn, "")
		e.CLI(t, "migrate")
		key := merchantKey(t, e, "free")
		p := e.Serve(t)
		id := createSession(t, p, key, "E2E-R")
		// The shopper pays 10.00 of 49.95: the pay page's callback, signed
		// with the example configuration's sandbox secret for that amount.
		servetest.PayWithSandboxAmount(t, p, id, 1000, "USD")
		if st, _ := sessionRefunded(t, p, key, id); st != "requires_review" {
			t.Fatalf("underpaid session: %s, want requires_review", st)
		}

		var reviews struct {
			Data []struct{ ID string }
		}
		if code, raw := servetest.Call(t, "GET", p.Admin+"/admin/v1/reviews?status=open", servetest.AdminToken, nil, &reviews); code != 200 || len(reviews.Data) != 1 {
			t.Fatalf("open reviews: %d %s", code, raw)
		}
		if code, raw := servetest.Call(t, "POST", p.Admin+"/admin/v1/reviews/"+reviews.Data[0].ID+"/resolve", servetest.AdminToken,
			map[string]string{"action": "refund", "note": "send it back"}, nil); code != 200 {
			t.Fatalf("resolve with a refund: %d %s", code, raw)
		}
		var list struct{ Data []refundJSON }
		if code, raw := servetest.Call(t, "GET", p.Public+"/v1/sessions/"+id+"/refunds", key, nil, &list); code != 200 || len(list.Data) != 1 {
			t.Fatalf("refunds after the decision: %d %s", code, raw)
		}
		rf := waitRefund(t, p, key, list.Data[0].RefundID, "succeeded")
		if rf.Amount != "10.00" || rf.Source != "operator" {
			t.Errorf("review refund: %+v, want 10.00 from the operator", rf)
		}
		if n := ledgerCount(t, e.Ledger, sandbox.OpRefund); n != 1 {
			t.Errorf("the sandbox made %d refunds, want 1", n)
		}
		deadline := time.Now().Add(90 * time.Second)
		for {
			st, amt := sessionRefunded(t, p, key, id)
			if amt == "10.00" {
				t.Logf("session after the review refund: %s", st)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("session after the review refund: %s, refunded %s; want 10.00 refunded", st, amt)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// TestServeREADMERefundCurl runs the README's refund curls (with bash and
// curl, as a reader would after make run) against the real server for two
// paid sessions, as two make run sessions would: each ends refunded in
// full (the Idempotency-Key is made from the session, so a second run's
// refund is not a replay of the first's).
func TestServeREADMERefundCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	readme, err := os.ReadFile(filepath.Join(testbin.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)SESSION=cs_[^\n]*\n(.*?)\n```").FindSubmatch(readme)
	if block == nil || !strings.Contains(string(block[1]), "/refunds") {
		t.Fatal("README has no refund curl block after SESSION=cs_…")
	}
	servetest.Stores(t, func(t *testing.T, dsn string) {
		e := newServeEnv(t, dsn, "")
		e.CLI(t, "migrate")
		key := merchantKey(t, e, "free")
		p := e.Serve(t)
		script := strings.ReplaceAll(string(block[1]), "http://127.0.0.1:8080", p.Public)
		for _, order := range []string{"README-1", "README-2"} {
			id := createSession(t, p, key, order)
			servetest.PayWithSandbox(t, p, id)
			cmd := exec.Command("bash", "-c", "set -e\n"+script)
			cmd.Env = append(os.Environ(), "KEY="+key, "SESSION="+id)
			out, err := cmd.CombinedOutput()
			if err != nil || strings.Contains(string(out), `"error"`) {
				t.Fatalf("README refund curls for %s: %v\n%s", id, err, out)
			}
			deadline := time.Now().Add(90 * time.Second)
			for {
				st, amt := sessionRefunded(t, p, key, id)
				if st == "refunded" && amt == "49.95" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("session %s after the README's refunds: %s, refunded %s; want refunded, 49.95\n%s", id, st, amt, out)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		if n := ledgerCount(t, e.Ledger, sandbox.OpRefund); n != 4 {
			t.Errorf("the sandbox made %d refunds, want 4 (two per session)", n)
		}
	})
}

// waitRetryScheduled waits until River recorded a refund job's failed
// attempt (the job then waits for its retry, or already made it).
func waitRetryScheduled(t *testing.T, dsn string) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		err := st.DB().QueryRowContext(context.Background(),
			"SELECT count(*) FROM river_job WHERE kind = 'refund_provider_call' AND state <> 'running' AND errors IS NOT NULL").Scan(&n)
		if err == nil && n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no refund job waits for a retry (%v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitLedger(t *testing.T, path, op string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if recs, err := sandbox.ReadLedger(path); err == nil {
			c := 0
			for _, r := range recs {
				if r.Op == op {
					c++
				}
			}
			if c >= n {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox ledger has no %d %s records", n, op)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeRefundsWithStripe: the real stripe plugin binary against the
// Stripe fake, which counts the refunds it makes. The session is paid by a
// signed checkout.session.completed; a refund is made over HTTP, its
// charge.refunded webhook comes after and is not counted again, and a
// refund created with the CLI while no server runs is made by the next
// server: two refunds at Stripe, each once, with Switchyard's key.
func TestServeRefundsWithStripe(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		fake := stripefake.New(t)
		instance := fmt.Sprintf(`    - id: stripe_e2e
      kind: provider
      binary: stripe
      enabled: true
      settings:
        secret_key: %s
        webhook_secrets: %s
        mode: test
        api_base: %s
`, stripeKey, stripeWhsec, fake.URL())
		e := newServeEnv(t, dsn, instance)
		e.RouteCardTo(t, "unlimited", "stripe_e2e")
		e.CLI(t, "migrate")
		key := merchantKey(t, e, "unlimited")
		p := e.Serve(t)

		var s struct {
			SessionID string `json:"session_id"`
		}
		if code, raw := servetest.Call(t, "POST", p.Public+"/v1/sessions", key, map[string]string{
			"domain": "shop.test", "amount": "49.95", "currency": "USD", "order_id": "E2E-S1", "method": "card",
		}, &s); code != http.StatusCreated {
			t.Fatalf("create session: %d %s", code, raw)
		}
		id := s.SessionID
		resp, err := servetest.Client.PostForm(p.Public+"/checkout/"+id+"/pay", url.Values{"method": {"card"}})
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cs := checkoutSessionRef.FindString(resp.Header.Get("Location") + string(page))
		if cs == "" {
			t.Fatalf("the checkout did not send the shopper to a Stripe Checkout Session: %d %s", resp.StatusCode, page)
		}
		pi := fake.Pay("", cs)
		hook := stripeEvent(t, "evt_e2e_paid", "checkout.session.completed", map[string]any{
			"id": cs, "object": "checkout.session", "mode": "payment", "amount_total": 4995, "currency": "usd",
			"client_reference_id": id, "metadata": map[string]string{stripeprovider.MetaSessionID: id},
			"payment_intent": pi, "payment_status": "paid", "status": "complete",
		}, nil)
		servetest.PostWebhook(t, p.Public+"/hooks/stripe/stripe_e2e", hook.Headers, hook.Body)
		if st, _ := sessionRefunded(t, p, key, id); st != "paid" {
			t.Fatalf("session after checkout.session.completed: %s", st)
		}

		var a refundJSON
		if code, raw := servetest.Call(t, "POST", p.Public+"/v1/sessions/"+id+"/refunds", key, map[string]string{"amount": "10.00"}, &a); code != http.StatusCreated {
			t.Fatalf("refund: %d %s", code, raw)
		}
		got := waitRefund(t, p, key, a.RefundID, "succeeded")
		if got.ProviderReference == nil || !strings.HasPrefix(*got.ProviderReference, "re_") {
			t.Fatalf("refund without Stripe's refund id: %+v", got)
		}
		after := chargeRefunded(t, "evt_e2e_r1", pi, 4995, 1000, 0, *got.ProviderReference)
		servetest.PostWebhook(t, p.Public+"/hooks/stripe/stripe_e2e", after.Headers, after.Body)
		p.Kill9(t)

		var c refundJSON
		if err := json.Unmarshal(e.CLI(t, "refunds", "create", id, "--amount", "2.50", "--json"), &c); err != nil || c.Status != "pending" {
			t.Fatalf("refunds create: %+v %v", c, err)
		}
		p2 := e.Serve(t)
		waitRefund(t, p2, key, c.RefundID, "succeeded")
		if st, amt := sessionRefunded(t, p2, key, id); st != "partially_refunded" || amt != "12.50" {
			t.Errorf("session: %s, refunded %s; want partially_refunded, 12.50", st, amt)
		}
		made := fake.Refunds()
		if len(made) != 2 {
			t.Fatalf("Stripe made %d refunds, want 2: %+v", len(made), made)
		}
		for i, want := range []struct {
			id     string
			amount int64
		}{{a.RefundID, 1000}, {c.RefundID, 250}} {
			if made[i].IdempotencyKey != "switchyard_refund_"+want.id || made[i].Amount != want.amount {
				t.Errorf("Stripe refund %d: %+v, want key for %s and %d", i, made[i], want.id, want.amount)
			}
		}
	})
}

var checkoutSessionRef = regexp.MustCompile(`cs_test_fake[0-9]+`)
