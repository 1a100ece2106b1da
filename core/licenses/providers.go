package licenses

import (
	"context"
	"net/http"

	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Providers wraps the host's provider lookup: every provider it hands out
// completes license requests through Keygen.
type Providers struct {
	payments.Providers
	Keygen *Keygen
}

var _ payments.Providers = (*Providers)(nil)

// Provider implements payments.Providers.
func (p *Providers) Provider(id string) (provider.Client, error) {
	inner, err := p.Providers.Provider(id)
	if err != nil {
		return nil, err
	}
	return Wrap(id, inner, p.Keygen), nil
}

// Wrap returns prov with HandleWebhook completing license requests: when a
// verified webhook yields a license.requested event, the merchant's key
// becomes the response (200 text/plain); when the key cannot be had, the
// response is the failure status and the events are dropped, because the
// host applies no events from a non-2xx answer and the provider will send
// the request again.
func Wrap(providerID string, prov provider.Client, k *Keygen) provider.Client {
	return &licensing{Client: prov, id: providerID, keygen: k}
}

type licensing struct {
	provider.Client
	id     string
	keygen *Keygen
}

func (l *licensing) HandleWebhook(ctx context.Context, req provider.WebhookRequest) (provider.WebhookResponse, error) {
	out, err := l.Client.HandleWebhook(ctx, req)
	if err != nil {
		return out, err
	}
	for _, ev := range out.Events {
		if ev.Type != provider.LicenseRequested {
			continue
		}
		out.Response = l.keygen.Issue(ctx, l.id, ev)
		if out.Response.Status < http.StatusOK || out.Response.Status > 299 {
			out.Events = nil
		}
		return out, nil
	}
	return out, nil
}
