package servetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/internal/testbin"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
)

// AdminToken is the operator token the configuration is given.
const AdminToken = "servetest-operator-token-0123456789"

// SandboxSecret is the sandbox instance's signing secret in the example
// configuration: what a test signs a pay page's callback with.
const SandboxSecret = "dev-sandbox-signing-secret"

// Stores runs fn on SQLite and, when configured, on a fresh PostgreSQL
// schema (skipped, or failed under SWITCHYARD_REQUIRE_POSTGRES=1, without
// one), giving it the DSN the binary is to use. -short skips it.
func Stores(t *testing.T, fn func(t *testing.T, dsn string)) {
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
		schema := "servetest_" + hex.EncodeToString(b)
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

// Options shape the configuration.
type Options struct {
	// DSN is the store (from Stores).
	DSN string
	// Plugins are built into the plugin directory besides sandbox.
	Plugins []string
	// Instances is YAML inserted at the top of plugins.instances (each
	// entry indented by four spaces, "    - id: …").
	Instances string
	// Env is added to the environment of every command.
	Env []string
	// Ledger makes the sandbox keep its ledger of provider calls in
	// Env.Ledger, for a test to count them.
	Ledger bool
}

// Env is a configuration and the environment to run the binary with.
type Env struct {
	Bin, Config string
	// Ledger is the sandbox's ledger file (Options.Ledger), else "".
	Ledger string
	env    []string
}

// Builder builds the binaries once per test process.
var bins testbin.Builder

// New writes the configuration and builds the binaries.
func New(t *testing.T, o Options) *Env {
	t.Helper()
	sandboxBin := bins.Plugin(t, "sandbox")
	for _, p := range o.Plugins {
		bins.Plugin(t, p) // same directory
	}
	example, err := os.ReadFile(filepath.Join(testbin.RepoRoot(t), "config", "switchyard.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(example), "dev-admin-token-change-me", AdminToken, 1)
	dir := t.TempDir()
	ledger := ""
	if o.Ledger {
		const secretLine = "        signing_secret: " + SandboxSecret + "\n"
		if !strings.Contains(body, secretLine) {
			t.Fatal("the example configuration no longer has the sandbox's signing_secret line")
		}
		ledger = filepath.Join(dir, "sandbox-ledger.jsonl")
		body = strings.Replace(body, secretLine, secretLine+"        ledger_path: "+ledger+"\n", 1)
	}
	if o.Instances != "" {
		const anchor = "  instances:\n"
		if !strings.Contains(body, anchor) {
			t.Fatal("the example configuration no longer has plugins.instances")
		}
		body = strings.Replace(body, anchor, anchor+o.Instances, 1)
	}
	cfg := filepath.Join(dir, "sy.yaml")
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return &Env{Bin: bins.Switchyard(t), Config: cfg, Ledger: ledger, env: append(append(os.Environ(),
		"SWITCHYARD_STORE_DSN="+o.DSN,
		"SWITCHYARD_PUBLIC_ADDR=127.0.0.1:0",
		"SWITCHYARD_ADMIN_ADDR=127.0.0.1:0",
		"SWITCHYARD_PLUGINS_DIR="+filepath.Dir(sandboxBin),
		"SWITCHYARD_JOBS__POLL_INTERVAL=100ms",
	), o.Env...)}
}

// CLI runs `switchyard ARGS --config …` and returns its stdout; a
// non-zero exit fails the test with stderr.
func (e *Env) CLI(t *testing.T, args ...string) []byte {
	t.Helper()
	out, stderr, err := e.TryCLI(args...)
	if err != nil {
		t.Fatalf("switchyard %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// TryCLI runs the CLI and returns stdout, stderr and the exit error.
func (e *Env) TryCLI(args ...string) (stdout []byte, stderr string, err error) {
	return e.run(exec.Command(e.Bin, append(args, "--config", e.Config)...))
}

// TryCLIContext is TryCLI killed when ctx ends: for a command that may
// not exit by itself (a serve expected to refuse to start).
func (e *Env) TryCLIContext(ctx context.Context, args ...string) (stdout []byte, stderr string, err error) {
	return e.run(exec.CommandContext(ctx, e.Bin, append(args, "--config", e.Config)...))
}

func (e *Env) run(cmd *exec.Cmd) ([]byte, string, error) {
	cmd.Env = e.env
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	out, err := cmd.Output()
	return out, errBuf.String(), err
}

// Merchant is a merchant made with the CLI and its first API key.
type Merchant struct {
	ID     int64
	Key    string
	Scopes []string
}

// NewMerchant creates a merchant on plan with the CLI (site shop.test,
// contact ops@shop.test) and a test-mode API key with the default scopes.
func (e *Env) NewMerchant(t *testing.T, name, plan string) Merchant {
	t.Helper()
	var m Merchant
	if err := json.Unmarshal(e.CLI(t, "merchants", "create", "--name", name, "--plan", plan,
		"--domain", "shop.test", "--contact-email", "ops@shop.test", "--json"), &m); err != nil {
		t.Fatal(err)
	}
	var k struct {
		Key    string
		Scopes []string
	}
	if err := json.Unmarshal(e.CLI(t, "keys", "create", "--merchant", strconv.FormatInt(m.ID, 10), "--json"), &k); err != nil {
		t.Fatal(err)
	}
	m.Key, m.Scopes = k.Key, k.Scopes
	return m
}

// RouteCardTo sends card payments of merchants on plan to the provider
// instance id, ahead of the example's rules.
func (e *Env) RouteCardTo(t *testing.T, plan, id string) {
	t.Helper()
	b, err := os.ReadFile(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "  rules:\n"
	if !strings.Contains(string(b), anchor) {
		t.Fatal("the example configuration no longer has routing.rules")
	}
	rule := "    - method: card\n      plans: [" + plan + "]\n      providers:\n        - id: " + id + "\n"
	if err := os.WriteFile(e.Config, []byte(strings.Replace(string(b), anchor, anchor+rule, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Proc is a running `switchyard serve`.
type Proc struct {
	Cmd           *exec.Cmd
	Public, Admin string
	// Log is the file the server's log (stderr) goes to.
	Log string
}

// Stop ends the server as an operator would (SIGINT: it drains and
// resigns its job leadership) and waits for it to exit.
func (p *Proc) Stop(t *testing.T) {
	t.Helper()
	if err := p.Cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("stop serve: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = p.Cmd.Process.Kill()
		t.Fatal("serve did not stop within 60s of SIGINT")
	}
}

// Serve starts the server, waits for its listener addresses and stops it
// at cleanup, showing the tail of its log when the test failed.
func (e *Env) Serve(t *testing.T) *Proc {
	t.Helper()
	cmd := exec.Command(e.Bin, "serve", "--config", e.Config)
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
	p := &Proc{Cmd: cmd, Log: logPath}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait() // an error when Stop waited already
		logFile.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				if len(b) > 6<<10 {
					b = b[len(b)-6<<10:]
				}
				t.Logf("serve log (last 6 KiB):\n%s", b)
			}
		}
	})
	sc := bufio.NewScanner(stdout)
	for (p.Public == "" || p.Admin == "") && sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "public listener: "); ok {
			p.Public = "http://" + strings.TrimPrefix(strings.TrimSpace(v), "http://")
		}
		if v, ok := strings.CutPrefix(line, "admin listener:"); ok {
			p.Admin = "http://" + strings.TrimPrefix(strings.TrimSpace(v), "http://")
		}
	}
	if p.Public == "" || p.Admin == "" {
		t.Fatal("serve printed no listener addresses")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return p
}

// Kill9 ends the server without any chance to clean up.
func (p *Proc) Kill9(t *testing.T) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.Cmd.Wait()
}

// Client follows no redirects, so tests see them.
var Client = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Call sends JSON (in, when not nil) and decodes a 2xx answer into out.
func Call(t *testing.T, method, u, token string, in, out any) (int, []byte) {
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
	resp, err := Client.Do(req)
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

// PayWithSandbox plays the shopper: the hosted checkout's method form,
// the redirect to the sandbox's pay page, and its Succeed form, posted to
// the webhook intake.
func PayWithSandbox(t *testing.T, p *Proc, sessionID string) {
	t.Helper()
	action, values := SandboxPayPage(t, p, sessionID)
	PostCallback(t, action, values)
}

// PayWithSandboxAmount pays another amount than the session's: the pay
// page's Succeed callback signed (with the example's sandbox secret) for
// amount minor units of currency, as a provider confirming less or more
// money would.
func PayWithSandboxAmount(t *testing.T, p *Proc, sessionID string, amount int64, currency string) {
	t.Helper()
	action, values := SandboxPayPage(t, p, sessionID)
	PostCallback(t, action, sandbox.SignCallback(SandboxSecret, sandbox.Callback{Choice: sandbox.ChoiceSucceed,
		Ref: values.Get("ref"), SessionID: sessionID, Amount: amount, Currency: currency,
		ReturnURL: values.Get("return_url"), TS: time.Now()}))
}

// SandboxPayPage follows the hosted checkout's method form to the
// sandbox's pay page and returns its Succeed form: action and values.
func SandboxPayPage(t *testing.T, p *Proc, sessionID string) (string, url.Values) {
	t.Helper()
	resp, err := Client.PostForm(p.Public+"/checkout/"+sessionID+"/pay", url.Values{"method": {"card"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || loc == "" {
		t.Fatalf("checkout pay: %d, Location %q", resp.StatusCode, loc)
	}
	page, err := Client.Get(loc)
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

// PostCallback posts a pay page's form to the sandbox's callback.
func PostCallback(t *testing.T, action string, values url.Values) {
	t.Helper()
	cb, err := Client.PostForm(action, values)
	if err != nil {
		t.Fatal(err)
	}
	cb.Body.Close()
	if cb.StatusCode >= 400 {
		t.Fatalf("sandbox callback: %d", cb.StatusCode)
	}
}

// PostWebhook delivers a provider's webhook (body with the provider's
// signature headers) to u and fails the test unless it is answered 200.
func PostWebhook(t *testing.T, u string, h http.Header, body []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h.Clone()
	resp, err := Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook %s: %d %s", u, resp.StatusCode, raw)
	}
}

// succeedForm finds the pay page's form whose choice is succeed.
func succeedForm(root *html.Node) (string, url.Values) {
	var forms []*html.Node
	var find func(n *html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "form" {
			forms = append(forms, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(root)
	for _, f := range forms {
		values := url.Values{}
		var inputs func(n *html.Node)
		inputs = func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "input" {
				values.Add(attr(n, "name"), attr(n, "value"))
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				inputs(c)
			}
		}
		inputs(f)
		if values.Get("choice") == sandbox.ChoiceSucceed {
			return attr(f, "action"), values
		}
	}
	return "", nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
