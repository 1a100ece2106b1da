package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// Defaults for the zero Options and a zero config timeout.
const (
	DefaultStartTimeout   = 10 * time.Second
	DefaultCallTimeout    = 15 * time.Second
	DefaultHealthInterval = 10 * time.Second
	DefaultBackoffMin     = 250 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
)

// Options are the host's inputs that are not configuration.
type Options struct {
	// Logger receives the host's own records and every plugin's stderr
	// (hclog JSON re-logged as slog records with the "plugin" attribute set
	// to the instance id). Nil discards.
	Logger *slog.Logger
	// TracerProvider records the client side of plugin calls; nil means
	// otel's global provider. Trace context reaches the plugin either way.
	TracerProvider trace.TracerProvider
	// Meter records plugin call latency and outcomes, restarts and health
	// (switchyard.plugin.*); nil records nothing.
	Meter metric.Meter
	// HealthInterval is how often a running plugin is asked CheckHealth
	// (each check bounded by the call timeout). Three failed checks in a
	// row count as a hung plugin, which is killed and restarted.
	HealthInterval time.Duration
	// BackoffMin and BackoffMax bound the delay before restarting a crashed
	// plugin; the delay grows exponentially between them, with jitter, and
	// resets once a plugin has stayed up for BackoffMax.
	BackoffMin time.Duration
	BackoffMax time.Duration
}

// Host owns the plugin processes of one Switchyard process. Build it with
// New, launch with Start, and always Close it.
type Host struct {
	dir          string
	startTimeout time.Duration
	callTimeout  time.Duration
	opts         Options
	log          *slog.Logger

	order     []string
	instances map[string]*instance // fixed after New: read without locks
	metrics   *hostMetrics

	stop    context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started atomic.Bool
	closed  atomic.Bool
}

// New checks the plugin configuration and prepares one instance per entry.
// It launches nothing; Start does.
func New(cfg config.PluginsConfig, opts Options) (*Host, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HealthInterval <= 0 {
		opts.HealthInterval = DefaultHealthInterval
	}
	if opts.BackoffMin <= 0 {
		opts.BackoffMin = DefaultBackoffMin
	}
	if opts.BackoffMax < opts.BackoffMin {
		opts.BackoffMax = max(DefaultBackoffMax, opts.BackoffMin)
	}
	// Made absolute once, so a later chdir cannot move the plugin dir.
	dir := cfg.Dir
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("plugins dir %q: %w", dir, err)
		}
		dir = abs
	}
	h := &Host{
		dir:          dir,
		startTimeout: cfg.StartTimeout,
		callTimeout:  cfg.CallTimeout,
		opts:         opts,
		log:          opts.Logger,
		instances:    make(map[string]*instance, len(cfg.Instances)),
	}
	if h.startTimeout <= 0 {
		h.startTimeout = DefaultStartTimeout
	}
	if h.callTimeout <= 0 {
		h.callTimeout = DefaultCallTimeout
	}
	var errs []error
	if cfg.Dir == "" && len(cfg.Instances) > 0 {
		errs = append(errs, errors.New("plugins: no plugin dir configured"))
	}
	for i, pc := range cfg.Instances {
		in, err := newInstance(h, pc)
		if err != nil {
			errs = append(errs, fmt.Errorf("plugins.instances[%d]: %w", i, err))
			continue
		}
		if _, dup := h.instances[in.id]; dup {
			errs = append(errs, fmt.Errorf("plugins.instances[%d]: duplicate instance id %q", i, in.id))
			continue
		}
		h.instances[in.id] = in
		h.order = append(h.order, in.id)
	}
	errs = append(errs, h.useReattach(cfg.Reattach))
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", domain.ErrInvalid, err)
	}
	metrics, err := newHostMetrics(h, opts.Meter)
	if err != nil {
		return nil, err
	}
	h.metrics = metrics
	h.stop, h.cancel = context.WithCancel(context.Background())
	return h, nil
}

// useReattach points the instances named in raw (plugins.reattach) at
// plugins already running in debug mode.
func (h *Host) useReattach(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	m, err := sdk.ParseReattach(raw)
	if err != nil {
		return fmt.Errorf("plugins.reattach: %w", err)
	}
	var errs []error
	for id, r := range m {
		in, ok := h.instances[id]
		if !ok {
			errs = append(errs, fmt.Errorf("plugins.reattach: %q is not a configured plugin instance", id))
			continue
		}
		if in.reattach, err = r.Config(); err != nil {
			errs = append(errs, fmt.Errorf("plugins.reattach: %s: %w", id, err))
			continue
		}
		h.log.Warn("plugin instance attaches to a plugin in debug mode instead of launching its binary (development only)",
			"plugin", id, "pid", r.Pid, "address", r.Addr.String)
	}
	return errors.Join(errs...)
}

// Start launches every enabled instance and waits until each has either
// started (handshake, Describe, Configure) or failed its first attempt. It
// returns every first-attempt failure joined, each naming its instance; the
// host stays usable either way: instances that failed for a transient reason
// keep being retried in the background, those refused for good (binary
// outside the plugin dir, checksum mismatch, wrong kind, rejected settings)
// stay down. ctx bounds only how long Start waits.
func (h *Host) Start(ctx context.Context) error {
	if h.closed.Load() {
		return errors.New("plugin host is closed")
	}
	if !h.started.CompareAndSwap(false, true) {
		return errors.New("plugin host already started")
	}
	type result struct {
		id  string
		err error
	}
	results := make(chan result, len(h.order))
	n := 0
	for _, id := range h.order {
		in := h.instances[id]
		if !in.enabled {
			continue
		}
		n++
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			in.supervise(h.stop, func(err error) { results <- result{id: id, err: err} })
		}()
	}
	var errs []error
	for range n {
		select {
		case r := <-results:
			if r.err != nil {
				errs = append(errs, r.err)
			}
		case <-ctx.Done():
			return fmt.Errorf("start plugins: %w", ctx.Err())
		}
	}
	return errors.Join(errs...)
}

// Close stops every supervisor and plugin process and waits for them, or
// until ctx is done. Calls made afterwards fail with an unavailable error.
func (h *Host) Close(ctx context.Context) error {
	h.closed.Store(true)
	h.cancel()
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close plugins: %w", ctx.Err())
	}
}

// lookup finds an instance of the given kind.
func (h *Host) lookup(id string, kind meta.Kind) (*instance, error) {
	in, ok := h.instances[id]
	if !ok {
		return nil, errNoInstance(id)
	}
	if in.kind != kind {
		return nil, &domain.Error{Kind: domain.ErrInvalid, Code: "plugin_kind",
			Message: fmt.Sprintf("plugin instance %q is a %s, not a %s", id, in.kind, kind)}
	}
	return in, nil
}

// Provider returns the provider instance id. The handle is stable across
// plugin restarts; while the plugin is down its calls fail at once with an
// error matching domain.ErrUnavailable (sdk category unavailable). Unknown
// ids are domain.ErrNotFound, other kinds domain.ErrInvalid. A disabled
// instance yields a handle whose calls always fail as unavailable.
func (h *Host) Provider(id string) (provider.Client, error) {
	return handle(h, id, meta.KindProvider, func(in *instance) provider.Client { return &providerHandle{in: in} })
}

// Provisioner is Provider for provisioner instances.
func (h *Host) Provisioner(id string) (provisioner.Provisioner, error) {
	return handle(h, id, meta.KindProvisioner, func(in *instance) provisioner.Provisioner { return &provisionerHandle{in: in} })
}

// Registrar is Provider for registrar instances.
func (h *Host) Registrar(id string) (registrar.Registrar, error) {
	return handle(h, id, meta.KindRegistrar, func(in *instance) registrar.Registrar { return &registrarHandle{in: in} })
}

// Mailer is Provider for mailer instances.
func (h *Host) Mailer(id string) (mailer.Mailer, error) {
	return handle(h, id, meta.KindMailer, func(in *instance) mailer.Mailer { return &mailerHandle{in: in} })
}

func handle[T any](h *Host, id string, kind meta.Kind, wrap func(*instance) T) (T, error) {
	in, err := h.lookup(id, kind)
	if err != nil {
		var zero T
		return zero, err
	}
	return wrap(in), nil
}

// Healthy reports whether instance id is running and its last health check
// said ok. Unknown ids are not healthy. It takes no lock.
func (h *Host) Healthy(id string) bool {
	in, ok := h.instances[id]
	return ok && in.health.Load().State == StateHealthy
}

// Providers lists the ids of enabled provider instances in config order.
func (h *Host) Providers() []string {
	var ids []string
	for _, id := range h.order {
		if in := h.instances[id]; in.enabled && in.kind == meta.KindProvider {
			ids = append(ids, id)
		}
	}
	return ids
}

// Instances describes every configured instance, in config order.
func (h *Host) Instances() []InstanceInfo {
	out := make([]InstanceInfo, 0, len(h.order))
	for _, id := range h.order {
		out = append(out, h.instances[id].info())
	}
	return out
}

// Instance describes one instance.
func (h *Host) Instance(id string) (InstanceInfo, bool) {
	in, ok := h.instances[id]
	if !ok {
		return InstanceInfo{}, false
	}
	return in.info(), true
}

// CheckHealth asks instance id's plugin for its health now, bounded by the
// call timeout. It does not change the published health (the supervisor
// owns that); it is for on-demand checks such as `switchyard plugins list`.
func (h *Host) CheckHealth(ctx context.Context, id string) (meta.Health, error) {
	in, ok := h.instances[id]
	if !ok {
		return meta.Health{}, errNoInstance(id)
	}
	return invoke(in, ctx, "check health", commonAPI.CheckHealth)
}

// connTester is the TestConnection every kind's client offers (providers
// optionally: one without a test answers unimplemented).
type connTester interface {
	TestConnection(ctx context.Context) (meta.TestResult, error)
}

// TestConnection asks instance id's plugin to check its credentials against
// its upstream without side effects, bounded by the call timeout. A provider
// without a connection test fails with sdk category unimplemented; the
// caller may fall back to CheckHealth.
func (h *Host) TestConnection(ctx context.Context, id string) (meta.TestResult, error) {
	in, ok := h.instances[id]
	if !ok {
		return meta.TestResult{}, errNoInstance(id)
	}
	return invoke(in, ctx, "test connection", connTester.TestConnection)
}

func errNoInstance(id string) error {
	return &domain.Error{Kind: domain.ErrNotFound, Code: "plugin_missing", Message: fmt.Sprintf("no plugin instance %q", id)}
}
