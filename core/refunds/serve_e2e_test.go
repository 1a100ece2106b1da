package refunds_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/internal/testbin"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/plugins/stripe/stripefake"
	"github.com/switchyard/switchyard/plugins/stripe/stripeprovider"
)

var bins testbin.Builder

const e2eAdminToken = "refunds-e2e-operator-token-0123456789"

// serveEnv runs the real switchyard binary with the real plugin binaries:
// the example configuration with its store, listeners and plugins
// overridden, and the sandbox keeping a ledger the test reads.
type serveEnv struct {
	bin, cfg, ledger string
	env              []string
}

// e2eStores runs fn on SQLite and, when configured, on a fresh PostgreSQL
// schema, giving it the DSN the binary uses.
func e2eStores(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	if testing.Short() {
		t.Skip("real-binary test skipped in -short mode")
	}
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "sy.db")) })
	dsn := os.Getenv(storetest.EnvPostgresDSN)
	if dsn == "" {
		storetest.ForPostgres(t, func(*testing.T, *store.Store) {}) // reports the skip or the required failure
		return
	}
	t.Run("postgres", func(t *testing.T) {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		schema := "refunds_e2e_" + hex.EncodeToString(b)
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if st, err := store.Open(ctx, dsn, store.Options{}); err == nil {
				_, _ = st.DB().ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
				_ = st.Close()
			}
		})
		fn(t, dsn+sep+"search_path="+schema)
	})
}

// newServeEnv writes the configuration: the example file, the admin token,
// the sandbox's ledger, and extra appended to plugins.instances.
func newServeEnv(t *testing.T, dsn, extraInstances string, extraEnv ...string) *serveEnv {
	t.Helper()
	sandboxBin := bins.Plugin(t, "sandbox")
	bins.Plugin(t, "stripe") // same directory
	dir := t.TempDir()
	ledger := filepath.Join(dir, "sandbox-ledger.jsonl")
	example, err := os.ReadFile(filepath.Join(testbin.RepoRoot(t), "config", "switchyard.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(example), "dev-admin-token-change-me", e2eAdminToken, 1)
	const secretLine = "        signing_secret: dev-sandbox-signing-secret\n"
	if !strings.Contains(body, secretLine) {
		t.Fatal("the example configuration no longer has the sandbox's signing_secret line")
	}
	body = strings.Replace(body, secretLine, secretLine+"        ledger_path: "+ledger+"\n", 1)
	if extraInstances != "" {
		const anchor = "  instances:\n"
		if !strings.Contains(body, anchor) {
			t.Fatal("the example configuration no longer has plugins.instances")
		}
		body = strings.Replace(body, anchor, anchor+extraInstances, 1)
	}
	cfg := filepath.Join(dir, "sy.yaml")
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return &serveEnv{bin: bins.Switchyard(t), cfg: cfg, ledger: ledger, env: append(append(os.Environ(),
		"SWITCHYARD_STORE_DSN="+dsn,
		"SWITCHYARD_PUBLIC_ADDR=127.0.0.1:0",
		"SWITCHYARD_ADMIN_ADDR=127.0.0.1:0",
		"SWITCHYARD_PLUGINS_DIR="+filepath.Dir(sandboxBin),
		"SWITCHYARD_JOBS__POLL_INTERVAL=100ms",
	), extraEnv...)}
}

func (e *serveEnv) cli(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(e.bin, append(args, "--config", e.cfg)...)
	cmd.Env = e.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("switchyard %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

type serveProc struct {
	cmd           *exec.Cmd
	public, admin string
}

func (e *serveEnv) serve(t *testing.T) *serveProc {
	t.Helper()
	cmd := exec.Command(e.bin, "serve", "--config", e.cfg)
	cmd.Env = e.env
	stdout, _ := cmd.StdoutPipe()
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("serve log (last 6 KiB):\n%s", tail(b, 6<<10))
			}
		}
	})
	sc := bufio.NewScanner(stdout)
	for (p.public == "" || p.admin == "") && sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "public listener: "); ok {
			p.public = "http://" + strings.TrimPrefix(strings.TrimSpace(v), "http://")
		}
		if v, ok := strings.CutPrefix(line, "admin listener:"); ok {
			p.admin = "http://" + strings.TrimPrefix(strings.TrimSpace(v), "http://")
		}
	}
	if p.public == "" || p.admin == "" {
		t.Fatal("serve printed no listener addresses")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return p
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// kill9 ends the process without any chance to clean up.
func (p *serveProc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

var client = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// call sends JSON (in, when not nil) and decodes a 2xx answer into out.
func call(t *testing.T, method, u, token string, in, out any) (int, []byte) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, u, err, raw)
		}
	}
	return resp.StatusCode, raw
}

func (e *serveEnv) merchantKey(t *testing.T) string {
	t.Helper()
	return e.merchantKeyOn(t, "free")
}

func (e *serveEnv) merchantKeyOn(t *testing.T, plan string) string {
	t.Helper()
	var m struct{ ID int64 }
	if err := json.Unmarshal(e.cli(t, "merchants", "create", "--name", "Refunds", "--plan", plan,
		"--domain", "shop.test", "--contact-email", "ops@shop.test", "--json"), &m); err != nil {
		t.Fatal(err)
	}
	var k struct {
		Key    string
		Scopes []string
	}
	if err := json.Unmarshal(e.cli(t, "keys", "create", "--merchant", fmt.Sprint(m.ID), "--json"), &k); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(k.Scopes, " "), "refunds:write") {
		t.Fatalf("a new key's default scopes %v lack refunds:write", k.Scopes)
	}
	return k.Key
}

func createSession(t *testing.T, p *serveProc, key, order string) string {
	t.Helper()
	var v struct {
		SessionID string `json:"session_id"`
	}
	if code, raw := call(t, "POST", p.public+"/v1/sessions", key, map[string]string{
		"domain": "shop.test", "amount": "49.95", "currency": "USD", "order_id": order,
	}, &v); code != http.StatusCreated {
		t.Fatalf("create session: %d %s", code, raw)
	}
	return v.SessionID
}

// payWithSandbox plays the shopper: the hosted checkout's method form,
// the redirect to the sandbox's pay page, and its Succeed form, posted to
// the webhook intake.
func payWithSandbox(t *testing.T, p *serveProc, sessionID string) {
	t.Helper()
	action, values := sandboxPayPage(t, p, sessionID)
	postCallback(t, action, values)
}

// sandboxPayPage follows the hosted checkout's method form to the
// sandbox's pay page and returns its Succeed form.
func sandboxPayPage(t *testing.T, p *serveProc, sessionID string) (string, url.Values) {
	t.Helper()
	resp, err := client.PostForm(p.public+"/checkout/"+sessionID+"/pay", url.Values{"method": {"card"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || loc == "" {
		t.Fatalf("checkout pay: %d, Location %q", resp.StatusCode, loc)
	}
	page, err := client.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(page.Body)
	page.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	action, values := succeedForm(doc)
	if action == "" {
		t.Fatalf("sandbox pay page %s has no Succeed form", loc)
	}
	return action, values
}

// postCallback posts a pay page form to the sandbox's callback.
func postCallback(t *testing.T, action string, values url.Values) {
	t.Helper()
	cb, err := client.PostForm(action, values)
	if err != nil {
		t.Fatal(err)
	}
	cb.Body.Close()
	if cb.StatusCode >= 400 {
		t.Fatalf("sandbox callback: %d", cb.StatusCode)
	}
}

// succeedForm finds the pay page's form whose choice is succeed.
func succeedForm(n *html.Node) (string, url.Values) {
	var action string
	var values url.Values
	var walk func(n *html.Node, cur url.Values, curAction string)
	walk = func(n *html.Node, cur url.Values, curAction string) {
		if n.Type == html.ElementNode {
			attr := func(k string) string {
				for _, a := range n.Attr {
					if a.Key == k {
						return a.Val
					}
				}
				return ""
			}
			switch n.Data {
			case "form":
				cur, curAction = url.Values{}, attr("action")
				defer func(v url.Values, a string) {
					if v.Get("choice") == sandbox.ChoiceSucceed && action == "" {
						action, values = a, v
					}
				}(cur, curAction)
			case "input":
				if cur != nil {
					cur.Add(attr("name"), attr("value"))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, cur, curAction)
		}
	}
	walk(n, nil, "")
	return action, values
}

type refundJSON struct {
	RefundID          string  `json:"refund_id"`
	Status            string  `json:"status"`
	Amount            string  `json:"amount"`
	Source            string  `json:"source"`
	ProviderReference *string `json:"provider_reference"`
}

func waitRefund(t *testing.T, p *serveProc, key, id, status string) refundJSON {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var v refundJSON
		call(t, "GET", p.public+"/v1/refunds/"+id, key, nil, &v)
		if v.Status == status {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("refund %s is %q, want %s", id, v.Status, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sessionRefunded(t *testing.T, p *serveProc, key, id string) (string, string) {
	t.Helper()
	var s struct {
		Status         string `json:"status"`
		AmountRefunded string `json:"amount_refunded"`
	}
	call(t, "GET", p.public+"/v1/sessions/"+id, key, nil, &s)
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
	e2eStores(t, func(t *testing.T, dsn string) {
		e := newServeEnv(t, dsn, "")
		e.cli(t, "migrate")
		key := e.merchantKey(t)
		p := e.serve(t)
		id := createSession(t, p, key, "E2E-1")
		payWithSandbox(t, p, id)
		if st, _ := sessionRefunded(t, p, key, id); st != "paid" {
			t.Fatalf("session after paying: %s", st)
		}

		var a refundJSON
		if code, raw := call(t, "POST", p.public+"/v1/sessions/"+id+"/refunds", key, map[string]string{"amount": "10.00"}, &a); code != http.StatusCreated || a.Status != "pending" {
			t.Fatalf("refund over HTTP: %d %s", code, raw)
		}
		if got := waitRefund(t, p, key, a.RefundID, "succeeded"); got.ProviderReference == nil {
			t.Errorf("succeeded refund without the sandbox's reference: %+v", got)
		}

		// A refund whose first provider call meets an outage (7.77): the
		// server is killed while the retry waits, and the next one makes it.
		var o refundJSON
		if code, raw := call(t, "POST", p.public+"/gateway/refund.php?session_id="+id, key, map[string]string{"amount": "7.77"}, &o); code != http.StatusCreated {
			t.Fatalf("refund through the alias: %d %s", code, raw)
		}
		waitLedger(t, e.ledger, sandbox.OpRefundUnavailable, 1)
		// River records the failed attempt asynchronously; killed before
		// that, the job would stay "running" until River rescues it (minutes
		// later, still exactly once). Wait for the retry to be scheduled.
		waitRetryScheduled(t, dsn)
		p.kill9(t)

		// With no server running, an operator refunds with the CLI: the
		// refund and its job are committed and the CLI exits.
		var c refundJSON
		if err := json.Unmarshal(e.cli(t, "refunds", "create", id, "--amount", "5.00", "--reason", "other", "--json"), &c); err != nil || c.Status != "pending" {
			t.Fatalf("refunds create: %+v %v", c, err)
		}
		if n := ledgerCount(t, e.ledger, sandbox.OpRefund); n != 1 {
			t.Fatalf("the sandbox made %d refunds before the restart, want 1", n)
		}

		start := time.Now()
		p2 := e.serve(t)
		waitRefund(t, p2, key, c.RefundID, "succeeded")
		t.Logf("CLI refund made %s after the restart", time.Since(start))
		waitRefund(t, p2, key, o.RefundID, "succeeded")
		t.Logf("retried refund made %s after the restart", time.Since(start))
		if n := ledgerCount(t, e.ledger, sandbox.OpRefund); n != 3 {
			t.Errorf("the sandbox made %d refunds for three refunds, want 3", n)
		}
		if st, amt := sessionRefunded(t, p2, key, id); st != "partially_refunded" || amt != "22.77" {
			t.Errorf("session: %s, refunded %s; want partially_refunded, 22.77", st, amt)
		}

		var list struct {
			Data    []refundJSON
			HasMore bool `json:"has_more"`
		}
		if code, raw := call(t, "GET", p2.public+"/v1/sessions/"+id+"/refunds", key, nil, &list); code != 200 || len(list.Data) != 3 || list.HasMore {
			t.Errorf("session refunds: %d %s", code, raw)
		}
		var shown refundJSON
		if err := json.Unmarshal(e.cli(t, "refunds", "show", c.RefundID, "--json"), &shown); err != nil || shown.Status != "succeeded" || shown.Source != "operator" {
			t.Errorf("refunds show: %+v %v", shown, err)
		}
		var admin struct{ Data []refundJSON }
		if code, raw := call(t, "GET", p2.admin+"/admin/v1/refunds?status=succeeded", e2eAdminToken, nil, &admin); code != 200 || len(admin.Data) != 3 {
			t.Errorf("admin refunds: %d %s", code, raw)
		}
		// The rest, then nothing is left.
		var rest refundJSON
		call(t, "POST", p2.public+"/v1/sessions/"+id+"/refunds", key, nil, &rest)
		waitRefund(t, p2, key, rest.RefundID, "succeeded")
		if code, raw := call(t, "POST", p2.public+"/v1/sessions/"+id+"/refunds", key, map[string]string{}, nil); code != http.StatusConflict ||
			!strings.Contains(string(raw), "already_refunded") {
			t.Errorf("refund of a refunded session: %d %s", code, raw)
		}
		if st, amt := sessionRefunded(t, p2, key, id); st != "refunded" || amt != "49.95" {
			t.Errorf("session: %s, refunded %s; want refunded, 49.95", st, amt)
		}
		if n := ledgerCount(t, e.ledger, sandbox.OpRefund); n != 4 {
			t.Errorf("the sandbox made %d refunds, want 4", n)
		}
		// This server made three of them: the operator's and two of the API.
		_, metrics := call(t, "GET", p2.admin+"/metrics", "", nil, nil)
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

// waitRetryScheduled waits until River recorded a refund job's failed
// attempt (the job then waits for its retry, or already made it).
// TestServeReviewRefund: an underpaid session goes to review; the
// operator resolves it with a refund over the admin API, and the running
// server's refunds service (wired into payments as its ReviewRefunder in
// core/app) makes exactly that provider refund.
func TestServeReviewRefund(t *testing.T) {
	e2eStores(t, func(t *testing.T, dsn string) {
		e := newServeEnv(t, dsn, "")
		e.cli(t, "migrate")
		key := e.merchantKey(t)
		p := e.serve(t)
		id := createSession(t, p, key, "E2E-R")
		// The shopper pays 10.00 of 49.95: the pay page's callback, signed
		// with the example configuration's sandbox secret for that amount.
		action, values := sandboxPayPage(t, p, id)
		form := sandbox.SignCallback("dev-sandbox-signing-secret", sandbox.Callback{Choice: sandbox.ChoiceSucceed,
			Ref: values.Get("ref"), SessionID: id, Amount: 1000, Currency: "USD", ReturnURL: values.Get("return_url"), TS: time.Now()})
		postCallback(t, action, form)
		if st, _ := sessionRefunded(t, p, key, id); st != "requires_review" {
			t.Fatalf("underpaid session: %s, want requires_review", st)
		}

		var reviews struct {
			Data []struct{ ID string }
		}
		if code, raw := call(t, "GET", p.admin+"/admin/v1/reviews?status=open", e2eAdminToken, nil, &reviews); code != 200 || len(reviews.Data) != 1 {
			t.Fatalf("open reviews: %d %s", code, raw)
		}
		if code, raw := call(t, "POST", p.admin+"/admin/v1/reviews/"+reviews.Data[0].ID+"/resolve", e2eAdminToken,
			map[string]string{"action": "refund", "note": "send it back"}, nil); code != 200 {
			t.Fatalf("resolve with a refund: %d %s", code, raw)
		}
		var list struct{ Data []refundJSON }
		if code, raw := call(t, "GET", p.public+"/v1/sessions/"+id+"/refunds", key, nil, &list); code != 200 || len(list.Data) != 1 {
			t.Fatalf("refunds after the decision: %d %s", code, raw)
		}
		rf := waitRefund(t, p, key, list.Data[0].RefundID, "succeeded")
		if rf.Amount != "10.00" || rf.Source != "operator" {
			t.Errorf("review refund: %+v, want 10.00 from the operator", rf)
		}
		if n := ledgerCount(t, e.ledger, sandbox.OpRefund); n != 1 {
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
	e2eStores(t, func(t *testing.T, dsn string) {
		e := newServeEnv(t, dsn, "")
		e.cli(t, "migrate")
		key := e.merchantKey(t)
		p := e.serve(t)
		script := strings.ReplaceAll(string(block[1]), "http://127.0.0.1:8080", p.public)
		for _, order := range []string{"README-1", "README-2"} {
			id := createSession(t, p, key, order)
			payWithSandbox(t, p, id)
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
		if n := ledgerCount(t, e.ledger, sandbox.OpRefund); n != 4 {
			t.Errorf("the sandbox made %d refunds, want 4 (two per session)", n)
		}
	})
}

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
	e2eStores(t, func(t *testing.T, dsn string) {
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
		e.routeUnlimitedCardTo(t, "stripe_e2e")
		e.cli(t, "migrate")
		key := e.merchantKeyOn(t, "unlimited")
		p := e.serve(t)

		var s struct {
			SessionID string `json:"session_id"`
		}
		if code, raw := call(t, "POST", p.public+"/v1/sessions", key, map[string]string{
			"domain": "shop.test", "amount": "49.95", "currency": "USD", "order_id": "E2E-S1", "method": "card",
		}, &s); code != http.StatusCreated {
			t.Fatalf("create session: %d %s", code, raw)
		}
		id := s.SessionID
		resp, err := client.PostForm(p.public+"/checkout/"+id+"/pay", url.Values{"method": {"card"}})
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
		postHook(t, p.public+"/hooks/stripe/stripe_e2e", hook.Headers, hook.Body)
		if st, _ := sessionRefunded(t, p, key, id); st != "paid" {
			t.Fatalf("session after checkout.session.completed: %s", st)
		}

		var a refundJSON
		if code, raw := call(t, "POST", p.public+"/v1/sessions/"+id+"/refunds", key, map[string]string{"amount": "10.00"}, &a); code != http.StatusCreated {
			t.Fatalf("refund: %d %s", code, raw)
		}
		got := waitRefund(t, p, key, a.RefundID, "succeeded")
		if got.ProviderReference == nil || !strings.HasPrefix(*got.ProviderReference, "re_") {
			t.Fatalf("refund without Stripe's refund id: %+v", got)
		}
		after := chargeRefunded(t, "evt_e2e_r1", pi, 4995, 1000, 0, *got.ProviderReference)
		postHook(t, p.public+"/hooks/stripe/stripe_e2e", after.Headers, after.Body)
		p.kill9(t)

		var c refundJSON
		if err := json.Unmarshal(e.cli(t, "refunds", "create", id, "--amount", "2.50", "--json"), &c); err != nil || c.Status != "pending" {
			t.Fatalf("refunds create: %+v %v", c, err)
		}
		p2 := e.serve(t)
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

func postHook(t *testing.T, u string, h http.Header, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	req.Header = h.Clone()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook %s: %d %s", u, resp.StatusCode, raw)
	}
}

// routeUnlimitedCardTo sends card payments of unlimited-plan merchants to
// the provider instance id, ahead of the example's rules.
func (e *serveEnv) routeUnlimitedCardTo(t *testing.T, id string) {
	t.Helper()
	b, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "  rules:\n"
	if !strings.Contains(string(b), anchor) {
		t.Fatal("the example configuration no longer has routing.rules")
	}
	rule := "    - method: card\n      plans: [unlimited]\n      providers:\n        - id: " + id + "\n"
	if err := os.WriteFile(e.cfg, []byte(strings.Replace(string(b), anchor, anchor+rule, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}
