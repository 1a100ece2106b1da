package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/switchyard/switchyard/core/checkout"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/payments"
)

// TestCheckoutInBrowser pays checkout sessions in a real Chromium against
// the real switchyard binary and the real sandbox plugin binary, in both
// integration modes, and declines one.
//
// Needs Debian's chromium. Without it the test skips, unless
// SWITCHYARD_REQUIRE_CHROMIUM=1 (CI), where a missing browser fails.
// Binaries come from $SWITCHYARD_BIN_DIR (switchyard, plugins/sandbox) when
// both exist there, else they are built into a temporary directory.
func TestCheckoutInBrowser(t *testing.T) {
	chromium := requireChromium(t)
	bin, pluginDir := switchyardBinaries(t)
	sy := startSwitchyard(t, bin, pluginDir)

	hostedKey := sy.merchant(t, "Hosted Books", "free")
	smartKey := sy.merchant(t, "Smart Hosting", "pro")
	shots := t.TempDir()
	b := newBrowser(t, chromium)

	t.Run("hosted_checkout: choose card, succeed", func(t *testing.T) {
		s := sy.createSession(t, hostedKey, "")
		tab := b.tab(t)

		tab.do(t, chromedp.Navigate(s.CheckoutURL), chromedp.WaitVisible(chromedp.CSS(`form.pay`)))
		tab.wantPath(t, "/checkout/"+s.SessionID)
		tab.wantText(t, "Choose how to pay", "Hosted Books", "49.95", "Card (sandbox)", "Bank transfer (sandbox)")
		tab.wantStyled(t)
		tab.screenshot(t, filepath.Join(shots, "choose-mobile.png"), 390, 844)
		tab.screenshot(t, filepath.Join(shots, "choose-desktop.png"), 1280, 800)

		// Pick card by its label, as a shopper would, and submit: the
		// POST is answered with a 303 to the same-origin sandbox page,
		// which form-action 'self' must allow.
		tab.do(t,
			chromedp.Click(chromedp.Search(`//label[normalize-space()="Card (sandbox)"]`)),
			chromedp.Click(chromedp.CSS(`form.pay button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Succeed"]`)),
		)
		tab.wantPathPrefix(t, "/p/sandbox/pay/")
		tab.do(t,
			chromedp.Click(chromedp.Search(`//button[normalize-space()="Succeed"]`)),
			chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Payment received"]`)),
		)
		tab.wantPath(t, "/checkout/"+s.SessionID+"/return")
		tab.wantText(t, "was successful", "Return to Hosted Books")
		tab.screenshot(t, filepath.Join(shots, "paid-desktop.png"), 1280, 800)
		tab.noCSPViolations(t)

		if got := sy.sessionStatus(t, hostedKey, s.SessionID); got != "paid" {
			t.Errorf("status endpoint says %q, want paid", got)
		}
	})

	t.Run("smart_routing: method in the request, straight to the provider", func(t *testing.T) {
		s := sy.createSession(t, smartKey, "card")
		tab := b.tab(t)

		tab.do(t,
			chromedp.Navigate(s.CheckoutURL),
			chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Succeed"]`)),
		)
		tab.wantPathPrefix(t, "/p/sandbox/pay/")

		// The sandbox page is the first page a shopper sees in smart
		// routing: the checkout's look (its panel and summary), whom they
		// pay and how much, no internal ids, every control labelled, no
		// overflow at 390 px, and usable by keyboard alone.
		tab.wantText(t, "Smart Hosting", "Total", "49.95 USD", "Test payment by card", "no money moves")
		tab.wantStyled(t)
		tab.a11y(t)
		tab.noHorizontalOverflow(t, 390)
		if ids := tab.eval(t, `(document.body.innerText.match(/\b(sbx|cs)_[A-Za-z0-9]+/g) || []).join(" ")`); ids != "" {
			t.Errorf("the sandbox page shows internal ids: %s", ids)
		}
		if title := tab.eval(t, `document.title`); title != "Pay 49.95 USD · Smart Hosting" {
			t.Errorf("sandbox page title %q", title)
		}
		tab.screenshot(t, filepath.Join(shots, "sandbox-mobile.png"), 390, 844)
		tab.screenshot(t, filepath.Join(shots, "sandbox-desktop.png"), 1280, 800)
		tab.do(t, chromedp.EmulateViewport(390, 844), chromedp.KeyEvent(kb.Tab))
		focus := tab.eval(t, `(() => { const el = document.activeElement;
			return el.tagName + " " + el.textContent.trim() + " outline=" + getComputedStyle(el).outlineStyle; })()`)
		if focus != "BUTTON Succeed outline=solid" {
			t.Errorf("after Tab on the sandbox page: %s, want the Succeed button focused with a solid focus ring", focus)
		}
		tab.do(t,
			chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Payment received"]`)),
		)
		tab.wantText(t, "Smart Hosting")
		tab.noCSPViolations(t)

		if got := sy.sessionStatus(t, smartKey, s.SessionID); got != "paid" {
			t.Errorf("status endpoint says %q, want paid", got)
		}

		// Coming back to the checkout link of a paid session shows that it
		// is paid; it must not start another payment.
		tab.do(t, chromedp.Navigate(s.CheckoutURL), chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Payment received"]`)))
		tab.wantPath(t, "/checkout/"+s.SessionID)
	})

	t.Run("decline, keyboard only: failed page offers another method", func(t *testing.T) {
		s := sy.createSession(t, hostedKey, "")
		tab := b.tab(t)

		// Tab reaches the pre-selected method with a visible focus ring,
		// an arrow key changes the method, Enter submits the form.
		tab.do(t,
			chromedp.Navigate(s.CheckoutURL),
			chromedp.WaitVisible(chromedp.CSS(`form.pay`)),
			chromedp.KeyEvent(kb.Tab),
		)
		focus, err := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`(() => {
			const el = document.activeElement;
			const label = document.querySelector('label[for="' + el.id + '"]');
			return el.name + "=" + el.value + " outline=" + (label ? getComputedStyle(label).outlineStyle : "no label");
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if focus != "method=card outline=solid" {
			t.Errorf("after Tab: %s, want the card radio focused with a solid focus ring on its label", focus)
		}
		tab.do(t,
			chromedp.KeyEvent(kb.ArrowDown),
			chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Decline"]`)),
		)
		if q := tab.location(t).Query(); q.Get("method") != "wallet" {
			t.Errorf("keyboard choice reached the provider as method %q, want wallet", q.Get("method"))
		}
		tab.do(t,
			chromedp.Click(chromedp.Search(`//button[normalize-space()="Decline"]`)),
			chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Payment failed"]`)),
		)
		tab.wantPath(t, "/checkout/"+s.SessionID+"/return")
		tab.wantText(t, "try another method")
		tab.screenshot(t, filepath.Join(shots, "failed-mobile.png"), 390, 844)

		// "Try another method" leads back to the choice.
		tab.do(t,
			chromedp.Click(chromedp.Search(`//a[normalize-space()="Try another method"]`)),
			chromedp.WaitVisible(chromedp.CSS(`form.pay`)),
		)
		tab.wantPath(t, "/checkout/"+s.SessionID)
		tab.wantText(t, "didn't go through", "Bank transfer (sandbox)")
		tab.noCSPViolations(t)

		if got := sy.sessionStatus(t, hostedKey, s.SessionID); got != "open" {
			t.Errorf("a declined session must stay open for another attempt, status %q", got)
		}
	})

	t.Logf("screenshots in %s", shots)
	if dir := os.Getenv("SWITCHYARD_SCREENSHOT_DIR"); dir != "" {
		copyDir(t, shots, dir)
	}
}

// TestCheckoutProviderOnAnotherOrigin checks the hand-off to a provider
// page on another origin in Chromium. Chromium applies form-action to the
// redirects that follow a form POST, so under form-action 'self' a 303 from
// the method form to another origin is blocked. The checkout therefore
// 303s only to origins it lists in form-action, and hands the shopper over
// with a plain navigation otherwise; both must end on the provider's page
// with no policy violation.
func TestCheckoutProviderOnAnotherOrigin(t *testing.T) {
	chromium := requireChromium(t)
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>Provider</title></head><body><h1>Provider page</h1></body></html>`)
	}))
	t.Cleanup(prov.Close)
	pages, err := checkout.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, chromium)

	for _, tc := range []struct {
		name    string
		origins []string
	}{
		{name: "unlisted origin: hand-off page"},
		{name: "listed origin: direct 303", origins: []string{prov.URL}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := &externalProvider{target: prov.URL + "/pay/123"}
			srv := httptest.NewServer(httpapi.New(httpapi.Options{}, httpapi.Checkout(svc, pages, httpapi.CheckoutOptions{FormActionOrigins: tc.origins})))
			t.Cleanup(srv.Close)
			svc.base = srv.URL

			tab := b.tab(t)
			tab.do(t,
				chromedp.Navigate(srv.URL+"/checkout/"+svc.id()),
				chromedp.WaitVisible(chromedp.CSS(`form.pay`)),
				chromedp.Click(chromedp.CSS(`form.pay button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Provider page"]`)),
			)
			if got := tab.location(t).String(); got != svc.target {
				t.Errorf("ended at %s, want %s", got, svc.target)
			}
			tab.noCSPViolations(t)
		})
	}
}

// externalProvider is a checkout service whose only provider lives on
// another origin.
type externalProvider struct {
	once   sync.Once
	sid    string
	base   string
	target string
}

var _ httpapi.CheckoutService = (*externalProvider)(nil)

func (p *externalProvider) id() string {
	p.once.Do(func() { p.sid = domain.NewSessionID() })
	return p.sid
}

func (p *externalProvider) CheckoutView(_ context.Context, id string) (*payments.Checkout, error) {
	if id != p.id() {
		return nil, domain.NotFound("session")
	}
	return &payments.Checkout{
		Session: &payments.SessionView{
			SessionID: id, Status: domain.StatusOpen, Amount: "10.00", Currency: "EUR", AmountRefunded: "0.00",
			ExpiresAt: time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		},
		MerchantName:    "Elsewhere Ltd",
		IntegrationMode: domain.ModeHostedCheckout,
		Methods:         []payments.MethodView{{Method: "card", Label: "Card"}},
	}, nil
}

func (p *externalProvider) StartPayment(context.Context, string, string, string) (string, error) {
	return p.target, nil
}

func (p *externalProvider) Cancel(context.Context, string) (*payments.SessionView, error) {
	return nil, domain.Conflict("not_supported", "not in this test")
}

// requireChromium finds Debian's chromium or skips (fails under
// SWITCHYARD_REQUIRE_CHROMIUM=1).
func requireChromium(t *testing.T) string {
	t.Helper()
	required := os.Getenv("SWITCHYARD_REQUIRE_CHROMIUM") == "1"
	if testing.Short() && !required {
		t.Skip("browser test skipped in -short mode")
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if required {
		t.Fatal("chromium is not installed but SWITCHYARD_REQUIRE_CHROMIUM=1")
	}
	t.Skip("chromium is not installed; set SWITCHYARD_REQUIRE_CHROMIUM=1 to make this a failure")
	return ""
}

// switchyardBinaries returns the switchyard binary and the plugin directory
// holding the sandbox plugin.
func switchyardBinaries(t *testing.T) (bin, pluginDir string) {
	t.Helper()
	if dir := os.Getenv("SWITCHYARD_BIN_DIR"); dir != "" {
		bin, pluginDir = filepath.Join(dir, "switchyard"), filepath.Join(dir, "plugins")
		if isFile(bin) && isFile(filepath.Join(pluginDir, "sandbox")) {
			return bin, pluginDir
		}
		t.Logf("SWITCHYARD_BIN_DIR=%s lacks switchyard or plugins/sandbox; building them", dir)
	}
	root := moduleRoot(t)
	out := t.TempDir()
	bin, pluginDir = filepath.Join(out, "switchyard"), filepath.Join(out, "plugins")
	goBuild(t, root, bin, "./cmd/switchyard")
	goBuild(t, root, filepath.Join(pluginDir, "sandbox"), "./plugins/sandbox")
	return bin, pluginDir
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("not inside the switchyard module")
	}
	return filepath.Dir(gomod)
}

func goBuild(t *testing.T, root, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// switchyard is a running `switchyard serve` with its config.
type switchyard struct {
	bin, config string
	public      string // http://127.0.0.1:port
	admin       string // http://127.0.0.1:port
	env         []string
	// logs collects the server's output.
	logs *syncBuffer
}

// freeAddr reserves a loopback port by listening and closing. The config
// must name real ports because checkout_url is built from public.addr.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func startSwitchyard(t *testing.T, bin, pluginDir string) *switchyard {
	t.Helper()
	return startSwitchyardWith(t, bin, pluginDir, serveOptions{})
}

// serveOptions change the test server's configuration.
type serveOptions struct {
	// AdminTokens replaces the admin.tokens list (YAML flow or block list
	// text); empty keeps the single plain test token.
	AdminTokens string
	// AdminExtra is YAML appended to the admin section's keys (indented
	// two spaces), e.g. console settings or demo_inbox.
	AdminExtra string
	// Env is added to the environment of every switchyard command.
	Env []string
}

func startSwitchyardWith(t *testing.T, bin, pluginDir string, o serveOptions) *switchyard {
	t.Helper()
	if o.AdminTokens == "" {
		o.AdminTokens = `["browser-test-admin-token"]`
	}
	dir := t.TempDir()
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i*7 + 3)
	}
	pub, adm := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`public:
  addr: %q
admin:
  addr: %q
  tokens: %s
%s
store:
  dsn: %q
log:
  level: debug
  format: text
secrets:
  keys:
    - id: test1
      key: %q
plugins:
  dir: %q
  instances:
    - id: sandbox
      kind: provider
      binary: sandbox
      settings:
        signing_secret: browser-test-sandbox-secret
routing:
  rules:
    - method: card
      providers: [{id: sandbox, weight: 100}]
    - method: bank_transfer
      providers: [{id: sandbox, weight: 100}]
    - method: wallet
      providers: [{id: sandbox, weight: 100}]
webhooks:
  allow_private_targets: true
`, pub, adm, o.AdminTokens, o.AdminExtra, "sqlite:"+filepath.Join(dir, "switchyard.db"), base64.StdEncoding.EncodeToString(key), pluginDir)
	path := filepath.Join(dir, "switchyard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	sy := &switchyard{bin: bin, config: path, public: "http://" + pub, admin: "http://" + adm, env: append(hermeticEnv(), o.Env...)}
	sy.run(t, "migrate")

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", path)
	cmd.Dir = dir
	cmd.Env = sy.env
	// A graceful stop lets the server shut its plugins down.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	logs := &syncBuffer{}
	sy.logs = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start switchyard serve: %v", err)
	}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			logs.Write([]byte(line + "\n"))
			if addr, ok := strings.CutPrefix(line, "public listener: "); ok {
				select {
				case listening <- strings.TrimSpace(addr):
				default:
				}
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("switchyard serve output:\n%s", logs.String())
		}
	})

	deadline := time.After(60 * time.Second)
	select {
	case addr := <-listening:
		if addr != sy.public {
			t.Fatalf("serve listens on %s, config says %s", addr, sy.public)
		}
	case err := <-exited:
		t.Fatalf("switchyard serve exited early: %v\n%s", err, logs.String())
	case <-deadline:
		t.Fatalf("switchyard serve did not report its listener\n%s", logs.String())
	}
	for {
		resp, err := http.Get(sy.public + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("switchyard serve exited: %v\n%s", err, logs.String())
		case <-deadline:
			t.Fatalf("switchyard never became ready\n%s", logs.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return sy
}

// hermeticEnv drops SWITCHYARD_* variables of the caller, which would
// override the test's config file.
func hermeticEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHYARD_") {
			env = append(env, kv)
		}
	}
	return env
}

// run runs a switchyard CLI command against the test config and returns
// its standard output.
func (s *switchyard) run(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(s.bin, append(args, "--config", s.config)...)
	cmd.Env = s.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("switchyard %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// merchant creates a merchant on plan with the approved domain
// shop.example and returns a fresh test API key.
func (s *switchyard) merchant(t *testing.T, name, plan string) string {
	t.Helper()
	var m struct {
		ID int64 `json:"id"`
	}
	out := s.run(t, "merchants", "create", "--name", name, "--plan", plan,
		"--domain", "shop.example", "--contact-email", "ops@shop.example", "--json")
	if err := json.Unmarshal(out, &m); err != nil || m.ID == 0 {
		t.Fatalf("merchants create --json: %v: %s", err, out)
	}
	var k struct {
		Key string `json:"key"`
	}
	out = s.run(t, "keys", "create", "--merchant", fmt.Sprint(m.ID), "--json")
	if err := json.Unmarshal(out, &k); err != nil || !strings.HasPrefix(k.Key, "sk_test_") {
		t.Fatalf("keys create --json: %v: %s", err, out)
	}
	return k.Key
}

type session struct {
	SessionID   string `json:"session_id"`
	OrderID     string `json:"order_id"`
	CheckoutURL string `json:"checkout_url"`
	Status      string `json:"status"`
}

func (s *switchyard) api(t *testing.T, method, path, key string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.public+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (s *switchyard) createSession(t *testing.T, key, method string) session {
	t.Helper()
	body := map[string]any{
		"domain":         "shop.example",
		"amount":         "49.95",
		"currency":       "USD",
		"order_id":       fmt.Sprintf("ORDER-%d", time.Now().UnixNano()),
		"return_url":     "https://shop.example/success",
		"cancel_url":     "https://shop.example/cancel",
		"customer_email": "buyer@example.com",
	}
	if method != "" {
		body["method"] = method
	}
	status, b := s.api(t, http.MethodPost, "/v1/sessions", key, body)
	if status != http.StatusCreated {
		t.Fatalf("POST /v1/sessions = %d: %s", status, b)
	}
	var out session
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode session: %v: %s", err, b)
	}
	if !strings.HasPrefix(out.CheckoutURL, s.public+"/checkout/") {
		t.Fatalf("checkout_url %q is not on %s", out.CheckoutURL, s.public)
	}
	return out
}

func (s *switchyard) sessionStatus(t *testing.T, key, id string) string {
	t.Helper()
	status, b := s.api(t, http.MethodGet, "/v1/sessions/"+url.PathEscape(id), key, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /v1/sessions/%s = %d: %s", id, status, b)
	}
	var out session
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode session: %v: %s", err, b)
	}
	return out.Status
}

// browser is one headless Chromium process; each subtest opens a tab.
type browser struct{ ctx context.Context }

func newBrowser(t *testing.T, path string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{ctx: bctx}
}

// tab is one browser tab with a deadline, recording console messages.
type tab struct {
	ctx context.Context
	mu  sync.Mutex
	msg []chromedp.ConsoleMessage
}

func (b *browser) tab(t *testing.T) *tab {
	t.Helper()
	return b.tabWith(t)
}

func (b *browser) tabWith(t *testing.T, opts ...chromedp.ContextOption) *tab {
	t.Helper()
	tctx, cancelTab := chromedp.NewContext(b.ctx, opts...)
	// A bound on the whole tab, not a timed assertion: it turns a hung
	// browser into a failure. The console test's operator tab lives for the
	// whole flow (about 100 s on a loaded 2-core machine).
	ctx, cancel := context.WithTimeout(tctx, 5*time.Minute)
	t.Cleanup(func() { cancel(); cancelTab() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	tb := &tab{ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.msg = append(tb.msg, m)
			tb.mu.Unlock()
		}
	}()
	return tb
}

func (tb *tab) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
		body, _ := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("browser: %v\nat %s:\n%s", err, loc, body)
	}
}

func (tb *tab) location(t *testing.T) *url.URL {
	t.Helper()
	loc, err := chromedp.Run(tb.ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("location %q: %v", loc, err)
	}
	return u
}

func (tb *tab) wantPath(t *testing.T, want string) {
	t.Helper()
	if got := tb.location(t).Path; got != want {
		t.Errorf("browser is at %s, want %s", got, want)
	}
}

func (tb *tab) wantPathPrefix(t *testing.T, prefix string) {
	t.Helper()
	if got := tb.location(t).Path; !strings.HasPrefix(got, prefix) {
		t.Errorf("browser is at %s, want %s…", got, prefix)
	}
}

func (tb *tab) wantText(t *testing.T, wants ...string) {
	t.Helper()
	text, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatalf("page text: %v", err)
	}
	text = strings.ReplaceAll(text, "\u00a0", " ")
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("page lacks %q; it says:\n%s", w, text)
		}
	}
}

// wantStyled checks that the stylesheet loaded under the CSP: the panel
// has its max width only when checkout.css applied.
func (tb *tab) wantStyled(t *testing.T) {
	t.Helper()
	w, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('.panel')).maxWidth`))
	if err != nil {
		t.Fatalf("computed style: %v", err)
	}
	if w == "none" || w == "" {
		t.Errorf("checkout.css did not apply (panel max-width %q)", w)
	}
}

func (tb *tab) screenshot(t *testing.T, path string, width, height int64) {
	t.Helper()
	tb.do(t, chromedp.EmulateViewport(width, height))
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// noCSPViolations fails on any console report of a blocked resource or
// form submission: the flow must work under the strict policy as is.
func (tb *tab) noCSPViolations(t *testing.T) {
	t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, m := range tb.msg {
		if strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused to") {
			t.Errorf("browser reported a policy violation: %s (%s)", m.Text, m.URL)
		}
	}
}

// syncBuffer collects process output from two goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(errors.Join(err, fmt.Errorf("copy screenshot %s", e.Name())))
		}
	}
}
