package fulfillment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// Product sources.
const (
	SourceConfig = "config"
	SourceAPI    = "api"
)

// Product is a sku and how its items are fulfilled, as the admin API and
// the CLI show it. ID is "" for a product of the configuration file.
type Product struct {
	ID          string                 `json:"id"`
	SKU         string                 `json:"sku"`
	Name        string                 `json:"name"`
	MerchantID  *int64                 `json:"merchant_id"`
	Fulfillment domain.FulfillmentSpec `json:"fulfillment"`
	// Source is "config" (the YAML file; read-only here) or "api".
	Source    string  `json:"source"`
	CreatedAt *string `json:"created_at"`
	UpdatedAt *string `json:"updated_at"`
}

const timeFormat = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func optTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	v := formatTime(*t)
	return &v
}

func fileProduct(pc config.ProductConfig) Product {
	p := Product{SKU: pc.SKU, Name: pc.Name, Fulfillment: pc.Fulfillment.Spec(), Source: SourceConfig}
	if pc.MerchantID != 0 {
		id := pc.MerchantID
		p.MerchantID = &id
	}
	return p
}

func productView(row *store.Product) (Product, error) {
	var spec domain.FulfillmentSpec
	if err := json.Unmarshal([]byte(row.Spec), &spec); err != nil {
		return Product{}, fmt.Errorf("product %s: decode spec: %w", row.ID, err)
	}
	c, u := formatTime(row.CreatedAt), formatTime(row.UpdatedAt)
	return Product{ID: row.ID, SKU: row.SKU, Name: row.Name, MerchantID: row.MerchantID, Fulfillment: spec,
		Source: SourceAPI, CreatedAt: &c, UpdatedAt: &u}, nil
}

// ProductInput is the body of a product create or update.
type ProductInput struct {
	SKU         string                 `json:"sku"`
	Name        string                 `json:"name"`
	MerchantID  *int64                 `json:"merchant_id"`
	Fulfillment domain.FulfillmentSpec `json:"fulfillment"`
}

// maxProductName bounds a product's name.
const maxProductName = 200

// checkProduct validates a product to save: its sku and name, its spec's
// shape and references, and what its kind checks against the running
// plugins (a provision product's package must be one the panel lists).
func (s *Service) checkProduct(ctx context.Context, p Product) error {
	if !domain.ValidSKU(p.SKU) {
		return domain.Invalid("invalid_sku", "sku", "sku must be 1-64 letters, digits or . _ : -")
	}
	if strings.TrimSpace(p.Name) == "" || len(p.Name) > maxProductName {
		return domain.Invalid("invalid_name", "name", "name is required, at most %d characters", maxProductName)
	}
	if errs := p.Fulfillment.Check(s.instanceKind); len(errs) > 0 {
		return errs[0]
	}
	k, ok := s.kinds[p.Fulfillment.Kind]
	if !ok {
		return domain.Unprocessable("kind_unsupported", "fulfillment.kind", "fulfillment kind %s is not available in this build", p.Fulfillment.Kind)
	}
	return k.CheckProduct(ctx, p)
}

// CheckPackage asks provisioner id whether it lists package pkg (names
// are exact, reseller prefix included). A package the panel does not list
// is 422 unknown_package; a panel that cannot be asked is unavailable, so
// nothing is saved on a guess.
func (s *Service) CheckPackage(ctx context.Context, id, pkg string) error {
	p, err := s.provisioners.Provisioner(id)
	if err != nil {
		return err
	}
	lister, ok := p.(provisioner.PackageLister)
	if !ok {
		return nil
	}
	pkgs, err := lister.ListPackages(ctx)
	switch {
	case sdkerr.CategoryOf(err) == sdkerr.CategoryUnimplemented:
		return nil
	case err != nil:
		return &domain.Error{Kind: domain.ErrUnavailable, Code: "provisioner_unavailable", Field: "fulfillment.provisioner",
			Message: fmt.Sprintf("could not list the packages of %s to check %q: %s", id, pkg, oneLine(err.Error()))}
	}
	if provisioner.HasPackage(pkgs, pkg) {
		return nil
	}
	names := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		names = append(names, p.Name)
	}
	return domain.Unprocessable("unknown_package", "fulfillment.package",
		"%s lists no package %q (names are exact, reseller prefix included); it lists: %s", id, pkg, strings.Join(names, ", "))
}

// CheckFileProducts checks the file's products against the running
// plugins (serve calls it once they started): an unknown package is an
// error that stops the server, so a wrong package fails the configuration
// and not the first paid order. A panel that cannot be reached is logged
// and left to the first job (which fails visibly if the package is wrong).
func (s *Service) CheckFileProducts(ctx context.Context) error {
	var errs []error
	for _, key := range s.fileKeys() {
		p := s.fileProducts[key]
		err := s.kinds[p.Fulfillment.Kind].CheckProduct(ctx, p)
		switch {
		case err == nil:
		case errors.Is(err, domain.ErrUnavailable):
			s.log.WarnContext(ctx, "could not check a product against its plugin at start", "sku", p.SKU, "err", err)
		default:
			errs = append(errs, fmt.Errorf("products (sku %s): %w", p.SKU, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) fileKeys() []fileKey {
	keys := make([]fileKey, 0, len(s.fileProducts))
	for k := range s.fileProducts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b fileKey) int {
		if c := strings.Compare(a.sku, b.sku); c != 0 {
			return c
		}
		return int(a.merchantID - b.merchantID)
	})
	return keys
}

// CreateProduct saves a new product after checking it (the provision
// package against the panel's listpkgs). A sku the file defines for the
// same merchant is a conflict.
func (s *Service) CreateProduct(ctx context.Context, in ProductInput) (Product, error) {
	p := Product{SKU: in.SKU, Name: strings.TrimSpace(in.Name), MerchantID: in.MerchantID, Fulfillment: in.Fulfillment, Source: SourceAPI}
	p.Fulfillment.Normalize()
	if err := s.checkProductOwner(ctx, p.MerchantID); err != nil {
		return Product{}, err
	}
	if _, ok := s.fileProducts[fileKey{merchantOf(p.MerchantID), p.SKU}]; ok {
		return Product{}, domain.Conflict("duplicate_sku", "sku %q is defined in the configuration file for this merchant", p.SKU)
	}
	if err := s.checkProduct(ctx, p); err != nil {
		return Product{}, err
	}
	spec, err := json.Marshal(p.Fulfillment)
	if err != nil {
		return Product{}, fmt.Errorf("encode spec: %w", err)
	}
	now := s.now()
	row := &store.Product{ID: domain.NewProductID(), MerchantID: p.MerchantID, SKU: p.SKU, Name: p.Name,
		Kind: p.Fulfillment.Kind, Spec: string(spec), CreatedAt: now, UpdatedAt: now}
	if err := s.store.InsertProduct(ctx, row); err != nil {
		return Product{}, err
	}
	return productView(row)
}

// UpdateProduct replaces a saved product's name and spec (its sku and
// merchant stay), checked as on create. Sessions already created keep the
// spec they were created with.
func (s *Service) UpdateProduct(ctx context.Context, id string, in ProductInput) (Product, error) {
	if !domain.ValidProductID(id) {
		return Product{}, domain.NotFound("product")
	}
	row, err := s.store.GetProduct(ctx, id)
	if err != nil {
		return Product{}, err
	}
	if in.SKU != "" && in.SKU != row.SKU {
		return Product{}, domain.Invalid("immutable_field", "sku", "a product's sku cannot change; create another product")
	}
	if in.MerchantID != nil && (row.MerchantID == nil || *in.MerchantID != *row.MerchantID) {
		return Product{}, domain.Invalid("immutable_field", "merchant_id", "a product's merchant cannot change")
	}
	p := Product{SKU: row.SKU, Name: strings.TrimSpace(in.Name), MerchantID: row.MerchantID, Fulfillment: in.Fulfillment}
	p.Fulfillment.Normalize()
	if err := s.checkProduct(ctx, p); err != nil {
		return Product{}, err
	}
	spec, err := json.Marshal(p.Fulfillment)
	if err != nil {
		return Product{}, fmt.Errorf("encode spec: %w", err)
	}
	row.Name, row.Kind, row.Spec, row.UpdatedAt = p.Name, p.Fulfillment.Kind, string(spec), s.now()
	if err := s.store.UpdateProduct(ctx, row); err != nil {
		return Product{}, err
	}
	return productView(row)
}

// DeleteProduct removes a saved product; new sessions can no longer name
// its sku, paid ones are unaffected.
func (s *Service) DeleteProduct(ctx context.Context, id string) error {
	if !domain.ValidProductID(id) {
		return domain.NotFound("product")
	}
	return s.store.DeleteProduct(ctx, id)
}

// GetProduct returns a saved product.
func (s *Service) GetProduct(ctx context.Context, id string) (Product, error) {
	if !domain.ValidProductID(id) {
		return Product{}, domain.NotFound("product")
	}
	row, err := s.store.GetProduct(ctx, id)
	if err != nil {
		return Product{}, err
	}
	return productView(row)
}

// ListProducts lists the file's products, then the saved ones, by sku;
// merchantID > 0 limits both to what that merchant's sessions can name
// (its own and global ones).
func (s *Service) ListProducts(ctx context.Context, merchantID int64) ([]Product, error) {
	out := []Product{}
	for _, key := range s.fileKeys() {
		if merchantID == 0 || key.merchantID == 0 || key.merchantID == merchantID {
			out = append(out, s.fileProducts[key])
		}
	}
	rows, err := s.store.ListProducts(ctx, store.ProductFilter{MerchantID: merchantID})
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		p, err := productView(row)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// lookup finds the product a merchant's item names: the merchant's own
// (file, then saved), else a global one.
func (s *Service) lookup(ctx context.Context, merchantID int64, sku string) (Product, bool, error) {
	if p, ok := s.fileProducts[fileKey{merchantID, sku}]; ok {
		return p, true, nil
	}
	row, err := s.store.ProductBySKU(ctx, merchantID, sku)
	switch {
	case err == nil && row.MerchantID != nil:
		p, err := productView(row)
		return p, err == nil, err
	case err != nil && !errors.Is(err, domain.ErrNotFound):
		return Product{}, false, err
	}
	if p, ok := s.fileProducts[fileKey{0, sku}]; ok {
		return p, true, nil
	}
	if row != nil {
		p, err := productView(row)
		return p, err == nil, err
	}
	return Product{}, false, nil
}

func (s *Service) checkProductOwner(ctx context.Context, merchantID *int64) error {
	if merchantID == nil {
		return nil
	}
	if *merchantID <= 0 {
		return domain.Invalid("invalid_merchant", "merchant_id", "merchant_id must be a merchant id, or absent for a global product")
	}
	if _, err := s.store.GetMerchant(ctx, *merchantID); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return domain.Invalid("invalid_merchant", "merchant_id", "no merchant %d", *merchantID)
		}
		return err
	}
	return nil
}

func merchantOf(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

// oneLine keeps a panel's message to one bounded line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}
