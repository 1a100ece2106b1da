package webhooks

import (
	"context"
	"fmt"
	"slices"

	"github.com/switchyard/switchyard/core/domain"
)

// LicenseEventType is the only subscription that makes an endpoint a
// license-key generator.
const LicenseEventType = "license.requested"

// LicenseEndpoint is a site's key generator: an endpoint subscribed to
// license.requested, with the secrets to sign the request.
type LicenseEndpoint struct {
	URL     string
	Profile string
	Secrets []string
}

// LicenseEndpointFor finds the key generator for a session's license
// request: an enabled endpoint of the session's merchant, for its site (or
// merchant-wide), whose event filter names license.requested exactly. A
// wildcard subscription never qualifies: a generic endpoint's "ok" answer
// would be handed to the shopper as their license key. domain.ErrNotFound
// when none is configured.
func (s *Service) LicenseEndpointFor(ctx context.Context, sessionID string) (*LicenseEndpoint, error) {
	if sessionID == "" {
		return nil, domain.NotFound("license endpoint")
	}
	sess, err := s.store.GetSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	eps, err := s.store.EnabledWebhookEndpoints(ctx, sess.MerchantID)
	if err != nil {
		return nil, err
	}
	var best *LicenseEndpoint
	for _, e := range eps {
		if !slices.Contains(e.EventTypes, LicenseEventType) {
			continue
		}
		if e.Site != "" && e.Site != sess.Domain {
			continue
		}
		if e.Mode != "" && e.Mode != string(sess.Mode) {
			continue
		}
		secrets, err := s.signingSecrets(e, s.now())
		if err != nil {
			return nil, fmt.Errorf("license endpoint %s: %w", e.ID, err)
		}
		le := &LicenseEndpoint{URL: e.URL, Profile: e.Profile, Secrets: secrets}
		if e.Site == sess.Domain {
			return le, nil // a site-specific endpoint beats a merchant-wide one
		}
		if best == nil {
			best = le
		}
	}
	if best == nil {
		return nil, domain.NotFound("license endpoint")
	}
	return best, nil
}
