package pluginhost_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/core/pluginhost/internal/testprovider"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
)

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type hostOpts struct {
	dir          string
	startTimeout time.Duration
	callTimeout  time.Duration
	reattach     string
	opts         pluginhost.Options
}

func instance(id, kind, binary string) config.PluginInstance {
	return config.PluginInstance{ID: id, Kind: kind, Binary: binary}
}

func testProvider(id string) config.PluginInstance {
	return instance(id, "provider", "testprovider")
}

// newHost builds a host over the shared plugin dir (unless o.dir is set)
// with quick supervision, and closes it when the test ends.
func newHost(t *testing.T, o hostOpts, instances ...config.PluginInstance) *pluginhost.Host {
	t.Helper()
	if o.dir == "" {
		o.dir = pluginsDir
	}
	if o.startTimeout == 0 {
		o.startTimeout = 20 * time.Second
	}
	if o.callTimeout == 0 {
		o.callTimeout = 10 * time.Second
	}
	if o.opts.HealthInterval == 0 {
		o.opts.HealthInterval = 200 * time.Millisecond
	}
	if o.opts.BackoffMin == 0 {
		o.opts.BackoffMin = 50 * time.Millisecond
		o.opts.BackoffMax = 500 * time.Millisecond
	}
	h, err := pluginhost.New(config.PluginsConfig{
		Dir: o.dir, StartTimeout: o.startTimeout, CallTimeout: o.callTimeout, Instances: instances, Reattach: o.reattach,
	}, o.opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

func start(t *testing.T, h *pluginhost.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := h.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

// waitFor polls cond until it holds or the wait bound passes. It bounds a
// wait for the supervisor, it does not measure anything.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func info(t *testing.T, h *pluginhost.Host, id string) pluginhost.InstanceInfo {
	t.Helper()
	in, ok := h.Instance(id)
	if !ok {
		t.Fatalf("no instance %q", id)
	}
	return in
}

func payment(key string) provider.CreatePaymentRequest {
	return provider.CreatePaymentRequest{
		SessionID: "cs_test", IdempotencyKey: key, Amount: 4995, Currency: "EUR", Method: "card",
		ProviderBaseURL: "http://127.0.0.1/p/tp",
	}
}

func TestStartDescribeConfigureCall(t *testing.T) {
	h := newHost(t, hostOpts{}, testProvider("tp"))
	start(t, h)

	if !h.Healthy("tp") {
		t.Fatalf("not healthy after Start: %+v", info(t, h, "tp").Health)
	}
	got := info(t, h, "tp")
	if got.Kind != meta.KindProvider || got.Name != testprovider.Name || got.Version != testprovider.Version {
		t.Errorf("info = %+v", got)
	}
	if len(got.Methods) != 1 || got.Methods[0].Method != "card" {
		t.Errorf("methods = %+v", got.Methods)
	}
	if got.PID <= 0 || got.Restarts != 0 || got.LastError != "" {
		t.Errorf("pid %d restarts %d last error %q", got.PID, got.Restarts, got.LastError)
	}
	if ids := h.Providers(); len(ids) != 1 || ids[0] != "tp" {
		t.Errorf("Providers() = %v", ids)
	}

	p, err := h.Provider("tp")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.CreatePayment(context.Background(), payment("k1"))
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	if resp.ProviderRef != "tp_k1" || resp.Status != provider.StatusPending ||
		resp.NextAction.URL != "http://127.0.0.1/p/tp/pay/k1" {
		t.Errorf("CreatePayment = %+v", resp)
	}
}

func TestAccessorErrors(t *testing.T) {
	disabled := testProvider("off")
	no := false
	disabled.Enabled = &no
	h := newHost(t, hostOpts{}, testProvider("tp"), disabled)
	start(t, h)

	if _, err := h.Provider("nope"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := h.Mailer("tp"); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("wrong kind: %v", err)
	}
	if h.Healthy("nope") || h.Healthy("off") {
		t.Error("unknown or disabled instance reported healthy")
	}
	if ids := h.Providers(); len(ids) != 1 || ids[0] != "tp" {
		t.Errorf("Providers() = %v, want only the enabled one", ids)
	}
	if st := info(t, h, "off").Health.State; st != pluginhost.StateDisabled {
		t.Errorf("disabled state = %s", st)
	}
	p, err := h.Provider("off")
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.CreatePayment(context.Background(), payment("k"))
	if !errors.Is(err, domain.ErrUnavailable) || sdk.CategoryOf(err) != sdk.CategoryUnavailable {
		t.Errorf("call to disabled instance: %v", err)
	}
}

func TestErrorCategoriesCrossTheBoundary(t *testing.T) {
	h := newHost(t, hostOpts{}, testProvider("tp"))
	start(t, h)
	p, _ := h.Provider("tp")
	ctx := context.Background()

	tests := []struct {
		name     string
		call     func() error
		category sdk.Category
		domain   error // the domain sentinel it must match, nil for none
	}{
		{"not found", func() error {
			_, err := p.GetPayment(ctx, provider.GetPaymentRequest{ProviderRef: "x"})
			return err
		}, sdk.CategoryNotFound, domain.ErrNotFound},
		{"invalid", func() error {
			req := payment("k")
			req.Amount = 0
			_, err := p.CreatePayment(ctx, req)
			return err
		}, sdk.CategoryInvalidInput, nil},
		{"unauthorized", func() error {
			_, err := p.HandleWebhook(ctx, provider.WebhookRequest{})
			return err
		}, sdk.CategoryUnauthorized, nil},
		{"unimplemented", func() error {
			_, err := p.HandleHTTP(ctx, provider.HTTPRequest{Path: "/"})
			return err
		}, sdk.CategoryUnimplemented, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if got := sdk.CategoryOf(err); got != tt.category {
				t.Fatalf("category = %q (%v), want %q", got, err, tt.category)
			}
			var ce *pluginhost.CallError
			if !errors.As(err, &ce) || ce.Instance != "tp" {
				t.Errorf("error %v does not name the instance", err)
			}
			if errors.Is(err, domain.ErrUnavailable) {
				t.Errorf("%v matches ErrUnavailable", err)
			}
			if tt.domain != nil && !errors.Is(err, tt.domain) {
				t.Errorf("%v does not match %v", err, tt.domain)
			}
		})
	}
}

func TestCallTimeoutApplies(t *testing.T) {
	// No health checks during the test: with this short call timeout a
	// loaded machine could fail three in a row and restart the plugin.
	h := newHost(t, hostOpts{callTimeout: 300 * time.Millisecond,
		opts: pluginhost.Options{HealthInterval: time.Hour}}, testProvider("tp"))
	start(t, h)
	p, _ := h.Provider("tp")

	req := payment("slow")
	req.Metadata = map[string]string{testprovider.MetaSleep: "30s"}
	_, err := p.CreatePayment(context.Background(), req)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("call past the call timeout: %v", err)
	}

	// A caller's own, later deadline does not lift the host's bound, and a
	// sooner one wins.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if _, err := p.CreatePayment(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with a later caller deadline: %v", err)
	}
	if !h.Healthy("tp") {
		t.Error("a slow call made the plugin unhealthy")
	}
}

func TestConfigureRejectedIsRefusedWithoutLeakingSettings(t *testing.T) {
	pc := testProvider("tp")
	pc.Settings = map[string]config.Secret{
		testprovider.SettingReject: config.NewSecret("1"),
		"api_key":                  config.NewSecret("sk_live_very_secret_value"),
	}
	logs := &syncBuffer{}
	h := newHost(t, hostOpts{opts: pluginhost.Options{
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}}, pc)
	err := h.Start(context.Background())
	if err == nil {
		t.Fatal("Start accepted settings the plugin rejects")
	}
	if !strings.Contains(err.Error(), "plugin tp") || !strings.Contains(err.Error(), "rejected the settings") {
		t.Errorf("error %q does not say which instance and why", err)
	}
	got := info(t, h, "tp")
	if got.Health.State != pluginhost.StateUnhealthy || got.Restarts != 0 {
		t.Errorf("after refusal: %+v", got)
	}
	for what, text := range map[string]string{"error": err.Error(), "logs": logs.String(), "last error": got.LastError} {
		if strings.Contains(text, "sk_live_very_secret_value") {
			t.Errorf("%s contain a setting value", what)
		}
	}
}

func TestKindMismatchIsRefused(t *testing.T) {
	h := newHost(t, hostOpts{}, instance("reg", "registrar", "testprovider"))
	err := h.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "plugin reg") || !strings.Contains(err.Error(), "does not serve the registrar kind") {
		t.Fatalf("Start = %v", err)
	}
	r, _ := h.Registrar("reg")
	if _, err := r.TestConnection(context.Background()); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("call to refused instance: %v", err)
	}
}

func TestSecondKindFromTheSameBinary(t *testing.T) {
	h := newHost(t, hostOpts{}, testProvider("tp"), instance("mail", "mailer", "testprovider"))
	start(t, h)
	m, err := h.Mailer("mail")
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Send(context.Background(), mailer.Message{To: []string{"ann@example.test"}, Subject: "hi", Text: "hello"})
	if err != nil || res.MessageID != "<ann.example.test@testprovider>" {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	_, err = m.Send(context.Background(), mailer.Message{Subject: "nobody"})
	if sdk.CategoryOf(err) != sdk.CategoryInvalidInput {
		t.Errorf("Send without recipient: %v", err)
	}
	got := info(t, h, "mail")
	if got.Kind != meta.KindMailer || got.Name != testprovider.Name+"-mailer" || len(got.Methods) != 0 {
		t.Errorf("mailer info = %+v", got)
	}
	if ids := h.Providers(); len(ids) != 1 || ids[0] != "tp" {
		t.Errorf("Providers() = %v", ids)
	}
	if info(t, h, "tp").PID == got.PID {
		t.Error("two instances share one process")
	}
}

func TestPluginStderrIsFoldedIntoStructuredLogs(t *testing.T) {
	logs := &syncBuffer{}
	h := newHost(t, hostOpts{opts: pluginhost.Options{
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}}, testProvider("tp"))
	start(t, h)

	// The test provider logs "configured" through hclog JSON on its stderr,
	// and prints a line to stdout on Refund; each must arrive as a record
	// of its own, tagged with the instance.
	p, _ := h.Provider("tp")
	if _, err := p.Refund(context.Background(), provider.RefundRequest{ProviderRef: "x", IdempotencyKey: "rk1"}); err != nil {
		t.Fatal(err)
	}
	find := func(msg string) map[string]any {
		for line := range strings.Lines(logs.String()) {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line is not JSON: %q", line)
			}
			if rec["msg"] == msg {
				return rec
			}
		}
		return nil
	}
	waitFor(t, "the plugin's log record", func() bool { return find("configured") != nil })
	if rec := find("configured"); rec["plugin"] != "tp" || rec["level"] != "INFO" || rec["settings"] != float64(0) {
		t.Errorf("plugin record = %v", rec)
	}
	waitFor(t, "the plugin's stdout line", func() bool { return find("plugin output") != nil })
	if rec := find("plugin output"); rec["plugin"] != "tp" || rec["stream"] != "stdout" || rec["line"] != "refund rk1" {
		t.Errorf("stdout record = %v", rec)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		ins  []config.PluginInstance
		want string
	}{
		{"unknown kind", []config.PluginInstance{instance("a", "gateway", "x")}, "unknown kind"},
		{"duplicate id", []config.PluginInstance{testProvider("a"), testProvider("a")}, "duplicate instance id"},
		{"bad id", []config.PluginInstance{testProvider("A B")}, "must match"},
		{"no binary", []config.PluginInstance{instance("a", "provider", "")}, "no binary"},
		{"bad sha256", []config.PluginInstance{{ID: "a", Kind: "provider", Binary: "x", SHA256: "abc"}}, "64 hex digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pluginhost.New(config.PluginsConfig{Dir: pluginsDir, Instances: tt.ins}, pluginhost.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("New = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestHashFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := pluginhost.HashFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// sha256("abc"), FIPS 180-2 test vector.
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("HashFile = %s, want %s", got, want)
	}
	if _, err := pluginhost.HashFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("HashFile of a missing file succeeded")
	}
}

func TestPluginReportedHealth(t *testing.T) {
	pc := testProvider("tp")
	pc.Settings = map[string]config.Secret{testprovider.SettingHealth: config.NewSecret("degraded")}
	h := newHost(t, hostOpts{}, pc)
	start(t, h) // a degraded plugin has started; it is just not healthy

	got := info(t, h, "tp")
	if h.Healthy("tp") || got.Health.State != pluginhost.StateUnhealthy ||
		!strings.HasPrefix(got.Health.Message, "plugin reports degraded") {
		t.Fatalf("degraded plugin: %+v", got.Health)
	}
	p, _ := h.Provider("tp")
	if _, err := p.CreatePayment(context.Background(), payment("k")); err != nil {
		t.Errorf("a running but degraded plugin refused a call: %v", err)
	}
	// Once it reports ok, the next health check brings it back.
	if err := p.Configure(context.Background(), map[string]string{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "healthy", func() bool { return h.Healthy("tp") })
	if got := info(t, h, "tp"); got.Restarts != 0 {
		t.Errorf("a degraded plugin was restarted: %+v", got)
	}
}

func TestTraceContextReachesThePlugin(t *testing.T) {
	h := newHost(t, hostOpts{}, testProvider("tp"))
	start(t, h)
	p, _ := h.Provider("tp")

	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	got, err := p.GetPayment(ctx, provider.GetPaymentRequest{ProviderRef: testprovider.RefTrace})
	if err != nil {
		t.Fatal(err)
	}
	if got.ProviderRef != sc.TraceID().String() {
		t.Errorf("plugin saw trace %q, want %s", got.ProviderRef, sc.TraceID())
	}
	// Without a trace in the caller's context the plugin sees none.
	got, err = p.GetPayment(context.Background(), provider.GetPaymentRequest{ProviderRef: testprovider.RefTrace})
	if err != nil || got.ProviderRef != (trace.TraceID{}).String() {
		t.Errorf("untraced call: plugin saw %q, %v", got.ProviderRef, err)
	}
}

// TestCallsRunConcurrently sends calls that each wait, inside the plugin,
// until all of them have arrived: a host that serialized calls anywhere on
// the path would never get them all in at once.
func TestCallsRunConcurrently(t *testing.T) {
	h := newHost(t, hostOpts{callTimeout: 20 * time.Second}, testProvider("tp"))
	start(t, h)
	p, _ := h.Provider("tp")

	const n = 32
	errs := make(chan error, n)
	for i := range n {
		go func() {
			req := payment(fmt.Sprintf("c-%d", i))
			req.Metadata = map[string]string{testprovider.MetaBarrier: fmt.Sprint(n)}
			_, err := p.CreatePayment(context.Background(), req)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("call did not meet the others inside the plugin: %v", err)
		}
	}
}
