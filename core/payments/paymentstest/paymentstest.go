package paymentstest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/refunds"
	"github.com/switchyard/switchyard/core/routing"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// Instance is one provider instance to run for the test.
type Instance struct {
	ID       string
	Impl     provider.Provider // served through sdktest's in-process gRPC harness
	Settings map[string]string // passed to Configure
	// Mode is the instance's mode (plugins.instances[].mode); empty is
	// test, as in the configuration.
	Mode domain.Mode
}

// Options configure New. Zero values get working defaults.
type Options struct {
	BaseURL   string                // default http://switchyard.test
	Sessions  config.SessionsConfig // default TTL 1h, idempotency 24h
	Rules     []config.RoutingRule  // default: card, bank_transfer, wallet → every instance, priority by order
	Instances []Instance
	// Clock starts at this time (default: now) and moves only when told.
	Start time.Time
	// RealClock makes the service use time.Now instead of Clock, for tests
	// where real job runners must see time pass.
	RealClock bool
	// Events and CheckIPNURL are passed to payments.Deps as they are.
	// Items, optional, validates session items (*fulfillment.Service).
	Items  payments.Items
	Events payments.EventSink
	// Subscriptions, optional, is passed to payments.Deps as it is.
	Subscriptions payments.Subscriptions
	CheckIPNURL   payments.URLChecker
	// Meter and WebhookRetention are passed to payments.Deps as they are.
	Meter            metric.Meter
	WebhookRetention config.HooksRetentionConfig
}

// Env is a ready service with its collaborators exposed for assertions.
type Env struct {
	Store   *store.Store
	Service *payments.Service
	// Refunds is connected to Service (refund webhooks are matched); its
	// provider-call jobs are enqueued, run them with Refunds.CallProvider.
	Refunds   *refunds.Service
	Merchants *merchants.Service
	Providers *Providers
	Router    *routing.Router
	Jobs      *jobs.Runner // insert-only: jobs are enqueued, run them with the service's methods
	Clock     *Clock
	BaseURL   string
}

// New builds an Env on st (a migrated store, e.g. from storetest).
func New(t testing.TB, st *store.Store, opts Options) *Env {
	t.Helper()
	if opts.BaseURL == "" {
		opts.BaseURL = "http://switchyard.test"
	}
	if opts.Sessions.TTL == 0 {
		opts.Sessions.TTL = time.Hour
	}
	if opts.Start.IsZero() {
		opts.Start = time.Now()
	}
	clock := &Clock{t: opts.Start}
	provs := &Providers{entries: map[string]*entry{}}
	var ids []string
	modes := map[string]domain.Mode{}
	for _, in := range opts.Instances {
		if in.Mode != "" {
			modes[in.ID] = in.Mode
		}
		client := sdktest.ProviderClient(t, in.Impl)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		desc, err := client.Describe(ctx)
		if err == nil && in.Settings != nil {
			err = client.Configure(ctx, in.Settings)
		}
		cancel()
		if err != nil {
			t.Fatalf("paymentstest: start provider %s: %v", in.ID, err)
		}
		provs.entries[in.ID] = &entry{client: client, desc: desc}
		ids = append(ids, in.ID)
	}
	if opts.Rules == nil {
		for _, m := range []string{"card", "bank_transfer", "wallet"} {
			rule := config.RoutingRule{Method: m}
			for i, id := range ids {
				rule.Providers = append(rule.Providers, config.RoutingProvider{ID: id, Priority: i})
			}
			if len(rule.Providers) > 0 {
				opts.Rules = append(opts.Rules, rule)
			}
		}
	}
	router, err := routing.New(config.RoutingConfig{
		Rules:   opts.Rules,
		Breaker: config.BreakerConfig{Failures: 3, Cooldown: 30 * time.Second},
	}, routing.Options{Health: provs, Now: clock.Now, Modes: modes})
	if err != nil {
		t.Fatalf("paymentstest: routing: %v", err)
	}
	runner, err := jobs.New(st, jobs.Options{InsertOnly: true})
	if err != nil {
		t.Fatalf("paymentstest: jobs: %v", err)
	}
	now := clock.Now
	if opts.RealClock {
		now = time.Now
	}
	svc, err := payments.New(payments.Deps{
		Store: st, Jobs: runner, Router: router, Providers: provs, Sessions: opts.Sessions,
		PublicBaseURL: opts.BaseURL, Clock: now, Events: opts.Events, CheckIPNURL: opts.CheckIPNURL, Items: opts.Items,
		Subscriptions: opts.Subscriptions,
		Meter:         opts.Meter, WebhookRetention: opts.WebhookRetention,
	})
	if err != nil {
		t.Fatalf("paymentstest: payments: %v", err)
	}
	ref, err := refunds.New(refunds.Deps{Store: st, Jobs: runner, Providers: provs, Sessions: svc, Clock: now})
	if err != nil {
		t.Fatalf("paymentstest: refunds: %v", err)
	}
	svc.SetRefunds(ref)
	return &Env{Store: st, Service: svc, Refunds: ref, Merchants: merchants.New(st), Providers: provs, Router: router,
		Jobs: runner, Clock: clock, BaseURL: opts.BaseURL}
}

// Merchant creates a merchant on plan with the given approved domains.
func (e *Env) Merchant(t testing.TB, plan domain.Plan, domains ...string) *store.Merchant {
	t.Helper()
	m, err := e.Merchants.CreateMerchant(context.Background(), merchants.NewMerchant{
		Name: "Shop " + string(plan), Plan: string(plan), ContactEmail: "owner@example.com", Domains: domains,
	})
	if err != nil {
		t.Fatalf("paymentstest: create merchant: %v", err)
	}
	return m
}

// Key creates an API key and returns its secret and the authenticated
// principal. No scopes means all.
func (e *Env) Key(t testing.TB, merchantID int64, mode domain.Mode, scopes ...string) (string, *merchants.Principal) {
	t.Helper()
	ctx := context.Background()
	k, err := e.Merchants.CreateKey(ctx, merchants.NewKey{MerchantID: merchantID, Mode: string(mode), Scopes: scopes, Name: "test"})
	if err != nil {
		t.Fatalf("paymentstest: create key: %v", err)
	}
	p, err := e.Merchants.Authenticate(ctx, k.Secret)
	if err != nil {
		t.Fatalf("paymentstest: authenticate: %v", err)
	}
	return k.Secret, p
}

// Clock is a settable clock shared by the service and the router.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the current test time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Providers is an in-memory payments.Providers over sdktest clients, with
// switches to simulate a plugin that is down.
type Providers struct {
	mu      sync.RWMutex
	entries map[string]*entry
}

type entry struct {
	client provider.Client
	desc   provider.Description
	down   bool
}

var _ payments.Providers = (*Providers)(nil)

// SetDown marks an instance's plugin as down (Provider fails with
// domain.ErrUnavailable, Healthy is false) or back up.
func (p *Providers) SetDown(id string, down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.entries[id]; e != nil {
		e.down = down
	}
}

// Client returns the gRPC client of an instance, for driving it directly.
func (p *Providers) Client(id string) provider.Client {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if e := p.entries[id]; e != nil {
		return e.client
	}
	return nil
}

// Provider implements payments.Providers.
func (p *Providers) Provider(id string) (provider.Client, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e := p.entries[id]
	switch {
	case e == nil:
		return nil, fmt.Errorf("provider %q: %w", id, domain.ErrNotFound)
	case e.down:
		return nil, fmt.Errorf("provider %q plugin is down: %w", id, domain.ErrUnavailable)
	}
	return e.client, nil
}

// Describe implements payments.Providers.
func (p *Providers) Describe(id string) (provider.Description, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e := p.entries[id]
	if e == nil {
		return provider.Description{}, fmt.Errorf("provider %q: %w", id, domain.ErrNotFound)
	}
	return e.desc, nil
}

// IDs implements payments.Providers.
func (p *Providers) IDs() []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	ids := make([]string, 0, len(p.entries))
	for id := range p.entries {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return slices.Clip(ids)
}

// Healthy implements payments.Providers and routing.HealthChecker.
func (p *Providers) Healthy(id string) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e := p.entries[id]
	return e != nil && !e.down
}
