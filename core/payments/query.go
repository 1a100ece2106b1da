package payments

import (
	"context"
	"slices"
	"sort"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/merchants"
)

// GetSession returns a session of the principal's merchant and key mode.
// Any other session, existing or not, is not found (404), so ids of other
// merchants cannot be probed.
func (s *Service) GetSession(ctx context.Context, p *merchants.Principal, id string) (*SessionView, error) {
	sess, err := sessionForMerchant(ctx, s.store.Repo, p.Merchant.ID, domain.Mode(p.Key.Mode), id)
	if err != nil {
		return nil, err
	}
	return s.view(sess), nil
}

// MethodView is one payment method offered to a merchant.
type MethodView struct {
	Method string `json:"method"`
	Label  string `json:"label"`
	// Currencies the method accepts (ISO 4217, sorted). Empty means any
	// currency.
	Currencies []string `json:"currencies"`
}

// MeView is the body of GET /v1/me.
type MeView struct {
	MerchantID      int64                  `json:"merchant_id"`
	Plan            domain.Plan            `json:"plan"`
	IntegrationMode domain.IntegrationMode `json:"integration_mode"`
	Mode            domain.Mode            `json:"mode"`
	Methods         []MethodView           `json:"methods"`
	Domains         []string               `json:"domains"`
}

// Me describes the calling merchant's integration: its plan's mode, and the
// methods it can use now — those routing offers this merchant and plan at
// provider instances of the key's mode that at least one healthy instance
// of that mode describes, with the currencies both allow.
func (s *Service) Me(ctx context.Context, p *merchants.Principal) (*MeView, error) {
	plan := domain.Plan(p.Merchant.Plan)
	return &MeView{
		MerchantID:      p.Merchant.ID,
		Plan:            plan,
		IntegrationMode: plan.IntegrationMode(),
		Mode:            domain.Mode(p.Key.Mode),
		Methods:         s.methods(ctx, p.Merchant.ID, plan, domain.Mode(p.Key.Mode)),
		Domains:         append([]string{}, p.Merchant.Domains()...),
	}, nil
}

// methods aggregates the methods routing allows for merchant, plan and mode
// with what the healthy providers of that mode describe.
func (s *Service) methods(_ context.Context, merchantID int64, plan domain.Plan, mode domain.Mode) []MethodView {
	type agg struct {
		label       string
		currencies  map[string]bool
		anyCurrency bool
	}
	described := map[string]*agg{}
	for _, id := range s.providers.IDs() {
		if !s.providers.Healthy(id) || s.router.Mode(id) != mode {
			continue
		}
		desc, err := s.providers.Describe(id)
		if err != nil {
			continue
		}
		for _, m := range desc.Methods {
			a := described[m.Method]
			if a == nil {
				a = &agg{label: m.Label, currencies: map[string]bool{}}
				described[m.Method] = a
			}
			if len(m.Currencies) == 0 {
				a.anyCurrency = true
			}
			for _, c := range m.Currencies {
				a.currencies[c] = true
			}
		}
	}
	out := []MethodView{}
	for _, method := range s.router.Methods(merchantID, plan, mode) {
		a := described[method]
		if a == nil {
			continue // no healthy provider takes it right now
		}
		routed, routedAny := s.router.Currencies(merchantID, plan, mode, method)
		var list []string
		switch {
		case a.anyCurrency && routedAny:
			list = []string{}
		case a.anyCurrency:
			for _, c := range routed {
				list = append(list, string(c))
			}
		case routedAny:
			for c := range a.currencies {
				list = append(list, c)
			}
		default:
			for _, c := range routed {
				if a.currencies[string(c)] {
					list = append(list, string(c))
				}
			}
			if len(list) == 0 {
				continue // routing and providers share no currency
			}
		}
		sort.Strings(list)
		label := a.label
		if label == "" {
			label = method
		}
		out = append(out, MethodView{Method: method, Label: label, Currencies: slices.Clip(list)})
	}
	return out
}
