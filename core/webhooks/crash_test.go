package webhooks_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/internal/testbin"
	"github.com/switchyard/switchyard/webhook"
)

var bins testbin.Builder

const crashAdminToken = "crash-test-operator-token-0123456789"

// serveEnv is the environment of the real binary: the example config with
// its store, listeners and plugin dir overridden.
type serveEnv struct {
	bin, cfg string
	env      []string
}

func newServeEnv(t *testing.T, dsn string) *serveEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("real-binary test skipped in -short mode")
	}
	sandbox := bins.Plugin(t, "sandbox")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sy.yaml")
	example, err := os.ReadFile(filepath.Join(testbin.RepoRoot(t), "config", "switchyard.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(example), "dev-admin-token-change-me", crashAdminToken, 1)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(dir, "sy.db")
	}
	return &serveEnv{bin: bins.Switchyard(t), cfg: cfg, env: append(os.Environ(),
		"SWITCHYARD_STORE_DSN="+dsn,
		"SWITCHYARD_PUBLIC_ADDR=127.0.0.1:0",
		"SWITCHYARD_ADMIN_ADDR=127.0.0.1:0",
		"SWITCHYARD_PLUGINS_DIR="+filepath.Dir(sandbox),
		"SWITCHYARD_JOBS__POLL_INTERVAL=100ms",
		"SWITCHYARD_WEBHOOKS__ALLOW_PRIVATE_TARGETS=true",
	)}
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
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for (p.public == "" || p.admin == "") && sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "public listener: "); ok {
			p.public = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "admin listener:"); ok {
			p.admin = strings.TrimSpace(v)
		}
	}
	if p.public == "" || p.admin == "" {
		t.Fatal("serve printed no listener addresses")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return p
}

// kill9 ends the process without any chance to clean up.
func (p *serveProc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

func call(t *testing.T, method, url, token string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, raw)
		}
	}
	return resp.StatusCode
}

// requireServeWiring fails fast, naming what is missing, if `switchyard
// serve` stops mounting the webhook admin API or the merchant API.
func requireServeWiring(t *testing.T, p *serveProc) {
	t.Helper()
	if code := call(t, "GET", p.admin+"/admin/v1/endpoints", crashAdminToken, nil, nil); code != http.StatusOK {
		t.Fatalf("switchyard serve: GET /admin/v1/endpoints = %d, want 200 (AdminWebhooks not mounted?)", code)
	}
	if code := call(t, "POST", p.public+"/v1/sessions", "", map[string]string{}, nil); code == http.StatusNotFound {
		t.Fatal("switchyard serve does not mount the merchant API (/v1/sessions is 404)")
	}
}

type merchantKey struct {
	id  int64
	key string
}

func (e *serveEnv) merchant(t *testing.T) merchantKey {
	t.Helper()
	var m struct{ ID int64 }
	if err := json.Unmarshal(e.cli(t, "merchants", "create", "--name", "Crash", "--plan", "free",
		"--domain", "shop.test", "--contact-email", "ops@shop.test", "--json"), &m); err != nil {
		t.Fatal(err)
	}
	var k struct{ Key string }
	if err := json.Unmarshal(e.cli(t, "keys", "create", "--merchant", fmt.Sprint(m.ID), "--json"), &k); err != nil {
		t.Fatal(err)
	}
	return merchantKey{m.ID, k.Key}
}

func createSession(t *testing.T, public string, mk merchantKey, order string) {
	t.Helper()
	code := call(t, "POST", public+"/v1/sessions", mk.key, map[string]string{
		"domain": "shop.test", "amount": "49.95", "currency": "USD", "order_id": order,
	}, nil)
	if code != http.StatusCreated {
		t.Fatalf("create session: %d", code)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// Crash safety with the real binary: the event and its delivery commit,
// the receiver is down so the first attempt fails and a retry is pending,
// the server is killed with SIGKILL, the receiver comes up, the server
// restarts: the event is delivered, with the same id.
func TestCrashBetweenCommitAndSend(t *testing.T) {
	env := newServeEnv(t, "")
	env.cli(t, "migrate")
	mk := env.merchant(t)
	p := env.serve(t)
	requireServeWiring(t, p)

	addr := freePort(t) // nothing listens here yet
	var ep struct{ ID, Secret string }
	if code := call(t, "POST", p.admin+"/admin/v1/endpoints", crashAdminToken,
		map[string]any{"merchant_id": mk.id, "url": "http://" + addr + "/hook"}, &ep); code != http.StatusCreated {
		t.Fatalf("create endpoint: %d", code)
	}
	createSession(t, p.public, mk, "CRASH-1")

	var pending struct {
		Data []struct {
			ID       string
			EventID  string `json:"event_id"`
			Attempts int
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		call(t, "GET", p.admin+"/admin/v1/deliveries?status=pending", crashAdminToken, nil, &pending)
		if len(pending.Data) == 1 && pending.Data[0].Attempts >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed-and-pending delivery: %+v", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
	eventID := pending.Data[0].EventID
	p.kill9(t)

	got := make(chan http.Header, 4)
	bodies := make(chan []byte, 4)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Header.Clone()
		bodies <- b
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	p2 := env.serve(t)
	select {
	case h := <-got:
		body := <-bodies
		if h.Get("webhook-id") != eventID {
			t.Fatalf("delivered event %s, want %s", h.Get("webhook-id"), eventID)
		}
		if err := webhook.Verify(webhook.ProfileStandard, []string{ep.Secret}, h, body, time.Minute); err != nil {
			t.Fatalf("signature after restart: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("event not delivered after restart")
	}
	var ds struct{ Data []struct{ Status string } }
	deadline = time.Now().Add(20 * time.Second)
	for {
		call(t, "GET", p2.admin+"/admin/v1/deliveries?event="+eventID, crashAdminToken, nil, &ds)
		if len(ds.Data) == 1 && ds.Data[0].Status == store.DeliverySucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery not recorded as succeeded: %+v", ds)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Two `switchyard serve` instances on one PostgreSQL: every delivery
// attempt is made exactly once.
func TestTwoServeInstancesOnePostgres(t *testing.T) {
	dsn := os.Getenv(storetest.EnvPostgresDSN)
	if dsn == "" {
		storetest.ForPostgres(t, func(*testing.T, *store.Store) {}) // reports skip or required failure
		return
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "whcrash_" + hex.EncodeToString(b)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	env := newServeEnv(t, dsn+sep+"search_path="+schema)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if st, err := store.Open(ctx, dsn, store.Options{}); err == nil {
			_, _ = st.DB().ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			_ = st.Close()
		}
	})
	env.cli(t, "migrate")
	mk := env.merchant(t)
	a, bProc := env.serve(t), env.serve(t)
	requireServeWiring(t, a)

	var mu sync.Mutex
	seen := map[string]int{}
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("webhook-id")+"/"+r.Header.Get("X-Switchyard-Attempt")]++
		mu.Unlock()
	})
	if code := call(t, "POST", a.admin+"/admin/v1/endpoints", crashAdminToken,
		map[string]any{"merchant_id": mk.id, "url": rc.URL()}, nil); code != http.StatusCreated {
		t.Fatalf("create endpoint: %d", code)
	}
	const sessions = 40
	for i := range sessions {
		public := a.public
		if i%2 == 1 {
			public = bProc.public
		}
		createSession(t, public, mk, fmt.Sprintf("TWO-%d", i))
	}
	var ds struct{ Data []struct{ Status string } }
	deadline := time.Now().Add(60 * time.Second)
	for {
		call(t, "GET", a.admin+"/admin/v1/deliveries?status=succeeded&limit=1000", crashAdminToken, nil, &ds)
		if len(ds.Data) >= sessions {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d delivered", len(ds.Data), sessions)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for k, n := range seen {
		if n != 1 {
			t.Errorf("attempt %s made %d times", k, n)
		}
	}
}

// A session created through the merchant API with an ipn_url gets its
// events delivered there, signed by the site's IPN config (pgapp here); an
// ipn_url pointing at the cloud metadata address is refused at create time.
func TestIPNURLThroughMerchantAPI(t *testing.T) {
	env := newServeEnv(t, "")
	env.cli(t, "migrate")
	mk := env.merchant(t)
	p := env.serve(t)
	requireServeWiring(t, p)

	var cfg struct{ ID, Secret string }
	if code := call(t, "POST", p.admin+"/admin/v1/endpoints", crashAdminToken,
		map[string]any{"merchant_id": mk.id, "site": "shop.test", "ipn": true, "profile": "pgapp"}, &cfg); code != http.StatusCreated {
		t.Fatalf("create ipn config: %d", code)
	}
	rc := newReceiver(t, status(200))
	code := call(t, "POST", p.public+"/v1/sessions", mk.key, map[string]string{
		"domain": "shop.test", "amount": "10.00", "currency": "USD", "order_id": "IPN-1", "ipn_url": rc.URL(),
	}, nil)
	if code != http.StatusCreated {
		t.Fatalf("create session with ipn_url: %d", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(rc.all()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no delivery to the session's ipn_url")
		}
		time.Sleep(50 * time.Millisecond)
	}
	h := rc.all()[0]
	if err := webhook.Verify(webhook.ProfilePGApp, []string{cfg.Secret}, h.header, h.body, time.Minute); err != nil {
		t.Fatalf("ipn delivery signature: %v", err)
	}
	var ev webhook.Event
	if err := json.Unmarshal(h.body, &ev); err != nil || ev.Event != "session.created" || ev.Sequence != 1 {
		t.Fatalf("ipn delivery %s", h.body)
	}
	code = call(t, "POST", p.public+"/v1/sessions", mk.key, map[string]string{
		"domain": "shop.test", "amount": "10.00", "currency": "USD", "order_id": "IPN-2", "ipn_url": "http://169.254.169.254/latest",
	}, nil)
	if code != http.StatusBadRequest {
		t.Fatalf("metadata ipn_url accepted: %d", code)
	}
}
