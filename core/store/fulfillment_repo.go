package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/switchyard/switchyard/core/domain"
)

// InsertProduct stores a new product; a sku taken for the same merchant
// (or among global products) is a unique violation.
func (r *Repo) InsertProduct(ctx context.Context, p *Product) error {
	if _, err := r.db.NewInsert().Model(p).Exec(ctx); err != nil {
		if IsUniqueViolation(err) {
			return domain.Conflict("duplicate_sku", "a product with sku %q already exists for this merchant", p.SKU)
		}
		return fmt.Errorf("insert product: %w", err)
	}
	return nil
}

// UpdateProduct saves a product's name, kind and spec.
func (r *Repo) UpdateProduct(ctx context.Context, p *Product) error {
	res, err := r.db.NewUpdate().Model(p).Column("name", "kind", "spec", "updated_at").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("update product: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("product")
	}
	return nil
}

// DeleteProduct removes a product. Sessions keep the spec they were
// created with.
func (r *Repo) DeleteProduct(ctx context.Context, id string) error {
	res, err := r.db.NewDelete().Model((*Product)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete product: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("product")
	}
	return nil
}

// GetProduct reads one product.
func (r *Repo) GetProduct(ctx context.Context, id string) (*Product, error) {
	p := new(Product)
	if err := r.db.NewSelect().Model(p).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "product")
	}
	return p, nil
}

// ProductBySKU finds the product a merchant's item of sku names: the
// merchant's own first, else the global one.
func (r *Repo) ProductBySKU(ctx context.Context, merchantID int64, sku string) (*Product, error) {
	var ps []*Product
	err := r.db.NewSelect().Model(&ps).
		Where("sku = ? AND (merchant_id = ? OR merchant_id IS NULL)", sku, merchantID).
		OrderExpr("merchant_id IS NULL ASC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("product by sku: %w", err)
	}
	if len(ps) == 0 {
		return nil, domain.NotFound("product")
	}
	return ps[0], nil
}

// ProductFilter selects ListProducts' rows. MerchantID 0 lists every
// product; Global with it lists only global ones.
type ProductFilter struct {
	MerchantID int64
	Global     bool
}

// ListProducts lists products by sku.
func (r *Repo) ListProducts(ctx context.Context, f ProductFilter) ([]*Product, error) {
	ps := []*Product{}
	q := r.db.NewSelect().Model(&ps)
	switch {
	case f.Global:
		q = q.Where("merchant_id IS NULL")
	case f.MerchantID > 0:
		q = q.Where("merchant_id = ? OR merchant_id IS NULL", f.MerchantID)
	}
	if err := q.OrderExpr("sku ASC, merchant_id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	return ps, nil
}

// InsertSessionItems stores a session's items and sets sessions.items to
// their public rendering, in the create transaction.
func (r *Repo) InsertSessionItems(ctx context.Context, sessionID, rendered string, items []*SessionItem) error {
	if len(items) == 0 {
		return nil
	}
	if _, err := r.db.NewInsert().Model(&items).Exec(ctx); err != nil {
		return fmt.Errorf("insert session items: %w", err)
	}
	if _, err := r.db.NewUpdate().Model((*Session)(nil)).Set("items = ?", rendered).Where("id = ?", sessionID).Exec(ctx); err != nil {
		return fmt.Errorf("set session items: %w", err)
	}
	return nil
}

// SessionItems lists a session's items in order.
func (r *Repo) SessionItems(ctx context.Context, sessionID string) ([]*SessionItem, error) {
	items := []*SessionItem{}
	if err := r.db.NewSelect().Model(&items).Where("session_id = ?", sessionID).OrderExpr("position ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("session items: %w", err)
	}
	return items, nil
}

// GetSessionItem reads one item.
func (r *Repo) GetSessionItem(ctx context.Context, id string) (*SessionItem, error) {
	it := new(SessionItem)
	if err := r.db.NewSelect().Model(it).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "item")
	}
	return it, nil
}

// ClientByEmail finds a merchant's client by email in one mode.
func (r *Repo) ClientByEmail(ctx context.Context, merchantID int64, mode KeyMode, email string) (*Client, error) {
	c := new(Client)
	if err := r.db.NewSelect().Model(c).Where("merchant_id = ? AND mode = ? AND email = ?", merchantID, mode, email).Scan(ctx); err != nil {
		return nil, notFound(err, "client")
	}
	return c, nil
}

// GetClient reads one client.
func (r *Repo) GetClient(ctx context.Context, id string) (*Client, error) {
	c := new(Client)
	if err := r.db.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "client")
	}
	return c, nil
}

// InsertClient stores a new client.
func (r *Repo) InsertClient(ctx context.Context, c *Client) error {
	if _, err := r.db.NewInsert().Model(c).Exec(ctx); err != nil {
		return fmt.Errorf("insert client: %w", err)
	}
	return nil
}

// UpdateClient saves a client's name and contact.
func (r *Repo) UpdateClient(ctx context.Context, c *Client) error {
	if _, err := r.db.NewUpdate().Model(c).Column("name", "contact", "updated_at").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update client: %w", err)
	}
	return nil
}

// ClientFilter selects ListClients' rows.
type ClientFilter struct {
	MerchantID int64
	AfterID    string
	Limit      int
}

// ListClients lists clients by id.
func (r *Repo) ListClients(ctx context.Context, f ClientFilter) ([]*Client, error) {
	cs := []*Client{}
	q := r.db.NewSelect().Model(&cs)
	if f.MerchantID > 0 {
		q = q.Where("merchant_id = ?", f.MerchantID)
	}
	if f.AfterID != "" {
		q = q.Where("id > ?", f.AfterID)
	}
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.OrderExpr("id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return cs, nil
}

// InsertService stores a new service; a second service for one item is a
// unique violation.
func (r *Repo) InsertService(ctx context.Context, s *Service) error {
	if _, err := r.db.NewInsert().Model(s).Exec(ctx); err != nil {
		return fmt.Errorf("insert service: %w", err)
	}
	return nil
}

// serviceColumns are what UpdateService writes.
var serviceColumns = []string{"package", "username", "status", "paused", "pause_reason", "suspend_reason", "suspend_source", "last_error",
	"password", "server", "ip", "nameservers", "updated_at", "activated_at", "suspended_at", "terminated_at"}

// UpdateService saves a service.
func (r *Repo) UpdateService(ctx context.Context, s *Service) error {
	res, err := r.db.NewUpdate().Model(s).Column(serviceColumns...).WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("update service: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("service")
	}
	return nil
}

// GetService reads one service.
func (r *Repo) GetService(ctx context.Context, id string) (*Service, error) {
	s := new(Service)
	if err := r.db.NewSelect().Model(s).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "service")
	}
	return s, nil
}

// LockService reads a service for update (a row lock on PostgreSQL; SQLite
// transactions hold the write lock from BEGIN).
func (r *Repo) LockService(ctx context.Context, id string) (*Service, error) {
	s := new(Service)
	q := r.db.NewSelect().Model(s).Where("id = ?", id)
	if r.db.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, notFound(err, "service")
	}
	return s, nil
}

// SessionServices lists a session's services.
func (r *Repo) SessionServices(ctx context.Context, sessionID string) ([]*Service, error) {
	ss := []*Service{}
	if err := r.db.NewSelect().Model(&ss).Where("session_id = ?", sessionID).OrderExpr("id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("session services: %w", err)
	}
	return ss, nil
}

// ServiceFilter selects ListServices' rows.
type ServiceFilter struct {
	MerchantID int64
	Status     domain.ServiceStatus
	SessionID  string
	AfterID    string
	Limit      int
}

// ListServices lists services by id.
func (r *Repo) ListServices(ctx context.Context, f ServiceFilter) ([]*Service, error) {
	ss := []*Service{}
	q := r.db.NewSelect().Model(&ss)
	if f.MerchantID > 0 {
		q = q.Where("merchant_id = ?", f.MerchantID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.SessionID != "" {
		q = q.Where("session_id = ?", f.SessionID)
	}
	if f.AfterID != "" {
		q = q.Where("id > ?", f.AfterID)
	}
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.OrderExpr("id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return ss, nil
}

// InsertServiceAction stores a new action.
func (r *Repo) InsertServiceAction(ctx context.Context, a *ServiceAction) error {
	if _, err := r.db.NewInsert().Model(a).Exec(ctx); err != nil {
		return fmt.Errorf("insert service action: %w", err)
	}
	return nil
}

// UpdateServiceAction saves an action's progress.
func (r *Repo) UpdateServiceAction(ctx context.Context, a *ServiceAction) error {
	if _, err := r.db.NewUpdate().Model(a).Column("status", "attempts", "last_error", "not_before", "updated_at").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update service action: %w", err)
	}
	return nil
}

// GetServiceAction reads one action.
func (r *Repo) GetServiceAction(ctx context.Context, id string) (*ServiceAction, error) {
	a := new(ServiceAction)
	if err := r.db.NewSelect().Model(a).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "service action")
	}
	return a, nil
}

// ServiceActions lists a service's actions, oldest first; with statuses,
// only those.
func (r *Repo) ServiceActions(ctx context.Context, serviceID string, statuses ...domain.ActionStatus) ([]*ServiceAction, error) {
	as := []*ServiceAction{}
	q := r.db.NewSelect().Model(&as).Where("service_id = ?", serviceID)
	if len(statuses) > 0 {
		q = q.Where("status IN (?)", bun.In(statuses))
	}
	if err := q.OrderExpr("id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("service actions: %w", err)
	}
	return as, nil
}

// LinkSubscription stores the link of a provider subscription to a
// session. The first link stays: inserted is false when the pair is
// linked already, and GetSubscription says to which session.
func (r *Repo) LinkSubscription(ctx context.Context, s *Subscription) (inserted bool, err error) {
	res, err := r.db.NewInsert().Model(s).On("CONFLICT (provider_id, subscription_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("link subscription: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("link subscription: %w", err)
	}
	return n == 1, nil
}

// GetSubscription reads the link of a provider subscription.
func (r *Repo) GetSubscription(ctx context.Context, providerID, subscriptionID string) (*Subscription, error) {
	s := new(Subscription)
	if err := r.db.NewSelect().Model(s).Where("provider_id = ? AND subscription_id = ?", providerID, subscriptionID).Scan(ctx); err != nil {
		return nil, notFound(err, "subscription")
	}
	return s, nil
}
