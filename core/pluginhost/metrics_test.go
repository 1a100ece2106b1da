package pluginhost_test

import (
	"context"
	"syscall"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/core/telemetry/telemetrytest"
)

// TestHostMetrics: every plugin call is timed with its outcome (ok, or the
// SDK category it failed with), and each instance reports whether it is up
// and how often it was restarted, through a real plugin process.
func TestHostMetrics(t *testing.T) {
	m := telemetrytest.New(t)
	disabled := testProvider("off")
	no := false
	disabled.Enabled = &no
	h := newHost(t, hostOpts{opts: pluginhost.Options{Meter: m.Meter()}}, testProvider("tp"), disabled)
	start(t, h)
	ctx := context.Background()

	tp, _ := h.Provider("tp")
	if _, err := tp.CreatePayment(ctx, payment("m1")); err != nil {
		t.Fatal(err)
	}
	off, _ := h.Provider("off")
	if _, err := off.CreatePayment(ctx, payment("m2")); err == nil {
		t.Fatal("a disabled instance answered")
	}
	call := func(plugin, outcome string) int64 {
		return m.Int("switchyard.plugin.call.duration", attribute.String("plugin", plugin), attribute.String("kind", "provider"),
			attribute.String("method", "create_payment"), attribute.String("outcome", outcome))
	}
	if got := call("tp", "ok"); got != 1 {
		t.Errorf("create_payment ok calls at tp = %d, want 1", got)
	}
	if got := call("off", "unavailable"); got != 1 {
		t.Errorf("create_payment unavailable calls at off = %d, want 1", got)
	}
	up := func(plugin, state string) (float64, bool) {
		return m.Value("switchyard.plugin.up", attribute.String("plugin", plugin), attribute.String("kind", "provider"), attribute.String("state", state))
	}
	if v, ok := up("tp", "healthy"); !ok || v != 1 {
		t.Errorf("up{tp,healthy} = %v, %v", v, ok)
	}
	if v, ok := up("off", "disabled"); !ok || v != 0 {
		t.Errorf("up{off,disabled} = %v, %v", v, ok)
	}
	restarts := func() int64 {
		return m.Int("switchyard.plugin.restarts", attribute.String("plugin", "tp"), attribute.String("kind", "provider"))
	}
	if n := restarts(); n != 0 {
		t.Fatalf("restarts before a crash = %d", n)
	}

	// The plugin dies; the host restarts it and the counter says so.
	pid := info(t, h, "tp").PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a restart", func() bool {
		in := info(t, h, "tp")
		return in.Health.State == pluginhost.StateHealthy && in.PID != pid
	})
	if n := restarts(); n < 1 {
		t.Errorf("restarts after a crash = %d, want at least 1", n)
	}
}
