package fulfillment_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/fulfillment/fulfillmenttest"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// env is fulfillmenttest's environment with this package's helpers.
type env struct {
	*fulfillmenttest.Env
}

// newEnv builds the env with the sandbox as the provider, or with the
// given provider instances instead.
func newEnv(t *testing.T, st *store.Store, products []config.ProductConfig, instances ...paymentstest.Instance) *env {
	t.Helper()
	return &env{fulfillmenttest.New(t, st, products, instances...)}
}

// customer is the email of the env's sessions.
const customer = "ann@customer.test"

// createSession creates a session for the env's merchant and customer with
// items (JSON, "" for none).
func (e *env) createSession(t *testing.T, order, amount, items string) (*payments.SessionView, error) {
	t.Helper()
	return e.CreateSession(t, e.Principal, order, amount, customer, items)
}

func (e *env) services(t *testing.T, sessionID string) []*fulfillment.ServiceView {
	t.Helper()
	ss, err := e.Ful.ListServices(ctxT(t), fulfillment.ServiceListRequest{SessionID: sessionID})
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func (e *env) eventTypes(t *testing.T, id string) []string {
	t.Helper()
	evs, err := e.Store.SessionEvents(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

func wantCode(t *testing.T, err error, kind error, code, field string) {
	t.Helper()
	de, ok := domain.AsError(err)
	if !ok || !errors.Is(err, kind) || de.Code != code || de.Field != field {
		t.Fatalf("error %v, want %v %s (field %q)", err, kind, code, field)
	}
}

func TestProducts(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, []config.ProductConfig{fulfillmenttest.HostingProduct("host-basic", "basic")})
		ctx := ctxT(t)
		mid := e.Merchant
		spec := domain.FulfillmentSpec{Kind: domain.KindProvision, Provisioner: "whm", Package: "gold"}

		_, err := e.Ful.CreateProduct(ctx, fulfillment.ProductInput{SKU: "host-gold", Name: "Gold", MerchantID: &mid, Fulfillment: spec})
		wantCode(t, err, domain.ErrUnprocessable, "unknown_package", "fulfillment.package")

		spec.Package = "reseller_gold"
		p, err := e.Ful.CreateProduct(ctx, fulfillment.ProductInput{SKU: "host-gold", Name: "Gold", MerchantID: &mid, Fulfillment: spec})
		if err != nil {
			t.Fatalf("create with a listed package: %v", err)
		}
		if p.Fulfillment.OnRefund != domain.RefundSuspend || p.Source != fulfillment.SourceAPI || !domain.ValidProductID(p.ID) {
			t.Errorf("product %+v: want on_refund suspend by default, source api", p)
		}
		_, err = e.Ful.CreateProduct(ctx, fulfillment.ProductInput{SKU: "host-gold", Name: "Gold 2", MerchantID: &mid, Fulfillment: spec})
		wantCode(t, err, domain.ErrConflict, "duplicate_sku", "")
		_, err = e.Ful.CreateProduct(ctx, fulfillment.ProductInput{SKU: "host-basic", Name: "Basic", Fulfillment: spec})
		wantCode(t, err, domain.ErrConflict, "duplicate_sku", "")
		_, err = e.Ful.CreateProduct(ctx, fulfillment.ProductInput{SKU: "x", Name: "X",
			Fulfillment: domain.FulfillmentSpec{Kind: domain.KindProvision, Provisioner: "sbx", Package: "basic"}})
		wantCode(t, err, domain.ErrInvalid, "invalid_fulfillment", "fulfillment.provisioner")

		spec.Package = "nope"
		_, err = e.Ful.UpdateProduct(ctx, p.ID, fulfillment.ProductInput{Name: "Gold", Fulfillment: spec})
		wantCode(t, err, domain.ErrUnprocessable, "unknown_package", "fulfillment.package")

		all, err := e.Ful.ListProducts(ctx, mid)
		if err != nil {
			t.Fatal(err)
		}
		var skus []string
		for _, p := range all {
			skus = append(skus, p.SKU+"/"+p.Source+"/"+p.Fulfillment.Package)
		}
		if got := strings.Join(skus, " "); got != "host-basic/config/basic host-gold/api/reseller_gold" {
			t.Errorf("products: %s", got)
		}
		if other, _ := e.Ful.ListProducts(ctx, e.Other); len(other) != 1 {
			t.Errorf("another merchant sees %d products, want the global one", len(other))
		}
		if err := e.Ful.CheckFileProducts(ctx); err != nil {
			t.Errorf("CheckFileProducts: %v", err)
		}
	})
}

// TestWrongPackageInFile: a product of the file whose package the panel
// does not list fails the configuration check serve runs at start.
func TestWrongPackageInFile(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, []config.ProductConfig{fulfillmenttest.HostingProduct("host-x", "Basic")})
		err := e.Ful.CheckFileProducts(ctxT(t))
		if err == nil || !strings.Contains(err.Error(), `no package "Basic"`) {
			t.Fatalf("CheckFileProducts: %v, want the unknown package named", err)
		}
	})
}

func TestSessionItems(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, []config.ProductConfig{fulfillmenttest.HostingProduct("host-basic", "basic"),
			{SKU: "setup", Name: "Setup fee", Fulfillment: config.ProductFulfillment{Kind: "none"}}})
		for _, tc := range []struct {
			name, items, code, field string
		}{
			{"unknown sku", `[{"sku":"nope"}]`, "unknown_sku", "items[0].sku"},
			{"missing sku", `[{"quantity":1}]`, "missing_field", "items[0].sku"},
			{"hosting without domain", `[{"sku":"setup"},{"sku":"host-basic"}]`, "missing_field", "items[1].domain"},
			{"hosting quantity 2", `[{"sku":"host-basic","domain":"a.example","quantity":2}]`, "invalid_item", "items[0].quantity"},
			{"bad domain", `[{"sku":"host-basic","domain":"not a domain"}]`, "invalid_item", "items[0].domain"},
			{"bad username", `[{"sku":"host-basic","domain":"a.example","username":"Test1"}]`, "invalid_item", "items[0].username"},
			{"zero quantity", `[{"sku":"setup","quantity":0}]`, "invalid_item", "items[0].quantity"},
			{"auth code on hosting", `[{"sku":"host-basic","domain":"a.example","auth_code":"x"}]`, "field_not_allowed", "items[0].auth_code"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.createSession(t, "o-"+strings.ReplaceAll(tc.name, " ", "-"), "10.00", tc.items)
				wantCode(t, err, domain.ErrInvalid, tc.code, tc.field)
			})
		}
		if n, _ := st.DB().NewSelect().Table("session_items").Count(ctxT(t)); n != 0 {
			t.Fatalf("refused sessions stored %d items", n)
		}

		v, err := e.createSession(t, "o-ok", "10.00", `[{"sku":"host-basic","domain":"Shop.Example.","contact":{"name":"Ann"}},{"sku":"setup","quantity":3}]`)
		if err != nil {
			t.Fatal(err)
		}
		var items []fulfillment.ItemView
		if err := json.Unmarshal(v.Items, &items); err != nil || len(items) != 2 {
			t.Fatalf("session items %s: %v", v.Items, err)
		}
		if items[0].Domain != "shop.example" || items[0].Kind != "provision" || !strings.HasPrefix(items[0].Username, "shopexam") ||
			items[1].Quantity != 3 || items[1].Kind != "none" {
			t.Errorf("items %+v", items)
		}
		got, err := e.Service.GetSession(ctxT(t), e.Principal, v.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Items) != string(v.Items) {
			t.Errorf("GET shows items %s, create showed %s", got.Items, v.Items)
		}
		plain, err := e.createSession(t, "o-plain", "10.00", "")
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(plain); strings.Contains(string(b), `"items"`) {
			t.Errorf("a session without items shows items: %s", b)
		}
	})
}

func jobCount(t *testing.T, st *store.Store) int {
	t.Helper()
	n, err := st.DB().NewSelect().Table("river_job").Where("kind = ?", fulfillment.ActionArgs{}.Kind()).Count(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestPaidStartsFulfillment: paying a session with a hosting item records
// the client, creates the service and its create action with a job, in
// the transaction that marks it paid; the action creates the account at
// the panel, activates the service and emits service.activated without
// the password.
func TestPaidStartsFulfillment(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, []config.ProductConfig{fulfillmenttest.HostingProduct("host-basic", "basic")})
		v, err := e.createSession(t, "o-1", "10.00", `[{"sku":"host-basic","domain":"shop1.example","username":"shopone","contact":{"name":"Ann"}}]`)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.services(t, v.SessionID); len(got) != 0 || jobCount(t, st) != 0 {
			t.Fatalf("an unpaid session has %d services", len(got))
		}
		e.Pay(t, v.SessionID, 1000)
		ss := e.services(t, v.SessionID)
		if len(ss) != 1 || ss[0].Status != domain.ServicePending || ss[0].Username != "shopone" || ss[0].Package != "basic" {
			t.Fatalf("services after paid: %+v", ss)
		}
		if jobCount(t, st) != 1 {
			t.Fatalf("%d fulfillment jobs, want 1", jobCount(t, st))
		}
		if got := strings.Join(e.eventTypes(t, v.SessionID), " "); got != "session.created session.paid client.created" {
			t.Errorf("events: %s", got)
		}
		e.RunPending(t, ss[0].ID, false)
		acct, ok := e.WHM.Account("shopone")
		if !ok || acct.Domain != "shop1.example" || acct.Plan != "basic" || acct.Email != customer {
			t.Fatalf("panel account %+v %v", acct, ok)
		}
		d, err := e.Ful.GetService(ctxT(t), ss[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != domain.ServiceActive || d.ActivatedAt == nil {
			t.Fatalf("service %+v", d.ServiceView)
		}
		evs, err := e.Store.SessionEvents(ctxT(t), v.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		last := evs[len(evs)-1]
		if last.Type != "service.activated" || strings.Contains(last.Data, acct.Password) || strings.Contains(strings.ToLower(last.Data), "password") {
			t.Fatalf("last event %s %s", last.Type, last.Data)
		}
		var pw string
		if err := st.DB().NewSelect().Table("services").Column("password").Where("id = ?", ss[0].ID).Scan(ctxT(t), &pw); err != nil {
			t.Fatal(err)
		}
		if pw != "" {
			t.Errorf("without a mailer the password is kept: %q", pw)
		}
		if calls := e.WHM.Calls("createacct"); len(calls) != 1 {
			t.Errorf("%d createacct calls", len(calls))
		}
	})
}

// TestReviewProvisionsNothingUntilAccepted: money in another amount holds
// the session for review; nothing is provisioned until an operator
// accepts it, which pays the session and starts fulfillment.
func TestReviewProvisionsNothingUntilAccepted(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, []config.ProductConfig{fulfillmenttest.HostingProduct("host-basic", "basic")})
		v, err := e.createSession(t, "o-r", "10.00", `[{"sku":"host-basic","domain":"shop2.example"}]`)
		if err != nil {
			t.Fatal(err)
		}
		e.Pay(t, v.SessionID, 900)
		sess, err := e.Store.GetSession(ctxT(t), v.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		if sess.Status != domain.StatusRequiresReview {
			t.Fatalf("status %s, want requires_review", sess.Status)
		}
		if ss := e.services(t, v.SessionID); len(ss) != 0 || jobCount(t, st) != 0 {
			t.Fatalf("a session in review has %d services, %d jobs", len(ss), jobCount(t, st))
		}
		rvs, err := e.Service.ListReviews(ctxT(t), payments.ReviewListRequest{})
		if err != nil || len(rvs) != 1 {
			t.Fatalf("reviews %v %v", rvs, err)
		}
		if _, err := e.Service.ResolveReview(ctxT(t), rvs[0].ID, payments.ResolveReviewRequest{Action: "accept", Operator: "test"}); err != nil {
			t.Fatal(err)
		}
		ss := e.services(t, v.SessionID)
		if len(ss) != 1 || jobCount(t, st) != 1 {
			t.Fatalf("after accept: %d services, %d jobs", len(ss), jobCount(t, st))
		}
		e.RunPending(t, ss[0].ID, false)
		if e.WHM.Accounts() != 1 {
			t.Errorf("panel has %d accounts", e.WHM.Accounts())
		}
	})
}
