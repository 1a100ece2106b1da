package httpapi_test

import (
	"context"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/domains"
)

// domainFakes stand in for the domains service, counting calls with the
// console's other fakes and keeping what the last operation got (List and
// Show would clash with the refund fakes' method names, hence a type of
// their own).
type domainFakes struct {
	*consoleFakes
	last *domainCall // guarded by consoleFakes.mu
}

// domainCall is what the last domain operation got.
type domainCall struct {
	Op, Ref, By string
	Years       int
	Locked      bool
	Nameservers []string
}

const fakeDomainID = "dom_01M936VRT35K7S00R0JZK8FHSC"

func fakeDomain() domains.View {
	exp := "2027-12-05T09:10:00Z"
	return domains.View{DomainID: fakeDomainID, Domain: "xn--bcher-kva.example", DisplayName: "bücher.example", Status: domains.StatusActive,
		Action: "register", Years: 1, MerchantID: 1, Mode: "test", SessionID: fakeSessionID, ItemID: "it_2", ExpiresAt: &exp,
		Nameservers: []string{"ns-1.awsdns.example"}, Locked: true, CreatedAt: "2026-12-05T09:05:00Z", UpdatedAt: "2026-12-05T09:10:00Z"}
}

func (f domainFakes) List(_ context.Context, p domains.ListParams) ([]domains.View, error) {
	f.hit("ListDomains")
	if p.Status == "bogus" {
		return nil, domain.Invalid("invalid_status", "status", "status must be pending, active, failed, expired or attention")
	}
	if p.SessionID != "" && p.SessionID != fakeSessionID {
		return nil, nil
	}
	return []domains.View{fakeDomain()}, nil
}

func (f domainFakes) Show(_ context.Context, ref string) (*domains.Detail, error) {
	f.hit("ShowDomain")
	if ref != fakeDomainID {
		return nil, domain.NotFound("domain")
	}
	return &domains.Detail{View: fakeDomain(), Operations: []domains.OperationView{{OperationID: "dop_1", Type: "register", Status: "succeeded",
		Polls: 2, RequestedBy: "payment", CreatedAt: "2026-12-05T09:05:00Z"}}}, nil
}

// operate records an operation; a domain other than the fake one is
// missing, as the service answers.
func (f domainFakes) operate(c domainCall) (*domains.OperationView, error) {
	f.hit(c.Op)
	f.mu.Lock()
	*f.last = c
	f.mu.Unlock()
	if c.Ref != fakeDomainID && c.Ref != "1" {
		return nil, domain.NotFound("domain")
	}
	return &domains.OperationView{OperationID: "dop_2", Type: c.Op, Status: "pending", RequestedBy: c.By}, nil
}

func (f domainFakes) lastCall() domainCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.last
}

func (f domainFakes) Renew(_ context.Context, ref string, years int, by string) (*domains.OperationView, error) {
	if years < 1 || years > 10 {
		f.hit("renew")
		return nil, domain.Invalid("invalid_years", "years", "years must be between 1 and 10")
	}
	return f.operate(domainCall{Op: "renew", Ref: ref, By: by, Years: years})
}

func (f domainFakes) SetLock(_ context.Context, ref string, locked bool, by string) (*domains.OperationView, error) {
	return f.operate(domainCall{Op: "set_lock", Ref: ref, By: by, Locked: locked})
}

func (f domainFakes) SetNameservers(_ context.Context, ref string, ns []string, by string) (*domains.OperationView, error) {
	if len(ns) < 2 {
		f.hit("set_nameservers")
		return nil, domain.Invalid("invalid_nameservers", "nameservers", "give 2 to 13 nameservers")
	}
	return f.operate(domainCall{Op: "set_nameservers", Ref: ref, By: by, Nameservers: ns})
}
