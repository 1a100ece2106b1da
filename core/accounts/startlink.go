package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// StartLink asks provider instance providerID for a link that starts
// connecting merchantID's upstream account. The plugin mints and signs it
// (its secret never reaches the core) through its operator route
// provider.AdminConnectStartLinkPath; the operator hands the link to the
// merchant. Errors: unknown merchant or provider → not found; a provider
// without Connect onboarding (or not configured for it) → unprocessable
// (connect_unsupported); plugin down → unavailable.
func (s *Service) StartLink(ctx context.Context, merchantID int64, providerID string) (provider.ConnectStartLink, error) {
	if s.providers == nil || s.baseURL == "" {
		return provider.ConnectStartLink{}, errors.New("accounts: StartLink needs Providers and PublicBaseURL")
	}
	if _, err := s.store.GetMerchant(ctx, merchantID); err != nil {
		return provider.ConnectStartLink{}, err
	}
	p, err := s.providers.Provider(providerID)
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) || errors.Is(err, domain.ErrInvalid) {
			return provider.ConnectStartLink{}, domain.NotFound("provider")
		}
		return provider.ConnectStartLink{}, unavailable(err)
	}
	base := strings.TrimRight(s.baseURL, "/") + "/p/" + providerID
	resp, err := p.HandleHTTP(ctx, provider.HTTPRequest{
		Method:  http.MethodGet,
		Path:    provider.AdminConnectStartLinkPath,
		Query:   url.Values{"merchant": {strconv.FormatInt(merchantID, 10)}}.Encode(),
		Headers: http.Header{"Accept": {"application/json"}},
		BaseURL: base,
	})
	if err != nil {
		switch sdkerr.CategoryOf(err) {
		case sdkerr.CategoryUnimplemented, sdkerr.CategoryNotFound:
			return provider.ConnectStartLink{}, unsupported(providerID)
		}
		return provider.ConnectStartLink{}, unavailable(err)
	}
	switch {
	case resp.Status == http.StatusNotFound:
		return provider.ConnectStartLink{}, unsupported(providerID)
	case resp.Status != http.StatusOK && resp.Status != 0:
		return provider.ConnectStartLink{}, unavailable(fmt.Errorf("plugin answered %d to %s", resp.Status, provider.AdminConnectStartLinkPath))
	}
	var link provider.ConnectStartLink
	if err := json.Unmarshal(resp.Body, &link); err != nil {
		return provider.ConnectStartLink{}, unavailable(fmt.Errorf("decode start link: %w", err))
	}
	// The link must lead back to this instance's own routes: a plugin
	// cannot make the operator hand out an arbitrary URL.
	if !strings.HasPrefix(link.URL, base+"/") || link.ExpiresAt.IsZero() {
		return provider.ConnectStartLink{}, unavailable(errors.New("plugin returned a start link outside its base URL or without expiry"))
	}
	s.log.InfoContext(ctx, "connect start link issued", "merchant_id", merchantID, "provider_id", providerID, "expires_at", link.ExpiresAt)
	return link, nil
}

func unsupported(providerID string) error {
	return &domain.Error{Kind: domain.ErrUnprocessable, Code: "connect_unsupported", Field: "provider_id",
		Message: fmt.Sprintf("provider %s does not offer account onboarding, or it is not configured", providerID)}
}

// unavailable keeps the cause for logs behind a safe 503 message.
func unavailable(cause error) error {
	return fmt.Errorf("%w: %w", &domain.Error{Kind: domain.ErrUnavailable, Code: "provider_unavailable",
		Message: "the provider plugin could not produce a link; retry later"}, cause)
}
