package route53registrar

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53domains"
	"github.com/aws/aws-sdk-go-v2/service/route53domains/types"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// maxAvailabilityDomains bounds one CheckAvailability call: each domain is
// one Route 53 Domains request, and the host's call has a deadline.
const maxAvailabilityDomains = 20

// operationIDPattern is the shape of Route 53 Domains operation ids (UUIDs).
var operationIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// transferLockStatus is the EPP status a registrar transfer lock sets.
const transferLockStatus = "clienttransferprohibited"

// CheckAvailability implements registrar.Registrar. Every name is checked
// before anything is sent; an unsupported TLD is an answer for that
// domain (ReasonUnsupportedTLD), not an error for the whole request.
func (r *Registrar) CheckAvailability(ctx context.Context, req registrar.AvailabilityRequest) ([]registrar.Availability, error) {
	if len(req.Domains) == 0 {
		return nil, sdk.Invalid("at least one domain is required").WithField("domains")
	}
	if len(req.Domains) > maxAvailabilityDomains {
		return nil, sdk.Invalid("at most %d domains per call, got %d", maxAvailabilityDomains, len(req.Domains)).WithField("domains")
	}
	names := make([]string, len(req.Domains))
	for i, d := range req.Domains {
		n, err := normalizeDomain(d, "domains")
		if err != nil {
			return nil, err
		}
		names[i] = n
	}
	inst, err := r.instance()
	if err != nil {
		return nil, err
	}
	out := make([]registrar.Availability, 0, len(names))
	for _, name := range names {
		a, err := inst.availability(ctx, name)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (inst *instance) availability(ctx context.Context, name string) (registrar.Availability, error) {
	res, err := inst.domains.CheckDomainAvailability(ctx, &route53domains.CheckDomainAvailabilityInput{DomainName: aws.String(name)})
	if errorCode(err) == "UnsupportedTLD" {
		return registrar.Availability{Domain: name, Reason: registrar.ReasonUnsupportedTLD}, nil
	}
	if err != nil {
		return registrar.Availability{}, mapError(ctx, "route53domains CheckDomainAvailability", err)
	}
	a := registrar.Availability{Domain: name}
	switch res.Availability {
	case types.DomainAvailabilityAvailable:
		a.Available = true
	case types.DomainAvailabilityUnavailable:
		a.Reason = registrar.ReasonTaken
	case types.DomainAvailabilityUnavailablePremium:
		a.Premium, a.Reason = true, registrar.ReasonPremium
	case types.DomainAvailabilityUnavailableRestricted:
		a.Reason = registrar.ReasonRestricted
	case types.DomainAvailabilityReserved, types.DomainAvailabilityAvailableReserved, types.DomainAvailabilityAvailablePreorder:
		// Route 53 registers only AVAILABLE names; reserved and pre-order
		// names need the registry's own process.
		a.Reason = registrar.ReasonReserved
	case types.DomainAvailabilityInvalidNameForTld:
		a.Reason = registrar.ReasonInvalidName
	default: // DONT_KNOW, PENDING: the registry has not answered yet.
		a.Reason = registrar.ReasonUnknown
	}
	return a, nil
}

// Register implements registrar.Registrar. Route 53 Domains has no
// idempotency token, so Register checks availability first and, for a
// name that is not available, tells a domain this account already holds or
// is still registering (a retried call whose first attempt went through:
// CodeAlreadyInAccount / CodeOperationInProgress) from one held elsewhere
// (declined, CodeDomainUnavailable: nothing was bought).
func (r *Registrar) Register(ctx context.Context, req registrar.RegisterRequest) (registrar.Operation, error) {
	name, err := normalizeDomain(req.Domain, "domain")
	if err != nil {
		return registrar.Operation{}, err
	}
	if err := validateYears(req.Years); err != nil {
		return registrar.Operation{}, err
	}
	if len(req.Nameservers) > 0 {
		return registrar.Operation{}, sdk.Invalid("Route 53 registers a domain with the nameservers of the hosted zone it creates; call SetNameservers once the registration has succeeded").WithField("nameservers")
	}
	reg, adm, tec, err := contacts(req.Registrant, req.Admin, req.Tech)
	if err != nil {
		return registrar.Operation{}, err
	}
	inst, err := r.instance()
	if err != nil {
		return registrar.Operation{}, err
	}
	a, err := inst.availability(ctx, name)
	if err != nil {
		return registrar.Operation{}, err
	}
	if !a.Available {
		return registrar.Operation{}, inst.explainUnavailable(ctx, name, a, r.now())
	}
	res, err := inst.domains.RegisterDomain(ctx, &route53domains.RegisterDomainInput{
		DomainName: aws.String(name), DurationInYears: aws.Int32(int32(req.Years)), AutoRenew: aws.Bool(req.AutoRenew),
		RegistrantContact: reg, AdminContact: adm, TechContact: tec,
		PrivacyProtectRegistrantContact: aws.Bool(req.Privacy), PrivacyProtectAdminContact: aws.Bool(req.Privacy),
		PrivacyProtectTechContact: aws.Bool(req.Privacy),
	}, spendOnce)
	if err != nil {
		return registrar.Operation{}, mapError(ctx, "route53domains RegisterDomain", err)
	}
	return r.submitted(aws.ToString(res.OperationId), registrar.OperationTypeRegister, name), nil
}

// explainUnavailable decides what an unavailable answer means for Register.
func (inst *instance) explainUnavailable(ctx context.Context, name string, a registrar.Availability, now time.Time) error {
	if a.Reason == registrar.ReasonUnsupportedTLD {
		return sdk.Invalid("Route 53 Domains does not sell %s names", name[strings.LastIndexByte(name, '.'):]).WithCode(registrar.CodeUnsupportedTLD).WithField("domain")
	}
	if a.Reason == registrar.ReasonUnknown {
		return sdk.Retryable("the registry has not said whether %s is available; try again later", name).WithCode(registrar.CodeOperationInProgress)
	}
	if err := inst.ownedError(ctx, name); err != nil {
		return err
	}
	ops, err := inst.domains.ListOperations(ctx, &route53domains.ListOperationsInput{
		SubmittedSince: aws.Time(now.Add(-30 * 24 * time.Hour)),
		Status:         []types.OperationStatus{types.OperationStatusSubmitted, types.OperationStatusInProgress},
		Type:           []types.OperationType{types.OperationTypeRegisterDomain, types.OperationTypeTransferInDomain},
		MaxItems:       aws.Int32(100),
	})
	if err != nil {
		return mapError(ctx, "route53domains ListOperations", err)
	}
	for _, op := range ops.Operations {
		if strings.EqualFold(aws.ToString(op.DomainName), name) {
			return sdk.Retryable("this account's operation %s (%s) for %s is still in progress", aws.ToString(op.OperationId), op.Type, name).WithCode(registrar.CodeOperationInProgress)
		}
	}
	return sdk.Declined("%s is not available (%s)", name, a.Reason).WithCode(registrar.CodeDomainUnavailable).WithField("domain")
}

// ownedError is CodeAlreadyInAccount when the account already holds name,
// nil when it does not.
func (inst *instance) ownedError(ctx context.Context, name string) error {
	d, err := inst.domains.GetDomainDetail(ctx, &route53domains.GetDomainDetailInput{DomainName: aws.String(name)})
	if err == nil {
		return sdk.AlreadyExists("%s is already registered in this AWS account (expires %s)", name, aws.ToTime(d.ExpirationDate).UTC().Format(time.DateOnly)).WithCode(registrar.CodeAlreadyInAccount).WithField("domain")
	}
	if mapped := mapError(ctx, "route53domains GetDomainDetail", err); sdk.CategoryOf(mapped) != sdk.CategoryNotFound {
		return mapped
	}
	return nil
}

// Transfer implements registrar.Registrar. The auth code goes to AWS only;
// it is never logged or put in an error.
func (r *Registrar) Transfer(ctx context.Context, req registrar.TransferRequest) (registrar.Operation, error) {
	name, err := normalizeDomain(req.Domain, "domain")
	if err != nil {
		return registrar.Operation{}, err
	}
	if strings.TrimSpace(req.AuthCode) == "" {
		return registrar.Operation{}, sdk.Invalid("an auth code (EPP code from the current registrar) is required").WithField("auth_code")
	}
	if err := validateYears(req.Years); err != nil {
		return registrar.Operation{}, err
	}
	nameservers, err := awsNameservers(req.Nameservers, false)
	if err != nil {
		return registrar.Operation{}, err
	}
	reg, adm, tec, err := contacts(req.Registrant, req.Admin, req.Tech)
	if err != nil {
		return registrar.Operation{}, err
	}
	inst, err := r.instance()
	if err != nil {
		return registrar.Operation{}, err
	}
	if err := inst.ownedError(ctx, name); err != nil {
		return registrar.Operation{}, err
	}
	res, err := inst.domains.TransferDomain(ctx, &route53domains.TransferDomainInput{
		DomainName: aws.String(name), AuthCode: aws.String(req.AuthCode), DurationInYears: aws.Int32(int32(req.Years)),
		AutoRenew: aws.Bool(req.AutoRenew), Nameservers: nameservers,
		RegistrantContact: reg, AdminContact: adm, TechContact: tec,
		PrivacyProtectRegistrantContact: aws.Bool(req.Privacy), PrivacyProtectAdminContact: aws.Bool(req.Privacy),
		PrivacyProtectTechContact: aws.Bool(req.Privacy),
	}, spendOnce)
	if err != nil {
		return registrar.Operation{}, mapError(ctx, "route53domains TransferDomain", err)
	}
	return r.submitted(aws.ToString(res.OperationId), registrar.OperationTypeTransfer, name), nil
}

// Renew implements registrar.Registrar. RenewDomain needs the current
// expiry year, read here from GetDomainDetail; when the caller gives
// CurrentExpiry and its year is not the domain's, the domain was most
// likely renewed already and nothing is bought (CodeExpiryMismatch).
func (r *Registrar) Renew(ctx context.Context, req registrar.RenewRequest) (registrar.Operation, error) {
	name, err := normalizeDomain(req.Domain, "domain")
	if err != nil {
		return registrar.Operation{}, err
	}
	if err := validateYears(req.Years); err != nil {
		return registrar.Operation{}, err
	}
	inst, err := r.instance()
	if err != nil {
		return registrar.Operation{}, err
	}
	d, err := inst.domains.GetDomainDetail(ctx, &route53domains.GetDomainDetailInput{DomainName: aws.String(name)})
	if err != nil {
		return registrar.Operation{}, mapError(ctx, "route53domains GetDomainDetail", err)
	}
	if d.ExpirationDate == nil {
		return registrar.Operation{}, sdk.Unavailable("route53domains GetDomainDetail returned no expiry for %s", name)
	}
	year := d.ExpirationDate.UTC().Year()
	if !req.CurrentExpiry.IsZero() && req.CurrentExpiry.UTC().Year() != year {
		return registrar.Operation{}, sdk.Invalid("%s expires in %d, not %d: it was probably renewed already", name, year, req.CurrentExpiry.UTC().Year()).WithCode(registrar.CodeExpiryMismatch).WithField("current_expiry")
	}
	res, err := inst.domains.RenewDomain(ctx, &route53domains.RenewDomainInput{
		DomainName: aws.String(name), DurationInYears: aws.Int32(int32(req.Years)), CurrentExpiryYear: int32(year),
	}, spendOnce)
	if err != nil {
		return registrar.Operation{}, mapError(ctx, "route53domains RenewDomain", err)
	}
	return r.submitted(aws.ToString(res.OperationId), registrar.OperationTypeRenew, name), nil
}

// GetDomain implements registrar.Registrar. A domain that is not in the
// account is not_found.
func (r *Registrar) GetDomain(ctx context.Context, req registrar.GetDomainRequest) (registrar.Domain, error) {
	name, err := normalizeDomain(req.Domain, "domain")
	if err != nil {
		return registrar.Domain{}, err
	}
	inst, err := r.instance()
	if err != nil {
		return registrar.Domain{}, err
	}
	d, err := inst.domains.GetDomainDetail(ctx, &route53domains.GetDomainDetailInput{DomainName: aws.String(name)})
	if err != nil {
		return registrar.Domain{}, mapError(ctx, "route53domains GetDomainDetail", err)
	}
	out := registrar.Domain{
		Name: name, Status: d.StatusList, AutoRenew: aws.ToBool(d.AutoRenew), Privacy: aws.ToBool(d.RegistrantPrivacy),
	}
	if d.ExpirationDate != nil {
		out.ExpiresAt = d.ExpirationDate.UTC()
	}
	for _, s := range d.StatusList {
		if strings.EqualFold(strings.Fields(s + " ")[0], transferLockStatus) {
			out.Locked = true
		}
	}
	for _, ns := range d.Nameservers {
		out.Nameservers = append(out.Nameservers, strings.TrimSuffix(strings.ToLower(aws.ToString(ns.Name)), "."))
	}
	return out, nil
}

// awsNameservers validates and converts nameservers (glue records are not
// offered: Switchyard's domains delegate to existing DNS hosts).
func awsNameservers(hosts []string, required bool) ([]types.Nameserver, error) {
	if len(hosts) == 0 {
		if required {
			return nil, sdk.Invalid("at least one nameserver is required").WithField("nameservers")
		}
		return nil, nil
	}
	if len(hosts) > 13 {
		return nil, sdk.Invalid("at most 13 nameservers, got %d", len(hosts)).WithField("nameservers")
	}
	seen := map[string]bool{}
	var out []types.Nameserver
	for _, h := range hosts {
		n, err := normalizeHost(h, "nameservers")
		if err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, sdk.Invalid("nameserver %s is listed twice", n).WithField("nameservers")
		}
		seen[n] = true
		out = append(out, types.Nameserver{Name: aws.String(n)})
	}
	return out, nil
}

// SetNameservers implements registrar.Registrar (UpdateDomainNameservers).
func (r *Registrar) SetNameservers(ctx context.Context, req registrar.SetNameserversRequest) (registrar.Operation, error) {
	name, err := normalizeDomain(req.Domain, "domain")
	if err != nil {
		return registrar.Operation{}, err
	}
	nameservers, err := awsNameservers(req.Nameservers, true)
	if err != nil {
		return registrar.Operation{}, err
	}
	inst, err := r.instance()
	if err != nil {
		return registrar.Operation{}, err
	}
	res, err := inst.domains.UpdateDomainNameservers(ctx, &route53domains.UpdateDomainNameserversInput{
		DomainName: aws.String(name), Nameservers: nameservers,
	})
	if err != nil {
		return registrar.Operation{}, mapError(ctx, "route53domains UpdateDomainNameservers", err)
	}
	return r.submitted(aws.ToString(res.OperationId), registrar.OperationTypeSetNameservers, name), nil
}

// GetAuthCode implements registrar.Registrar (RetrieveDomainAuthCode).
func (r *Registrar) GetAuthCode(ctx context.Context, req registrar.GetAuthCodeRequest) (registrar.AuthCode, error) {
	name, err := normalizeDomain(req.Domain, "domain")
	if err != nil {
		return registrar.AuthCode{}, err
	}
	inst, err := r.instance()
	if err != nil {
		return registrar.AuthCode{}, err
	}
	res, err := inst.domains.RetrieveDomainAuthCode(ctx, &route53domains.RetrieveDomainAuthCodeInput{DomainName: aws.String(name)})
	if err != nil {
		return registrar.AuthCode{}, mapError(ctx, "route53domains RetrieveDomainAuthCode", err)
	}
	return registrar.AuthCode{Code: aws.ToString(res.AuthCode)}, nil
}

// SetLock implements registrar.Registrar (Enable/DisableDomainTransferLock).
// TLDs without a transfer lock answer CodeTLDRules.
func (r *Registrar) SetLock(ctx context.Context, req registrar.SetLockRequest) (registrar.Operation, error) {
	name, err := normalizeDomain(req.Domain, "domain")
	if err != nil {
		return registrar.Operation{}, err
	}
	inst, err := r.instance()
	if err != nil {
		return registrar.Operation{}, err
	}
	var id *string
	if req.Locked {
		res, err := inst.domains.EnableDomainTransferLock(ctx, &route53domains.EnableDomainTransferLockInput{DomainName: aws.String(name)})
		if err != nil {
			return registrar.Operation{}, mapError(ctx, "route53domains EnableDomainTransferLock", err)
		}
		id = res.OperationId
	} else {
		res, err := inst.domains.DisableDomainTransferLock(ctx, &route53domains.DisableDomainTransferLockInput{DomainName: aws.String(name)})
		if err != nil {
			return registrar.Operation{}, mapError(ctx, "route53domains DisableDomainTransferLock", err)
		}
		id = res.OperationId
	}
	return r.submitted(aws.ToString(id), registrar.OperationTypeSetLock, name), nil
}

// submitted is the Operation for an id Route 53 Domains just returned.
func (r *Registrar) submitted(id, typ, domain string) registrar.Operation {
	now := r.now().UTC()
	return registrar.Operation{ID: id, Type: typ, Domain: domain, Status: registrar.OperationPending, SubmittedAt: now, UpdatedAt: now}
}

// GetOperation implements registrar.Registrar for both kinds of ids: Route
// 53 Domains operation ids (UUIDs) and record change ids (change:…).
func (r *Registrar) GetOperation(ctx context.Context, req registrar.GetOperationRequest) (registrar.Operation, error) {
	id := strings.TrimSpace(req.OperationID)
	if id == "" {
		return registrar.Operation{}, sdk.Invalid("an operation id is required").WithField("operation_id")
	}
	if strings.HasPrefix(id, changePrefix) {
		return r.getChange(ctx, id)
	}
	if !operationIDPattern.MatchString(id) {
		return registrar.Operation{}, sdk.NotFound("no operation %q (not a Route 53 Domains operation id)", id)
	}
	inst, err := r.instance()
	if err != nil {
		return registrar.Operation{}, err
	}
	res, err := inst.domains.GetOperationDetail(ctx, &route53domains.GetOperationDetailInput{OperationId: aws.String(id)})
	if err != nil {
		return registrar.Operation{}, mapError(ctx, "route53domains GetOperationDetail", err)
	}
	op := registrar.Operation{
		ID: id, Type: operationType(res.Type), Domain: strings.ToLower(aws.ToString(res.DomainName)),
		Status: operationStatus(res.Status), Message: aws.ToString(res.Message),
	}
	if res.SubmittedDate != nil {
		op.SubmittedAt = res.SubmittedDate.UTC()
	}
	if res.LastUpdatedDate != nil {
		op.UpdatedAt = res.LastUpdatedDate.UTC()
	}
	if res.StatusFlag != "" && !op.Status.Final() {
		// PENDING_ACCEPTANCE and the like: Route 53 waits for a person (the
		// registrant's email confirmation, the losing registrar's release).
		op.Message = strings.TrimSpace(string(res.StatusFlag) + ": " + op.Message)
	}
	if res.Status == types.OperationStatusError {
		op.Message = strings.TrimSpace("Route 53 Domains reported ERROR; AWS Support has to resolve it: " + op.Message)
	}
	return op, nil
}

func operationStatus(s types.OperationStatus) registrar.OperationStatus {
	switch s {
	case types.OperationStatusSubmitted:
		return registrar.OperationPending
	case types.OperationStatusSuccessful:
		return registrar.OperationSucceeded
	case types.OperationStatusFailed:
		return registrar.OperationFailed
	}
	// IN_PROGRESS, and ERROR: not final, because AWS Support may still
	// complete an operation in ERROR; the message says so, and the host's
	// poller hands an operation that stays open to an operator rather
	// than refunding something that may yet be bought.
	return registrar.OperationInProgress
}

func operationType(t types.OperationType) string {
	switch t {
	case types.OperationTypeRegisterDomain:
		return registrar.OperationTypeRegister
	case types.OperationTypeTransferInDomain:
		return registrar.OperationTypeTransfer
	case types.OperationTypeRenewDomain:
		return registrar.OperationTypeRenew
	case types.OperationTypeUpdateNameserver:
		return registrar.OperationTypeSetNameservers
	case types.OperationTypeDomainLock:
		return registrar.OperationTypeSetLock
	}
	return strings.ToLower(string(t))
}
