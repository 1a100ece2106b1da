package whmprovisioner

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provisioner"
)

// Version is the plugin's version, reported by Describe.
const Version = "1.0.0"

// Provisioner is the cPanel/WHM provisioner. Build it with New; it is
// unusable until Configure succeeds and safe for concurrent use afterwards.
type Provisioner struct {
	log hclog.Logger
	now func() time.Time

	mu      sync.RWMutex
	client  *client
	lastErr *callFailure // the latest upstream failure, cleared by a success
}

var (
	_ provisioner.Provisioner   = (*Provisioner)(nil)
	_ provisioner.PackageLister = (*Provisioner)(nil)
	_ provisioner.LoginLinker   = (*Provisioner)(nil)
)

type callFailure struct {
	at  time.Time
	err error
}

// Option adjusts a Provisioner.
type Option func(*Provisioner)

// WithLogger sets the logger (hclog JSON on stderr under sdk.Serve).
func WithLogger(l hclog.Logger) Option { return func(p *Provisioner) { p.log = l } }

// New returns an unconfigured provisioner.
func New(opts ...Option) *Provisioner {
	p := &Provisioner{log: hclog.NewNullLogger(), now: time.Now}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Describe implements provisioner.Provisioner. The SDK adds the packages
// and login_url capabilities from the optional interfaces implemented.
func (p *Provisioner) Describe(context.Context) (meta.Info, error) {
	return meta.Info{Name: "whm", Version: Version, Kind: meta.KindProvisioner}, nil
}

// Configure implements provisioner.Provisioner. It validates the settings
// and contacts nothing: an unreachable panel must not stop Switchyard from
// starting. TestConnection (`switchyard plugins test`) checks the server.
func (p *Provisioner) Configure(_ context.Context, in map[string]string) error {
	s, err := parseSettings(in)
	if err != nil {
		return err
	}
	c := newClient(s)
	p.mu.Lock()
	old := p.client
	p.client, p.lastErr = c, nil
	p.mu.Unlock()
	if old != nil {
		old.http.CloseIdleConnections()
	}
	return nil
}

// CheckHealth implements provisioner.Provisioner. It does not poll WHM
// (the host asks every few seconds); it reports the outcome of the latest
// real call instead.
func (p *Provisioner) CheckHealth(context.Context) (meta.Health, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	switch {
	case p.client == nil:
		return meta.Health{Status: meta.HealthDown, Message: "not configured"}, nil
	case p.lastErr != nil:
		return meta.Health{Status: meta.HealthDegraded, Message: fmt.Sprintf("last WHM call failed at %s: %v",
			p.lastErr.at.UTC().Format(time.RFC3339), p.lastErr.err)}, nil
	}
	return meta.Health{Status: meta.HealthOK, Message: "configured for " + p.client.s.host}, nil
}

// api returns the current client, or an error while unconfigured.
func (p *Provisioner) api() (*client, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.client == nil {
		return nil, sdk.Unavailable("whm plugin is not configured")
	}
	return p.client, nil
}

// call runs one WHM function and records whether WHM could be used, for
// CheckHealth. Answers WHM gave on the merits (result 0) count as success.
func (p *Provisioner) call(ctx context.Context, c *client, command string, params url.Values, out any) error {
	start := p.now()
	err := c.call(ctx, command, params, out)
	p.log.Debug("whm call", "command", command, "duration", p.now().Sub(start), "category", sdk.CategoryOf(err))
	switch sdk.CategoryOf(err) {
	case sdk.CategoryUnavailable, sdk.CategoryUnauthorized:
		if ctx.Err() == nil {
			p.mu.Lock()
			if p.client == c {
				p.lastErr = &callFailure{at: p.now(), err: err}
			}
			p.mu.Unlock()
		}
	default:
		p.mu.Lock()
		if p.client == c {
			p.lastErr = nil
		}
		p.mu.Unlock()
	}
	return err
}

// TestConnection implements provisioner.Provisioner with WHM's version
// function: it needs a valid token and changes nothing.
func (p *Provisioner) TestConnection(ctx context.Context) (meta.TestResult, error) {
	c, err := p.api()
	if err != nil {
		return meta.TestResult{}, err
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := p.call(ctx, c, "version", nil, &v); err != nil {
		return meta.TestResult{}, err
	}
	return meta.TestResult{
		Message: fmt.Sprintf("WHM %s at %s:%d accepted the API token of %q", v.Version, c.s.host, c.s.port, c.s.username),
		Details: map[string]string{"whm_version": v.Version, "host": c.s.host, "user": c.s.username},
	}, nil
}

// whmAccount is one entry of accountsummary's data.acct.
type whmAccount struct {
	User          string   `json:"user"`
	Domain        string   `json:"domain"`
	Plan          string   `json:"plan"`
	IP            string   `json:"ip"`
	Suspended     flexBool `json:"suspended"`
	SuspendReason string   `json:"suspendreason"`
	Email         string   `json:"email"`
	Owner         string   `json:"owner"`
}

// flexBool reads WHM's 0/1 flags, sent as numbers or strings.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	*b = s == "1" || s == "true"
	return nil
}

func (c *client) accountFrom(a whmAccount) provisioner.Account {
	status := provisioner.AccountActive
	if a.Suspended {
		status = provisioner.AccountSuspended
	}
	return provisioner.Account{
		Username: a.User, Domain: a.Domain, Package: a.Plan, Status: status,
		Server: c.s.host, IP: a.IP,
	}
}

// summary looks an account up by user (or by domain when user is empty).
// A missing account is sdk.CategoryNotFound, whatever WHM's wording.
func (p *Provisioner) summary(ctx context.Context, c *client, user, domain string) (whmAccount, error) {
	params := url.Values{}
	what := "user " + user
	if user != "" {
		params.Set("user", user)
	} else {
		params.Set("domain", domain)
		what = "domain " + domain
	}
	var data struct {
		Acct []whmAccount `json:"acct"`
	}
	err := p.call(ctx, c, "accountsummary", params, &data)
	switch sdk.CategoryOf(err) {
	case "":
		if len(data.Acct) == 0 {
			return whmAccount{}, sdk.NotFound("whm: no account for %s", what).WithCode("not_found")
		}
		return data.Acct[0], nil
	case sdk.CategoryInvalidInput, sdk.CategoryNotFound:
		// accountsummary fails only for a missing account once the
		// input is valid (ours is: it was checked before the call).
		return whmAccount{}, sdk.NotFound("whm: no account for %s (%v)", what, err).WithCode("not_found")
	}
	return whmAccount{}, err
}

// account returns the account's current state.
func (p *Provisioner) account(ctx context.Context, c *client, user string) (provisioner.Account, error) {
	a, err := p.summary(ctx, c, user, "")
	if err != nil {
		return provisioner.Account{}, err
	}
	return c.accountFrom(a), nil
}

// explain turns a failed call on a user into its real cause. A missing
// account is not_found whatever WHM said; with the account present, a
// "not found" in WHM's reason is about something else (a package), so it
// becomes invalid input. Transport and credential failures pass through.
func (p *Provisioner) explain(ctx context.Context, c *client, user string, callErr error) error {
	switch sdk.CategoryOf(callErr) {
	case sdk.CategoryUnavailable, sdk.CategoryUnauthorized, sdk.CategoryRetryable:
		return callErr
	}
	_, err := p.summary(ctx, c, user, "")
	switch sdk.CategoryOf(err) {
	case sdk.CategoryNotFound:
		return sdk.NotFound("whm: no account %q", user).WithCode("account_not_found").WithField("username")
	case "":
		if e, ok := sdk.AsError(callErr); ok && e.Category == sdk.CategoryNotFound {
			return sdk.Invalid("%s", e.Message).WithCode("whm_rejected")
		}
	}
	return callErr
}
