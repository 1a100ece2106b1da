package payments

import (
	"fmt"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
)

// HostProviders adapts the plugin host to Providers: handles, health and
// the Describe data the host recorded at the plugin's last start.
func HostProviders(h *pluginhost.Host) Providers { return hostProviders{h} }

type hostProviders struct{ h *pluginhost.Host }

var _ Providers = hostProviders{}

func (p hostProviders) Provider(id string) (provider.Provider, error) { return p.h.Provider(id) }

func (p hostProviders) IDs() []string { return p.h.Providers() }

func (p hostProviders) Healthy(id string) bool { return p.h.Healthy(id) }

// Describe answers from the host's record. An instance that is not a
// provider is not found; one whose plugin has never started has no
// description yet, which is unavailable (callers answer 503 and retry).
func (p hostProviders) Describe(id string) (provider.Description, error) {
	info, ok := p.h.Instance(id)
	if !ok || info.Kind != meta.KindProvider {
		return provider.Description{}, fmt.Errorf("provider %q: %w", id, domain.ErrNotFound)
	}
	if info.Name == "" {
		return provider.Description{}, fmt.Errorf("provider %q has not started yet: %w", id, domain.ErrUnavailable)
	}
	return provider.Description{
		Info: meta.Info{Name: info.Name, Version: info.Version, Kind: info.Kind,
			Capabilities: append([]string(nil), info.Capabilities...)},
		Methods: append([]provider.Method(nil), info.Methods...),
	}, nil
}
