package registrar

import (
	"context"
	"time"

	"github.com/switchyard/switchyard/sdk/meta"
)

// Registrar registers and manages domains. Implementations must be safe for
// concurrent use; errors should be *sdk.Error values.
type Registrar interface {
	Describe(ctx context.Context) (meta.Info, error)
	Configure(ctx context.Context, settings map[string]string) error
	CheckHealth(ctx context.Context) (meta.Health, error)
	TestConnection(ctx context.Context) (meta.TestResult, error)

	CheckAvailability(ctx context.Context, req AvailabilityRequest) ([]Availability, error)
	// Register buys a domain; an unavailable domain is sdk.CategoryDeclined.
	Register(ctx context.Context, req RegisterRequest) (Operation, error)
	Transfer(ctx context.Context, req TransferRequest) (Operation, error)
	Renew(ctx context.Context, req RenewRequest) (Operation, error)
	GetDomain(ctx context.Context, req GetDomainRequest) (Domain, error)
	SetNameservers(ctx context.Context, req SetNameserversRequest) (Operation, error)
	UpsertRecords(ctx context.Context, req UpsertRecordsRequest) (Operation, error)
	GetAuthCode(ctx context.Context, req GetAuthCodeRequest) (AuthCode, error)
	SetLock(ctx context.Context, req SetLockRequest) (Operation, error)
	// GetOperation reports the state of an operation returned earlier; an
	// unknown id is sdk.CategoryNotFound.
	GetOperation(ctx context.Context, req GetOperationRequest) (Operation, error)
}

// OperationStatus is the state of an asynchronous registrar operation.
type OperationStatus string

// Operation states; succeeded and failed are final.
const (
	OperationPending    OperationStatus = "pending"
	OperationInProgress OperationStatus = "in_progress"
	OperationSucceeded  OperationStatus = "succeeded"
	OperationFailed     OperationStatus = "failed"
)

// Final reports whether the operation will not change any more.
func (s OperationStatus) Final() bool { return s == OperationSucceeded || s == OperationFailed }

// Operation is an asynchronous registrar operation. Synchronous upstreams
// return one that is already final, with an ID GetOperation still accepts.
type Operation struct {
	ID     string
	Type   string // "register", "transfer", "renew", "set_nameservers", …
	Domain string
	Status OperationStatus
	// Message explains a failure, for the operator.
	Message     string
	SubmittedAt time.Time
	UpdatedAt   time.Time
}

// AvailabilityRequest asks about one or more fully qualified domain names.
type AvailabilityRequest struct {
	Domains []string
}

// Availability is the answer for one domain.
type Availability struct {
	Domain    string
	Available bool
	Premium   bool
	// Price for one year of registration, minor units; 0 when unknown.
	Price    int64
	Currency string
	// Reason explains unavailability ("taken", "reserved", "unsupported_tld").
	Reason string
}

// Contact is a registrant/admin/tech contact.
type Contact struct {
	FirstName    string
	LastName     string
	Organization string
	Email        string
	// Phone in the registry format +CC.NUMBER.
	Phone       string
	Address1    string
	Address2    string
	City        string
	State       string
	PostalCode  string
	CountryCode string // ISO 3166-1 alpha-2
}

// RegisterRequest registers a new domain. Admin and Tech default to
// Registrant when nil.
type RegisterRequest struct {
	IdempotencyKey string
	Domain         string
	Years          int
	Nameservers    []string
	Registrant     Contact
	Admin          *Contact
	Tech           *Contact
	Privacy        bool
	AutoRenew      bool
}

// TransferRequest moves a domain in from another registrar.
type TransferRequest struct {
	IdempotencyKey string
	Domain         string
	// AuthCode is the EPP code. Never log it.
	AuthCode    string
	Years       int
	Nameservers []string
	Registrant  Contact
	Admin       *Contact
	Tech        *Contact
	Privacy     bool
	AutoRenew   bool
}

// RenewRequest extends a registration.
type RenewRequest struct {
	IdempotencyKey string
	Domain         string
	Years          int
	// CurrentExpiry guards against renewing twice (registries require it).
	CurrentExpiry time.Time
}

// GetDomainRequest names a domain.
type GetDomainRequest struct {
	Domain string
}

// Domain is a registered domain.
type Domain struct {
	Name        string
	Status      []string // registry status codes, e.g. "clientTransferProhibited"
	ExpiresAt   time.Time
	AutoRenew   bool
	Locked      bool
	Privacy     bool
	Nameservers []string
}

// SetNameserversRequest delegates a domain.
type SetNameserversRequest struct {
	Domain      string
	Nameservers []string
}

// Record is a DNS record set.
type Record struct {
	// Name is relative to the zone ("www", "@" for the apex).
	Name   string
	Type   string // A, AAAA, CNAME, MX, TXT …
	TTL    int
	Values []string
}

// UpsertRecordsRequest creates or replaces record sets in the domain's zone.
type UpsertRecordsRequest struct {
	Domain  string
	Records []Record
}

// GetAuthCodeRequest names a domain whose transfer code is wanted.
type GetAuthCodeRequest struct {
	Domain string
}

// AuthCode is a domain's EPP transfer code. Never log it.
type AuthCode struct {
	Code string
}

// SetLockRequest sets or clears the registrar transfer lock.
type SetLockRequest struct {
	Domain string
	Locked bool
}

// GetOperationRequest names an operation.
type GetOperationRequest struct {
	OperationID string
}
