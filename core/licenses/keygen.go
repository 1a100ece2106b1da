package licenses

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/webhook"
)

// Defaults and bounds.
const (
	// DefaultTimeout leaves room inside the provider's own request timeout
	// (PayPro does not publish it; 30 s is the common floor) for the
	// round trip through Switchyard.
	DefaultTimeout = 10 * time.Second
	// MaxTimeout keeps the keygen call below a 30 s provider timeout.
	// licenses.timeout is validated against config.LicensesMaxTimeout,
	// which must stay equal (TestMaxTimeoutMatchesConfig).
	MaxTimeout = 25 * time.Second
	// DefaultMaxKey bounds the merchant's answer; a license key is short.
	DefaultMaxKey = 64 << 10
	// EventType is the "event" field of the request the merchant receives.
	EventType = "license.requested"
)

// Target is a site's key generator endpoint.
type Target struct {
	URL string
	// Profile is the webhook signing profile (package webhook); "" means
	// standard.
	Profile string
	// Secrets sign the request: the current secret first (the standard
	// profile signs with each, for rotation overlaps).
	Secrets []string
}

// Targets finds the key generator for a license request: typically by the
// event's session (merchant, site, mode). domain.ErrNotFound means none is
// configured.
type Targets interface {
	LicenseTarget(ctx context.Context, providerID string, ev provider.Event) (Target, error)
}

// TargetsFunc adapts a function to Targets.
type TargetsFunc func(ctx context.Context, providerID string, ev provider.Event) (Target, error)

// LicenseTarget implements Targets.
func (f TargetsFunc) LicenseTarget(ctx context.Context, providerID string, ev provider.Event) (Target, error) {
	return f(ctx, providerID, ev)
}

// Options configure a Keygen.
type Options struct {
	// Timeout bounds the whole call to the merchant; default
	// DefaultTimeout, at most MaxTimeout.
	Timeout time.Duration
	// Client sends the request; default refuses internal addresses at dial
	// time (webhooks.Guard), like outbound webhooks.
	Client *http.Client
	// AllowPrivateTargets opens loopback (only) in the default
	// client (webhooks.allow_private_targets, for development and tests).
	AllowPrivateTargets bool
	// MaxKey bounds the key's size; default DefaultMaxKey.
	MaxKey int
	Now    func() time.Time
	Log    *slog.Logger
}

// Keygen asks merchants' key generators for license keys.
type Keygen struct {
	targets Targets
	client  *http.Client
	timeout time.Duration
	maxKey  int
	now     func() time.Time
	log     *slog.Logger
}

// New builds a Keygen.
func New(targets Targets, opts Options) (*Keygen, error) {
	if targets == nil {
		return nil, errors.New("licenses: targets are required")
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Timeout < 0 || opts.Timeout > MaxTimeout {
		return nil, fmt.Errorf("licenses: timeout %s is outside (0, %s]", opts.Timeout, MaxTimeout)
	}
	if opts.Client == nil {
		opts.Client = webhooks.NewGuard(opts.AllowPrivateTargets).NewHTTPClient(opts.Timeout)
	}
	if opts.MaxKey <= 0 {
		opts.MaxKey = DefaultMaxKey
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Keygen{targets: targets, client: opts.Client, timeout: opts.Timeout, maxKey: opts.MaxKey, now: opts.Now, log: opts.Log}, nil
}

// Timeout is how long a call to a key generator may take (Options.Timeout
// or its default).
func (k *Keygen) Timeout() time.Duration { return k.timeout }

// request is the JSON body the merchant's key generator receives.
type request struct {
	ID        string            `json:"id"`
	Event     string            `json:"event"`
	CreatedAt string            `json:"created_at"`
	Provider  string            `json:"provider"`
	SessionID string            `json:"session_id,omitempty"`
	RawType   string            `json:"raw_type,omitempty"`
	Data      map[string]string `json:"data"`
}

// MessageID is the webhook-id of the key request for ev: stable across
// the provider's retries, so the merchant can hand out the same key again.
func MessageID(providerID string, ev provider.Event) string {
	sum := sha256.Sum256([]byte(providerID + "\x00" + ev.ProviderEventID))
	return "lic_" + hex.EncodeToString(sum[:16])
}

// Issue asks the merchant for the key and returns the answer for the
// provider: 200 text/plain with the merchant's body verbatim, or 503 (no
// key generator configured), 502 (it failed, answered non-2xx or nothing)
// or 504 (it was too slow). Failure answers never echo the merchant's body.
func (k *Keygen) Issue(ctx context.Context, providerID string, ev provider.Event) provider.HTTPResponse {
	log := k.log.With("provider_id", providerID, "provider_event_id", ev.ProviderEventID, "session_id", ev.SessionID)
	target, err := k.targets.LicenseTarget(ctx, providerID, ev)
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			log.WarnContext(ctx, "license requested but no key generator is configured")
			return text(http.StatusServiceUnavailable, "no license key generator is configured")
		}
		log.ErrorContext(ctx, "license target lookup failed", "err", err)
		return text(http.StatusServiceUnavailable, "license key generator unavailable")
	}
	id := MessageID(providerID, ev)
	now := k.now()
	body, err := json.Marshal(request{
		ID: id, Event: EventType, CreatedAt: now.UTC().Format(time.RFC3339), Provider: providerID,
		SessionID: ev.SessionID, RawType: ev.RawType, Data: ev.Data,
	})
	if err != nil {
		return text(http.StatusInternalServerError, "license request could not be encoded")
	}
	profile := target.Profile
	if profile == "" {
		profile = webhook.ProfileStandard
	}
	hdr, err := webhook.Sign(profile, target.Secrets, id, now, body)
	if err != nil {
		log.ErrorContext(ctx, "license request could not be signed", "err", err)
		return text(http.StatusServiceUnavailable, "license key generator is misconfigured")
	}
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.URL, bytes.NewReader(body))
	if err != nil {
		log.ErrorContext(ctx, "license target url is invalid", "err", err)
		return text(http.StatusServiceUnavailable, "license key generator is misconfigured")
	}
	for key, v := range hdr {
		req.Header[key] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchyard-Licenses/1")
	start := time.Now()
	resp, err := k.client.Do(req)
	if err != nil {
		if isTimeout(err) {
			log.WarnContext(ctx, "license key generator timed out", "timeout", k.timeout)
			return text(http.StatusGatewayTimeout, "license key generator timed out")
		}
		log.WarnContext(ctx, "license key generator unreachable", "err", err)
		return text(http.StatusBadGateway, "license key generator unreachable")
	}
	defer resp.Body.Close()
	key, err := io.ReadAll(io.LimitReader(resp.Body, int64(k.maxKey)+1))
	switch {
	case err != nil && isTimeout(err):
		log.WarnContext(ctx, "license key generator timed out while answering", "timeout", k.timeout)
		return text(http.StatusGatewayTimeout, "license key generator timed out")
	case err != nil:
		log.WarnContext(ctx, "license key generator answer unreadable", "err", err)
		return text(http.StatusBadGateway, "license key generator answer unreadable")
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		log.WarnContext(ctx, "license key generator failed", "status", resp.StatusCode)
		return text(http.StatusBadGateway, fmt.Sprintf("license key generator answered %d", resp.StatusCode))
	case len(key) > k.maxKey:
		log.WarnContext(ctx, "license key generator answer too large", "max", k.maxKey)
		return text(http.StatusBadGateway, "license key generator answer too large")
	case strings.TrimSpace(string(key)) == "":
		log.WarnContext(ctx, "license key generator answered no key")
		return text(http.StatusBadGateway, "license key generator answered no key")
	}
	sum := sha256.Sum256(key)
	log.InfoContext(ctx, "license key issued", "key_sha256", hex.EncodeToString(sum[:8]), "elapsed", time.Since(start))
	return text(http.StatusOK, string(key))
}

func text(status int, body string) provider.HTTPResponse {
	return provider.HTTPResponse{
		Status:  status,
		Headers: http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "Cache-Control": {"no-store"}},
		Body:    []byte(body),
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
