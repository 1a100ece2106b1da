package merchants

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// touchEvery bounds how often authentication writes last_used_at, so the
// hot path is a single indexed read for a busy key.
const touchEvery = time.Minute

// Service is the merchant-management service.
type Service struct {
	store *store.Store
	auth  *authCache
	log   *slog.Logger
	now   func() time.Time
}

// authChannel is the NOTIFY channel on which every change that can make a
// cached authentication wrong (key revoked, merchant suspended, site
// added) is announced to the other instances.
const authChannel = "switchyard_auth"

// Options tune New. The zero value is the production default.
type Options struct {
	// AuthCacheTTL is how long a successful authentication is reused
	// (api.auth_cache_ttl): zero means DefaultAuthCacheTTL, negative
	// turns the cache off.
	AuthCacheTTL time.Duration
	// Logger hears about announcements that could not be sent (other
	// instances then rely on their TTL). Default slog.Default().
	Logger *slog.Logger
	// Clock returns the current time for the authentication cache's
	// lifetime and the key's last use; nil means time.Now.
	Clock func() time.Time
}

// New builds the service on a store.
func New(s *store.Store, opts ...Options) *Service {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.AuthCacheTTL == 0 {
		o.AuthCacheTTL = DefaultAuthCacheTTL
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	clock := o.Clock
	if clock == nil {
		clock = time.Now
	}
	return &Service{store: s, auth: newAuthCache(o.AuthCacheTTL), log: o.Logger, now: func() time.Time { return clock().UTC() }}
}

// changed drops this instance's cached authentications and tells the
// other instances to drop theirs. It runs after the change committed, so
// an instance that re-reads sees it. A failed announcement is logged, not
// returned: the change itself is done, and the others' TTL bounds the rest.
func (s *Service) changed(ctx context.Context, what string) {
	s.auth.invalidate()
	if err := s.store.Notify(context.WithoutCancel(ctx), authChannel, what); err != nil {
		s.log.Warn("could not tell other instances to drop cached authentications; they honour the change within api.auth_cache_ttl",
			"change", what, "err", err)
	}
}

// ListenForChanges keeps this instance's authentication cache in step with
// changes made by other processes (PostgreSQL LISTEN), until ctx ends.
// Whenever listening (re)starts the cache is dropped, since announcements
// sent while it was not listening are lost. On SQLite it returns at once.
func (s *Service) ListenForChanges(ctx context.Context) error {
	return s.store.Listen(ctx, authChannel, store.Listener{
		OnNotify:    func(string) { s.auth.invalidate() },
		OnListening: s.auth.invalidate,
		OnError: func(err error) {
			s.log.Warn("lost the connection announcing authentication changes; reconnecting (cached authentications expire within api.auth_cache_ttl meanwhile)", "err", err)
		},
	})
}

// NewMerchant is the input of CreateMerchant.
type NewMerchant struct {
	Name         string
	Plan         string
	ContactEmail string
	Domains      []string
}

// CreateMerchant validates and stores a merchant with its site domains.
func (s *Service) CreateMerchant(ctx context.Context, in NewMerchant) (*store.Merchant, error) {
	var problems []error
	if strings.TrimSpace(in.Name) == "" {
		problems = append(problems, domain.Invalid("invalid_name", "name", "name is required"))
	}
	if !domain.Plan(in.Plan).Valid() {
		problems = append(problems, domain.Invalid("invalid_plan", "plan", "plan %q is not one of free, starter, pro, unlimited", in.Plan))
	}
	if err := validateEmail(in.ContactEmail, "contact_email"); err != nil {
		problems = append(problems, err)
	}
	if len(in.Domains) == 0 {
		problems = append(problems, domain.Invalid("invalid_domain", "domains", "at least one site domain is required"))
	}
	seen := map[string]bool{}
	for _, d := range in.Domains {
		if err := ValidateDomain(d); err != nil {
			problems = append(problems, err)
		} else if seen[d] {
			problems = append(problems, domain.Conflict("duplicate_domain", "domain %q is given twice", d))
		}
		seen[d] = true
	}
	if len(problems) > 0 {
		return nil, problems[0]
	}
	return s.store.CreateMerchant(ctx, store.NewMerchant{
		Name: strings.TrimSpace(in.Name), Plan: store.Plan(in.Plan), ContactEmail: in.ContactEmail, Domains: in.Domains,
	})
}

// GetMerchant returns a merchant with its sites.
func (s *Service) GetMerchant(ctx context.Context, id int64) (*store.Merchant, error) {
	return s.store.GetMerchant(ctx, id)
}

// ListMerchants lists merchants in id order.
func (s *Service) ListMerchants(ctx context.Context, page store.Page) ([]*store.Merchant, error) {
	return s.store.ListMerchants(ctx, page)
}

// AddSite approves another domain for a merchant.
func (s *Service) AddSite(ctx context.Context, merchantID int64, domainName string) (*store.Site, error) {
	if err := ValidateDomain(domainName); err != nil {
		return nil, err
	}
	site, err := s.store.AddSite(ctx, merchantID, domainName)
	if err != nil {
		return nil, err
	}
	s.changed(ctx, "site:"+strconv.FormatInt(site.ID, 10))
	return site, nil
}

// SetMerchantStatus suspends (store.MerchantSuspended) or reactivates
// (store.MerchantActive) a merchant. A suspended merchant's keys are
// refused (403 merchant_suspended) by every instance within a second on
// PostgreSQL.
func (s *Service) SetMerchantStatus(ctx context.Context, id int64, status store.MerchantStatus) (*store.Merchant, error) {
	m, err := s.store.SetMerchantStatus(ctx, id, status)
	if err != nil {
		return nil, err
	}
	s.changed(ctx, "merchant:"+strconv.FormatInt(id, 10))
	return m, nil
}

// ListSites lists a merchant's approved domains.
func (s *Service) ListSites(ctx context.Context, merchantID int64) ([]*store.Site, error) {
	return s.store.ListSites(ctx, merchantID)
}

// NewKey is the input of CreateKey.
type NewKey struct {
	MerchantID int64
	Mode       string   // test (default) or live
	Scopes     []string // empty: domain.DefaultScopes
	Name       string
}

// CreatedKey is a stored key plus its secret, which exists only here: the
// store keeps a hash, so the caller must show it now or never.
type CreatedKey struct {
	*store.APIKey
	Secret string `json:"key"`
}

// CreateKey generates, stores and returns a new API key.
func (s *Service) CreateKey(ctx context.Context, in NewKey) (*CreatedKey, error) {
	mode := store.KeyMode(in.Mode)
	if in.Mode == "" {
		mode = store.ModeTest
	}
	if !mode.Valid() {
		return nil, domain.Invalid("invalid_mode", "mode", "mode %q is not one of test, live", in.Mode)
	}
	scopes := in.Scopes
	if len(scopes) == 0 {
		for _, sc := range domain.DefaultScopes() {
			scopes = append(scopes, string(sc))
		}
	}
	for _, sc := range scopes {
		if _, err := domain.ParseScope(sc); err != nil {
			return nil, domain.Invalid("invalid_scope", "scopes", "scope %q is not one of sessions:write, sessions:read, me:read, refunds:write", sc)
		}
	}
	// A prefix collision is astronomically unlikely but enforced by a
	// unique constraint; retry a few times rather than fail the operator.
	for attempt := 0; ; attempt++ {
		secret, err := generateKey(mode)
		if err != nil {
			return nil, err
		}
		k, err := s.store.CreateAPIKey(ctx, store.NewAPIKey{
			MerchantID: in.MerchantID, Prefix: keyPrefix(secret), SecretHash: store.HashAPIKey(secret),
			Scopes: slices.Compact(slices.Sorted(slices.Values(scopes))), Mode: mode, Name: in.Name,
		})
		if errors.Is(err, domain.ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &CreatedKey{APIKey: k, Secret: secret}, nil
	}
}

// ListKeys lists a merchant's keys (never their secrets).
func (s *Service) ListKeys(ctx context.Context, merchantID int64) ([]*store.APIKey, error) {
	return s.store.ListAPIKeys(ctx, merchantID)
}

// RevokeKey revokes a key; a revoked key authenticates nothing.
func (s *Service) RevokeKey(ctx context.Context, id int64) (*store.APIKey, error) {
	k, err := s.store.RevokeAPIKey(ctx, id)
	if err != nil {
		return nil, err
	}
	s.changed(ctx, "key:"+strconv.FormatInt(id, 10))
	return k, nil
}

// Principal is an authenticated merchant API caller. Concurrent requests
// with the same key may share one (the authentication cache), so it is
// read-only.
type Principal struct {
	Merchant *store.Merchant
	Key      *store.APIKey
}

// Mode is the key's mode: test keys see only test sessions.
func (p *Principal) Mode() store.KeyMode { return p.Key.Mode }

// Authenticate resolves a bearer token to its merchant and key. Malformed,
// unknown and revoked keys are all 401 with distinct codes; none of them
// echoes the token back.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if mode, _ := splitKey(token); mode == "" {
		return nil, &domain.Error{Kind: domain.ErrUnauthorized, Code: "malformed_api_key", Message: "the API key is malformed; expected sk_test_… or sk_live_…"}
	}
	hash := store.HashAPIKey(token)
	now := s.now()
	if p, ok := s.auth.get(hash, now); ok {
		return p, nil
	}
	gen := s.auth.generation()
	// One round trip: key, merchant and sites (session create validates
	// the domain against the sites) come from a single indexed join.
	k, m, err := s.store.GetAPIKeyWithMerchant(ctx, hash)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, &domain.Error{Kind: domain.ErrUnauthorized, Code: "invalid_api_key", Message: "the API key is not valid"}
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if k.Revoked() {
		return nil, &domain.Error{Kind: domain.ErrUnauthorized, Code: "revoked_api_key", Message: "the API key has been revoked"}
	}
	if m.Status != store.MerchantActive {
		return nil, &domain.Error{Kind: domain.ErrForbidden, Code: "merchant_suspended", Message: "this merchant account is suspended"}
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > touchEvery {
		if err := s.store.TouchAPIKey(ctx, k.ID, now); err != nil {
			return nil, fmt.Errorf("authenticate: record key use: %w", err)
		}
	}
	p := &Principal{Merchant: m, Key: k}
	s.auth.put(hash, p, gen, now)
	return p, nil
}

// ValidateDomain checks an approved-site domain: a lower-case host name
// (labels of letters, digits and hyphens), no scheme, port, path or
// trailing dot. Session creation compares domains byte for byte, so the
// stored form must already be canonical.
func ValidateDomain(d string) error {
	bad := func(why string) error {
		return domain.Invalid("invalid_domain", "domain", "domain %q %s", d, why)
	}
	if d == "" {
		return bad("is empty")
	}
	if len(d) > 253 {
		return bad("is longer than 253 characters")
	}
	if d != strings.ToLower(d) {
		return bad("must be lower case")
	}
	if strings.ContainsAny(d, ":/?#@ ") {
		return bad("must be a bare host name without scheme, port or path")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return bad("has an empty or over-long label")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return bad("has a label starting or ending with a hyphen")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return bad("may contain only letters, digits, hyphens and dots")
			}
		}
	}
	return nil
}

func validateEmail(addr, field string) error {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || a.Name != "" {
		return domain.Invalid("invalid_email", field, "%q is not a valid email address", addr)
	}
	return nil
}
