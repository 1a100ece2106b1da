package refunds_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/refunds"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk/provider"
)

const sandboxSecret = "refund-test-sandbox-secret-0123"

// env is the real payments and refunds services on a real database with
// one provider instance behind the SDK's in-process gRPC harness.
type env struct {
	*paymentstest.Env
	providerID string
	p          *merchants.Principal
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sandboxInstance is a sandbox provider whose state lives in a ledger file,
// so tests can count the refunds it made and restart it.
func sandboxInstance(t *testing.T) (paymentstest.Instance, string) {
	t.Helper()
	ledger := filepath.Join(t.TempDir(), "sandbox-ledger.jsonl")
	return paymentstest.Instance{ID: "sbx", Impl: sandbox.New(), Settings: map[string]string{
		sandbox.SettingSigningSecret: sandboxSecret, sandbox.SettingLedgerPath: ledger,
	}}, ledger
}

func newEnv(t *testing.T, st *store.Store, in paymentstest.Instance) *env {
	t.Helper()
	e := &env{Env: paymentstest.New(t, st, paymentstest.Options{RealClock: true, Instances: []paymentstest.Instance{in}}), providerID: in.ID}
	m := e.Merchant(t, domain.PlanFree, "shop.test")
	_, e.p = e.Key(t, m.ID, domain.ModeTest)
	return e
}

func (e *env) caller() refunds.Caller {
	return refunds.Merchant(e.p.Merchant.ID, domain.Mode(e.p.Key.Mode))
}

// openSession creates a session of amount (USD) for the env's merchant.
func (e *env) openSession(t *testing.T, order, amount string) string {
	t.Helper()
	resp, err := e.Service.CreateSession(ctxT(t), e.p, &payments.CreateSessionRequest{
		Domain: "shop.test", Amount: json.RawMessage(`"` + amount + `"`), Currency: "USD", OrderID: order,
	}, "")
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	var v payments.SessionView
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v.SessionID
}

// paidSession creates a session and pays it through the sandbox the way a
// shopper does: StartPayment, then the pay page's signed callback.
func (e *env) paidSession(t *testing.T, order, amount string) string {
	t.Helper()
	id := e.openSession(t, order, amount)
	if _, err := e.Service.StartPayment(ctxT(t), id, "card", ""); err != nil {
		t.Fatalf("StartPayment: %v", err)
	}
	atts, err := e.Store.SessionAttempts(ctxT(t), id)
	if err != nil || len(atts) == 0 {
		t.Fatalf("attempts: %v %v", atts, err)
	}
	sess := e.session(t, id)
	form := sandbox.SignCallback(sandboxSecret, sandbox.Callback{Choice: sandbox.ChoiceSucceed, Ref: atts[len(atts)-1].ProviderRef,
		SessionID: id, Amount: sess.Amount, Currency: sess.Currency, TS: time.Now()})
	req := provider.WebhookRequest{Method: http.MethodPost, Path: "/hooks/sandbox/" + e.providerID,
		Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form.Encode()), RemoteAddr: "127.0.0.1:9"}
	if _, err := e.Service.ApplyWebhook(ctxT(t), e.providerID, "sandbox", req); err != nil {
		t.Fatalf("ApplyWebhook: %v", err)
	}
	if got := e.session(t, id).Status; got != domain.StatusPaid {
		t.Fatalf("session %s after paying: %s", id, got)
	}
	return id
}

func (e *env) session(t *testing.T, id string) *store.Session {
	t.Helper()
	s, err := e.Store.GetSession(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// create asks for a refund with a JSON body as a merchant would send it.
func (e *env) create(t *testing.T, c refunds.Caller, sessionID, body, key string) (*payments.Response, *refunds.RefundView, error) {
	t.Helper()
	var req refunds.CreateRequest
	if body != "" {
		if err := json.Unmarshal([]byte(body), &req); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := e.Refunds.Create(ctxT(t), c, sessionID, &req, key)
	if err != nil {
		return nil, nil, err
	}
	var v refunds.RefundView
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	return resp, &v, nil
}

func (e *env) mustCreate(t *testing.T, sessionID, body string) *refunds.RefundView {
	t.Helper()
	_, v, err := e.create(t, e.caller(), sessionID, body, "")
	if err != nil {
		t.Fatalf("create refund %s: %v", body, err)
	}
	if v.Status != domain.RefundPending {
		t.Fatalf("new refund %+v is not pending", v)
	}
	return v
}

// run makes the provider call of a refund, as its job does.
func (e *env) run(t *testing.T, refundID string) {
	t.Helper()
	if err := e.Refunds.CallProvider(ctxT(t), refundID, false); err != nil {
		t.Fatalf("CallProvider %s: %v", refundID, err)
	}
}

func (e *env) refund(t *testing.T, id string) *refunds.RefundView {
	t.Helper()
	v, err := e.Refunds.Get(ctxT(t), refunds.Operator(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// eventTypes lists a session's outbound events in order.
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

func ledgerCount(t *testing.T, path, op string) int {
	t.Helper()
	recs, err := sandbox.ReadLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Op == op {
			n++
		}
	}
	return n
}

func joined(s []string) string { return strings.Join(s, " ") }
