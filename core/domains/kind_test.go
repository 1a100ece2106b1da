package domains_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/sdk/provisioner"
)

// lateJobs forwards to the payments test env's runner, which exists only
// after the fulfillment service it is handed to.
type lateJobs struct{ e *env }

func (l *lateJobs) EnqueueTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return l.e.Jobs.EnqueueTx(ctx, tx, args, opts)
}

// noProvisioners: these sessions have no hosting items.
type noProvisioners struct{}

func (noProvisioners) Provisioner(id string) (provisioner.Provisioner, error) {
	return nil, &domain.Error{Kind: domain.ErrNotFound, Code: "plugin_missing", Message: "no provisioner " + id}
}

// newKindEnv is newEnv with session items: the real fulfillment service
// (a global register_domain product selling .com) validates them at
// session create and runs the paid hook, with domains' Kind registered as
// core/app registers it.
func newKindEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	kr, err := secrets.NewKeyring([]secrets.Key{{ID: "k1", Key: []byte("0123456789abcdef0123456789abcdef")}})
	if err != nil {
		t.Fatal(err)
	}
	jobs := &lateJobs{}
	ful, err := fulfillment.New(fulfillment.Deps{
		Store: st, Jobs: jobs, Provisioners: noProvisioners{}, Keyring: kr,
		Products: []config.ProductConfig{{SKU: "domain-com", Name: "A .com domain", Fulfillment: config.ProductFulfillment{
			Kind: string(domain.KindRegisterDomain), Registrar: registrarID, TLDs: []string{"com"}, MailDNS: true}}},
		InstanceKind: func(id string) string {
			if id == registrarID {
				return "registrar"
			}
			return ""
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, st, paymentstest.Options{Items: ful, Events: ful})
	jobs.e = e
	ful.SetSessions(e.Service)
	ful.RegisterKind(domain.KindRegisterDomain, e.svc.Kind())
	return e
}

func (e *env) createWithItem(t *testing.T, order string, it domain.ItemInput) (*payments.SessionView, error) {
	t.Helper()
	if it.Contact == nil {
		if err := json.Unmarshal([]byte(contactJSON), &it.Contact); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := e.Service.CreateSession(ctxT(t), e.p, &payments.CreateSessionRequest{
		Domain: "shop.test", Amount: json.RawMessage(`"12.00"`), Currency: "USD", OrderID: order,
		Items: []domain.ItemInput{it},
	}, "")
	if err != nil {
		return nil, err
	}
	var v payments.SessionView
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	return &v, nil
}

func countRows(t *testing.T, st *store.Store, table string) int64 {
	t.Helper()
	n, err := st.DB().NewSelect().Table(table).Count(ctxT(t))
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// TestSessionDomainItem goes through the real session-create path: the
// register_domain kind refuses a TLD the product does not sell (nothing
// stored), accepts an IDN and stores it in punycode, and paying the
// session through the sandbox registers the domain with the real route53
// binary against awsfake, emitting domain.registered.
func TestSessionDomainItem(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newKindEnv(t, st)

		_, err := e.createWithItem(t, "order-io", domain.ItemInput{SKU: "domain-com", Domain: "example.io"})
		var de *domain.Error
		if !errors.As(err, &de) || !errors.Is(err, domain.ErrInvalid) || de.Field != "items[0].domain" || de.Code != "unsupported_tld" {
			t.Fatalf("unsupported TLD: want 400 unsupported_tld on items[0].domain, got %v", err)
		}
		for _, table := range []string{"sessions", "session_items", "domains", "domain_operations"} {
			if n := countRows(t, st, table); n != 0 {
				t.Errorf("refused create left %d rows in %s", n, table)
			}
		}

		v, err := e.createWithItem(t, "order-idn", domain.ItemInput{SKU: "domain-com", Domain: "Bücher.com", Years: new(int)})
		if err == nil || !errors.As(err, &de) || de.Field != "items[0].years" {
			t.Fatalf("years 0: want invalid items[0].years, got %v", err)
		}
		two := 2
		v, err = e.createWithItem(t, "order-idn", domain.ItemInput{SKU: "domain-com", Domain: "Bücher.com", Years: &two})
		if err != nil {
			t.Fatalf("IDN item refused: %v", err)
		}
		var items []fulfillment.ItemView
		if err := json.Unmarshal(v.Items, &items); err != nil || len(items) != 1 {
			t.Fatalf("session items %s: %v", v.Items, err)
		}
		if items[0].Domain != "xn--bcher-kva.com" || items[0].Kind != string(domain.KindRegisterDomain) || items[0].Years != 2 {
			t.Fatalf("session item: %+v", items[0])
		}
		rows, err := st.SessionItems(ctxT(t), v.SessionID)
		if err != nil || len(rows) != 1 || rows[0].Domain != "xn--bcher-kva.com" {
			t.Fatalf("stored item: %+v %v", rows, err)
		}
		if n := countRows(t, st, "domains"); n != 0 {
			t.Fatalf("domain stored before payment: %d", n)
		}

		e.pay(t, v.SessionID)
		det := e.detail(t, "bücher.com")
		if det.Status != domains.StatusPending || det.ItemID != rows[0].ID || det.SessionID != v.SessionID || len(det.Operations) != 1 {
			t.Fatalf("after payment: %+v", det)
		}
		if op := e.run(t, det.Operations[0].OperationID); op.Status != domains.OpSucceeded {
			t.Fatalf("registration ended %s: %v", op.Status, op.Message)
		}
		det = e.detail(t, "xn--bcher-kva.com")
		if det.Status != domains.StatusActive || det.ExpiresAt == nil {
			t.Fatalf("registered domain: %+v", det.View)
		}
		if n := e.fake.Count("route53domains.RegisterDomain"); n != 1 {
			t.Errorf("RegisterDomain called %d times", n)
		}
		var reg struct {
			DurationInYears int
			DomainName      string
		}
		if err := json.Unmarshal(e.fake.LastBody("route53domains.RegisterDomain"), &reg); err != nil ||
			reg.DomainName != "xn--bcher-kva.com" || reg.DurationInYears != 2 {
			t.Errorf("RegisterDomain body: %+v %v", reg, err)
		}
		evs := e.events(t, v.SessionID)
		if !has(evs, string(domain.EventSessionPaid)) || !has(evs, "domain.registered") {
			t.Errorf("session events: %v", evs)
		}
		// mail_dns of the product reached the domain: the mail records are
		// queued after the registration.
		var mailOp bool
		for _, op := range det.Operations {
			mailOp = mailOp || op.Type == "change_records"
		}
		if !mailOp {
			t.Errorf("no mail records operation after registration with mail_dns: %+v", det.Operations)
		}
	})
}
