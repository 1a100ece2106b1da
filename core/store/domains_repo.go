package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Domain is a domain a merchant bought through a session item (table
// domains). Name is lower-case punycode. ExpiresAt, Nameservers (a JSON
// array) and Locked are what the registrar last reported. ExpiredFor and
// RemindedFor record the expiry for which domain.expired was emitted and
// the renewal reminder sent, so each happens once per expiry date.
type Domain struct {
	bun.BaseModel `bun:"table:domains,alias:dm"`

	ID                 string     `bun:"id,pk"`
	MerchantID         int64      `bun:"merchant_id,notnull"`
	Mode               KeyMode    `bun:"mode,notnull"`
	Name               string     `bun:"name,notnull"`
	RegistrarID        string     `bun:"registrar_id,notnull"`
	Status             string     `bun:"status,notnull"`
	Action             string     `bun:"action,notnull"`
	Years              int        `bun:"years,notnull"`
	SessionID          string     `bun:"session_id,notnull"`
	ItemID             string     `bun:"item_id,notnull"`
	ContactEmail       string     `bun:"contact_email,notnull"`
	ExpiresAt          *time.Time `bun:"expires_at"`
	Nameservers        string     `bun:"nameservers,notnull"`
	Locked             bool       `bun:"locked,notnull"`
	AutoRenew          bool       `bun:"auto_renew,notnull"`
	MailDNS            bool       `bun:"mail_dns,notnull"`
	HostingIP          string     `bun:"hosting_ip,notnull"`
	HostingNameservers string     `bun:"hosting_nameservers,notnull"`
	FailureMessage     string     `bun:"failure_message,notnull"`
	ExpiredFor         *time.Time `bun:"expired_for"`
	RemindedFor        *time.Time `bun:"reminded_for"`
	CreatedAt          time.Time  `bun:"created_at,notnull"`
	UpdatedAt          time.Time  `bun:"updated_at,notnull"`
}

// DomainOperation is one registrar call Switchyard makes for a domain and
// its outcome (table domain_operations). RequestKey is unique: the same
// request (one paid item's registration, one renewal of one expiry) is one
// row. RegistrarOpID is set once the registrar accepted the call. Params is
// a JSON object of the call's inputs (contacts, nameservers, records);
// AuthCodeEnc a transfer's keyring-encrypted EPP code until submitted.
type DomainOperation struct {
	bun.BaseModel `bun:"table:domain_operations,alias:dop"`

	ID            string     `bun:"id,pk"`
	DomainID      string     `bun:"domain_id,notnull"`
	Type          string     `bun:"type,notnull"`
	Status        string     `bun:"status,notnull"`
	RequestKey    string     `bun:"request_key,notnull"`
	RegistrarOpID string     `bun:"registrar_op_id,nullzero"`
	Years         int        `bun:"years,notnull"`
	Params        string     `bun:"params,notnull"`
	AuthCodeEnc   string     `bun:"auth_code_enc,nullzero"`
	Polls         int        `bun:"polls,notnull"`
	Message       string     `bun:"message,notnull"`
	RequestedBy   string     `bun:"requested_by,notnull"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	UpdatedAt     time.Time  `bun:"updated_at,notnull"`
	SubmittedAt   *time.Time `bun:"submitted_at"`
	FinishedAt    *time.Time `bun:"finished_at"`
}

// Column names of the encrypted auth code, for `switchyard secrets rewrap`.
const (
	DomainOperationsTable    = "domain_operations"
	DomainOperationsIDColumn = "id"
	DomainOperationsAuthCode = "auth_code_enc"
)

// InsertDomain stores a new domain. A second domain for the same item, or
// a second live domain of one name at one registrar, is a unique violation.
func (r *Repo) InsertDomain(ctx context.Context, d *Domain) error {
	if _, err := r.db.NewInsert().Model(d).Exec(ctx); err != nil {
		return fmt.Errorf("insert domain: %w", err)
	}
	return nil
}

// UpdateDomain writes every column of d.
func (r *Repo) UpdateDomain(ctx context.Context, d *Domain) error {
	if _, err := r.db.NewUpdate().Model(d).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update domain: %w", err)
	}
	return nil
}

// GetDomain reads a domain by id.
func (r *Repo) GetDomain(ctx context.Context, id string) (*Domain, error) {
	d := new(Domain)
	if err := r.db.NewSelect().Model(d).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "domain")
	}
	return d, nil
}

// DomainByName reads the live (not failed) domain of a name, or the newest
// failed one when there is no live one.
func (r *Repo) DomainByName(ctx context.Context, name string) (*Domain, error) {
	d := new(Domain)
	err := r.db.NewSelect().Model(d).Where("name = ?", name).
		OrderExpr("CASE WHEN status = 'failed' THEN 1 ELSE 0 END, id DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "domain")
	}
	return d, nil
}

// DomainByItem reads the domain bought by a session item.
func (r *Repo) DomainByItem(ctx context.Context, itemID string) (*Domain, error) {
	d := new(Domain)
	if err := r.db.NewSelect().Model(d).Where("item_id = ?", itemID).Scan(ctx); err != nil {
		return nil, notFound(err, "domain")
	}
	return d, nil
}

// DomainFilter selects domains for ListDomains.
type DomainFilter struct {
	MerchantID int64  // 0: every merchant
	Status     string // "": any
	SessionID  string // "": any
	After      string // only ids after this one
	Limit      int    // 0: no limit
}

// ListDomains lists domains in id (creation) order.
func (r *Repo) ListDomains(ctx context.Context, f DomainFilter) ([]*Domain, error) {
	var out []*Domain
	q := r.db.NewSelect().Model(&out).OrderExpr("id ASC")
	if f.MerchantID != 0 {
		q = q.Where("merchant_id = ?", f.MerchantID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.SessionID != "" {
		q = q.Where("session_id = ?", f.SessionID)
	}
	if f.After != "" {
		q = q.Where("id > ?", f.After)
	}
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return out, nil
}

// DomainsExpiringBefore lists active or expired domains whose expiry is
// before t, oldest expiry first, at most limit.
func (r *Repo) DomainsExpiringBefore(ctx context.Context, t time.Time, limit int) ([]*Domain, error) {
	var out []*Domain
	err := r.db.NewSelect().Model(&out).
		Where("status IN ('active', 'expired')").
		Where("expires_at IS NOT NULL AND expires_at < ?", t.UTC()).
		OrderExpr("expires_at ASC, id ASC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("domains expiring: %w", err)
	}
	return out, nil
}

// InsertDomainOperation stores a new operation; a second one with the same
// RequestKey is a unique violation.
func (r *Repo) InsertDomainOperation(ctx context.Context, op *DomainOperation) error {
	if _, err := r.db.NewInsert().Model(op).Exec(ctx); err != nil {
		return fmt.Errorf("insert domain operation: %w", err)
	}
	return nil
}

// GetDomainOperation reads an operation by id.
func (r *Repo) GetDomainOperation(ctx context.Context, id string) (*DomainOperation, error) {
	op := new(DomainOperation)
	if err := r.db.NewSelect().Model(op).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "domain operation")
	}
	return op, nil
}

// DomainOperationByKey reads the operation of a request key.
func (r *Repo) DomainOperationByKey(ctx context.Context, key string) (*DomainOperation, error) {
	op := new(DomainOperation)
	if err := r.db.NewSelect().Model(op).Where("request_key = ?", key).Scan(ctx); err != nil {
		return nil, notFound(err, "domain operation")
	}
	return op, nil
}

// LockDomainOperation reads an operation for update inside a transaction
// (SQLite's single writer serialises anyway).
func (r *Repo) LockDomainOperation(ctx context.Context, id string) (*DomainOperation, error) {
	op := new(DomainOperation)
	q := r.db.NewSelect().Model(op).Where("id = ?", id)
	if r.db.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, notFound(err, "domain operation")
	}
	return op, nil
}

// UpdateDomainOperation writes every column of op.
func (r *Repo) UpdateDomainOperation(ctx context.Context, op *DomainOperation) error {
	if _, err := r.db.NewUpdate().Model(op).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update domain operation: %w", err)
	}
	return nil
}

// DomainOperations lists a domain's operations, oldest first.
func (r *Repo) DomainOperations(ctx context.Context, domainID string) ([]*DomainOperation, error) {
	var out []*DomainOperation
	if err := r.db.NewSelect().Model(&out).Where("domain_id = ?", domainID).OrderExpr("id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("domain operations: %w", err)
	}
	return out, nil
}
