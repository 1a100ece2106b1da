package httpapi_test

import (
	"context"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/domains"
)

// domainFakes stand in for the domains service, counting calls with the
// console's other fakes (List and Show would clash with the refund fakes'
// method names, hence a type of their own).
type domainFakes struct{ *consoleFakes }

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
