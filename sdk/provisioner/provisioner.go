package provisioner

import (
	"context"
	"time"

	"github.com/switchyard/switchyard/sdk/meta"
)

// Capabilities name the optional interfaces a provisioner implements; the
// SDK reports them in meta.Info.Capabilities (see Capabilities).
const (
	// CapabilityPackages: the plugin implements PackageLister.
	CapabilityPackages = "packages"
	// CapabilityLoginURL: the plugin implements LoginLinker.
	CapabilityLoginURL = "login_url"
)

// Provisioner manages hosting accounts. Implementations must be safe for
// concurrent use; errors should be *sdk.Error values.
type Provisioner interface {
	// Describe may be called before Configure.
	Describe(ctx context.Context) (meta.Info, error)
	Configure(ctx context.Context, settings map[string]string) error
	CheckHealth(ctx context.Context) (meta.Health, error)
	// TestConnection logs in to the panel with the configured credentials.
	// Rejected credentials are sdk.CategoryUnauthorized, an unreachable
	// server sdk.CategoryUnavailable.
	TestConnection(ctx context.Context) (meta.TestResult, error)

	// CreateAccount creates the account, or adopts it when an account with
	// the same username and domain already exists (a retry after a timeout
	// whose first attempt did reach the panel). The same username with
	// another domain is sdk.CategoryAlreadyExists.
	CreateAccount(ctx context.Context, req CreateAccountRequest) (Account, error)
	Suspend(ctx context.Context, req SuspendRequest) (Account, error)
	Unsuspend(ctx context.Context, req UnsuspendRequest) (Account, error)
	// Terminate removes the account; terminating a missing account is
	// sdk.CategoryNotFound, which callers may treat as done.
	Terminate(ctx context.Context, req TerminateRequest) error
	ChangePackage(ctx context.Context, req ChangePackageRequest) (Account, error)
	ChangePassword(ctx context.Context, req ChangePasswordRequest) error
}

// PackageLister is optional: a provisioner that implements it lists the
// panel's packages, so the host can refuse a product whose package does not
// exist when the product is saved (and `switchyard plugins test` can check
// one) instead of failing the first paid order. The SDK advertises
// CapabilityPackages for it.
type PackageLister interface {
	ListPackages(ctx context.Context) ([]Package, error)
}

// LoginLinker is optional: a provisioner that implements it creates a
// one-time login link into an account's control panel, for operators and
// for the service-ready mail. An unknown account is sdk.CategoryNotFound.
// The SDK advertises CapabilityLoginURL for it.
type LoginLinker interface {
	LoginURL(ctx context.Context, req LoginURLRequest) (LoginURL, error)
}

// Package is a hosting plan as the panel lists it.
type Package struct {
	// Name is exactly what the panel calls it, reseller prefix included
	// ("reseller_gold"); compare it byte for byte (HasPackage).
	Name string
}

// HasPackage reports whether pkgs contains a package named exactly name.
// Panels treat package names as case-sensitive, so no folding happens.
func HasPackage(pkgs []Package, name string) bool {
	for _, p := range pkgs {
		if p.Name == name {
			return true
		}
	}
	return false
}

// LoginURLRequest asks for a one-time login link.
type LoginURLRequest struct {
	Username string
	// Service is "" (or LoginServicePanel) for the account's control panel,
	// LoginServiceWebmail for its webmail.
	Service string
}

// Login services.
const (
	LoginServicePanel   = "panel"
	LoginServiceWebmail = "webmail"
)

// LoginURL is a one-time login link. It is a credential: never log it.
type LoginURL struct {
	URL string
	// ExpiresAt is when the link stops working; zero when unknown.
	ExpiresAt time.Time
}

// AccountStatus is the state of a hosting account.
type AccountStatus string

// Account states.
const (
	AccountActive    AccountStatus = "active"
	AccountSuspended AccountStatus = "suspended"
)

// CreateAccountRequest creates a hosting account.
type CreateAccountRequest struct {
	// IdempotencyKey is stable across retries of the same fulfillment job.
	IdempotencyKey string
	Domain         string
	// Username is the panel login (WHM limits it to 16 lower-case
	// alphanumerics); the host derives it from the domain when unset.
	Username string
	// Password is the initial panel password. Never log it. Empty asks the
	// plugin to generate one that meets the panel's strength rules; it is
	// returned in Account.Password.
	Password string
	// Package is the panel's plan/package name.
	Package      string
	ContactEmail string
	// Server selects a server when the plugin manages several; empty means
	// the plugin's default.
	Server   string
	Metadata map[string]string
}

// Account describes a hosting account.
type Account struct {
	Username string
	Domain   string
	Package  string
	Status   AccountStatus
	// Server and IP say where the account lives, for the welcome mail.
	Server string
	IP     string
	// Nameservers the domain should delegate to.
	Nameservers []string
	// Password is set only by CreateAccount, and only when the plugin
	// generated it because the request carried none. Never log it.
	Password string
}

// SuspendRequest suspends an account.
type SuspendRequest struct {
	Username string
	// Reason is recorded in the panel and shown to the operator.
	Reason string
}

// UnsuspendRequest lifts a suspension.
type UnsuspendRequest struct {
	Username string
}

// TerminateRequest deletes an account.
type TerminateRequest struct {
	Username string
	// KeepDNS leaves the DNS zone in place.
	KeepDNS bool
}

// ChangePackageRequest moves an account to another plan.
type ChangePackageRequest struct {
	Username string
	Package  string
}

// ChangePasswordRequest sets a new panel password.
type ChangePasswordRequest struct {
	Username string
	// Password is the new password. Never log it.
	Password string
}

// Capabilities lists the capabilities p has by the optional interfaces it
// implements, in a stable order. The SDK puts them in the meta.Info the host
// receives, replacing whatever Describe returned.
func Capabilities(p Provisioner) []string {
	var out []string
	if _, ok := p.(PackageLister); ok {
		out = append(out, CapabilityPackages)
	}
	if _, ok := p.(LoginLinker); ok {
		out = append(out, CapabilityLoginURL)
	}
	return out
}
