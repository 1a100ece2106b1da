package pluginhost_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/core/pluginhost/internal/testprovider"
	"github.com/switchyard/switchyard/sdk"
)

// assertUnavailable checks err is the host's "unavailable": both the SDK
// category and the domain sentinel, naming the instance.
func assertUnavailable(t *testing.T, err error, instance string) {
	t.Helper()
	if err == nil {
		t.Fatal("call succeeded, want unavailable")
	}
	if sdk.CategoryOf(err) != sdk.CategoryUnavailable || !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("error %v: category %q, want unavailable matching domain.ErrUnavailable", err, sdk.CategoryOf(err))
	}
	if !strings.Contains(err.Error(), "plugin "+instance) {
		t.Errorf("error %q does not name instance %s", err, instance)
	}
}

func TestKillDuringCallsFailsFastThenRecovers(t *testing.T) {
	h := newHost(t, hostOpts{
		callTimeout: 30 * time.Second,
		// A backoff of about a second keeps the unhealthy window wide
		// enough to observe.
		opts: pluginhost.Options{HealthInterval: 200 * time.Millisecond, BackoffMin: time.Second, BackoffMax: 2 * time.Second},
	}, testProvider("tp"))
	start(t, h)
	p, _ := h.Provider("tp")
	oldPID := info(t, h, "tp").PID

	// Calls parked inside the plugin when it dies: each has a deadline far
	// away and must come back well before it, as unavailable.
	const parked = 8
	type outcome struct {
		err    error
		ctxErr error
	}
	parkedDone := make(chan outcome, parked)
	for i := range parked {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
			defer cancel()
			req := payment(fmt.Sprintf("parked-%d", i))
			req.Metadata = map[string]string{testprovider.MetaSleep: "60s"}
			_, err := p.CreatePayment(ctx, req)
			parkedDone <- outcome{err: err, ctxErr: ctx.Err()}
		}()
	}

	// A stream of short calls running through the crash and the restart.
	var (
		stopStream         atomic.Bool
		okBefore, okAfter  atomic.Int64
		unavailable        atomic.Int64
		streamMu           sync.Mutex
		streamErrs         []error
		killed, recovered  atomic.Bool
		streamWG           sync.WaitGroup
		unexpectedCategory atomic.Int64
	)
	for w := range 8 {
		streamWG.Add(1)
		go func() {
			defer streamWG.Done()
			for i := 0; !stopStream.Load(); i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := p.CreatePayment(ctx, payment(fmt.Sprintf("s-%d-%d", w, i)))
				ctxErr := ctx.Err()
				cancel()
				switch {
				case err == nil && recovered.Load():
					okAfter.Add(1)
				case err == nil && !killed.Load():
					okBefore.Add(1)
				case err == nil:
				case sdk.CategoryOf(err) == sdk.CategoryUnavailable && errors.Is(err, domain.ErrUnavailable) && ctxErr == nil:
					unavailable.Add(1)
				default:
					unexpectedCategory.Add(1)
					streamMu.Lock()
					streamErrs = append(streamErrs, err)
					streamMu.Unlock()
				}
			}
		}()
	}
	waitFor(t, "calls flowing", func() bool { return okBefore.Load() > 50 })
	time.Sleep(200 * time.Millisecond) // let the parked calls reach the plugin

	killed.Store(true)
	if err := syscall.Kill(oldPID, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", oldPID, err)
	}
	for range parked {
		o := <-parkedDone
		assertUnavailable(t, o.err, "tp")
		if o.ctxErr != nil || errors.Is(o.err, context.DeadlineExceeded) {
			t.Errorf("parked call ran into its deadline instead of failing fast: %v", o.err)
		}
	}

	waitFor(t, "unhealthy after the kill", func() bool { return info(t, h, "tp").Health.State == pluginhost.StateUnhealthy })
	if h.Healthy("tp") {
		t.Error("Healthy() true while the plugin is down")
	}
	// While it is down, a call fails at once rather than waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	_, err := p.CreatePayment(ctx, payment("while-down"))
	if ctx.Err() != nil {
		t.Error("call while down waited for its deadline")
	}
	cancel()
	if in := info(t, h, "tp"); in.Health.State == pluginhost.StateUnhealthy {
		assertUnavailable(t, err, "tp")
	}

	waitFor(t, "healthy again", func() bool {
		in := info(t, h, "tp")
		return in.Health.State == pluginhost.StateHealthy && in.PID != 0 && in.PID != oldPID
	})
	recovered.Store(true)
	got := info(t, h, "tp")
	if got.Restarts < 1 || !strings.Contains(got.LastError, "exited") {
		t.Errorf("after recovery: restarts %d, last error %q", got.Restarts, got.LastError)
	}
	waitFor(t, "calls succeeding after the restart", func() bool { return okAfter.Load() > 50 })
	stopStream.Store(true)
	streamWG.Wait()

	if n := unexpectedCategory.Load(); n > 0 {
		t.Errorf("%d stream calls failed with something other than a prompt unavailable, e.g. %v", n, streamErrs[0])
	}
	t.Logf("stream: %d ok before, %d unavailable, %d ok after; restarted as pid %d", okBefore.Load(), unavailable.Load(), okAfter.Load(), got.PID)
}

func TestHungPluginIsKilledAndRestarted(t *testing.T) {
	h := newHost(t, hostOpts{
		callTimeout: 500 * time.Millisecond,
		opts:        pluginhost.Options{HealthInterval: 100 * time.Millisecond, BackoffMin: 50 * time.Millisecond, BackoffMax: 500 * time.Millisecond},
	}, testProvider("tp"))
	start(t, h)
	oldPID := info(t, h, "tp").PID
	if err := syscall.Kill(oldPID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Whatever happens, never leave a stopped process behind.
	t.Cleanup(func() { _ = syscall.Kill(oldPID, syscall.SIGKILL) })

	waitFor(t, "a new process", func() bool {
		in := info(t, h, "tp")
		return in.Health.State == pluginhost.StateHealthy && in.PID != oldPID
	})
	if got := info(t, h, "tp"); !strings.Contains(got.LastError, "unresponsive") {
		t.Errorf("last error %q does not say the plugin hung", got.LastError)
	}
	waitFor(t, "the hung process to be gone", func() bool {
		return errors.Is(syscall.Kill(oldPID, 0), syscall.ESRCH)
	})
}

func TestChecksumPin(t *testing.T) {
	sum, err := pluginhost.HashFile(filepath.Join(pluginsDir, "testprovider"))
	if err != nil {
		t.Fatal(err)
	}
	wrong, _ := pluginhost.HashFile(os.Args[0]) // the test binary: a real file, another hash
	tests := []struct {
		name    string
		sha     string
		wantErr string
	}{
		{"matching", sum, ""},
		{"matching upper case", strings.ToUpper(sum), ""},
		{"mismatch", wrong, "does not match the configured sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc := testProvider("tp")
			pc.SHA256 = tt.sha
			h := newHost(t, hostOpts{}, pc)
			err := h.Start(context.Background())
			if tt.wantErr == "" {
				if err != nil || !h.Healthy("tp") {
					t.Fatalf("Start = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "plugin tp") {
				t.Fatalf("Start = %v, want %q naming the instance", err, tt.wantErr)
			}
			// Refused for good: not retried, and calls fail fast.
			time.Sleep(200 * time.Millisecond)
			got := info(t, h, "tp")
			if got.Health.State != pluginhost.StateUnhealthy || got.Restarts != 0 || got.PID != 0 {
				t.Errorf("after mismatch: %+v", got)
			}
			p, _ := h.Provider("tp")
			_, err = p.CreatePayment(context.Background(), payment("k"))
			assertUnavailable(t, err, "tp")
		})
	}
}

func TestBinaryMustResolveInsidePluginDir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "plugins")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{dir, outside, filepath.Join(dir, "nested")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src := filepath.Join(pluginsDir, "testprovider")
	for _, dst := range []string{filepath.Join(dir, "testprovider"), filepath.Join(outside, "testprovider")} {
		if err := copyFile(src, dst); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		filepath.Join(dir, "escape"):             filepath.Join(outside, "testprovider"),
		filepath.Join(dir, "relescape"):          "../outside/testprovider",
		filepath.Join(dir, "outdir"):             outside,
		filepath.Join(dir, "alias"):              "testprovider",
		filepath.Join(dir, "nested", "up"):       "../testprovider",
		filepath.Join(root, "plugins-link"):      dir,
		filepath.Join(dir, "nested", "loop-out"): "../../outside",
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name    string
		dir     string
		binary  string
		refused bool
	}{
		{"plain file", dir, "testprovider", false},
		{"symlink to a file inside", dir, "alias", false},
		{"nested symlink to a file inside", dir, "nested/up", false},
		{"plugin dir itself a symlink", filepath.Join(root, "plugins-link"), "testprovider", false},
		{"dot-dot path", dir, "../outside/testprovider", true},
		{"absolute path outside", dir, filepath.Join(outside, "testprovider"), true},
		{"symlink to a file outside", dir, "escape", true},
		{"relative symlink outside", dir, "relescape", true},
		{"through a symlinked dir outside", dir, "outdir/testprovider", true},
		{"through a nested symlinked dir outside", dir, "nested/loop-out/testprovider", true},
		{"the plugin dir itself", dir, ".", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, hostOpts{dir: tt.dir}, instance("tp", "provider", tt.binary))
			err := h.Start(context.Background())
			if !tt.refused {
				if err != nil {
					t.Fatalf("Start = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("a binary outside the plugin dir was started")
			}
			if !strings.Contains(err.Error(), "plugin tp") ||
				!(strings.Contains(err.Error(), "outside the plugin dir") || strings.Contains(err.Error(), "not a regular file")) {
				t.Fatalf("Start = %v, want a clear refusal", err)
			}
			if got := info(t, h, "tp"); got.PID != 0 || got.Restarts != 0 {
				t.Errorf("refused binary: %+v", got)
			}
		})
	}
}

func TestHandshakeThatNeverCompletesFailsItsStartTimeout(t *testing.T) {
	dir := t.TempDir()
	scripts := map[string]string{
		// Prints nothing and never exits.
		"sleeper": "#!/bin/sh\nexec /bin/sleep 600\n",
		// Exits without a handshake line.
		"silent": "#!/bin/sh\nexit 0\n",
		// Speaks, but not go-plugin.
		"chatter": "#!/bin/sh\necho hello\nexec /bin/sleep 600\n",
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// go-plugin words an early exit either way, depending on whether it
	// notices the exit or the closed stdout first.
	// Only the sleeper depends on the start timeout; the others get a long
	// one so a loaded machine cannot turn their failure into a timeout.
	tests := []struct {
		binary       string
		startTimeout time.Duration
		want         []string
	}{
		{"sleeper", 300 * time.Millisecond, []string{"timeout while waiting for plugin to start"}},
		{"silent", 10 * time.Second, []string{"plugin exited before we could connect", "Failed to read any lines from plugin's stdout"}},
		{"chatter", 10 * time.Second, []string{"Unrecognized remote plugin message: hello"}},
	}
	for _, tt := range tests {
		t.Run(tt.binary, func(t *testing.T) {
			h := newHost(t, hostOpts{dir: dir, startTimeout: tt.startTimeout,
				opts: pluginhost.Options{BackoffMin: 100 * time.Millisecond, BackoffMax: 200 * time.Millisecond}},
				instance("x", "provider", tt.binary))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := h.Start(ctx)
			if ctx.Err() != nil {
				t.Fatal("Start waited far beyond the start timeout")
			}
			if err == nil || !slices.ContainsFunc(tt.want, func(w string) bool { return strings.Contains(err.Error(), w) }) ||
				!strings.Contains(err.Error(), "plugin x") {
				t.Fatalf("Start = %v, want %q", err, tt.want)
			}
			if h.Healthy("x") {
				t.Error("healthy without a handshake")
			}
			// A failed handshake is transient: the supervisor keeps trying.
			waitFor(t, "a retry", func() bool { return info(t, h, "x").Restarts >= 1 })
		})
	}
}

func TestPluginEnvironmentHoldsNoHostVariables(t *testing.T) {
	const marker = "SWITCHYARD_TEST_HOST_MARKER"
	t.Setenv(marker, "visible-to-the-host-only")
	t.Setenv("HOME", "/root-of-the-host")
	t.Setenv("PATH", "/usr/bin:/bin")
	t.Setenv("SWITCHYARD_STORE_DSN", "postgres://secret@db/host")

	h := newHost(t, hostOpts{}, testProvider("tp"))
	start(t, h)
	p, _ := h.Provider("tp")
	health, err := p.CheckHealth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names, ok := strings.CutPrefix(health.Message, testprovider.HealthEnvPrefix)
	if !ok {
		t.Fatalf("health message %q", health.Message)
	}
	env := strings.Split(names, ",")
	// The plugin does see what the host passes on purpose, so an empty
	// listing cannot pass this test by accident.
	for _, want := range []string{sdk.MagicCookieKey, sdk.LogLevelEnv} {
		if !slices.Contains(env, want) {
			t.Fatalf("plugin env %v lacks %s: the probe does not work", env, want)
		}
	}
	for _, host := range []string{marker, "HOME", "PATH", "SWITCHYARD_STORE_DSN"} {
		if slices.Contains(env, host) {
			t.Errorf("plugin sees the host's %s (env %v)", host, env)
		}
	}
	for _, name := range env {
		if !strings.HasPrefix(name, "PLUGIN_") && !strings.HasPrefix(name, "SWITCHYARD_PLUGIN") {
			t.Errorf("plugin env has %s, which neither go-plugin nor the host passes on purpose", name)
		}
	}
}

func TestCloseStopsEverything(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	h, err := pluginhost.New(config.PluginsConfig{
		Dir: pluginsDir, StartTimeout: 20 * time.Second, CallTimeout: 5 * time.Second,
		Instances: []config.PluginInstance{testProvider("a"), testProvider("b")},
	}, pluginhost.Options{HealthInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, in := range h.Instances() {
		pids = append(pids, in.PID)
	}
	p, _ := h.Provider("a")
	if _, err := p.CreatePayment(context.Background(), payment("k")); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("plugin process %d still exists after Close (%v)", pid, err)
		}
	}
	for _, in := range h.Instances() {
		if in.Health.State != pluginhost.StateStopped || in.PID != 0 {
			t.Errorf("after Close: %+v", in)
		}
	}
	_, err = p.CreatePayment(context.Background(), payment("k2"))
	assertUnavailable(t, err, "a")
	if err := h.Start(context.Background()); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestReconfiguredSettingsSurviveARestart(t *testing.T) {
	logs := &syncBuffer{}
	h := newHost(t, hostOpts{opts: pluginhost.Options{
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	}}, testProvider("tp"))
	start(t, h)
	p, _ := h.Provider("tp")
	if err := p.Configure(context.Background(), map[string]string{"a": "1", "b": "2"}); err != nil {
		t.Fatal(err)
	}
	// The test provider logs how many settings it was given.
	configuredWith := func(n int) int {
		count := 0
		for line := range strings.Lines(logs.String()) {
			var rec struct {
				Msg      string
				Plugin   string
				Settings *int
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "configured" && rec.Plugin == "tp" &&
				rec.Settings != nil && *rec.Settings == n {
				count++
			}
		}
		return count
	}
	waitFor(t, "the reconfiguration", func() bool { return configuredWith(2) == 1 })

	oldPID := info(t, h, "tp").PID
	if err := syscall.Kill(oldPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restart", func() bool {
		in := info(t, h, "tp")
		return in.Health.State == pluginhost.StateHealthy && in.PID != oldPID
	})
	waitFor(t, "the restarted plugin configured with the new settings", func() bool { return configuredWith(2) == 2 })
	if n := configuredWith(0); n != 1 {
		t.Errorf("configured with the original (empty) settings %d times, want only the first start", n)
	}
}
