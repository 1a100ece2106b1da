package provisioner

import (
	"context"

	"github.com/switchyard/switchyard/sdk/meta"
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

	CreateAccount(ctx context.Context, req CreateAccountRequest) (Account, error)
	Suspend(ctx context.Context, req SuspendRequest) (Account, error)
	Unsuspend(ctx context.Context, req UnsuspendRequest) (Account, error)
	// Terminate removes the account; terminating a missing account is
	// sdk.CategoryNotFound, which callers may treat as done.
	Terminate(ctx context.Context, req TerminateRequest) error
	ChangePackage(ctx context.Context, req ChangePackageRequest) (Account, error)
	ChangePassword(ctx context.Context, req ChangePasswordRequest) error
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
	// Password is the initial panel password. Never log it.
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
