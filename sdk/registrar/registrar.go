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
	Name string
	Type string // A, AAAA, CNAME, MX, TXT …
	TTL  int
	// Values in presentation format ("10 mx.example.com." for MX), except
	// TXT: one entry per string of text, unquoted and of any length; the
	// plugin quotes and splits it as its upstream needs.
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

// Operation types reported in Operation.Type. A plugin may report other
// lower-case snake_case types for upstream operations Switchyard did not
// start (an operator's change in the registrar's console, say).
const (
	OperationTypeRegister       = "register"
	OperationTypeTransfer       = "transfer"
	OperationTypeRenew          = "renew"
	OperationTypeSetNameservers = "set_nameservers"
	OperationTypeChangeRecords  = "change_records"
	OperationTypeSetLock        = "set_lock"
)

// Reasons reported in Availability.Reason for a domain that is not available.
const (
	ReasonTaken          = "taken"           // registered by someone
	ReasonReserved       = "reserved"        // held back by the registry
	ReasonPremium        = "premium"         // premium name the registrar cannot sell
	ReasonRestricted     = "restricted"      // forbidden by the registry's rules
	ReasonUnsupportedTLD = "unsupported_tld" // the registrar does not sell this TLD
	ReasonInvalidName    = "invalid_name"    // not a valid name under this TLD
	// ReasonUnknown: the registry gave no definitive answer; ask again later.
	ReasonUnknown = "unknown"
)

// Error codes (sdk.Error Code) a registrar attaches to its categorized
// errors, so the host can tell failures with the same category apart.
const (
	// CodeDomainUnavailable (declined): the domain cannot be registered and
	// no operation of this account is under way for it. Nothing was bought.
	CodeDomainUnavailable = "domain_unavailable"
	// CodeUnsupportedTLD (invalid_input): the registrar does not sell the TLD.
	CodeUnsupportedTLD = "unsupported_tld"
	// CodeTLDRules (invalid_input): the TLD's registry does not allow this
	// operation or these values (some TLDs have no transfer lock, say).
	CodeTLDRules = "tld_rules"
	// CodeAlreadyInAccount (already_exists): registering or transferring a
	// domain the account already holds. A retried registration whose first
	// call went through ends here: hold it for an operator, never refund.
	CodeAlreadyInAccount = "already_in_account"
	// CodeOperationInProgress (retryable): the registrar is still working
	// on an earlier operation for the domain (possibly the same request,
	// sent twice).
	CodeOperationInProgress = "operation_in_progress"
	// CodeExpiryMismatch (invalid_input): RenewRequest.CurrentExpiry is not
	// the domain's expiry year; it was probably renewed already.
	CodeExpiryMismatch = "expiry_mismatch"
	// CodeDomainLimit (declined): the account may not hold more domains.
	CodeDomainLimit = "domain_limit_exceeded"
	// CodeThrottled (retryable): the upstream's rate limit, after the
	// plugin's own retries.
	CodeThrottled = "throttled"
	// CodeNoHostedZone (not_found): the domain has no DNS zone at this
	// registrar to change records in.
	CodeNoHostedZone = "no_hosted_zone"
)

// Capabilities name the optional interfaces a registrar implements; the SDK
// reports them in meta.Info.Capabilities (see Capabilities).
const (
	// CapabilityRecordChanges: the plugin implements RecordChanger.
	CapabilityRecordChanges = "record_changes"
	// CapabilityListRecords: the plugin implements RecordLister.
	CapabilityListRecords = "list_records"
)

// RecordAction says what ChangeRecords does with one record set.
type RecordAction string

// Record actions.
const (
	// RecordUpsert creates the record set, or replaces its TTL and all its
	// values (as UpsertRecords does).
	RecordUpsert RecordAction = "upsert"
	// RecordMerge adds Values to the record set and keeps the values already
	// there, creating the set if it is absent; a zero TTL keeps the existing
	// TTL. For TXT, an SPF value ("v=spf1 …") is merged into an existing SPF
	// value instead of being added beside it: a name with two SPF records
	// fails every SPF check (RFC 7208 §4.5), so mail would bounce.
	RecordMerge RecordAction = "merge"
	// RecordDelete removes Values from the record set, or the whole set when
	// Values is empty. Deleting what is not there is not an error.
	RecordDelete RecordAction = "delete"
)

// Valid reports whether a is one of the defined actions.
func (a RecordAction) Valid() bool {
	return a == RecordUpsert || a == RecordMerge || a == RecordDelete
}

// RecordChange is one change in a ChangeRecords batch.
type RecordChange struct {
	Action RecordAction
	Record Record
}

// ChangeRecordsRequest changes record sets in the domain's zone. The batch
// is applied atomically: all changes or none. At most one change per name
// and type.
type ChangeRecordsRequest struct {
	Domain  string
	Changes []RecordChange
}

// ListRecordsRequest lists the record sets of a domain's zone, optionally
// only those with the given Name (relative, "@" for the apex) and Type.
type ListRecordsRequest struct {
	Domain string
	Name   string
	Type   string
}

// RecordChanger is implemented by registrars that can merge and delete
// record sets, not only upsert them. The SDK reports CapabilityRecordChanges. The
// host's client always has the method; a plugin without it answers
// sdk.CategoryUnimplemented.
type RecordChanger interface {
	ChangeRecords(ctx context.Context, req ChangeRecordsRequest) (Operation, error)
}

// RecordLister is implemented by registrars that can read a zone's record
// sets. The SDK reports CapabilityListRecords. Values come back as ChangeRecords
// takes them (TXT unquoted and joined).
type RecordLister interface {
	ListRecords(ctx context.Context, req ListRecordsRequest) ([]Record, error)
}

// Capabilities lists the capabilities p has by the optional interfaces it
// implements, in a stable order. The SDK puts them in the meta.Info the host
// receives, replacing whatever Describe returned.
func Capabilities(p Registrar) []string {
	var out []string
	if _, ok := p.(RecordChanger); ok {
		out = append(out, CapabilityRecordChanges)
	}
	if _, ok := p.(RecordLister); ok {
		out = append(out, CapabilityListRecords)
	}
	return out
}
