package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/store"
)

var (
	_ fulfillment.Kind   = domainKind{}
	_ payments.EventSink = (*hostingReady)(nil)
)

// domainKind fulfills register_domain items through core/domains: the
// adapter lives here because neither package imports the other.
type domainKind struct{ d *domains.Service }

func productSettings(s domain.FulfillmentSpec) domains.ProductSettings {
	return domains.ProductSettings{Registrar: s.Registrar, TLDs: s.TLDs, MailDNS: s.MailDNS}
}

// CheckProduct refuses a domain product that sells no TLD: every item of
// it would be refused at session create.
func (domainKind) CheckProduct(_ context.Context, p fulfillment.Product) error {
	if len(p.Fulfillment.TLDs) == 0 {
		return domain.Invalid("invalid_fulfillment", "fulfillment.tlds", "tlds is required for kind register_domain (the TLDs the product sells, such as com)")
	}
	return nil
}

// Validate runs domains.Validate on the item and stores the normalized
// (punycode) name with it. One item is one domain.
func (domainKind) Validate(_ context.Context, p fulfillment.Product, it *fulfillment.Item) error {
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
func (k domainKind) Enqueue(ctx context.Context, tx bun.Tx, s fulfillment.Session, it fulfillment.Item) error {
	o, err := order(productSettings(it.Spec), it)
	if err != nil {
		return fmt.Errorf("domain item no longer validates: %w", err)
	}
	return k.d.EnqueueTx(ctx, tx, domains.PaidItem{ItemID: it.ID, SessionID: s.ID, MerchantID: s.MerchantID, Mode: s.Mode}, o)
}

func order(ps domains.ProductSettings, it fulfillment.Item) (*domains.Order, error) {
	var contact json.RawMessage
	if it.Contact != nil {
		b, err := json.Marshal(it.Contact)
		if err != nil {
			return nil, fmt.Errorf("encode contact: %w", err)
		}
		contact = b
	}
	in := domains.ItemInput{Domain: it.Domain, Years: it.Years, Action: it.Action, AuthCode: it.AuthCode, Contact: contact}
	return domains.Validate(ps, in, fmt.Sprintf("items[%d].", it.Position))
}

// hostingReady points a session's domain at its hosting account: when
// fulfillment emits service.activated (in the transaction that records
// the account), the account's IP and nameservers go to
// domains.HostingReadyTx, which changes the records now or right after
// the registration succeeds. d is set once the domains service is built
// (it needs the payments service, which needs this sink).
type hostingReady struct{ d *domains.Service }

// EventsInserted implements payments.EventSink.
func (h *hostingReady) EventsInserted(ctx context.Context, tx bun.Tx, sess *store.Session, events ...*store.Event) error {
	for _, ev := range events {
		if domain.DomainEvent(ev.Type) != domain.EventServiceActivated || h.d == nil {
			continue
		}
		var svc struct {
			Domain      string   `json:"domain"`
			IP          *string  `json:"ip"`
			Nameservers []string `json:"nameservers"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &svc); err != nil {
			return fmt.Errorf("hosting ready: decode %s: %w", ev.Type, err)
		}
		if strings.TrimSpace(svc.Domain) == "" {
			continue
		}
		ip := ""
		if svc.IP != nil {
			ip = *svc.IP
		}
		if err := h.d.HostingReadyTx(ctx, tx, sess.ID, svc.Domain, ip, svc.Nameservers); err != nil {
			return fmt.Errorf("hosting ready: %w", err)
		}
	}
	return nil
}
