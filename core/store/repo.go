package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
)

// Repo holds the repository operations. It works on whatever bun.IDB it was
// built with: the Store's pool, or a transaction from RunInTx.
type Repo struct {
	db bun.IDB
	// hot runs the hot-path statements (hot.go). A pool Repo and the
	// transaction Repos made from it by InTx share it; a Repo from
	// NewRepo(tx) has none and sends their text through the transaction.
	hot *hotStatements
}

// NewRepo binds the repository operations to db (a *bun.DB or a bun.Tx).
// On a pool it also keeps the hot statements prepared (see hotSQL), so
// build one Repo per pool, as the Store does, rather than one per call.
func NewRepo(db bun.IDB) *Repo {
	r := &Repo{db: db}
	if pool, ok := db.(*bun.DB); ok {
		r.hot = newHotStatements(pool, nil, nil)
	}
	return r
}

// InTx is a Repo on tx (from this Repo's pool) that shares this Repo's
// prepared statements. NewRepo(tx) works too, without them.
func (r *Repo) InTx(tx bun.Tx) *Repo { return &Repo{db: tx, hot: r.hot} }

// Page selects a slice of an id-ordered listing. The zero value lists all.
type Page struct {
	AfterID int64 // only rows with id > AfterID
	Limit   int   // 0 means no limit
}

func (p Page) apply(q *bun.SelectQuery, idColumn string) *bun.SelectQuery {
	if p.AfterID > 0 {
		q = q.Where("? > ?", bun.Ident(idColumn), p.AfterID)
	}
	if p.Limit > 0 {
		q = q.Limit(int64(p.Limit))
	}
	return q.OrderExpr("? ASC", bun.Ident(idColumn))
}

// NewMerchant is the input of CreateMerchant.
type NewMerchant struct {
	Name         string
	Plan         Plan
	Status       MerchantStatus // empty means active
	ContactEmail string
	Domains      []string
}

func duplicateDomain(domainName string) *domain.Error {
	return domain.Conflict("duplicate_domain", "domain %q is already registered for this merchant", domainName)
}

// CreateMerchant inserts a merchant and its sites in one transaction, so a
// rejected site leaves no merchant behind.
func (r *Repo) CreateMerchant(ctx context.Context, in NewMerchant) (*Merchant, error) {
	if strings.TrimSpace(in.Name) == "" {
		return nil, domain.Invalid("invalid_name", "name", "name is required")
	}
	if !in.Plan.Valid() {
		return nil, domain.Invalid("invalid_plan", "plan", "plan %q is not one of free, starter, pro, unlimited", in.Plan)
	}
	if in.Status == "" {
		in.Status = MerchantActive
	}
	if !in.Status.Valid() {
		return nil, domain.Invalid("invalid_status", "status", "status %q is not one of active, suspended", in.Status)
	}
	seen := make(map[string]bool, len(in.Domains))
	for _, d := range in.Domains {
		if d == "" {
			return nil, domain.Invalid("invalid_domain", "domain", "domain must not be empty")
		}
		if seen[d] {
			return nil, duplicateDomain(d)
		}
		seen[d] = true
	}

	ts := now()
	m := &Merchant{
		Name:         in.Name,
		Plan:         in.Plan,
		Status:       in.Status,
		ContactEmail: in.ContactEmail,
		CreatedAt:    ts,
		UpdatedAt:    ts,
		Sites:        []*Site{},
	}
	err := r.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(m).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("insert merchant: %w", err)
		}
		for _, d := range in.Domains {
			site := &Site{MerchantID: m.ID, Domain: d, CreatedAt: ts}
			if _, err := tx.NewInsert().Model(site).Returning("id").Exec(ctx); err != nil {
				return MapConflict(fmt.Errorf("insert site: %w", err), duplicateDomain(d))
			}
			m.Sites = append(m.Sites, site)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// GetMerchant returns a merchant with its sites.
func (r *Repo) GetMerchant(ctx context.Context, id int64) (*Merchant, error) {
	m := new(Merchant)
	err := r.db.NewSelect().Model(m).
		Relation("Sites", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("site.id") }).
		Where("merchant.id = ?", id).
		Scan(ctx)
	if err != nil {
		return nil, notFound(err, "merchant")
	}
	return m, nil
}

// ListMerchants returns merchants with their sites, ordered by id.
func (r *Repo) ListMerchants(ctx context.Context, page Page) ([]*Merchant, error) {
	ms := []*Merchant{}
	q := r.db.NewSelect().Model(&ms).
		Relation("Sites", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("site.id") })
	if err := page.apply(q, "merchant.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list merchants: %w", err)
	}
	return ms, nil
}

// SetMerchantStatus suspends or reactivates a merchant.
func (r *Repo) SetMerchantStatus(ctx context.Context, id int64, status MerchantStatus) (*Merchant, error) {
	if !status.Valid() {
		return nil, domain.Invalid("invalid_status", "status", "status %q is not one of active, suspended", status)
	}
	res, err := r.db.NewUpdate().Model((*Merchant)(nil)).
		Set("status = ?", status).
		Set("updated_at = ?", now()).
		Where("id = ?", id).
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("update merchant status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, domain.NotFound("merchant")
	}
	return r.GetMerchant(ctx, id)
}

func (r *Repo) merchantExists(ctx context.Context, id int64) error {
	ok, err := r.db.NewSelect().Model((*Merchant)(nil)).Where("id = ?", id).Exists(ctx)
	if err != nil {
		return fmt.Errorf("look up merchant: %w", err)
	}
	if !ok {
		return domain.NotFound("merchant")
	}
	return nil
}

// AddSite approves another domain for a merchant. A domain the merchant
// already has is a conflict (code duplicate_domain) and changes nothing.
func (r *Repo) AddSite(ctx context.Context, merchantID int64, domainName string) (*Site, error) {
	if domainName == "" {
		return nil, domain.Invalid("invalid_domain", "domain", "domain must not be empty")
	}
	if err := r.merchantExists(ctx, merchantID); err != nil {
		return nil, err
	}
	site := &Site{MerchantID: merchantID, Domain: domainName, CreatedAt: now()}
	if _, err := r.db.NewInsert().Model(site).Returning("id").Exec(ctx); err != nil {
		if IsForeignKeyViolation(err) {
			// The merchant vanished between the check and the insert.
			return nil, domain.NotFound("merchant")
		}
		return nil, MapConflict(fmt.Errorf("insert site: %w", err), duplicateDomain(domainName))
	}
	return site, nil
}

// ListSites returns a merchant's sites in creation order.
func (r *Repo) ListSites(ctx context.Context, merchantID int64) ([]*Site, error) {
	if err := r.merchantExists(ctx, merchantID); err != nil {
		return nil, err
	}
	sites := []*Site{}
	if err := r.db.NewSelect().Model(&sites).Where("merchant_id = ?", merchantID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	return sites, nil
}

// NewAPIKey is the input of CreateAPIKey. The caller generates the secret,
// shows it once, and passes only its public prefix and HashAPIKey(secret).
type NewAPIKey struct {
	MerchantID int64
	Prefix     string
	SecretHash string
	Scopes     []string
	Mode       KeyMode
	Name       string
}

// CreateAPIKey stores a new key for an existing merchant.
func (r *Repo) CreateAPIKey(ctx context.Context, in NewAPIKey) (*APIKey, error) {
	if !in.Mode.Valid() {
		return nil, domain.Invalid("invalid_mode", "mode", "mode %q is not one of test, live", in.Mode)
	}
	if in.Prefix == "" || in.SecretHash == "" {
		return nil, domain.Invalid("invalid_api_key", "key", "key prefix and hash are required")
	}
	if err := r.merchantExists(ctx, in.MerchantID); err != nil {
		return nil, err
	}
	scopes := Scopes(append([]string{}, in.Scopes...))
	k := &APIKey{
		MerchantID: in.MerchantID,
		Prefix:     in.Prefix,
		SecretHash: in.SecretHash,
		Scopes:     scopes,
		Mode:       in.Mode,
		Name:       in.Name,
		CreatedAt:  now(),
	}
	if _, err := r.db.NewInsert().Model(k).Returning("id").Exec(ctx); err != nil {
		if IsForeignKeyViolation(err) {
			return nil, domain.NotFound("merchant")
		}
		return nil, MapConflict(fmt.Errorf("insert api key: %w", err),
			domain.Conflict("duplicate_api_key", "an api key with this prefix or secret already exists"))
	}
	return k, nil
}

// GetAPIKeyByHash finds a key by HashAPIKey(secret), revoked or not: the
// caller decides what a revoked key means (401 for authentication).
func (r *Repo) GetAPIKeyByHash(ctx context.Context, secretHash string) (*APIKey, error) {
	k := new(APIKey)
	if err := r.db.NewSelect().Model(k).Where("secret_hash = ?", secretHash).Scan(ctx); err != nil {
		return nil, notFound(err, "api key")
	}
	return k, nil
}

// GetAPIKey finds a key by id.
func (r *Repo) GetAPIKey(ctx context.Context, id int64) (*APIKey, error) {
	k := new(APIKey)
	if err := r.db.NewSelect().Model(k).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "api key")
	}
	return k, nil
}

// ListAPIKeys returns a merchant's keys (revoked ones included) by id.
func (r *Repo) ListAPIKeys(ctx context.Context, merchantID int64) ([]*APIKey, error) {
	if err := r.merchantExists(ctx, merchantID); err != nil {
		return nil, err
	}
	keys := []*APIKey{}
	if err := r.db.NewSelect().Model(&keys).Where("merchant_id = ?", merchantID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

// RevokeAPIKey revokes a key. Revoking a revoked key keeps the original
// revocation time, so the call is idempotent.
func (r *Repo) RevokeAPIKey(ctx context.Context, id int64) (*APIKey, error) {
	_, err := r.db.NewUpdate().Model((*APIKey)(nil)).
		Set("revoked_at = ?", now()).
		Where("id = ?", id).
		Where("revoked_at IS NULL").
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("revoke api key: %w", err)
	}
	return r.GetAPIKey(ctx, id)
}

// TouchAPIKey records that a key was just used. It is best-effort
// bookkeeping for operators, so a missing key is not an error.
func (r *Repo) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	_, err := r.db.NewUpdate().Model((*APIKey)(nil)).
		Set("last_used_at = ?", at).
		Where("id = ?", id).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("touch api key: %w", err)
	}
	return nil
}

// keyMerchantRow is one row of GetAPIKeyWithMerchant's join: the key and
// its merchant repeated for each site (site columns NULL without sites).
type keyMerchantRow struct {
	APIKey
	MName         string         `bun:"m_name"`
	MPlan         Plan           `bun:"m_plan"`
	MStatus       MerchantStatus `bun:"m_status"`
	MContactEmail string         `bun:"m_contact_email"`
	MCreatedAt    time.Time      `bun:"m_created_at"`
	MUpdatedAt    time.Time      `bun:"m_updated_at"`
	SID           *int64         `bun:"s_id"`
	SDomain       *string        `bun:"s_domain"`
	SCreatedAt    *time.Time     `bun:"s_created_at"`
}

// GetAPIKeyWithMerchant finds a key by HashAPIKey(secret) together with its
// merchant and the merchant's sites, in one indexed query (the unique
// secret_hash index, then primary and foreign keys): authentication runs
// on every API request, so it is one round trip instead of three. Revoked
// keys and suspended merchants are returned; the caller decides.
func (r *Repo) GetAPIKeyWithMerchant(ctx context.Context, secretHash string) (*APIKey, *Merchant, error) {
	var rows []keyMerchantRow
	if err := r.hotQuery(ctx, apiKeyWithMerchantSQL, &rows, secretHash); err != nil {
		return nil, nil, fmt.Errorf("read api key: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil, domain.NotFound("api key")
	}
	first := rows[0]
	k := first.APIKey
	m := &Merchant{
		ID: k.MerchantID, Name: first.MName, Plan: first.MPlan, Status: first.MStatus, ContactEmail: first.MContactEmail,
		CreatedAt: first.MCreatedAt, UpdatedAt: first.MUpdatedAt, Sites: make([]*Site, 0, len(rows)),
	}
	for _, row := range rows {
		if row.SID == nil {
			continue
		}
		site := &Site{ID: *row.SID, MerchantID: m.ID}
		if row.SDomain != nil {
			site.Domain = *row.SDomain
		}
		if row.SCreatedAt != nil {
			site.CreatedAt = *row.SCreatedAt
		}
		m.Sites = append(m.Sites, site)
	}
	return &k, m, nil
}

var apiKeyWithMerchantSQL = newHotSQL("select_api_key_merchant", `SELECT k.id, k.merchant_id, k.prefix, k.secret_hash, k.scopes, k.mode, k.name,
	k.created_at, k.revoked_at, k.last_used_at,
	m.name AS m_name, m.plan AS m_plan, m.status AS m_status, m.contact_email AS m_contact_email,
	m.created_at AS m_created_at, m.updated_at AS m_updated_at,
	s.id AS s_id, s.domain AS s_domain, s.created_at AS s_created_at
FROM api_keys AS k
JOIN merchants AS m ON m.id = k.merchant_id
LEFT JOIN sites AS s ON s.merchant_id = m.id
WHERE k.secret_hash = ?
ORDER BY s.id`)
