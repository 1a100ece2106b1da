package app

import (
	"context"
	"errors"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/licenses"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
)

// enqueuer lets services be built before the job runner that runs their
// workers: the runner is made from the services' registrations, then bound.
type enqueuer struct{ runner *jobs.Runner }

func (e *enqueuer) EnqueueTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if e.runner == nil {
		return nil, errors.New("jobs: runner not built yet")
	}
	return e.runner.EnqueueTx(ctx, tx, args, opts)
}

// hostProviders presents the plugin host's provider instances the way the
// payments service asks for them.
type hostProviders struct{ h *pluginhost.Host }

var _ payments.Providers = hostProviders{}

func (p hostProviders) Provider(id string) (provider.Client, error) { return p.h.Provider(id) }
func (p hostProviders) IDs() []string                               { return p.h.Providers() }
func (p hostProviders) Healthy(id string) bool                      { return p.h.Healthy(id) }

// Describe is the instance's last known description, kept while its
// plugin restarts.
func (p hostProviders) Describe(id string) (provider.Description, error) {
	info, ok := p.h.Instance(id)
	if !ok || info.Kind != meta.KindProvider {
		return provider.Description{}, domain.NotFound("provider")
	}
	if info.Health.State == pluginhost.StateDisabled {
		// Switched off by the operator: say so, so whoever reads the
		// provider's delivery log knows why, and let the provider retry
		// (the instance may be switched on again).
		return provider.Description{}, &domain.Error{Kind: domain.ErrUnavailable, Code: "provider_disabled",
			Message: "the provider instance " + id + " is disabled; its webhooks are refused until it is enabled"}
	}
	if info.Name == "" {
		// Configured but never started: the provider should retry later,
		// not be told this instance does not exist.
		return provider.Description{}, &domain.Error{Kind: domain.ErrUnavailable, Code: "provider_unavailable", Message: "the provider has not started yet"}
	}
	return provider.Description{
		Info:    meta.Info{Name: info.Name, Version: info.Version, Kind: info.Kind, Capabilities: info.Capabilities},
		Methods: info.Methods,
	}, nil
}

// licenseTarget finds the merchant's key generator for a license request
// through its session.
func (a *App) licenseTarget(ctx context.Context, _ string, ev provider.Event) (licenses.Target, error) {
	ep, err := a.Webhooks.LicenseEndpointFor(ctx, ev.SessionID)
	if err != nil {
		return licenses.Target{}, err
	}
	return licenses.Target{URL: ep.URL, Profile: ep.Profile, Secrets: ep.Secrets}, nil
}
