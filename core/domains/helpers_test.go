package domains_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/internal/testbin"
	"github.com/switchyard/switchyard/plugins/route53/awsfake"
	"github.com/switchyard/switchyard/plugins/route53/route53registrar"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/registrar"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

var bins testbin.Builder

const (
	keyID         = "AKIADOMAINSCORETEST1"
	keySecret     = "domainsCoreSecret/0123456789abcdefghijk"
	sandboxSecret = "domains-test-sandbox-secret-0123"
	registrarID   = "route53"
)

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// registrars serves one real route53 plugin binary over gRPC.
type registrars map[string]registrar.Registrar

func (r registrars) Registrar(id string) (registrar.Registrar, error) {
	reg, ok := r[id]
	if !ok {
		return nil, &domain.Error{Kind: domain.ErrNotFound, Code: "plugin_missing", Message: "no plugin instance " + id}
	}
	return reg, nil
}

// mails records reminders.
type mails struct {
	mu   sync.Mutex
	sent []string
}

func (m *mails) DomainRenewal(_ context.Context, _ int64, to, _, name string, exp time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, to+"|"+name+"|"+exp.Format("2006-01-02"))
	return nil
}

func (m *mails) all() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.sent...)
}

// env is the real payments service with the sandbox provider, and the
// domains service with the real route53 plugin binary against awsfake.
type env struct {
	*paymentstest.Env
	fake    *awsfake.Server
	svc     *domains.Service
	mail    *mails
	p       *merchants.Principal
	clock   *time.Time
	dkim    string
	mailDNS domains.MailDNS
}

func newEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	return newEnvWith(t, st, paymentstest.Options{})
}

// newEnvWith is newEnv with the payments service's Items and Events taken
// from opts (session items through core/fulfillment).
func newEnvWith(t *testing.T, st *store.Store, opts paymentstest.Options) *env {
	t.Helper()
	in := paymentstest.Instance{ID: "sbx", Impl: sandbox.New(), Settings: map[string]string{sandbox.SettingSigningSecret: sandboxSecret}}
	opts.RealClock, opts.Instances = true, []paymentstest.Instance{in}
	e := &env{Env: paymentstest.New(t, st, opts)}
	m := e.Merchant(t, domain.PlanFree, "shop.test")
	_, e.p = e.Key(t, m.ID, domain.ModeTest)
	e.fake = awsfake.New(t, keyID, keySecret)
	reg := sdktest.LaunchRegistrar(t, bins.Plugin(t, "route53"), host.Options{})
	if err := reg.Configure(ctxT(t), map[string]string{
		route53registrar.SettingAccessKeyID: keyID, route53registrar.SettingSecretAccessKey: keySecret,
		route53registrar.SettingDomainsEndpoint: e.fake.URL(), route53registrar.SettingRoute53Endpoint: e.fake.URL(),
	}); err != nil {
		t.Fatal(err)
	}
	kr, err := secrets.NewKeyring([]secrets.Key{{ID: "k1", Key: []byte("0123456789abcdef0123456789abcdef")}})
	if err != nil {
		t.Fatal(err)
	}
	e.mail = &mails{}
	now := time.Now()
	e.clock = &now
	e.svc, err = domains.New(domains.Deps{
		Store: st, Jobs: e.Jobs, Registrars: registrars{registrarID: reg}, Events: e.Service, Keyring: kr, Mailer: e.mail,
		MailDNS: domains.MailDNS{DKIM: "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"},
		Clock:   func() time.Time { return *e.clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// paidSession creates a session and pays it through the sandbox.
func (e *env) paidSession(t *testing.T, order string) string {
	t.Helper()
	resp, err := e.Service.CreateSession(ctxT(t), e.p, &payments.CreateSessionRequest{
		Domain: "shop.test", Amount: json.RawMessage(`"12.00"`), Currency: "USD", OrderID: order,
	}, "")
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	var v payments.SessionView
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	e.pay(t, v.SessionID)
	return v.SessionID
}

// pay pays session id in full through the sandbox's signed callback.
func (e *env) pay(t *testing.T, id string) {
	t.Helper()
	if _, err := e.Service.StartPayment(ctxT(t), id, "card", ""); err != nil {
		t.Fatalf("StartPayment: %v", err)
	}
	atts, err := e.Store.SessionAttempts(ctxT(t), id)
	if err != nil || len(atts) == 0 {
		t.Fatalf("attempts: %v %v", atts, err)
	}
	sess, _ := e.Store.GetSession(ctxT(t), id)
	form := sandbox.SignCallback(sandboxSecret, sandbox.Callback{Choice: sandbox.ChoiceSucceed, Ref: atts[len(atts)-1].ProviderRef,
		SessionID: id, Amount: sess.Amount, Currency: sess.Currency, TS: time.Now()})
	req := provider.WebhookRequest{Method: http.MethodPost, Path: "/hooks/sandbox/sbx",
		Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form.Encode()), RemoteAddr: "127.0.0.1:9"}
	if _, err := e.Service.ApplyWebhook(ctxT(t), "sbx", "sandbox", req); err != nil {
		t.Fatalf("ApplyWebhook: %v", err)
	}
}

const contactJSON = `{"first_name":"Grace","last_name":"Hopper","email":"grace@example.org","phone":"+1.2025550100",
"address1":"1 Navy Way","city":"Arlington","state":"VA","postal_code":"22201","country_code":"US"}`

// order validates a domain item and enqueues it for a freshly paid session
// as the paid hook does; it returns the session id.
func (e *env) order(t *testing.T, in domains.ItemInput, mailDNS bool) (sessionID string, itemID string) {
	t.Helper()
	if in.Contact == nil {
		in.Contact = json.RawMessage(contactJSON)
	}
	o, err := domains.Validate(domains.ProductSettings{Registrar: registrarID, TLDs: []string{"com", "io", "shop"}, MailDNS: mailDNS}, in, "items[0].")
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	sessionID = e.paidSession(t, "order-"+strings.ReplaceAll(o.Name, ".", "-"))
	itemID = "item_" + o.Name
	if err := e.Store.RunInTx(ctxT(t), func(ctx context.Context, tx bun.Tx) error {
		return e.svc.EnqueueTx(ctx, tx, domains.PaidItem{ItemID: itemID, SessionID: sessionID, MerchantID: e.p.Merchant.ID, Mode: domain.ModeTest}, o)
	}); err != nil {
		t.Fatalf("EnqueueTx: %v", err)
	}
	return sessionID, itemID
}

// step runs an operation's job once; snoozed reports a poll that asked to
// come back later.
func (e *env) step(t *testing.T, opID string, last bool) (snoozed bool, err error) {
	t.Helper()
	err = e.svc.Process(ctxT(t), opID, last)
	var sn *river.JobSnoozeError
	if errors.As(err, &sn) {
		return true, nil
	}
	return false, err
}

// run works an operation until it is final, as its River job would.
func (e *env) run(t *testing.T, opID string) *domains.OperationView {
	t.Helper()
	for range 30 {
		if _, err := e.step(t, opID, false); err != nil {
			t.Fatalf("Process(%s): %v", opID, err)
		}
		op, err := e.svc.Operation(ctxT(t), opID)
		if err != nil {
			t.Fatal(err)
		}
		switch op.Status {
		case domains.OpSucceeded, domains.OpFailed, domains.OpAttention:
			return op
		}
	}
	t.Fatalf("operation %s not final after 30 runs", opID)
	return nil
}

// ops lists a domain's operations.
func (e *env) detail(t *testing.T, name string) *domains.Detail {
	t.Helper()
	d, err := e.svc.Show(ctxT(t), name)
	if err != nil {
		t.Fatalf("Show(%s): %v", name, err)
	}
	return d
}

// events lists a session's event types in order.
func (e *env) events(t *testing.T, sessionID string) []string {
	t.Helper()
	evs, err := e.Store.SessionEvents(ctxT(t), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
