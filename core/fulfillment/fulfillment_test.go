package fulfillment_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/plugins/whm/whmfake"
	"github.com/switchyard/switchyard/plugins/whm/whmprovisioner"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

const sandboxSecret = "fulfillment-test-sandbox-secret-01"

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// provisioners maps instance ids to provisioner clients served through
// the SDK's in-process gRPC harness.
type provisioners map[string]provisioner.Provisioner

func (p provisioners) Provisioner(id string) (provisioner.Provisioner, error) {
	if v, ok := p[id]; ok {
		return v, nil
	}
	return nil, domain.NotFound("provisioner")
}

// sinks fans events out like core/app does (webhooks are not needed here).
type sinks []payments.EventSink

func (s sinks) EventsInserted(ctx context.Context, tx bun.Tx, sess *store.Session, evs ...*store.Event) error {
	for _, k := range s {
		if err := k.EventsInserted(ctx, tx, sess, evs...); err != nil {
			return err
		}
	}
	return nil
}

// env is the real payments and fulfillment services on a real database,
// the sandbox provider and the whm plugin against the WHM API 1 fake.
type env struct {
	*paymentstest.Env
	ful   *fulfillment.Service
	whm   *whmfake.Server
	provs provisioners // the service's provisioners; a test may wrap one
	p     *merchants.Principal
	mID   int64
	other int64
}

// newEnv builds the env with the sandbox as the provider, or with the
// given provider instances instead.
func newEnv(t *testing.T, st *store.Store, products []config.ProductConfig, instances ...paymentstest.Instance) *env {
	t.Helper()
	fake := whmfake.New(t, whmfake.Options{})
	whm := sdktest.ProvisionerClient(t, whmprovisioner.New())
	if err := whm.Configure(ctxT(t), fake.Settings()); err != nil {
		t.Fatal(err)
	}
	kr, err := secrets.NewKeyring([]secrets.Key{{ID: "k1", Key: []byte("0123456789abcdef0123456789abcdef")}})
	if err != nil {
		t.Fatal(err)
	}
	runnerEnv := &env{whm: fake, provs: provisioners{"whm": whm}}
	ful, err := fulfillment.New(fulfillment.Deps{
		Store: st, Jobs: jobsOf(t, st), Provisioners: runnerEnv.provs, Keyring: kr, Products: products,
		Config:       config.FulfillmentConfig{MaxAttempts: 3, RetryDelay: time.Second},
		InstanceKind: func(id string) string { return map[string]string{"whm": "provisioner", "sbx": "provider"}[id] },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(instances) == 0 {
		instances = []paymentstest.Instance{{ID: "sbx", Impl: sandbox.New(), Settings: map[string]string{
			sandbox.SettingSigningSecret: sandboxSecret, sandbox.SettingLedgerPath: filepath.Join(t.TempDir(), "ledger.jsonl")}}}
	}
	pe := paymentstest.New(t, st, paymentstest.Options{RealClock: true, Items: ful, Events: sinks{ful}, Subscriptions: ful,
		Instances: instances})
	ful.SetSessions(pe.Service)
	runnerEnv.Env, runnerEnv.ful = pe, ful
	m := pe.Merchant(t, domain.PlanFree, "shop.test")
	_, runnerEnv.p = pe.Key(t, m.ID, domain.ModeTest)
	runnerEnv.mID = m.ID
	runnerEnv.other = pe.Merchant(t, domain.PlanFree, "other.test").ID
	return runnerEnv
}

func hostingProduct(sku, pkg string) config.ProductConfig {
	return config.ProductConfig{SKU: sku, Name: "Hosting " + sku, Fulfillment: config.ProductFulfillment{
		Kind: "provision", Provisioner: "whm", Package: pkg}}
}

// createSession creates a session with items (JSON) for the env's merchant.
func (e *env) createSession(t *testing.T, order, amount, items string) (*payments.SessionView, error) {
	t.Helper()
	req := &payments.CreateSessionRequest{Domain: "shop.test", Amount: json.RawMessage(`"` + amount + `"`), Currency: "USD",
		OrderID: order, CustomerEmail: "ann@customer.test"}
	if items != "" {
		if err := json.Unmarshal([]byte(items), &req.Items); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := e.Service.CreateSession(ctxT(t), e.p, req, "")
	if err != nil {
		return nil, err
	}
	var v payments.SessionView
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	return &v, nil
}

// pay pays a session through the sandbox with amount in minor units
// (another amount than the session's goes to review).
func (e *env) pay(t *testing.T, id string, amount int64) {
	t.Helper()
	if _, err := e.Service.StartPayment(ctxT(t), id, "card", ""); err != nil {
		t.Fatalf("StartPayment: %v", err)
	}
	atts, err := e.Store.SessionAttempts(ctxT(t), id)
	if err != nil || len(atts) == 0 {
		t.Fatalf("attempts: %v %v", atts, err)
	}
	form := sandbox.SignCallback(sandboxSecret, sandbox.Callback{Choice: sandbox.ChoiceSucceed, Ref: atts[len(atts)-1].ProviderRef,
		SessionID: id, Amount: amount, Currency: "USD", TS: time.Now()})
	req := provider.WebhookRequest{Method: http.MethodPost, Path: "/hooks/sandbox/sbx",
		Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form.Encode()), RemoteAddr: "127.0.0.1:9"}
	if _, err := e.Service.ApplyWebhook(ctxT(t), "sbx", "sandbox", req); err != nil {
		t.Fatalf("ApplyWebhook: %v", err)
	}
}

func (e *env) services(t *testing.T, sessionID string) []*fulfillment.ServiceView {
	t.Helper()
	ss, err := e.ful.ListServices(ctxT(t), fulfillment.ServiceListRequest{SessionID: sessionID})
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

// runPending runs every pending action of a service in order, as their
// jobs would, until none is left.
func (e *env) runPending(t *testing.T, serviceID string) {
	t.Helper()
	for range 10 {
		d, err := e.ful.GetService(ctxT(t), serviceID)
		if err != nil {
			t.Fatal(err)
		}
		idx := slices.IndexFunc(d.Actions, func(a fulfillment.ActionView) bool { return a.Status == domain.ActionPending })
		if idx < 0 {
			return
		}
		if err := e.ful.RunAction(ctxT(t), d.Actions[idx].ID, false); err != nil {
			t.Fatalf("RunAction %s: %v", d.Actions[idx].Action, err)
		}
	}
	t.Fatal("actions kept coming")
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
		e := newEnv(t, st, []config.ProductConfig{hostingProduct("host-basic", "basic")})
		ctx := ctxT(t)
		mid := e.mID
		spec := domain.FulfillmentSpec{Kind: domain.KindProvision, Provisioner: "whm", Package: "gold"}

		_, err := e.ful.CreateProduct(ctx, fulfillment.ProductInput{SKU: "host-gold", Name: "Gold", MerchantID: &mid, Fulfillment: spec})
		wantCode(t, err, domain.ErrUnprocessable, "unknown_package", "fulfillment.package")

		spec.Package = "reseller_gold"
		p, err := e.ful.CreateProduct(ctx, fulfillment.ProductInput{SKU: "host-gold", Name: "Gold", MerchantID: &mid, Fulfillment: spec})
		if err != nil {
			t.Fatalf("create with a listed package: %v", err)
		}
		if p.Fulfillment.OnRefund != domain.RefundSuspend || p.Source != fulfillment.SourceAPI || !domain.ValidProductID(p.ID) {
			t.Errorf("product %+v: want on_refund suspend by default, source api", p)
		}
		_, err = e.ful.CreateProduct(ctx, fulfillment.ProductInput{SKU: "host-gold", Name: "Gold 2", MerchantID: &mid, Fulfillment: spec})
		wantCode(t, err, domain.ErrConflict, "duplicate_sku", "")
		_, err = e.ful.CreateProduct(ctx, fulfillment.ProductInput{SKU: "host-basic", Name: "Basic", Fulfillment: spec})
		wantCode(t, err, domain.ErrConflict, "duplicate_sku", "")
		_, err = e.ful.CreateProduct(ctx, fulfillment.ProductInput{SKU: "x", Name: "X",
			Fulfillment: domain.FulfillmentSpec{Kind: domain.KindProvision, Provisioner: "sbx", Package: "basic"}})
		wantCode(t, err, domain.ErrInvalid, "invalid_fulfillment", "fulfillment.provisioner")

		spec.Package = "nope"
		_, err = e.ful.UpdateProduct(ctx, p.ID, fulfillment.ProductInput{Name: "Gold", Fulfillment: spec})
		wantCode(t, err, domain.ErrUnprocessable, "unknown_package", "fulfillment.package")

		all, err := e.ful.ListProducts(ctx, mid)
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
		if other, _ := e.ful.ListProducts(ctx, e.other); len(other) != 1 {
			t.Errorf("another merchant sees %d products, want the global one", len(other))
		}
		if err := e.ful.CheckFileProducts(ctx); err != nil {
			t.Errorf("CheckFileProducts: %v", err)
		}
	})
}

// TestWrongPackageInFile: a product of the file whose package the panel
// does not list fails the configuration check serve runs at start.
func TestWrongPackageInFile(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, []config.ProductConfig{hostingProduct("host-x", "Basic")})
		err := e.ful.CheckFileProducts(ctxT(t))
		if err == nil || !strings.Contains(err.Error(), `no package "Basic"`) {
			t.Fatalf("CheckFileProducts: %v, want the unknown package named", err)
		}
	})
}

func TestSessionItems(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, []config.ProductConfig{hostingProduct("host-basic", "basic"),
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
		got, err := e.Service.GetSession(ctxT(t), e.p, v.SessionID)
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

// jobsOf is an insert-only job runner: tests run the actions themselves.
func jobsOf(t *testing.T, st *store.Store) *jobs.Runner {
	t.Helper()
	r, err := jobs.New(st, jobs.Options{InsertOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	return r
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
		e := newEnv(t, st, []config.ProductConfig{hostingProduct("host-basic", "basic")})
		v, err := e.createSession(t, "o-1", "10.00", `[{"sku":"host-basic","domain":"shop1.example","username":"shopone","contact":{"name":"Ann"}}]`)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.services(t, v.SessionID); len(got) != 0 || jobCount(t, st) != 0 {
			t.Fatalf("an unpaid session has %d services", len(got))
		}
		e.pay(t, v.SessionID, 1000)
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
		e.runPending(t, ss[0].ID)
		acct, ok := e.whm.Account("shopone")
		if !ok || acct.Domain != "shop1.example" || acct.Plan != "basic" || acct.Email != "ann@customer.test" {
			t.Fatalf("panel account %+v %v", acct, ok)
		}
		d, err := e.ful.GetService(ctxT(t), ss[0].ID)
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
		if calls := e.whm.Calls("createacct"); len(calls) != 1 {
			t.Errorf("%d createacct calls", len(calls))
		}
	})
}

// TestReviewProvisionsNothingUntilAccepted: money in another amount holds
// the session for review; nothing is provisioned until an operator
// accepts it, which pays the session and starts fulfillment.
func TestReviewProvisionsNothingUntilAccepted(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, []config.ProductConfig{hostingProduct("host-basic", "basic")})
		v, err := e.createSession(t, "o-r", "10.00", `[{"sku":"host-basic","domain":"shop2.example"}]`)
		if err != nil {
			t.Fatal(err)
		}
		e.pay(t, v.SessionID, 900)
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
		e.runPending(t, ss[0].ID)
		if e.whm.Accounts() != 1 {
			t.Errorf("panel has %d accounts", e.whm.Accounts())
		}
	})
}
