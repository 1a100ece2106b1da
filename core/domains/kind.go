package domains

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/fulfillment"
)

// Kind fulfills register_domain items (core/app registers it with
// fulfillment.RegisterKind): Validate at session create, EnqueueTx in the
// paid transaction.
type Kind struct{ s *Service }

var _ fulfillment.Kind = Kind{}

// Kind returns the register_domain fulfillment kind backed by s.
func (s *Service) Kind() Kind { return Kind{s} }

// productSettings are a register_domain spec's settings.
func productSettings(s domain.FulfillmentSpec) ProductSettings {
	return ProductSettings{Registrar: s.Registrar, TLDs: s.TLDs, MailDNS: s.MailDNS}
}

// CheckProduct refuses a domain product that sells no TLD: every item of
// it would be refused at session create.
func (Kind) CheckProduct(_ context.Context, p fulfillment.Product) error {
	if len(p.Fulfillment.TLDs) == 0 {
		return domain.Invalid("invalid_fulfillment", "fulfillment.tlds", "tlds is required for kind register_domain (the TLDs the product sells, such as com)")
	}
	return nil
}

// Validate runs Validate on the item and stores the normalized
// (punycode) name with it. One item is one domain.
func (Kind) Validate(_ context.Context, p fulfillment.Product, it *fulfillment.Item) error {
	if it.Quantity != 1 {
		return domain.Invalid("invalid_item", fulfillment.ItemField(it.Position, "quantity"), "a domain item is one domain: quantity must be 1")
	}
	if it.Username != "" {
		return domain.Invalid("field_not_allowed", fulfillment.ItemField(it.Position, "username"), "username applies to hosting items")
	}
	o, err := order(productSettings(p.Fulfillment), *it)
	if err != nil {
		return err
	}
	it.Domain, it.Years, it.Action = o.Name, o.Years, o.Action
	return nil
}

// Enqueue stores the domain and its registration (or transfer) in the
// paid transaction. The item's spec is the product's as it was at session
// create, so a later product edit does not change what was sold.
func (k Kind) Enqueue(ctx context.Context, tx bun.Tx, s fulfillment.Session, it fulfillment.Item) error {
	o, err := order(productSettings(it.Spec), it)
	if err != nil {
		return fmt.Errorf("domain item no longer validates: %w", err)
	}
	return k.s.EnqueueTx(ctx, tx, PaidItem{ItemID: it.ID, SessionID: s.ID, MerchantID: s.MerchantID, Mode: s.Mode}, o)
}

// order validates a stored or incoming item as Validate does.
func order(ps ProductSettings, it fulfillment.Item) (*Order, error) {
	var contact json.RawMessage
	if it.Contact != nil {
		b, err := json.Marshal(it.Contact)
		if err != nil {
			return nil, fmt.Errorf("encode contact: %w", err)
		}
		contact = b
	}
	in := ItemInput{Domain: it.Domain, Years: it.Years, Action: it.Action, AuthCode: it.AuthCode, Contact: contact}
	return Validate(ps, in, fmt.Sprintf("items[%d].", it.Position))
}
