package testprovider

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Name and Version are what Describe reports.
const (
	Name    = "testprovider"
	Version = "0.0.1-test"
)

// Settings and metadata keys the provider understands.
const (
	// SettingReject makes Configure fail with sdk.Invalid when set to "1".
	SettingReject = "reject"
	// SettingHealth, when set, is the status CheckHealth reports
	// ("degraded", "down"); ok otherwise.
	SettingHealth = "health"
	// MetaBarrier makes CreatePayment wait until that many CreatePayment
	// calls carrying it are inside the plugin at once (or its context
	// ends): it proves calls run concurrently, without timing anything.
	MetaBarrier = "barrier"
	// MetaSleep makes CreatePayment block for the given duration (or until
	// its context ends).
	MetaSleep = "sleep"
	// HealthEnvPrefix starts the CheckHealth message, followed by the
	// comma-separated names (never values) of the process's environment.
	HealthEnvPrefix = "env:"
)

// Provider is the test provider.
type Provider struct {
	log      hclog.Logger
	mu       sync.Mutex
	settings map[string]string
	arrived  int
	release  chan struct{}
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Refunder = (*Provider)(nil)
)

// New returns a Provider logging to log.
func New(log hclog.Logger) *Provider { return &Provider{log: log} }

// Describe implements provider.Provider.
func (p *Provider) Describe(context.Context) (provider.Description, error) {
	return provider.Description{
		Info: meta.Info{Name: Name, Version: Version},
		Methods: []provider.Method{
			{Method: "card", Label: "Card", Currencies: []string{"EUR", "USD"}},
		},
	}, nil
}

// Configure implements provider.Provider.
func (p *Provider) Configure(_ context.Context, settings map[string]string) error {
	if settings[SettingReject] == "1" {
		return sdk.Invalid("settings rejected on purpose").WithField(SettingReject)
	}
	p.mu.Lock()
	p.settings = settings
	p.mu.Unlock()
	// Never the values: they are credentials.
	p.log.Info("configured", "settings", len(settings))
	return nil
}

// CheckHealth implements provider.Provider. Its message lists the names of
// the environment variables the process sees.
func (p *Provider) CheckHealth(context.Context) (meta.Health, error) {
	p.mu.Lock()
	status := meta.HealthStatus(p.settings[SettingHealth])
	p.mu.Unlock()
	if status == "" {
		status = meta.HealthOK
	}
	var names []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	slices.Sort(names)
	return meta.Health{Status: status, Message: HealthEnvPrefix + strings.Join(names, ",")}, nil
}

// CreatePayment implements provider.Provider.
func (p *Provider) CreatePayment(ctx context.Context, req provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	if req.Amount <= 0 {
		return provider.CreatePaymentResponse{}, sdk.Invalid("amount must be positive").WithField("amount")
	}
	if s := req.Metadata[MetaBarrier]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return provider.CreatePaymentResponse{}, sdk.Invalid("bad barrier %q", s)
		}
		if err := p.await(ctx, n); err != nil {
			return provider.CreatePaymentResponse{}, err
		}
	}
	if s := req.Metadata[MetaSleep]; s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return provider.CreatePaymentResponse{}, sdk.Invalid("bad sleep %q", s)
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return provider.CreatePaymentResponse{}, ctx.Err()
		}
	}
	return provider.CreatePaymentResponse{
		ProviderRef: "tp_" + req.IdempotencyKey,
		Status:      provider.StatusPending,
		NextAction:  provider.NextAction{Type: provider.NextActionRedirect, URL: req.ProviderBaseURL + "/pay/" + req.IdempotencyKey},
	}, nil
}

// await blocks until n callers are waiting together, then releases them.
func (p *Provider) await(ctx context.Context, n int) error {
	p.mu.Lock()
	if p.release == nil {
		p.release = make(chan struct{})
	}
	release := p.release
	p.arrived++
	if p.arrived >= n {
		close(p.release)
		p.release, p.arrived = nil, 0
	}
	p.mu.Unlock()
	select {
	case <-release:
		return nil
	case <-ctx.Done():
		return sdk.Unavailable("barrier of %d not reached: %w", n, ctx.Err())
	}
}

// RefTrace is the reference GetPayment answers with the trace id it
// received, so tests can see the host's trace context arrive.
const RefTrace = "trace"

// GetPayment implements provider.Provider: every reference but RefTrace is
// unknown.
func (p *Provider) GetPayment(ctx context.Context, req provider.GetPaymentRequest) (provider.Payment, error) {
	if req.ProviderRef == RefTrace {
		return provider.Payment{ProviderRef: trace.SpanContextFromContext(ctx).TraceID().String()}, nil
	}
	return provider.Payment{}, sdk.NotFound("no payment %q", req.ProviderRef)
}

// Refund implements provider.Provider. It also prints to stdout, which a
// plugin should not do but may, to show the host keeps that output.
func (p *Provider) Refund(_ context.Context, req provider.RefundRequest) (provider.RefundResult, error) {
	fmt.Println("refund", req.IdempotencyKey)
	return provider.RefundResult{RefundRef: "tpr_" + req.IdempotencyKey, Status: provider.RefundSucceeded, Amount: req.Amount}, nil
}

// HandleWebhook implements provider.Provider.
func (p *Provider) HandleWebhook(context.Context, provider.WebhookRequest) (provider.WebhookResponse, error) {
	return provider.WebhookResponse{}, sdk.Unauthorized("test provider accepts no webhooks")
}
