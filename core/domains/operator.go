package domains

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/registrar"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// Listing limits.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// ListParams filter List.
type ListParams struct {
	MerchantID int64
	Status     string
	SessionID  string
	After      string
	Limit      int
}

// List lists domains in creation order.
func (s *Service) List(ctx context.Context, p ListParams) ([]View, error) {
	switch p.Status {
	case "", StatusPending, StatusActive, StatusFailed, StatusExpired, StatusAttention:
	default:
		return nil, domain.Invalid("invalid_status", "status", "status must be pending, active, failed, expired or attention")
	}
	if p.Limit == 0 {
		p.Limit = DefaultListLimit
	}
	if p.Limit < 1 || p.Limit > MaxListLimit {
		return nil, domain.Invalid("invalid_limit", "limit", "limit must be between 1 and %d", MaxListLimit)
	}
	ds, err := s.store.ListDomains(ctx, store.DomainFilter{MerchantID: p.MerchantID, Status: p.Status, SessionID: p.SessionID, After: p.After, Limit: p.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(ds))
	for _, d := range ds {
		out = append(out, ViewOf(d))
	}
	return out, nil
}

// find reads a domain by id (dom_…) or name (any form: IDN, upper case).
func (s *Service) find(ctx context.Context, ref string) (*store.Domain, error) {
	if strings.HasPrefix(ref, domain.DomainIDPrefix) {
		return s.store.GetDomain(ctx, ref)
	}
	name, err := NormalizeName(ref)
	if err != nil {
		return nil, domain.NotFound("domain")
	}
	return s.store.DomainByName(ctx, name)
}

// Show returns a domain with its operations.
func (s *Service) Show(ctx context.Context, ref string) (*Detail, error) {
	d, err := s.find(ctx, ref)
	if err != nil {
		return nil, err
	}
	ops, err := s.store.DomainOperations(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	det := &Detail{View: ViewOf(d), Operations: make([]OperationView, 0, len(ops))}
	for _, op := range ops {
		det.Operations = append(det.Operations, OperationViewOf(op))
	}
	return det, nil
}

// Operation returns one operation.
func (s *Service) Operation(ctx context.Context, id string) (*OperationView, error) {
	op, err := s.store.GetDomainOperation(ctx, id)
	if err != nil {
		return nil, err
	}
	v := OperationViewOf(op)
	return &v, nil
}

// AvailabilityView is one CheckAvailability answer.
type AvailabilityView struct {
	Domain    string `json:"domain"`
	Available bool   `json:"available"`
	Premium   bool   `json:"premium"`
	Reason    string `json:"reason,omitempty"`
}

// Check asks a registrar instance whether names can be registered.
func (s *Service) Check(ctx context.Context, registrarID string, names []string) ([]AvailabilityView, error) {
	if len(names) == 0 || len(names) > 20 {
		return nil, domain.Invalid("invalid_domains", "domains", "give 1 to 20 domain names")
	}
	norm := make([]string, len(names))
	for i, n := range names {
		a, err := NormalizeName(n)
		if err != nil {
			return nil, invalidName(fmt.Sprintf("domains[%d]", i), err)
		}
		norm[i] = a
	}
	reg, err := s.operatorRegistrar(registrarID)
	if err != nil {
		return nil, err
	}
	av, err := reg.CheckAvailability(ctx, registrar.AvailabilityRequest{Domains: norm})
	if err != nil {
		return nil, registrarError(err)
	}
	out := make([]AvailabilityView, 0, len(av))
	for _, a := range av {
		out = append(out, AvailabilityView{Domain: a.Domain, Available: a.Available, Premium: a.Premium, Reason: a.Reason})
	}
	return out, nil
}

// Renew asks for a renewal of years. It is keyed by the domain's current
// expiry: asking again before the renewal lands returns the same
// operation, so an operator's double click never pays twice.
func (s *Service) Renew(ctx context.Context, ref string, years int, by string) (*OperationView, error) {
	if years == 0 {
		years = 1
	}
	if years < 1 || years > 10 {
		return nil, domain.Invalid("invalid_years", "years", "years must be between 1 and 10")
	}
	d, err := s.active(ctx, ref)
	if err != nil {
		return nil, err
	}
	if d.ExpiresAt == nil {
		return nil, domain.Conflict("expiry_unknown", "%s has no known expiry yet", d.Name)
	}
	exp := *d.ExpiresAt
	op := s.newOp(d, OpRenew, "renew:"+d.ID+":"+exp.UTC().Format(apiTime), opParams{Expiry: &exp}, by)
	op.Years = years
	return s.start(ctx, op)
}

// SetLock turns the registrar transfer lock on or off.
func (s *Service) SetLock(ctx context.Context, ref string, locked bool, by string) (*OperationView, error) {
	d, err := s.active(ctx, ref)
	if err != nil {
		return nil, err
	}
	op := s.newOp(d, OpSetLock, "lock:"+domain.NewDomainOperationID(), opParams{Locked: &locked}, by)
	return s.start(ctx, op)
}

// SetNameservers delegates the domain.
func (s *Service) SetNameservers(ctx context.Context, ref string, nameservers []string, by string) (*OperationView, error) {
	if len(nameservers) < 2 || len(nameservers) > 13 {
		return nil, domain.Invalid("invalid_nameservers", "nameservers", "give 2 to 13 nameservers")
	}
	ns := make([]string, len(nameservers))
	for i, n := range nameservers {
		a, err := NormalizeName(n)
		if err != nil {
			return nil, invalidName(fmt.Sprintf("nameservers[%d]", i), err)
		}
		ns[i] = a
	}
	d, err := s.active(ctx, ref)
	if err != nil {
		return nil, err
	}
	op := s.newOp(d, OpSetNameservers, "ns:"+domain.NewDomainOperationID(), opParams{Nameservers: ns}, by)
	return s.start(ctx, op)
}

// MailRecords upserts the mail records (SPF merged, DKIM, DMARC). dkim,
// when set, is the DKIM value to use instead of the configured one.
func (s *Service) MailRecords(ctx context.Context, ref, dkim, by string) (*OperationView, error) {
	d, err := s.active(ctx, ref)
	if err != nil {
		return nil, err
	}
	ch := s.mailChanges(d.Name)
	if dkim != "" {
		ch = upsertDKIM(ch, dkim)
	}
	op := s.newOp(d, OpChangeRecords, "records:"+domain.NewDomainOperationID(), opParams{Changes: ch, Purpose: "mail_dns"}, by)
	return s.start(ctx, op)
}

// upsertDKIM sets the DKIM change of a mail batch to value.
func upsertDKIM(ch []registrar.RecordChange, value string) []registrar.RecordChange {
	out := ch[:0:0]
	for _, c := range ch {
		if c.Record.Name != "mail._domainkey" {
			out = append(out, c)
		}
	}
	return append(out, registrar.RecordChange{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "mail._domainkey", Type: "TXT", Values: []string{value}}})
}

// UpsertRecord creates or replaces one record set.
func (s *Service) UpsertRecord(ctx context.Context, ref string, rec registrar.Record, by string) (*OperationView, error) {
	if rec.Name == "" || rec.Type == "" || len(rec.Values) == 0 {
		return nil, domain.Invalid("invalid_record", "record", "a record needs a name, a type and at least one value")
	}
	rec.Type = strings.ToUpper(rec.Type)
	d, err := s.active(ctx, ref)
	if err != nil {
		return nil, err
	}
	op := s.newOp(d, OpChangeRecords, "records:"+domain.NewDomainOperationID(),
		opParams{Changes: []registrar.RecordChange{{Action: registrar.RecordUpsert, Record: rec}}}, by)
	return s.start(ctx, op)
}

// Records lists the domain's record sets, read from the registrar.
func (s *Service) Records(ctx context.Context, ref string) ([]registrar.Record, error) {
	d, err := s.find(ctx, ref)
	if err != nil {
		return nil, err
	}
	reg, err := s.operatorRegistrar(d.RegistrarID)
	if err != nil {
		return nil, err
	}
	l, ok := reg.(registrar.RecordLister)
	if !ok {
		return nil, domain.Unprocessable("records_unsupported", "", "the registrar cannot list records")
	}
	recs, err := l.ListRecords(ctx, registrar.ListRecordsRequest{Domain: d.Name})
	if err != nil {
		return nil, registrarError(err)
	}
	return recs, nil
}

// AuthCode reads the domain's transfer (EPP) code from the registrar, for
// the operator to hand to the owner. The caller shows it once; it is
// never stored, logged or put in an event.
func (s *Service) AuthCode(ctx context.Context, ref string) (string, error) {
	d, err := s.active(ctx, ref)
	if err != nil {
		return "", err
	}
	reg, err := s.operatorRegistrar(d.RegistrarID)
	if err != nil {
		return "", err
	}
	ac, err := reg.GetAuthCode(ctx, registrar.GetAuthCodeRequest{Domain: d.Name})
	if err != nil {
		return "", registrarError(err)
	}
	s.log.InfoContext(ctx, "domain auth code retrieved", "domain", d.Name)
	return ac.Code, nil
}

// active finds a domain the registrar holds (active or expired).
func (s *Service) active(ctx context.Context, ref string) (*store.Domain, error) {
	d, err := s.find(ctx, ref)
	if err != nil {
		return nil, err
	}
	if d.Status != StatusActive && d.Status != StatusExpired {
		return nil, domain.Conflict("domain_not_active", "%s is %s, not active", d.Name, d.Status)
	}
	return d, nil
}

// start stores an operator's operation and its job.
func (s *Service) start(ctx context.Context, op *store.DomainOperation) (*OperationView, error) {
	got, err := s.startOp(ctx, op)
	if err != nil {
		return nil, err
	}
	v := OperationViewOf(got)
	return &v, nil
}

func (s *Service) operatorRegistrar(id string) (registrar.Registrar, error) {
	reg, err := s.registrars.Registrar(id)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return nil, domain.Invalid("unknown_registrar", "registrar", "no registrar instance %q is configured", id)
	case err != nil:
		return nil, fmt.Errorf("registrar %s: %w", id, err)
	}
	return reg, nil
}

// registrarError maps a registrar's refusal of an operator's synchronous
// call onto the API's categories; outages stay unavailable.
func registrarError(err error) error {
	switch sdkerr.CategoryOf(err) {
	case sdkerr.CategoryInvalidInput:
		return domain.Invalid("registrar_refused", "", "%s", message(err))
	case sdkerr.CategoryDeclined, sdkerr.CategoryAlreadyExists:
		return domain.Unprocessable("registrar_declined", "", "%s", message(err))
	case sdkerr.CategoryNotFound:
		return domain.Unprocessable("registrar_not_found", "", "%s", message(err))
	case sdkerr.CategoryUnimplemented:
		return domain.Unprocessable("registrar_unsupported", "", "%s", message(err))
	}
	return err
}
