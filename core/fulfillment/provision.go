package fulfillment

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// provisionKind fulfills hosting items: one service (account) per item,
// created by a provisioner plugin.
type provisionKind struct{ s *Service }

var _ Kind = provisionKind{}

// CheckProduct refuses a package the panel does not list.
func (k provisionKind) CheckProduct(ctx context.Context, p Product) error {
	return k.s.CheckPackage(ctx, p.Fulfillment.Provisioner, p.Fulfillment.Package)
}

// Validate: one account per item, for a domain, with a panel username
// (derived from the domain when not given).
func (k provisionKind) Validate(_ context.Context, _ Product, it *Item) error {
	i := it.Position
	switch {
	case it.Quantity != 1:
		return domain.Invalid("invalid_item", ItemField(i, "quantity"), "a hosting item is one account: quantity must be 1 (send one item per account)")
	case it.Domain == "":
		return domain.Invalid("missing_field", ItemField(i, "domain"), "items[%d].domain is required for a hosting item", i)
	case it.Action != "":
		return domain.Invalid("field_not_allowed", ItemField(i, "action"), "action applies to domain items")
	case it.AuthCode != "":
		return domain.Invalid("field_not_allowed", ItemField(i, "auth_code"), "auth_code applies to domain transfers")
	case it.Years != 0:
		return domain.Invalid("field_not_allowed", ItemField(i, "years"), "years applies to domain items")
	}
	if it.Username == "" {
		it.Username = deriveUsername(it.Domain)
		return nil
	}
	if !usernameRe.MatchString(it.Username) || strings.HasPrefix(it.Username, "test") {
		return domain.Invalid("invalid_item", ItemField(i, "username"),
			"username must be 1-16 lower-case letters and digits starting with a letter, and not start with \"test\"")
	}
	return nil
}

// Enqueue creates the item's service, pending, and its create action.
func (k provisionKind) Enqueue(ctx context.Context, tx bun.Tx, sess Session, it Item) error {
	s := k.s
	r := store.NewRepo(tx)
	now := s.now()
	svc := &store.Service{
		ID: domain.NewServiceID(), MerchantID: sess.MerchantID, Mode: sess.Mode, SessionID: sess.ID, ItemID: it.ID,
		ClientID: sess.ClientID, Kind: domain.KindProvision, SKU: it.SKU, Provisioner: it.Spec.Provisioner,
		Package: it.Spec.Package, Domain: it.Domain, Username: it.Username, Status: domain.ServicePending,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := r.InsertService(ctx, svc); err != nil {
		return err
	}
	return s.enqueueAction(ctx, r, tx, svc, newAction{action: domain.ActionCreate, source: SourcePayment, reason: "session " + sess.ID + " paid"})
}
