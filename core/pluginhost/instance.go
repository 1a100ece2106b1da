package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/hashicorp/go-plugin"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
)

// State is an instance's coarse health.
type State string

// The states. Routing sends new payments only to StateHealthy instances;
// calls to a plugin that is running but unhealthy (it reports itself
// degraded) still go through, so reconciliation and webhooks keep working.
const (
	// StateStarting: launching or restarting; calls fail fast.
	StateStarting State = "starting"
	// StateHealthy: running and its last CheckHealth said ok.
	StateHealthy State = "healthy"
	// StateUnhealthy: crashed, refused, hung, or reporting degraded/down.
	StateUnhealthy State = "unhealthy"
	// StateDisabled: configured with enabled: false; never launched.
	StateDisabled State = "disabled"
	// StateStopped: the host was closed.
	StateStopped State = "stopped"
)

// Health is an instance's state with the reason, for operators. It never
// contains settings.
type Health struct {
	State   State     `json:"state"`
	Message string    `json:"message,omitempty"`
	Since   time.Time `json:"since"`
}

// InstanceInfo describes a configured instance for `switchyard plugins
// list`, the admin API and routing.
type InstanceInfo struct {
	ID   string    `json:"id"`
	Kind meta.Kind `json:"kind"`
	// Binary is the file name as configured.
	Binary string `json:"binary"`
	// Mode is a provider instance's mode (test or live, from
	// plugins.instances[].mode); empty for other kinds.
	Mode string `json:"mode,omitempty"`
	// Name, Version and Capabilities come from the plugin's Describe; empty
	// until it has started once.
	Name         string   `json:"name,omitempty"`
	Version      string   `json:"version,omitempty"`
	Capabilities []string `json:"capabilities,omitempty"`
	// Methods are a provider's payment methods.
	Methods []provider.Method `json:"methods,omitempty"`
	// PageOrigins are the origins of a provider's shopper pages, from its
	// Describe.
	PageOrigins []string `json:"page_origins,omitempty"`
	Health      Health   `json:"health"`
	// PID is the running plugin process, 0 when none.
	PID int `json:"pid,omitempty"`
	// Restarts counts launches after the first.
	Restarts  int       `json:"restarts"`
	LastError string    `json:"last_error,omitempty"`
	LastErrAt time.Time `json:"last_error_at,omitzero"`
}

// unhealthyAfter is how many failed health checks in a row mark a running
// plugin as hung, to be killed and restarted.
const unhealthyAfter = 3

// errHung marks a plugin that stopped answering health checks.
var errHung = errors.New("plugin unresponsive")

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// instance is one configured plugin and its supervisor's state.
type instance struct {
	h      *Host
	id     string
	kind   meta.Kind
	binary string
	// mode is a provider's test or live (config.InstanceMode*).
	mode     string
	checksum []byte
	enabled  bool
	// reattach, in development, is a plugin already running in debug mode
	// to connect to instead of launching the binary.
	reattach *plugin.ReattachConfig
	log      *slog.Logger

	// settings are the values Configure receives, replaced when a caller
	// reconfigures through a handle so restarts reuse the newest ones.
	settings atomic.Pointer[map[string]string]
	// cur is the running plugin; nil while it is down. Calls load it once
	// and never lock.
	cur atomic.Pointer[conn]
	// health is published by the supervisor and read lock-free.
	health atomic.Pointer[Health]

	mu        sync.Mutex // guards the fields below; never held during calls
	desc      provider.Description
	restarts  int
	lastErr   string
	lastErrAt time.Time
}

// providerMode is a provider instance's mode; other kinds have none.
func providerMode(kind meta.Kind, pc config.PluginInstance) string {
	if kind != meta.KindProvider {
		return ""
	}
	return pc.ProviderMode()
}

func newInstance(h *Host, pc config.PluginInstance) (*instance, error) {
	if !idPattern.MatchString(pc.ID) {
		return nil, fmt.Errorf("instance id %q must match %s", pc.ID, idPattern)
	}
	kind := meta.Kind(pc.Kind)
	if !slices.Contains(meta.Kinds(), kind) {
		return nil, fmt.Errorf("instance %q: unknown kind %q (want one of %v)", pc.ID, pc.Kind, meta.Kinds())
	}
	if pc.Binary == "" {
		return nil, fmt.Errorf("instance %q: no binary configured", pc.ID)
	}
	sum, err := parseChecksum(pc.SHA256)
	if err != nil {
		return nil, fmt.Errorf("instance %q: %w", pc.ID, err)
	}
	in := &instance{
		h:        h,
		id:       pc.ID,
		kind:     kind,
		binary:   pc.Binary,
		mode:     providerMode(kind, pc),
		checksum: sum,
		enabled:  pc.Enabled == nil || *pc.Enabled,
		log:      h.log.With(slog.String("plugin", pc.ID), slog.String("kind", pc.Kind)),
	}
	settings := make(map[string]string, len(pc.Settings))
	for k, v := range pc.Settings {
		settings[k] = v.Value()
	}
	in.settings.Store(&settings)
	state := StateStarting
	if !in.enabled {
		state = StateDisabled
	}
	in.health.Store(&Health{State: state, Since: time.Now()})
	return in, nil
}

func (in *instance) setHealth(state State, msg string) {
	old := in.health.Load()
	if old != nil && old.State == state && old.Message == msg {
		return
	}
	since := time.Now()
	if old != nil && old.State == state {
		since = old.Since
	}
	in.health.Store(&Health{State: state, Message: msg, Since: since})
	if old == nil {
		return
	}
	if old.State != state {
		in.log.Info("plugin health changed", slog.String("from", string(old.State)),
			slog.String("to", string(state)), slog.String("reason", msg))
	}
}

func (in *instance) recordErr(err error) {
	in.mu.Lock()
	in.lastErr = err.Error()
	in.lastErrAt = time.Now()
	in.mu.Unlock()
}

// supervise launches the plugin, watches it, and relaunches it after a
// crash or hang until stop is cancelled. first receives the outcome of the
// first launch, exactly once.
func (in *instance) supervise(stop context.Context, first func(error)) {
	defer func() {
		if stop.Err() != nil {
			in.setHealth(StateStopped, "plugin host closed")
		}
	}()
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     in.h.opts.BackoffMin,
		RandomizationFactor: 0.3,
		Multiplier:          2,
		MaxInterval:         in.h.opts.BackoffMax,
	}
	bo.Reset()
	report := func(err error) {
		if first != nil {
			first(err)
			first = nil
		}
	}
	defer report(errors.New("plugin host closed while starting"))

	for launches := 0; ; launches++ {
		if launches > 0 {
			in.mu.Lock()
			in.restarts++
			in.mu.Unlock()
		}
		in.setHealth(StateStarting, "launching")
		c, err := in.launch(stop)
		if stop.Err() != nil {
			if c != nil {
				c.stop(false)
			}
			return
		}
		if err != nil {
			in.recordErr(err)
			in.setHealth(StateUnhealthy, err.Error())
			report(err)
			if errors.Is(err, errRefused) {
				in.log.Error("plugin refused; not retrying", slog.String("error", err.Error()))
				return
			}
			in.log.Error("plugin failed to start", slog.String("error", err.Error()))
			if !sleep(stop, bo.NextBackOff()) {
				return
			}
			continue
		}

		// Publish, then ask for its health once, before reporting, so
		// Start's caller sees the plugin's own view straight away.
		in.cur.Store(c)
		if err := in.probe(stop, c); err != nil {
			in.setHealth(StateUnhealthy, "health check failed: "+err.Error())
		}
		report(nil)
		up := time.Now()
		reason := in.watch(stop, c)
		// Unpublish before killing so new calls fail fast instead of
		// reaching a connection that is going away.
		in.cur.Store(nil)
		c.stop(errors.Is(reason, errHung))
		if stop.Err() != nil {
			return
		}
		in.recordErr(reason)
		in.log.Error("plugin down; restarting", slog.String("error", reason.Error()),
			slog.Duration("uptime", time.Since(up)))
		in.setHealth(StateUnhealthy, reason.Error())
		if time.Since(up) >= in.h.opts.BackoffMax {
			bo.Reset()
		}
		if !sleep(stop, bo.NextBackOff()) {
			return
		}
	}
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// watch blocks while the plugin is fine and returns why it is not: the
// process exited, or it failed unhealthyAfter health checks in a row. It
// returns nil when stop is cancelled.
func (in *instance) watch(stop context.Context, c *conn) error {
	// Spread the checks of many instances so they do not all fire together.
	interval := in.h.opts.HealthInterval
	jitter := time.Duration(rand.Int64N(int64(interval)/5 + 1))
	t := time.NewTicker(interval + jitter)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-stop.Done():
			return nil
		case <-c.done.Done():
			return errors.New("plugin process exited")
		case <-t.C:
		}
		if err := in.probe(stop, c); err != nil {
			failures++
			if failures >= unhealthyAfter {
				return fmt.Errorf("%w: %d health checks failed, last: %w", errHung, failures, err)
			}
			in.setHealth(StateUnhealthy, fmt.Sprintf("health check failed (%d in a row): %v", failures, err))
			continue
		}
		failures = 0
	}
}

// probe asks the plugin for its health and publishes the answer. It
// returns an error only when the plugin did not answer; a plugin that
// answers "degraded" or "down" is unhealthy but alive.
func (in *instance) probe(stop context.Context, c *conn) error {
	ctx, cancel := context.WithTimeout(stop, in.h.callTimeout)
	health, err := c.common.CheckHealth(ctx)
	cancel()
	switch {
	case c.done.Err() != nil || stop.Err() != nil:
		return nil // the caller's select reports it
	case err != nil:
		return err
	case health.Status != meta.HealthOK:
		msg := fmt.Sprintf("plugin reports %s", health.Status)
		if health.Message != "" {
			msg += ": " + health.Message
		}
		in.setHealth(StateUnhealthy, msg)
	default:
		in.setHealth(StateHealthy, health.Message)
	}
	return nil
}

func (in *instance) info() InstanceInfo {
	in.mu.Lock()
	defer in.mu.Unlock()
	info := InstanceInfo{
		ID:           in.id,
		Kind:         in.kind,
		Binary:       in.binary,
		Mode:         in.mode,
		Name:         in.desc.Name,
		Version:      in.desc.Version,
		Capabilities: slices.Clone(in.desc.Capabilities),
		Methods:      slices.Clone(in.desc.Methods),
		PageOrigins:  slices.Clone(in.desc.PageOrigins),
		Health:       *in.health.Load(),
		Restarts:     in.restarts,
		LastError:    in.lastErr,
		LastErrAt:    in.lastErrAt,
	}
	if c := in.cur.Load(); c != nil {
		info.PID = c.pid
	}
	return info
}

// currentSettings returns a copy of the settings for Configure.
func (in *instance) currentSettings() map[string]string {
	return maps.Clone(*in.settings.Load())
}
