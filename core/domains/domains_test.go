package domains_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/core/refunds"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/route53/awsfake"
)

func TestRegistration(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		sid, item := e.order(t, domains.ItemInput{Domain: "Bücher-Shop.com", Years: 2}, true)
		det := e.detail(t, "xn--bcher-shop-9db.com")
		if det.Status != domains.StatusPending || len(det.Operations) != 1 || det.ItemID != item {
			t.Fatalf("after enqueue: %+v", det)
		}
		opID := det.Operations[0].OperationID

		// First run: the registrar accepted the call; its operation id is
		// stored before the first poll.
		snoozed, err := e.step(t, opID, false)
		if err != nil || !snoozed {
			t.Fatalf("first run: snoozed=%v err=%v", snoozed, err)
		}
		op, _ := e.svc.Operation(ctxT(t), opID)
		if op.RegistrarOperationID == nil || op.Status == domains.OpSubmitting || op.Polls != 0 {
			t.Fatalf("after submission: %+v", op)
		}
		// Polled through IN_PROGRESS to SUCCESSFUL.
		snoozed, err = e.step(t, opID, false)
		if err != nil || !snoozed {
			t.Fatalf("second run: snoozed=%v err=%v", snoozed, err)
		}
		if op, _ = e.svc.Operation(ctxT(t), opID); op.Status != domains.OpInProgress {
			t.Fatalf("after one poll: %s", op.Status)
		}
		if op = e.run(t, opID); op.Status != domains.OpSucceeded {
			t.Fatalf("registration ended %s: %v", op.Status, op.Message)
		}
		det = e.detail(t, "bücher-shop.com")
		if det.Status != domains.StatusActive || det.ExpiresAt == nil || len(det.Nameservers) == 0 || !det.Locked {
			t.Fatalf("registered domain: %+v", det.View)
		}
		if n := e.fake.Count("route53domains.RegisterDomain"); n != 1 {
			t.Errorf("RegisterDomain called %d times", n)
		}
		var reg struct {
			DurationInYears int
			DomainName      string
		}
		_ = json.Unmarshal(e.fake.LastBody("route53domains.RegisterDomain"), &reg)
		if reg.DurationInYears != 2 || reg.DomainName != "xn--bcher-shop-9db.com" {
			t.Errorf("RegisterDomain body: %+v", reg)
		}
		if evs := e.events(t, sid); !has(evs, string(domain.EventDomainRegistered)) {
			t.Errorf("events: %v", evs)
		}

		// Mail DNS was asked with the product: one change batch, followed
		// until INSYNC, SPF merged into the existing record.
		e.fake.PutRecordSet("xn--bcher-shop-9db.com", awsfake.RecordSet{Name: "xn--bcher-shop-9db.com.", Type: "TXT", TTL: 300,
			Values: []string{`"v=spf1 include:_spf.google.com -all"`, `"google-site-verification=abc"`}})
		det = e.detail(t, "xn--bcher-shop-9db.com")
		if len(det.Operations) != 2 || det.Operations[1].Type != domains.OpChangeRecords {
			t.Fatalf("operations after registration: %+v", det.Operations)
		}
		if op := e.run(t, det.Operations[1].OperationID); op.Status != domains.OpSucceeded {
			t.Fatalf("mail records: %s %v", op.Status, op.Message)
		}
		recs, err := e.svc.Records(ctxT(t), "xn--bcher-shop-9db.com")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, r := range recs {
			got[r.Name+" "+r.Type] = r.Values
		}
		spf := 0
		for _, v := range got["@ TXT"] {
			if strings.HasPrefix(v, "v=spf1") {
				spf++
				if v != "v=spf1 include:_spf.google.com include:mxlogin.com -all" {
					t.Errorf("merged SPF = %q", v)
				}
			}
		}
		if spf != 1 || len(got["@ TXT"]) != 2 {
			t.Errorf("apex TXT = %q (want one SPF record and the verification token)", got["@ TXT"])
		}
		if v := got["mail._domainkey TXT"]; len(v) != 1 || !strings.HasPrefix(v[0], "v=DKIM1") {
			t.Errorf("DKIM = %q", v)
		}
		if v := got["_dmarc TXT"]; len(v) != 1 || v[0] != "v=DMARC1; p=quarantine; rua=mailto:dmarc@xn--bcher-shop-9db.com" {
			t.Errorf("DMARC = %q", v)
		}
		// The paid hook running again changes nothing.
		o, _ := domains.Validate(domains.ProductSettings{Registrar: registrarID, TLDs: []string{"com"}},
			domains.ItemInput{Domain: "xn--bcher-shop-9db.com", Contact: json.RawMessage(contactJSON)}, "")
		if err := st.RunInTx(ctxT(t), func(ctx context.Context, tx bun.Tx) error {
			return e.svc.EnqueueTx(ctx, tx, domains.PaidItem{ItemID: item, SessionID: sid, MerchantID: e.p.Merchant.ID, Mode: domain.ModeTest}, o)
		}); err != nil {
			t.Fatal(err)
		}
		if det = e.detail(t, "xn--bcher-shop-9db.com"); len(det.Operations) != 2 {
			t.Errorf("a second paid hook added operations: %+v", det.Operations)
		}
	})
}

func TestRegistrationFailures(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		t.Run("unavailable", func(t *testing.T) {
			e.fake.SetAvailability("taken-name.com", "UNAVAILABLE")
			sid, _ := e.order(t, domains.ItemInput{Domain: "taken-name.com"}, false)
			det := e.detail(t, "taken-name.com")
			if op := e.run(t, det.Operations[0].OperationID); op.Status != domains.OpFailed {
				t.Fatalf("ended %s", op.Status)
			}
			if det = e.detail(t, "taken-name.com"); det.Status != domains.StatusFailed || det.FailureMessage == nil {
				t.Fatalf("domain: %+v", det.View)
			}
			if e.fake.Count("route53domains.RegisterDomain") != 0 {
				t.Error("RegisterDomain was called for a taken name")
			}
			if evs := e.events(t, sid); !has(evs, string(domain.EventDomainFailed)) {
				t.Errorf("events: %v", evs)
			}
			checkDomainEvents(t, st, sid)
			// The item is refundable through the refunds API.
			if _, err := e.Refunds.Create(ctxT(t), refunds.Operator(), sid, &refunds.CreateRequest{}, ""); err != nil {
				t.Errorf("refund after a failed registration: %v", err)
			}
		})
		t.Run("operation_failed", func(t *testing.T) {
			e.fake.FailNext("doomed-name.com", "The registry rejected the registration.")
			sid, _ := e.order(t, domains.ItemInput{Domain: "doomed-name.com"}, false)
			det := e.detail(t, "doomed-name.com")
			op := e.run(t, det.Operations[0].OperationID)
			if op.Status != domains.OpFailed || op.Message == nil || !strings.Contains(*op.Message, "registry rejected") {
				t.Fatalf("ended %+v", op)
			}
			if evs := e.events(t, sid); !has(evs, string(domain.EventDomainFailed)) {
				t.Errorf("events: %v", evs)
			}
		})
		t.Run("throttled_then_registered", func(t *testing.T) {
			before := e.fake.Count("route53domains.RegisterDomain")
			// More throttling than the SDK's own retries absorb: the job
			// is retried and the call made again (it was refused unmade).
			e.fake.FailCall("route53domains.RegisterDomain", 3, 400, "ThrottlingException", "Rate exceeded")
			_, _ = e.order(t, domains.ItemInput{Domain: "busy-name.com"}, false)
			opID := e.detail(t, "busy-name.com").Operations[0].OperationID
			if _, err := e.step(t, opID, false); err == nil {
				t.Fatal("a throttled registration did not ask for a retry")
			}
			if op, _ := e.svc.Operation(ctxT(t), opID); op.Status != domains.OpQueued {
				t.Fatalf("after throttling: %s", op.Status)
			}
			if op := e.run(t, opID); op.Status != domains.OpSucceeded {
				t.Fatalf("ended %s", op.Status)
			}
			if n := e.fake.Count("route53domains.RegisterDomain") - before; n != 4 {
				t.Errorf("RegisterDomain calls = %d, want 3 throttled + 1", n)
			}
		})
		t.Run("ambiguous_never_called_twice", func(t *testing.T) {
			before := e.fake.Count("route53domains.RegisterDomain")
			e.fake.FailCall("route53domains.RegisterDomain", 1, 500, "InternalFailure", "We encountered an internal error.")
			sid, _ := e.order(t, domains.ItemInput{Domain: "unsure-name.com"}, false)
			opID := e.detail(t, "unsure-name.com").Operations[0].OperationID
			for i := range 5 {
				if _, err := e.step(t, opID, i == 4); err == nil && i < 4 {
					t.Fatalf("run %d of an unknown outcome returned no error", i)
				}
			}
			if n := e.fake.Count("route53domains.RegisterDomain") - before; n != 1 {
				t.Errorf("RegisterDomain calls = %d, want exactly 1", n)
			}
			op, _ := e.svc.Operation(ctxT(t), opID)
			det := e.detail(t, "unsure-name.com")
			if op.Status != domains.OpAttention || det.Status != domains.StatusAttention {
				t.Errorf("after the last attempt: op %s, domain %s", op.Status, det.Status)
			}
			if evs := e.events(t, sid); has(evs, string(domain.EventDomainFailed)) {
				t.Errorf("domain.failed for a registration that may have gone through: %v", evs)
			}
		})
		t.Run("crash_after_call_reconciled", func(t *testing.T) {
			// The call went through but the process died before recording
			// it: the operation is "submitting" and the domain is in the
			// account. The retry finds it and never calls RegisterDomain.
			sid, _ := e.order(t, domains.ItemInput{Domain: "crashed-name.com"}, false)
			opID := e.detail(t, "crashed-name.com").Operations[0].OperationID
			if _, err := st.DB().NewUpdate().Model((*store.DomainOperation)(nil)).Set("status = ?", domains.OpSubmitting).
				Where("id = ?", opID).Exec(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			e.fake.AddDomain(awsfake.Domain{Name: "crashed-name.com", Expires: time.Now().AddDate(1, 0, 0)})
			before := e.fake.Count("route53domains.RegisterDomain")
			if op := e.run(t, opID); op.Status != domains.OpSucceeded {
				t.Fatalf("ended %s", op.Status)
			}
			if e.fake.Count("route53domains.RegisterDomain") != before {
				t.Error("RegisterDomain called again")
			}
			if evs := e.events(t, sid); !has(evs, string(domain.EventDomainRegistered)) {
				t.Errorf("events: %v", evs)
			}
		})
	})
}

func TestTransferRenewAndOperatorCalls(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		const code = "Epp-Secret-Code-42"
		sid, _ := e.order(t, domains.ItemInput{Domain: "moving-in.io", Action: domains.ActionTransfer, AuthCode: code}, false)
		det := e.detail(t, "moving-in.io")
		var enc string
		if err := st.DB().NewSelect().Model((*store.DomainOperation)(nil)).Column("auth_code_enc").
			Where("id = ?", det.Operations[0].OperationID).Scan(ctxT(t), &enc); err != nil || enc == "" || strings.Contains(enc, code) {
			t.Fatalf("stored auth code %q (err %v): want it sealed", enc, err)
		}
		if op := e.run(t, det.Operations[0].OperationID); op.Status != domains.OpSucceeded {
			t.Fatalf("transfer ended %s", op.Status)
		}
		if !strings.Contains(string(e.fake.LastBody("route53domains.TransferDomain")), code) {
			t.Error("the auth code did not reach the registrar")
		}
		enc = "x"
		_ = st.DB().NewSelect().Model((*store.DomainOperation)(nil)).ColumnExpr("COALESCE(auth_code_enc, '')").
			Where("id = ?", det.Operations[0].OperationID).Scan(ctxT(t), &enc)
		if enc != "" {
			t.Error("the sealed auth code was kept after the transfer was submitted")
		}
		evs, _ := st.SessionEvents(ctxT(t), sid)
		found := false
		for _, ev := range evs {
			if strings.Contains(ev.Data, code) {
				t.Errorf("event %s carries the auth code", ev.Type)
			}
			found = found || ev.Type == string(domain.EventDomainTransferred)
		}
		if !found {
			t.Error("no domain.transferred")
		}
		defer func() {
			if got := checkDomainEvents(t, st, sid); got != 2 {
				t.Errorf("%d domain events validated, want transferred and renewed", got)
			}
		}()

		// Renewal: keyed by the current expiry, so asking twice is one renewal.
		before := e.detail(t, "moving-in.io")
		op1, err := e.svc.Renew(ctxT(t), "moving-in.io", 1, "test")
		if err != nil {
			t.Fatal(err)
		}
		op2, err := e.svc.Renew(ctxT(t), "moving-in.io", 1, "test")
		if err != nil || op2.OperationID != op1.OperationID {
			t.Fatalf("second renew = %+v, %v; want the same operation", op2, err)
		}
		if op := e.run(t, op1.OperationID); op.Status != domains.OpSucceeded {
			t.Fatalf("renew ended %s %v", op.Status, op.Message)
		}
		after := e.detail(t, "moving-in.io")
		b, _ := time.Parse(time.RFC3339, *before.ExpiresAt)
		a, _ := time.Parse(time.RFC3339, *after.ExpiresAt)
		if a.Year() != b.Year()+1 || e.fake.Count("route53domains.RenewDomain") != 1 {
			t.Errorf("expiry %s → %s, RenewDomain ×%d", b, a, e.fake.Count("route53domains.RenewDomain"))
		}
		if evs := e.events(t, sid); !has(evs, string(domain.EventDomainRenewed)) {
			t.Errorf("events: %v", evs)
		}

		// Nameservers, lock and auth code.
		op, err := e.svc.SetNameservers(ctxT(t), "moving-in.io", []string{"ns1.host.example", "ns2.host.example"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if v := e.run(t, op.OperationID); v.Status != domains.OpSucceeded {
			t.Fatalf("nameservers: %s", v.Status)
		}
		if got := e.detail(t, "moving-in.io").Nameservers; strings.Join(got, ",") != "ns1.host.example,ns2.host.example" {
			t.Errorf("nameservers = %v", got)
		}
		op, _ = e.svc.SetLock(ctxT(t), "moving-in.io", false, "test")
		if v := e.run(t, op.OperationID); v.Status != domains.OpFailed || v.Message == nil || !strings.Contains(*v.Message, "tld_rules") {
			t.Errorf(".io lock: %+v (the registry has no transfer lock)", v)
		}
		ac, err := e.svc.AuthCode(ctxT(t), "moving-in.io")
		if d, _ := e.fake.Domain("moving-in.io"); err != nil || ac != d.AuthCode {
			t.Errorf("AuthCode = %q, %v", ac, err)
		}
		av, err := e.svc.Check(ctxT(t), registrarID, []string{"free-one.com", "moving-in.io"})
		if err != nil || len(av) != 2 || !av[0].Available || av[1].Available {
			t.Errorf("Check = %+v, %v", av, err)
		}
	})
}

func TestHostingAndDaily(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		sid, _ := e.order(t, domains.ItemInput{Domain: "hosted-site.com"}, false)
		// The hosting account was created first.
		if err := st.RunInTx(ctxT(t), func(ctx context.Context, tx bun.Tx) error {
			return e.svc.HostingReadyTx(ctx, tx, sid, "hosted-site.com", "203.0.113.7", nil)
		}); err != nil {
			t.Fatal(err)
		}
		det := e.detail(t, "hosted-site.com")
		if op := e.run(t, det.Operations[0].OperationID); op.Status != domains.OpSucceeded {
			t.Fatal(op.Status)
		}
		det = e.detail(t, "hosted-site.com")
		if len(det.Operations) != 2 {
			t.Fatalf("operations: %+v", det.Operations)
		}
		if op := e.run(t, det.Operations[1].OperationID); op.Status != domains.OpSucceeded {
			t.Fatal(op.Status)
		}
		for _, name := range []string{"hosted-site.com.", "www.hosted-site.com."} {
			if rs, ok := e.fake.RecordSet("hosted-site.com", name, "A"); !ok || len(rs.Values) != 1 || rs.Values[0] != "203.0.113.7" {
				t.Errorf("%s A = %+v", name, rs)
			}
		}

		// Daily: 10 days before expiry a reminder goes out, once.
		exp, _ := time.Parse(time.RFC3339, *det.ExpiresAt)
		*e.clock = exp.AddDate(0, 0, -10)
		for range 2 {
			if _, err := e.svc.Daily(ctxT(t)); err != nil {
				t.Fatal(err)
			}
		}
		if m := e.mail.all(); len(m) != 1 || m[0] != "grace@example.org|hosted-site.com|"+exp.Format("2006-01-02") {
			t.Errorf("reminders = %q", m)
		}
		// After expiry: domain.expired, once.
		*e.clock = exp.AddDate(0, 0, 1)
		for range 2 {
			if _, err := e.svc.Daily(ctxT(t)); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		for _, ev := range e.events(t, sid) {
			if ev == string(domain.EventDomainExpired) {
				n++
			}
		}
		if n != 1 || e.detail(t, "hosted-site.com").Status != domains.StatusExpired {
			t.Errorf("domain.expired ×%d, status %s", n, e.detail(t, "hosted-site.com").Status)
		}
		if got := checkDomainEvents(t, st, sid); got != 2 {
			t.Errorf("%d domain events validated, want registered and expired", got)
		}
	})
}

// TestHostingAfterRegistration: the hosting account is recorded after the
// domain is registered (the other order of TestHostingAndDaily): the
// records pointing at it are queued at once, in the recording
// transaction, and only once however often it is recorded; an account
// with nameservers only delegates the domain instead.
func TestHostingAfterRegistration(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ready := func(sid, name, ip string, ns []string) {
			t.Helper()
			if err := st.RunInTx(ctxT(t), func(ctx context.Context, tx bun.Tx) error {
				return e.svc.HostingReadyTx(ctx, tx, sid, name, ip, ns)
			}); err != nil {
				t.Fatal(err)
			}
		}
		sid, _ := e.order(t, domains.ItemInput{Domain: "late-host.com"}, false)
		e.run(t, e.detail(t, "late-host.com").Operations[0].OperationID)
		ready(sid, "Late-Host.com", "203.0.113.9", nil)
		ready(sid, "late-host.com", "203.0.113.9", nil)
		det := e.detail(t, "late-host.com")
		if len(det.Operations) != 2 || det.Operations[1].Type != domains.OpChangeRecords || det.Operations[1].RequestedBy != "item" {
			t.Fatalf("operations: %+v", det.Operations)
		}
		if op := e.run(t, det.Operations[1].OperationID); op.Status != domains.OpSucceeded {
			t.Fatalf("hosting records: %s %v", op.Status, op.Message)
		}
		for _, name := range []string{"late-host.com.", "www.late-host.com."} {
			if rs, ok := e.fake.RecordSet("late-host.com", name, "A"); !ok || len(rs.Values) != 1 || rs.Values[0] != "203.0.113.9" {
				t.Errorf("%s A = %+v", name, rs)
			}
		}

		sid, _ = e.order(t, domains.ItemInput{Domain: "ns-host.com"}, false)
		e.run(t, e.detail(t, "ns-host.com").Operations[0].OperationID)
		ready(sid, "ns-host.com", "", []string{"ns1.panel.example", "ns2.panel.example"})
		det = e.detail(t, "ns-host.com")
		if len(det.Operations) != 2 || det.Operations[1].Type != domains.OpSetNameservers {
			t.Fatalf("operations: %+v", det.Operations)
		}
		if op := e.run(t, det.Operations[1].OperationID); op.Status != domains.OpSucceeded {
			t.Fatalf("delegation: %s %v", op.Status, op.Message)
		}
		if d, _ := e.fake.Domain("ns-host.com"); strings.Join(d.Nameservers, ",") != "ns1.panel.example,ns2.panel.example" {
			t.Errorf("nameservers at AWS: %v", d.Nameservers)
		}
		// Another session's hosting of the same name changes nothing.
		other := e.paidSession(t, "order-other")
		ready(other, "late-host.com", "198.51.100.1", nil)
		if n := len(e.detail(t, "late-host.com").Operations); n != 2 {
			t.Errorf("another session's account added operations: %d", n)
		}
	})
}

func TestValidate(t *testing.T) {
	p := domains.ProductSettings{Registrar: registrarID, TLDs: []string{".com", "IO", "bücher"}}
	c := json.RawMessage(contactJSON)
	tests := []struct {
		name  string
		in    domains.ItemInput
		code  string
		field string
		want  string
	}{
		{"idn", domains.ItemInput{Domain: "Bücher.COM.", Contact: c}, "", "", "xn--bcher-kva.com"},
		{"idn tld", domains.ItemInput{Domain: "shop.bücher", Contact: c}, "", "", "shop.xn--bcher-kva"},
		{"syntax", domains.ItemInput{Domain: "-bad-.com", Contact: c}, "invalid_domain", "items[1].domain", ""},
		{"one label", domains.ItemInput{Domain: "localhost", Contact: c}, "invalid_domain", "items[1].domain", ""},
		{"tld", domains.ItemInput{Domain: "shop.net", Contact: c}, "unsupported_tld", "items[1].domain", ""},
		{"years", domains.ItemInput{Domain: "a.com", Years: 11, Contact: c}, "invalid_years", "items[1].years", ""},
		{"action", domains.ItemInput{Domain: "a.com", Action: "buy", Contact: c}, "invalid_action", "items[1].action", ""},
		{"transfer without code", domains.ItemInput{Domain: "a.com", Action: "transfer", Contact: c}, "auth_code_required", "items[1].auth_code", ""},
		{"code without transfer", domains.ItemInput{Domain: "a.com", AuthCode: "x", Contact: c}, "auth_code_not_allowed", "items[1].auth_code", ""},
		{"no contact", domains.ItemInput{Domain: "a.com"}, "contact_required", "items[1].contact", ""},
		{"unknown contact field", domains.ItemInput{Domain: "a.com", Contact: json.RawMessage(`{"fax":"1"}`)}, "invalid_contact", "items[1].contact", ""},
		{"bad phone", domains.ItemInput{Domain: "a.com", Contact: json.RawMessage(strings.Replace(contactJSON, "+1.2025550100", "202-555-0100", 1))}, "invalid_contact", "items[1].contact.phone", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := domains.Validate(p, tc.in, "items[1].")
			if tc.code == "" {
				if err != nil || o.Name != tc.want {
					t.Fatalf("Validate = %+v, %v; want %s", o, err, tc.want)
				}
				return
			}
			de, ok := domain.AsError(err)
			if !ok || de.Code != tc.code || de.Field != tc.field {
				t.Fatalf("Validate error = %v; want %s on %s", err, tc.code, tc.field)
			}
			if tc.in.AuthCode != "" && strings.Contains(err.Error(), tc.in.AuthCode) {
				t.Error("the error echoes the auth code")
			}
		})
	}
}
