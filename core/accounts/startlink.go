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
	if _, err := s.store.GetMerchant(ctx, merchantID); err != nil {
		return provider.ConnectStartLink{}, err
	}
	resp, base, err := s.callAdmin(ctx, providerID, http.MethodGet, provider.AdminConnectStartLinkPath,
		url.Values{"merchant": {strconv.FormatInt(merchantID, 10)}})
	if err != nil {
		return provider.ConnectStartLink{}, err
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

// Disconnect ends merchantID's connection on providerID from the operator's
// side: the plugin revokes the upstream authorization through its operator
// route provider.AdminConnectDisconnectPath and reports
// account.disconnected, which is applied here. Errors: unknown merchant or
// provider, or no connected account → not found; unsupported →
// unprocessable; the plugin or upstream failing → unavailable (the
// connection stays as it was, retry).
func (s *Service) Disconnect(ctx context.Context, merchantID int64, providerID string) error {
	if _, err := s.store.GetMerchant(ctx, merchantID); err != nil {
		return err
	}
	account, err := s.Account(ctx, merchantID, providerID)
	if err != nil {
		return err
	}
	if account == "" {
		return domain.NotFound("connected account")
	}
	merchant := strconv.FormatInt(merchantID, 10)
	resp, _, err := s.callAdmin(ctx, providerID, http.MethodPost, provider.AdminConnectDisconnectPath,
		url.Values{"merchant": {merchant}, "account": {account}})
	if err != nil {
		return err
	}
	// Only the disconnection that was asked for is applied.
	confirmed := false
	for _, ev := range resp.Events {
		if ev.Type != provider.AccountDisconnected || ev.Data["merchant_id"] != merchant || ev.Data["account_id"] != account {
			return unavailable(fmt.Errorf("plugin answered the disconnect with an unexpected %s event", ev.Type))
		}
		confirmed = true
	}
	if !confirmed {
		return unavailable(errors.New("plugin did not confirm the disconnection"))
	}
	return s.ApplyHTTPEvents(ctx, providerID, resp.Events)
}

// callAdmin calls one of a plugin's operator routes and maps its failures;
// it returns a 200 response and the instance's public base.
func (s *Service) callAdmin(ctx context.Context, providerID, method, path string, q url.Values) (provider.HTTPResponse, string, error) {
	if s.providers == nil || s.baseURL == "" {
		return provider.HTTPResponse{}, "", errors.New("accounts: operator routes need Providers and PublicBaseURL")
	}
	p, err := s.providers.Provider(providerID)
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) || errors.Is(err, domain.ErrInvalid) {
			return provider.HTTPResponse{}, "", domain.NotFound("provider")
		}
		return provider.HTTPResponse{}, "", unavailable(err)
	}
	base := strings.TrimRight(s.baseURL, "/") + "/p/" + providerID
	resp, err := p.HandleHTTP(ctx, provider.HTTPRequest{
		Method: method, Path: path, Query: q.Encode(),
		Headers: http.Header{"Accept": {"application/json"}}, BaseURL: base,
	})
	if err != nil {
		switch sdkerr.CategoryOf(err) {
		case sdkerr.CategoryUnimplemented, sdkerr.CategoryNotFound:
			return provider.HTTPResponse{}, "", unsupported(providerID)
		}
		return provider.HTTPResponse{}, "", unavailable(err)
	}
	switch {
	case resp.Status == http.StatusNotFound:
		return provider.HTTPResponse{}, "", unsupported(providerID)
	case resp.Status != http.StatusOK && resp.Status != 0:
		s.log.WarnContext(ctx, "provider operator route failed", "provider_id", providerID, "path", path, "status", resp.Status, "body", truncate(resp.Body, 300))
		return provider.HTTPResponse{}, "", unavailable(fmt.Errorf("plugin answered %d to %s", resp.Status, path))
	}
	return resp, base, nil
}

// truncate bounds what of a plugin's answer reaches the logs.
func truncate(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

func unsupported(providerID string) error {
	return &domain.Error{Kind: domain.ErrUnprocessable, Code: "connect_unsupported", Field: "provider_id",
		Message: fmt.Sprintf("provider %s does not offer account onboarding, or it is not configured", providerID)}
}

// unavailable keeps the cause for logs behind a safe 503 message.
func unavailable(cause error) error {
	return fmt.Errorf("%w: %w", &domain.Error{Kind: domain.ErrUnavailable, Code: "provider_unavailable",
		Message: "the provider plugin could not complete the request; retry later"}, cause)
}
