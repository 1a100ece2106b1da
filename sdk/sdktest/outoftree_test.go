package sdktest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// acmeMain is a complete third-party provider: it imports nothing from
// Switchyard but the sdk packages. Its webhooks are JSON signed with
// HMAC-SHA256 of the body in the Acme-Signature header.
const acmeMain = `package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
)

type acme struct {
	mu       sync.Mutex
	key      []byte
	payments map[string]provider.Payment
	byIdem   map[string]provider.CreatePaymentResponse
}

func (a *acme) Describe(context.Context) (provider.Description, error) {
	return provider.Description{
		Info:    meta.Info{Name: "acme", Version: "0.3.0"},
		Methods: []provider.Method{{Method: "card", Label: "Acme card", Currencies: []string{"EUR", "USD"}}},
	}, nil
}

func (a *acme) Configure(_ context.Context, s map[string]string) error {
	var cfg struct {
		APIKey string ` + "`" + `setting:"api_key,required,secret"` + "`" + `
	}
	if err := sdk.DecodeSettings(s, &cfg); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.key = []byte(cfg.APIKey)
	return nil
}

func (a *acme) CheckHealth(context.Context) (meta.Health, error) {
	return meta.Health{Status: meta.HealthOK}, nil
}

func (a *acme) CreatePayment(ctx context.Context, r provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	if err := ctx.Err(); err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	if r.Amount <= 0 || (r.Currency != "EUR" && r.Currency != "USD") || r.Method != "card" {
		return provider.CreatePaymentResponse{}, sdk.Invalid("unsupported payment %d %s %s", r.Amount, r.Currency, r.Method)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if prev, ok := a.byIdem[r.IdempotencyKey]; ok {
		return prev, nil
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	ref := "acme_" + hex.EncodeToString(b)
	a.payments[ref] = provider.Payment{ProviderRef: ref, Status: provider.StatusPending, Amount: r.Amount, Currency: r.Currency}
	resp := provider.CreatePaymentResponse{
		ProviderRef: ref, Status: provider.StatusPending,
		NextAction: provider.NextAction{Type: provider.NextActionRedirect, URL: "https://pay.acme.test/checkout/" + ref},
	}
	a.byIdem[r.IdempotencyKey] = resp
	return resp, nil
}

func (a *acme) GetPayment(_ context.Context, r provider.GetPaymentRequest) (provider.Payment, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.payments[r.ProviderRef]
	if !ok {
		return provider.Payment{}, sdk.NotFound("no payment %s", r.ProviderRef)
	}
	return p, nil
}

type acmeEvent struct {
	ID, Kind, Ref, Session, Currency string
	Amount                           int64
	At                               time.Time
}

func (a *acme) HandleWebhook(_ context.Context, r provider.WebhookRequest) (provider.WebhookResponse, error) {
	a.mu.Lock()
	key := a.key
	a.mu.Unlock()
	mac := hmac.New(sha256.New, key)
	mac.Write(r.Body)
	got, _ := hex.DecodeString(r.Headers.Get("Acme-Signature"))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return provider.WebhookResponse{}, sdk.Unauthorized("bad signature")
	}
	var e acmeEvent
	if err := json.Unmarshal(r.Body, &e); err != nil {
		return provider.WebhookResponse{}, sdk.Invalid("body: %v", err)
	}
	if e.Kind != "charge.paid" {
		return provider.WebhookResponse{Response: provider.HTTPResponse{Status: http.StatusNoContent}}, nil
	}
	return provider.WebhookResponse{
		Events: []provider.Event{{
			Type: provider.PaymentSucceeded, ProviderEventID: e.ID, ProviderRef: e.Ref, SessionID: e.Session,
			Amount: e.Amount, Currency: e.Currency, OccurredAt: e.At, RawType: e.Kind,
		}},
		Response: provider.HTTPResponse{Status: http.StatusOK},
	}, nil
}

var _ provider.Provider = (*acme)(nil)

func main() {
	sdk.Serve(sdk.ServeOpts{Provider: &acme{
		payments: map[string]provider.Payment{},
		byIdem:   map[string]provider.CreatePaymentResponse{},
	}})
}
`

// TestOutOfTreeProvider proves a third party can ship a gateway with the SDK
// module alone: it writes acmeMain into a fresh module outside the
// repository that requires only github.com/switchyard/switchyard/sdk,
// builds it, checks that its module graph holds none of the host's
// dependencies, launches the binary the way a host does — go-plugin client,
// fixed handshake, AutoMTLS, no host environment, sha256 pinned — and runs
// the provider conformance suite against the live process.
//
// The SDK is not published from this checkout, so the fresh module points
// the requirement at the local sdk directory with a replace directive; a
// real plugin's go.mod has only the require, resolved from the module
// proxy by its sdk/vX.Y.Z tag. Modules come from the local cache, and from
// GOPROXY for the few go.mod files only a fresh module's graph needs.
func TestOutOfTreeProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin binary")
	}
	sdkDir := sdkRoot(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "main.go"), acmeMain)
	write(t, filepath.Join(dir, "go.mod"), fmt.Sprintf(`module example.com/acmegateway

go 1.26

require github.com/switchyard/switchyard/sdk v0.0.0

replace github.com/switchyard/switchyard/sdk => %s
`, sdkDir))
	sum, err := os.ReadFile(filepath.Join(sdkDir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.sum"), string(sum))

	bin := filepath.Join(dir, "acme-plugin")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(),
		"GOFLAGS=-mod=mod -buildvcs=false", "GOSUMDB=off", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build out-of-tree plugin: %v\n%s", err, out)
	}
	checkModuleGraph(t, dir)

	p := sdktest.LaunchProvider(t, bin, host.Options{SHA256: fileSHA256(t, bin)})

	const apiKey = "acme-test-key"
	sdktest.RunProviderConformance(t, p, sdktest.ProviderConformanceConfig{
		Settings:         map[string]string{"api_key": apiKey},
		RequiredSettings: []string{"api_key"},
		SignedWebhook: func(t testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest {
			body, _ := json.Marshal(map[string]any{
				"ID": "evt_acme_1", "Kind": "charge.paid", "Ref": resp.ProviderRef, "Session": req.SessionID,
				"Amount": req.Amount, "Currency": req.Currency, "At": time.Now().UTC(),
			})
			mac := hmac.New(sha256.New, []byte(apiKey))
			mac.Write(body)
			return provider.WebhookRequest{
				Method: http.MethodPost, Path: "/hooks/acme/prv_acme",
				Headers: http.Header{"Acme-Signature": {hex.EncodeToString(mac.Sum(nil))}}, Body: body,
			}
		},
	})

	// A binary that does not match the pinned checksum is refused.
	bad := plugin.NewClient(host.ClientConfig(exec.Command(bin), host.Options{
		SHA256: make([]byte, sha256.Size), Logger: hclog.NewNullLogger(),
	}))
	t.Cleanup(bad.Kill)
	if _, err := bad.Client(); !errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		t.Errorf("plugin with a mismatched sha256: %v, want ErrChecksumsDoNotMatch", err)
	}
}

// hostModules are modules of Switchyard's host that a plugin built on the
// SDK must never drag in.
var hostModules = []string{
	"github.com/labstack/echo", "github.com/uptrace/bun", "github.com/riverqueue/river",
	"github.com/stripe/stripe-go", "github.com/knadh/koanf", "github.com/spf13/cobra",
	"modernc.org/sqlite", "github.com/mattn/go-sqlite3", "github.com/jackc/pgx",
}

// checkModuleGraph fails if the out-of-tree module's graph (go list -m all)
// reaches Switchyard's root module or any host dependency: the SDK module
// must stand alone.
func checkModuleGraph(t *testing.T, dir string) {
	t.Helper()
	list := exec.Command("go", "list", "-m", "all")
	list.Dir = dir
	list.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOSUMDB=off", "GOWORK=off")
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list -m all: %v", err)
	}
	mods := strings.Split(strings.TrimSpace(string(out)), "\n")
	sawSDK := false
	for _, line := range mods {
		path := strings.Fields(line)[0]
		if path == "github.com/switchyard/switchyard/sdk" {
			sawSDK = true
		}
		if path == "github.com/switchyard/switchyard" {
			t.Errorf("the out-of-tree plugin's module graph holds Switchyard's root module")
		}
		for _, host := range hostModules {
			if path == host || strings.HasPrefix(path, host+"/") {
				t.Errorf("the out-of-tree plugin's module graph holds the host dependency %s", line)
			}
		}
	}
	if !sawSDK || len(mods) < 5 {
		t.Fatalf("go list -m all does not look like a module graph with the SDK:\n%s", out)
	}
	t.Logf("out-of-tree plugin module graph: %d modules", len(mods))
}

// sdkRoot is the sdk module's directory.
func sdkRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if filepath.Base(filepath.Dir(mod)) != "sdk" {
		t.Fatalf("sdktest's module is %s, want sdk/go.mod", mod)
	}
	return filepath.Dir(mod)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fileSHA256(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return h.Sum(nil)
}
