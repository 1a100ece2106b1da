package fulfillmenttest

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/plugins/whm/whmfake"
	"github.com/switchyard/switchyard/plugins/whm/whmprovisioner"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// Instance ids of the environment.
const (
	Provisioner = "whm"
	Sandbox     = "sbx"
)

const sandboxSecret = "fulfillmenttest-sandbox-secret-0001"

// Env is the real payments and fulfillment services on a store. Jobs are
// only inserted: a test runs an action with Ful.RunAction (RunPending).
type Env struct {
	*paymentstest.Env
	Ful *fulfillment.Service
	WHM *whmfake.Server
	// Provisioners are the service's provisioners, by instance id; a test
	// may wrap one.
	Provisioners Provisioners
	// Merchant owns Principal, a test-mode key; Other is a second merchant.
	Merchant, Other int64
	Principal       *merchants.Principal
}

// Provisioners maps instance ids to provisioner clients.
type Provisioners map[string]provisioner.Provisioner

// Provisioner implements fulfillment.Provisioners.
func (p Provisioners) Provisioner(id string) (provisioner.Provisioner, error) {
	if v, ok := p[id]; ok {
		return v, nil
	}
	return nil, domain.NotFound("provisioner")
}

// HostingProduct is a global provision product of the file on the
// environment's whm instance.
func HostingProduct(sku, pkg string) config.ProductConfig {
	return config.ProductConfig{SKU: sku, Name: "Hosting " + sku, Fulfillment: config.ProductFulfillment{
		Kind: "provision", Provisioner: Provisioner, Package: pkg}}
}

// New builds the environment with products as the configuration file's,
// and the sandbox (instance Sandbox) as the provider, or the given
// provider instances instead (Pay needs the sandbox).
func New(t testing.TB, st *store.Store, products []config.ProductConfig, instances ...paymentstest.Instance) *Env {
	t.Helper()
	fake := whmfake.New(t, whmfake.Options{})
	whm := sdktest.ProvisionerClient(t, whmprovisioner.New())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := whm.Configure(ctx, fake.Settings()); err != nil {
		t.Fatal(err)
	}
	kr, err := secrets.NewKeyring([]secrets.Key{{ID: "k1", Key: []byte("0123456789abcdef0123456789abcdef")}})
	if err != nil {
		t.Fatal(err)
	}
	runner, err := jobs.New(st, jobs.Options{InsertOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	provs := Provisioners{Provisioner: whm}
	ful, err := fulfillment.New(fulfillment.Deps{
		Store: st, Jobs: runner, Provisioners: provs, Keyring: kr, Products: products,
		Config:       config.FulfillmentConfig{MaxAttempts: 3, RetryDelay: time.Second},
		InstanceKind: func(id string) string { return map[string]string{Provisioner: "provisioner", Sandbox: "provider"}[id] },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(instances) == 0 {
		instances = []paymentstest.Instance{{ID: Sandbox, Impl: sandbox.New(), Settings: map[string]string{
			sandbox.SettingSigningSecret: sandboxSecret, sandbox.SettingLedgerPath: filepath.Join(t.TempDir(), "ledger.jsonl")}}}
	}
	pe := paymentstest.New(t, st, paymentstest.Options{RealClock: true, Items: ful, Events: ful, Subscriptions: ful,
		Instances: instances})
	ful.SetSessions(pe.Service)
	e := &Env{Env: pe, Ful: ful, WHM: fake, Provisioners: provs}
	e.Merchant = pe.Merchant(t, domain.PlanFree, "shop.test").ID
	_, e.Principal = pe.Key(t, e.Merchant, domain.ModeTest)
	e.Other = pe.Merchant(t, domain.PlanFree, "other.test").ID
	return e
}

// CreateSession creates a session of the merchant (site shop.test) for
// customer with items (JSON, "" for none).
func (e *Env) CreateSession(t testing.TB, p *merchants.Principal, order, amount, customer, items string) (*payments.SessionView, error) {
	t.Helper()
	req := &payments.CreateSessionRequest{Domain: "shop.test", Amount: json.RawMessage(`"` + amount + `"`), Currency: "USD",
		OrderID: order, CustomerEmail: customer}
	if items != "" {
		if err := json.Unmarshal([]byte(items), &req.Items); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := e.Service.CreateSession(context.Background(), p, req, "")
	if err != nil {
		return nil, err
	}
	var v payments.SessionView
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	return &v, nil
}

// Pay pays a session through the sandbox with amount in minor units
// (another amount than the session's goes to review).
func (e *Env) Pay(t testing.TB, id string, amount int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.Service.StartPayment(ctx, id, "card", ""); err != nil {
		t.Fatalf("StartPayment: %v", err)
	}
	atts, err := e.Store.SessionAttempts(ctx, id)
	if err != nil || len(atts) == 0 {
		t.Fatalf("attempts: %v %v", atts, err)
	}
	form := sandbox.SignCallback(sandboxSecret, sandbox.Callback{Choice: sandbox.ChoiceSucceed, Ref: atts[len(atts)-1].ProviderRef,
		SessionID: id, Amount: amount, Currency: "USD", TS: time.Now()})
	req := provider.WebhookRequest{Method: http.MethodPost, Path: "/hooks/sandbox/" + Sandbox,
		Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form.Encode()), RemoteAddr: "127.0.0.1:9"}
	if _, err := e.Service.ApplyWebhook(ctx, Sandbox, "sandbox", req); err != nil {
		t.Fatalf("ApplyWebhook: %v", err)
	}
}

// RunPending runs the pending actions of a service in order, as their
// jobs would, until none is left. lastAttempt makes a passing failure
// final (the service fails instead of waiting for a retry).
func (e *Env) RunPending(t testing.TB, serviceID string, lastAttempt bool) {
	t.Helper()
	ctx := context.Background()
	for range 10 {
		d, err := e.Ful.GetService(ctx, serviceID)
		if err != nil {
			t.Fatal(err)
		}
		idx := slices.IndexFunc(d.Actions, func(a fulfillment.ActionView) bool { return a.Status == domain.ActionPending })
		if idx < 0 {
			return
		}
		if err := e.Ful.RunAction(ctx, d.Actions[idx].ID, lastAttempt); err != nil {
			t.Fatalf("RunAction %s: %v", d.Actions[idx].Action, err)
		}
	}
	t.Fatal("actions kept coming")
}

// PaidService creates a session of 10.00 USD for customer with items
// (JSON) holding one provision item, pays it, and returns the session and
// the one service paying made (pending, its create queued).
func (e *Env) PaidService(t testing.TB, order, customer, items string) (sessionID, serviceID string) {
	t.Helper()
	v, err := e.CreateSession(t, e.Principal, order, "10.00", customer, items)
	if err != nil {
		t.Fatal(err)
	}
	e.Pay(t, v.SessionID, 1000)
	ss, err := e.Ful.ListServices(context.Background(), fulfillment.ServiceListRequest{SessionID: v.SessionID})
	if err != nil || len(ss) != 1 {
		t.Fatalf("services of %s: %v %v", v.SessionID, ss, err)
	}
	return v.SessionID, ss[0].ID
}
