package webhooks

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/webhook"
)

// EndpointIDPrefix starts endpoint ids ("ep_" + ULID).
const EndpointIDPrefix = "ep_"

func newEndpointID() string { return EndpointIDPrefix + ulid.MustNew(ulid.Now(), rand.Reader).String() }

// Endpoint is an endpoint as the admin API and CLI show it. The secret is
// never part of it.
type Endpoint struct {
	ID          string   `json:"id"`
	MerchantID  int64    `json:"merchant_id"`
	Site        string   `json:"site"`
	Kind        string   `json:"kind"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
	Mode        string   `json:"mode"`
	Profile     string   `json:"profile"`
	Schedule    string   `json:"schedule"`
	Enabled     bool     `json:"enabled"`
	// DisabledReason says why an endpoint is off (410 Gone, operator).
	DisabledReason string `json:"disabled_reason,omitempty"`
	// PreviousSecretExpiresAt is set while a rotation overlap runs.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
}

// EndpointWithSecret is returned once, on create and rotate.
type EndpointWithSecret struct {
	*Endpoint
	Secret string `json:"secret"`
}

func endpointView(e *store.WebhookEndpoint) *Endpoint {
	types := []string(e.EventTypes)
	if types == nil {
		types = []string{}
	}
	return &Endpoint{
		ID: e.ID, MerchantID: e.MerchantID, Site: e.Site, Kind: e.Kind, URL: e.URL,
		Description: e.Description, EventTypes: types, Mode: e.Mode, Profile: e.Profile,
		Schedule: e.Schedule, Enabled: e.Enabled, DisabledReason: e.DisabledReason,
		PreviousSecretExpiresAt: e.PreviousExpiresAt, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
}

// NewEndpoint is the input of CreateEndpoint.
type NewEndpoint struct {
	MerchantID int64
	// Site limits the endpoint to sessions of one approved domain; ""
	// means every site of the merchant.
	Site string
	// URL is required for a regular endpoint and must be empty for IPN.
	URL         string
	Description string
	// EventTypes are types ("session.paid") or prefixes ("session.*");
	// empty means every event.
	EventTypes []string
	// Mode "test" or "live" limits the endpoint to that mode's sessions;
	// "" means both.
	Mode string
	// Profile is the signing profile; "" means standard.
	Profile string
	// Schedule is a retry preset name; "" means svix.
	Schedule string
	// IPN makes this the site's IPN signing config: deliveries to each
	// session's ipn_url are signed with its profile and secret.
	IPN bool
}

var eventPattern = regexp.MustCompile(`^(\*|[a-z][a-z0-9_]*\.(\*|[a-z][a-z0-9_]*))$`)

func validateEventTypes(types []string) ([]string, error) {
	out := make([]string, 0, len(types))
	for _, t := range types {
		t = strings.TrimSpace(t)
		if !eventPattern.MatchString(t) {
			return nil, domain.Invalid("invalid_event_type", "event_types",
				"event type %q must look like session.paid, session.* or *", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// matchesType reports whether an endpoint filter selects event type typ.
func matchesType(filter []string, typ string) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		if f == "*" || f == typ {
			return true
		}
		if prefix, ok := strings.CutSuffix(f, "*"); ok && strings.HasPrefix(typ, prefix) {
			return true
		}
	}
	return false
}

// CreateEndpoint validates and stores an endpoint with a new whsec_
// secret, which is returned this once.
func (s *Service) CreateEndpoint(ctx context.Context, in NewEndpoint) (*EndpointWithSecret, error) {
	if in.Profile == "" {
		in.Profile = webhook.ProfileStandard
	}
	if !webhook.ValidProfile(in.Profile) {
		return nil, domain.Invalid("invalid_profile", "profile", "profile %q is not one of %s", in.Profile, strings.Join(webhook.Profiles(), ", "))
	}
	if in.Schedule == "" {
		in.Schedule = ScheduleSvix
	}
	if _, ok := s.schedules[in.Schedule]; !ok {
		return nil, domain.Invalid("invalid_schedule", "schedule", "schedule %q is not a known preset (svix, paypro)", in.Schedule)
	}
	if in.Mode != "" && !domain.Mode(in.Mode).Valid() {
		return nil, domain.Invalid("invalid_mode", "mode", "mode %q is not one of test, live", in.Mode)
	}
	types, err := validateEventTypes(in.EventTypes)
	if err != nil {
		return nil, err
	}
	kind := store.EndpointURL
	if in.IPN {
		kind = store.EndpointIPN
		if in.URL != "" {
			return nil, domain.Invalid("invalid_url", "url", "an IPN signing config has no url: each session's ipn_url is the target")
		}
	} else if err := s.guard.CheckURL(ctx, in.URL); err != nil {
		return nil, err
	}
	m, err := s.store.GetMerchant(ctx, in.MerchantID)
	if err != nil {
		return nil, err
	}
	if in.Site != "" && !slices.Contains(m.Domains(), in.Site) {
		return nil, domain.Invalid("unknown_site", "site", "site %q is not one of the merchant's domains", in.Site)
	}

	secret := webhook.NewSecret()
	ts := s.now()
	e := &store.WebhookEndpoint{
		ID: newEndpointID(), MerchantID: in.MerchantID, Site: in.Site, Kind: kind, URL: in.URL,
		Description: in.Description, EventTypes: types, Mode: in.Mode, Profile: in.Profile,
		Schedule: in.Schedule, Enabled: true, CreatedAt: ts, UpdatedAt: ts,
	}
	if e.Secret, err = s.seal(e.ID, "secret", secret); err != nil {
		return nil, err
	}
	if err := s.store.InsertWebhookEndpoint(ctx, e); err != nil {
		return nil, err
	}
	return &EndpointWithSecret{Endpoint: endpointView(e), Secret: secret}, nil
}

// GetEndpoint returns a live endpoint.
func (s *Service) GetEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	e, err := s.store.GetWebhookEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	return endpointView(e), nil
}

// ListEndpoints lists live endpoints, one merchant's when merchantID > 0.
func (s *Service) ListEndpoints(ctx context.Context, merchantID int64) ([]*Endpoint, error) {
	es, err := s.store.ListWebhookEndpoints(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	out := make([]*Endpoint, 0, len(es))
	for _, e := range es {
		out = append(out, endpointView(e))
	}
	return out, nil
}

// RotateSecret gives an endpoint a new secret, returned this once. For
// overlap (0 means DefaultRotateOverlap; negative means none) the old
// secret stays valid: the standard profile signs with both, the
// single-signature profiles keep signing with the old one until the
// overlap ends, so receivers can deploy the new secret in that window.
func (s *Service) RotateSecret(ctx context.Context, id string, overlap time.Duration) (*EndpointWithSecret, error) {
	if overlap == 0 {
		overlap = DefaultRotateOverlap
	}
	secret := webhook.NewSecret()
	var out *store.WebhookEndpoint
	err := s.store.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r := store.NewRepo(tx)
		e, err := r.GetWebhookEndpoint(ctx, id)
		if err != nil {
			return err
		}
		ts := s.now()
		e.PreviousSecret, e.PreviousExpiresAt = "", nil
		if overlap > 0 {
			old, err := s.open(e.ID, "secret", e.Secret)
			if err != nil {
				return err
			}
			if e.PreviousSecret, err = s.seal(e.ID, "previous_secret", old); err != nil {
				return err
			}
			exp := ts.Add(overlap)
			e.PreviousExpiresAt = &exp
		}
		if e.Secret, err = s.seal(e.ID, "secret", secret); err != nil {
			return err
		}
		e.UpdatedAt = ts
		out = e
		return r.UpdateWebhookEndpoint(ctx, e, "secret", "previous_secret", "previous_expires_at")
	})
	if err != nil {
		return nil, err
	}
	return &EndpointWithSecret{Endpoint: endpointView(out), Secret: secret}, nil
}

// SetEnabled turns an endpoint on or off. reason is kept while it is off.
// Attempts already scheduled for a disabled endpoint are canceled when
// they come up; nothing is sent to it.
func (s *Service) SetEnabled(ctx context.Context, id string, enabled bool, reason string) (*Endpoint, error) {
	e, err := s.store.GetWebhookEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	e.Enabled, e.UpdatedAt = enabled, s.now()
	e.DisabledReason = ""
	if !enabled {
		e.DisabledReason = reason
		if e.DisabledReason == "" {
			e.DisabledReason = "disabled by operator"
		}
	}
	if err := s.store.UpdateWebhookEndpoint(ctx, e, "enabled", "disabled_reason"); err != nil {
		return nil, err
	}
	return endpointView(e), nil
}

// DeleteEndpoint removes an endpoint from use and listings. Its deliveries
// stay in the history.
func (s *Service) DeleteEndpoint(ctx context.Context, id string) error {
	e, err := s.store.GetWebhookEndpoint(ctx, id)
	if err != nil {
		return err
	}
	ts := s.now()
	e.Enabled, e.DeletedAt, e.UpdatedAt = false, &ts, ts
	e.DisabledReason = "deleted"
	return s.store.UpdateWebhookEndpoint(ctx, e, "enabled", "disabled_reason", "deleted_at")
}

// signingSecrets returns the plaintext secrets to sign with now: the
// standard profile signs with the current secret and, during an overlap,
// the previous one; single-signature profiles use the previous secret
// until the overlap ends, then the current one.
func (s *Service) signingSecrets(e *store.WebhookEndpoint, now time.Time) ([]string, error) {
	cur, err := s.open(e.ID, "secret", e.Secret)
	if err != nil {
		return nil, err
	}
	if e.PreviousSecret == "" || e.PreviousExpiresAt == nil || !now.Before(*e.PreviousExpiresAt) {
		return []string{cur}, nil
	}
	prev, err := s.open(e.ID, "previous_secret", e.PreviousSecret)
	if err != nil {
		return nil, err
	}
	if e.Profile == webhook.ProfileStandard {
		return []string{cur, prev}, nil
	}
	return []string{prev}, nil
}

func disabledReason(e *store.WebhookEndpoint) string {
	if e.DisabledReason != "" {
		return fmt.Sprintf("endpoint %s is disabled: %s", e.ID, e.DisabledReason)
	}
	return fmt.Sprintf("endpoint %s is disabled", e.ID)
}
