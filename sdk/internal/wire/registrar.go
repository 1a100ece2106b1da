package wire

import (
	registrarv1 "github.com/switchyard/switchyard/sdk/proto/registrar/v1"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// OperationToProto converts an operation.
func OperationToProto(o registrar.Operation) *registrarv1.Operation {
	return &registrarv1.Operation{
		Id: o.ID, Type: o.Type, Domain: o.Domain, Status: string(o.Status), Message: o.Message,
		SubmittedAt: timeToProto(o.SubmittedAt), UpdatedAt: timeToProto(o.UpdatedAt),
	}
}

// OperationFromProto converts an operation.
func OperationFromProto(p *registrarv1.Operation) registrar.Operation {
	return registrar.Operation{
		ID: p.GetId(), Type: p.GetType(), Domain: p.GetDomain(),
		Status: registrar.OperationStatus(p.GetStatus()), Message: p.GetMessage(),
		SubmittedAt: timeFromProto(p.GetSubmittedAt()), UpdatedAt: timeFromProto(p.GetUpdatedAt()),
	}
}

// AvailabilityToProto converts availability answers.
func AvailabilityToProto(as []registrar.Availability) *registrarv1.AvailabilityResponse {
	out := &registrarv1.AvailabilityResponse{}
	for _, a := range as {
		out.Results = append(out.Results, &registrarv1.Availability{
			Domain: a.Domain, Available: a.Available, Premium: a.Premium,
			Price: a.Price, Currency: a.Currency, Reason: a.Reason,
		})
	}
	return out
}

// AvailabilityFromProto converts availability answers.
func AvailabilityFromProto(p *registrarv1.AvailabilityResponse) []registrar.Availability {
	var out []registrar.Availability
	for _, a := range p.GetResults() {
		out = append(out, registrar.Availability{
			Domain: a.GetDomain(), Available: a.GetAvailable(), Premium: a.GetPremium(),
			Price: a.GetPrice(), Currency: a.GetCurrency(), Reason: a.GetReason(),
		})
	}
	return out
}

func contactToProto(c *registrar.Contact) *registrarv1.Contact {
	if c == nil {
		return nil
	}
	return &registrarv1.Contact{
		FirstName: c.FirstName, LastName: c.LastName, Organization: c.Organization, Email: c.Email,
		Phone: c.Phone, Address1: c.Address1, Address2: c.Address2, City: c.City, State: c.State,
		PostalCode: c.PostalCode, CountryCode: c.CountryCode,
	}
}

func contactFromProto(p *registrarv1.Contact) *registrar.Contact {
	if p == nil {
		return nil
	}
	return &registrar.Contact{
		FirstName: p.GetFirstName(), LastName: p.GetLastName(), Organization: p.GetOrganization(),
		Email: p.GetEmail(), Phone: p.GetPhone(), Address1: p.GetAddress1(), Address2: p.GetAddress2(),
		City: p.GetCity(), State: p.GetState(), PostalCode: p.GetPostalCode(), CountryCode: p.GetCountryCode(),
	}
}

func derefContact(c *registrar.Contact) registrar.Contact {
	if c == nil {
		return registrar.Contact{}
	}
	return *c
}

// RegisterRequestToProto converts a registration.
func RegisterRequestToProto(r registrar.RegisterRequest) *registrarv1.RegisterRequest {
	return &registrarv1.RegisterRequest{
		IdempotencyKey: r.IdempotencyKey, Domain: r.Domain, Years: int32(r.Years), Nameservers: r.Nameservers,
		Registrant: contactToProto(&r.Registrant), Admin: contactToProto(r.Admin), Tech: contactToProto(r.Tech),
		Privacy: r.Privacy, AutoRenew: r.AutoRenew,
	}
}

// RegisterRequestFromProto converts a registration.
func RegisterRequestFromProto(p *registrarv1.RegisterRequest) registrar.RegisterRequest {
	return registrar.RegisterRequest{
		IdempotencyKey: p.GetIdempotencyKey(), Domain: p.GetDomain(), Years: int(p.GetYears()),
		Nameservers: p.GetNameservers(), Registrant: derefContact(contactFromProto(p.GetRegistrant())),
		Admin: contactFromProto(p.GetAdmin()), Tech: contactFromProto(p.GetTech()),
		Privacy: p.GetPrivacy(), AutoRenew: p.GetAutoRenew(),
	}
}

// TransferRequestToProto converts a transfer.
func TransferRequestToProto(r registrar.TransferRequest) *registrarv1.TransferRequest {
	return &registrarv1.TransferRequest{
		IdempotencyKey: r.IdempotencyKey, Domain: r.Domain, AuthCode: r.AuthCode, Years: int32(r.Years),
		Nameservers: r.Nameservers, Registrant: contactToProto(&r.Registrant), Admin: contactToProto(r.Admin),
		Tech: contactToProto(r.Tech), Privacy: r.Privacy, AutoRenew: r.AutoRenew,
	}
}

// TransferRequestFromProto converts a transfer.
func TransferRequestFromProto(p *registrarv1.TransferRequest) registrar.TransferRequest {
	return registrar.TransferRequest{
		IdempotencyKey: p.GetIdempotencyKey(), Domain: p.GetDomain(), AuthCode: p.GetAuthCode(),
		Years: int(p.GetYears()), Nameservers: p.GetNameservers(),
		Registrant: derefContact(contactFromProto(p.GetRegistrant())), Admin: contactFromProto(p.GetAdmin()),
		Tech: contactFromProto(p.GetTech()), Privacy: p.GetPrivacy(), AutoRenew: p.GetAutoRenew(),
	}
}

// RenewRequestToProto converts a renewal.
func RenewRequestToProto(r registrar.RenewRequest) *registrarv1.RenewRequest {
	return &registrarv1.RenewRequest{
		IdempotencyKey: r.IdempotencyKey, Domain: r.Domain, Years: int32(r.Years),
		CurrentExpiry: timeToProto(r.CurrentExpiry),
	}
}

// RenewRequestFromProto converts a renewal.
func RenewRequestFromProto(p *registrarv1.RenewRequest) registrar.RenewRequest {
	return registrar.RenewRequest{
		IdempotencyKey: p.GetIdempotencyKey(), Domain: p.GetDomain(), Years: int(p.GetYears()),
		CurrentExpiry: timeFromProto(p.GetCurrentExpiry()),
	}
}

// DomainToProto converts a domain.
func DomainToProto(d registrar.Domain) *registrarv1.Domain {
	return &registrarv1.Domain{
		Name: d.Name, Status: d.Status, ExpiresAt: timeToProto(d.ExpiresAt), AutoRenew: d.AutoRenew,
		Locked: d.Locked, Privacy: d.Privacy, Nameservers: d.Nameservers,
	}
}

// DomainFromProto converts a domain.
func DomainFromProto(p *registrarv1.Domain) registrar.Domain {
	return registrar.Domain{
		Name: p.GetName(), Status: p.GetStatus(), ExpiresAt: timeFromProto(p.GetExpiresAt()),
		AutoRenew: p.GetAutoRenew(), Locked: p.GetLocked(), Privacy: p.GetPrivacy(), Nameservers: p.GetNameservers(),
	}
}

// RecordsToProto converts record sets.
func RecordsToProto(rs []registrar.Record) []*registrarv1.Record {
	var out []*registrarv1.Record
	for _, rec := range rs {
		out = append(out, recordToProto(rec))
	}
	return out
}

// RecordsFromProto converts record sets.
func RecordsFromProto(ps []*registrarv1.Record) []registrar.Record {
	var out []registrar.Record
	for _, p := range ps {
		out = append(out, recordFromProto(p))
	}
	return out
}

func recordToProto(r registrar.Record) *registrarv1.Record {
	return &registrarv1.Record{Name: r.Name, Type: r.Type, Ttl: int32(r.TTL), Values: r.Values}
}

func recordFromProto(p *registrarv1.Record) registrar.Record {
	return registrar.Record{Name: p.GetName(), Type: p.GetType(), TTL: int(p.GetTtl()), Values: p.GetValues()}
}

// UpsertRecordsRequestToProto converts a DNS change.
func UpsertRecordsRequestToProto(r registrar.UpsertRecordsRequest) *registrarv1.UpsertRecordsRequest {
	return &registrarv1.UpsertRecordsRequest{Domain: r.Domain, Records: RecordsToProto(r.Records)}
}

// UpsertRecordsRequestFromProto converts a DNS change.
func UpsertRecordsRequestFromProto(p *registrarv1.UpsertRecordsRequest) registrar.UpsertRecordsRequest {
	return registrar.UpsertRecordsRequest{Domain: p.GetDomain(), Records: RecordsFromProto(p.GetRecords())}
}

// ChangeRecordsRequestToProto converts a batch of record changes.
func ChangeRecordsRequestToProto(r registrar.ChangeRecordsRequest) *registrarv1.ChangeRecordsRequest {
	out := &registrarv1.ChangeRecordsRequest{Domain: r.Domain}
	for _, c := range r.Changes {
		out.Changes = append(out.Changes, &registrarv1.RecordChange{Action: string(c.Action), Record: recordToProto(c.Record)})
	}
	return out
}

// ChangeRecordsRequestFromProto converts a batch of record changes.
func ChangeRecordsRequestFromProto(p *registrarv1.ChangeRecordsRequest) registrar.ChangeRecordsRequest {
	out := registrar.ChangeRecordsRequest{Domain: p.GetDomain()}
	for _, c := range p.GetChanges() {
		out.Changes = append(out.Changes, registrar.RecordChange{
			Action: registrar.RecordAction(c.GetAction()), Record: recordFromProto(c.GetRecord()),
		})
	}
	return out
}
