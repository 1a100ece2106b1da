package app_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	netmail "net/mail"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/internal/servetest"
	"github.com/switchyard/switchyard/plugins/route53/awsfake"
	"github.com/switchyard/switchyard/webhook"
)

// The route53 instance's credentials (awsfake checks every request's
// SigV4 signature against them) and the configured DKIM value.
const (
	e2eKeyID     = "AKIASERVEDOMAINSE2E1"
	e2eKeySecret = "serveDomainsE2ESecret/0123456789abcdefgh"
	e2eDKIM      = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAserveE2E"
)

// domainsEnv is hostingEnv with the real route53 binary against awsfake
// (instance r53test), a register_domain product selling .com with the
// mail records, and the merchant's endpoint subscribed to domain and
// service events, signed with the seed's X-PROE-Signature.
type domainsEnv struct {
	*hostingEnv
	aws *awsfake.Server
}

func newDomainsEnv(t *testing.T, dsn string, env ...string) *domainsEnv {
	t.Helper()
	aws := awsfake.New(t, e2eKeyID, e2eKeySecret)
	instances := fmt.Sprintf(`    - id: r53test
      kind: registrar
      binary: route53
      settings:
        access_key_id: %s
        secret_access_key: env:R53TEST_SECRET_ACCESS_KEY
        domains_endpoint: %s
        route53_endpoint: %s
`, e2eKeyID, aws.URL(), aws.URL())
	h := newHostingEnvWith(t, dsn, hostingOptions{
		plugins: []string{"route53"}, instances: instances,
		products: `  - sku: domain-com
    name: A .com domain
    fulfillment:
      kind: register_domain
      registrar: r53test
      tlds: [com]
      mail_dns: true
`,
		events: []string{"domain.*"}, profile: webhook.ProfilePROE, verify: verifySeedPROE,
		env: append([]string{
			"R53TEST_SECRET_ACCESS_KEY=" + e2eKeySecret,
			// Polls every 100 ms instead of 15 s doubling to an hour.
			"SWITCHYARD_DOMAINS__POLL_INTERVAL=100ms", "SWITCHYARD_DOMAINS__POLL_MAX=500ms",
			"SWITCHYARD_DOMAINS__MAIL_DNS__DKIM=" + e2eDKIM,
		}, env...),
	})
	return &domainsEnv{hostingEnv: h, aws: aws}
}

// verifySeedPROE checks a delivery as seed 000 tells merchants: the hex
// HMAC-SHA256 of the raw body under the endpoint's secret, compared in
// constant time with X-PROE-Signature; and the body has the seed
// envelope's top-level fields.
func verifySeedPROE(secret string, h http.Header, body []byte) error {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(h.Get("X-PROE-Signature"))) {
		return errors.New("X-PROE-Signature does not match the body")
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return err
	}
	for _, k := range []string{"id", "event", "created_at", "tenant_id", "data"} {
		if _, ok := env[k]; !ok {
			return fmt.Errorf("the envelope lacks %s", k)
		}
	}
	return nil
}

const e2eContact = `{"first_name":"Ada","last_name":"Lovelace","email":"ada@customer.example","phone":"+44.2079460000",
"address1":"12 St James's Square","city":"London","postal_code":"SW1Y 4JH","country_code":"GB"}`

// domainItem is a register_domain item; extra fields (action, auth_code)
// are added to it.
func domainItem(t *testing.T, name string, extra map[string]any) map[string]any {
	t.Helper()
	var contact map[string]any
	if err := json.Unmarshal([]byte(e2eContact), &contact); err != nil {
		t.Fatal(err)
	}
	it := map[string]any{"sku": "domain-com", "domain": name, "years": 1, "contact": contact}
	for k, v := range extra {
		it[k] = v
	}
	return it
}

// create posts a session with items; it returns the status and raw body.
func (h *domainsEnv) create(t *testing.T, order string, items ...map[string]any) (int, []byte, string) {
	t.Helper()
	var s struct {
		SessionID string `json:"session_id"`
	}
	code, raw := servetest.Call(t, "POST", h.proc.Public+"/v1/sessions", h.key, map[string]any{
		"domain": "shop.test", "amount": "61.95", "currency": "USD", "order_id": order,
		"customer_email": "ada@customer.example", "items": items,
	}, &s)
	return code, raw, s.SessionID
}

// detail reads a domain through the admin API.
func (h *domainsEnv) detail(t *testing.T, ref string) domains.Detail {
	t.Helper()
	var d domains.Detail
	if code, raw := servetest.Call(t, "GET", h.proc.Admin+"/admin/v1/domains/"+ref, servetest.AdminToken, nil, &d); code != http.StatusOK {
		t.Fatalf("admin show %s: %d %s", ref, code, raw)
	}
	return d
}

// settled waits until the domain has n operations, all final, and
// returns it.
func (h *domainsEnv) settled(t *testing.T, ref string, n int) domains.Detail {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		d := h.detail(t, ref)
		final := len(d.Operations) >= n
		for _, op := range d.Operations {
			switch op.Status {
			case domains.OpSucceeded, domains.OpFailed, domains.OpAttention:
			default:
				final = false
			}
		}
		if final {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("domain %s: operations not settled: %+v", ref, d.Operations)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// eventData decodes a delivery's data.
func eventData(t *testing.T, raw string) domains.View {
	t.Helper()
	var ev struct {
		Data domains.View `json:"data"`
	}
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Data
}

// TestServeDomainWithHosting: one session with a register_domain item and
// a hosting item for the same domain, paid through the sandbox. The
// domain is registered once (the registrar's operation IN_PROGRESS →
// SUCCESSFUL), the WHM account is created for it, the A records of the
// apex and www then point at the account's server, the mail records are
// upserted with the SPF include merged into the owner's SPF record, and
// domain.registered and service.activated reach the merchant's endpoint
// with the seed's signature verified.
func TestServeDomainWithHosting(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		h := newDomainsEnv(t, dsn)
		const name = "shop-e2e.com"
		// The owner's SPF record and a site-verification token appear in
		// the zone just before Switchyard's first change batch (as an edit
		// in the console would): the mail records must merge into them.
		h.aws.BeforeChange(func() {
			h.aws.PutRecordSet(name, awsfake.RecordSet{Name: name + ".", Type: "TXT", TTL: 300,
				Values: []string{`"v=spf1 include:_spf.google.com -all"`, `"google-site-verification=e2e"`}})
		})
		code, raw, id := h.create(t, "DOM-1", domainItem(t, name, nil),
			map[string]any{"sku": "hosting-basic", "domain": name, "username": "shope2e"})
		if code != http.StatusCreated {
			t.Fatalf("create session: %d %s", code, raw)
		}
		servetest.PayWithSandbox(t, h.proc, id)

		registered := h.hooks.wait(t, "domain.registered", 1)
		activated := h.hooks.wait(t, "service.activated", 1)
		if d := eventData(t, registered[0]); d.Domain != name || d.Status != domains.StatusActive || d.SessionID != id || d.ExpiresAt == nil {
			t.Errorf("domain.registered data: %+v", d)
		}
		if !strings.Contains(activated[0], id) || !strings.Contains(activated[0], `"domain":"`+name+`"`) {
			t.Errorf("service.activated: %s", activated[0])
		}

		// Registration, the hosting records and the mail records.
		d := h.settled(t, name, 3)
		if len(d.Operations) != 3 {
			t.Fatalf("operations: %+v", d.Operations)
		}
		reg := d.Operations[0]
		if reg.Type != domains.ActionRegister || reg.Status != domains.OpSucceeded || reg.RegistrarOperationID == nil || reg.Polls < 2 {
			t.Fatalf("registration operation: %+v", reg)
		}
		// awsfake answers IN_PROGRESS to the first poll, SUCCESSFUL to the
		// second: two polls mean the job followed it through both.
		if op, ok := h.aws.Operation(*reg.RegistrarOperationID); !ok || op.Status != "SUCCESSFUL" || op.Type != "REGISTER_DOMAIN" {
			t.Fatalf("awsfake operation: %+v (exists %v)", op, ok)
		}
		for _, op := range d.Operations[1:] {
			if op.Type != domains.OpChangeRecords || op.Status != domains.OpSucceeded {
				t.Errorf("follow-up operation: %+v", op)
			}
		}
		if n := h.aws.Count("route53domains.RegisterDomain"); n != 1 {
			t.Errorf("RegisterDomain called %d times, want 1", n)
		}
		if _, ok := h.aws.Domain(name); !ok {
			t.Fatalf("%s is not in the AWS account", name)
		}

		acct, ok := h.whm.Account("shope2e")
		if !ok || acct.Domain != name || acct.IP == "" {
			t.Fatalf("whmfake account: %+v (exists %v)", acct, ok)
		}
		if n := len(h.waitCalls(t, "createacct", "username", "shope2e", 1)); n != 1 {
			t.Errorf("createacct calls %d, want 1", n)
		}
		for _, host := range []string{name + ".", "www." + name + "."} {
			if set, ok := h.aws.RecordSet(name, host, "A"); !ok || len(set.Values) != 1 || set.Values[0] != acct.IP {
				t.Errorf("A %s = %+v (exists %v), want the account's server %s", host, set, ok, acct.IP)
			}
		}

		apex, _ := h.aws.RecordSet(name, name+".", "TXT")
		var spf []string
		for _, v := range apex.Values {
			if strings.HasPrefix(v, `"v=spf1`) {
				spf = append(spf, v)
			}
		}
		if len(spf) != 1 || spf[0] != `"v=spf1 include:_spf.google.com include:mxlogin.com -all"` || len(apex.Values) != 2 {
			t.Errorf("apex TXT = %q: want the owner's SPF record with mxlogin.com merged in, and the verification token", apex.Values)
		}
		if set, _ := h.aws.RecordSet(name, "mail._domainkey."+name+".", "TXT"); len(set.Values) != 1 || set.Values[0] != `"`+e2eDKIM+`"` {
			t.Errorf("DKIM = %q", set.Values)
		}
		if set, _ := h.aws.RecordSet(name, "_dmarc."+name+".", "TXT"); len(set.Values) != 1 ||
			set.Values[0] != `"v=DMARC1; p=quarantine; rua=mailto:dmarc@`+name+`"` {
			t.Errorf("DMARC = %q", set.Values)
		}
		if fails := h.aws.AuthFailures(); len(fails) != 0 {
			t.Errorf("awsfake refused signatures: %v", fails)
		}
	})
}

// withStore opens the server's database, for what no API shows (River's
// job table).
func withStore(t *testing.T, dsn string, fn func(ctx context.Context, st *store.Store)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fn(ctx, st)
}

// logLacks fails when the server's log contains secret.
func logLacks(t *testing.T, p *servetest.Proc, secret string) {
	t.Helper()
	b, err := os.ReadFile(p.Log)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) {
		t.Errorf("the server log contains the secret %q", secret)
	}
}

// TestServeDomainTransfer: a transfer item is validated at session create
// (the auth code required for a transfer, refused for a registration,
// never echoed), paid through the sandbox, and its operation ends in
// domain.transferred. The auth code reaches AWS's TransferDomain and
// nowhere else: not the API's answers, the events, the admin API or the
// server's log.
func TestServeDomainTransfer(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		h := newDomainsEnv(t, dsn)
		const name, authCode = "moving-e2e.com", "EPP-e2e-Secret-4711"
		refusals := []struct {
			item        map[string]any
			code, field string
		}{
			{domainItem(t, name, map[string]any{"action": "transfer"}), "auth_code_required", "items[0].auth_code"},
			{domainItem(t, name, map[string]any{"action": "transfer", "auth_code": "  "}), "auth_code_required", "items[0].auth_code"},
			{domainItem(t, name, map[string]any{"auth_code": authCode}), "auth_code_not_allowed", "items[0].auth_code"},
			{domainItem(t, name, map[string]any{"action": "move", "auth_code": authCode}), "invalid_item", "items[0].action"},
		}
		for _, r := range refusals {
			code, raw, _ := h.create(t, "DOM-T", r.item)
			var e struct{ Error struct{ Code, Field string } }
			_ = json.Unmarshal(raw, &e)
			if code != http.StatusBadRequest || e.Error.Code != r.code || e.Error.Field != r.field || strings.Contains(string(raw), authCode) {
				t.Errorf("item %v: %d %s; want 400 %s on %s without the auth code", r.item, code, raw, r.code, r.field)
			}
		}
		var list struct{ Data []domains.View }
		if code, raw := servetest.Call(t, "GET", h.proc.Admin+"/admin/v1/domains", servetest.AdminToken, nil, &list); code != http.StatusOK || len(list.Data) != 0 {
			t.Fatalf("domains after refused creates: %d %s", code, raw)
		}

		code, raw, id := h.create(t, "DOM-T", domainItem(t, name, map[string]any{"action": "transfer", "auth_code": authCode}))
		if code != http.StatusCreated || strings.Contains(string(raw), authCode) {
			t.Fatalf("create transfer session: %d %s", code, raw)
		}
		if _, got := servetest.Call(t, "GET", h.proc.Public+"/v1/sessions/"+id, h.key, nil, nil); strings.Contains(string(got), authCode) ||
			!strings.Contains(string(got), `"transfer"`) {
			t.Errorf("session shows %s", got)
		}
		servetest.PayWithSandbox(t, h.proc, id)

		transferred := h.hooks.wait(t, "domain.transferred", 1)
		if d := eventData(t, transferred[0]); d.Domain != name || d.Action != domains.ActionTransfer || d.Status != domains.StatusActive || d.SessionID != id {
			t.Errorf("domain.transferred data: %+v", d)
		}
		var body struct{ DomainName, AuthCode string }
		if err := json.Unmarshal(h.aws.LastBody("route53domains.TransferDomain"), &body); err != nil || body.DomainName != name || body.AuthCode != authCode {
			t.Errorf("TransferDomain body: %+v %v", body, err)
		}
		if n := h.aws.Count("route53domains.TransferDomain"); n != 1 {
			t.Errorf("TransferDomain called %d times, want 1", n)
		}
		d := h.settled(t, name, 1)
		if d.Operations[0].Type != domains.ActionTransfer || d.Operations[0].Status != domains.OpSucceeded {
			t.Errorf("transfer operation: %+v", d.Operations[0])
		}
		if _, got := servetest.Call(t, "GET", h.proc.Admin+"/admin/v1/domains/"+name, servetest.AdminToken, nil, nil); strings.Contains(string(got), authCode) {
			t.Errorf("the admin API shows the auth code: %s", got)
		}
		h.hooks.mu.Lock()
		for _, r := range h.hooks.raw {
			if strings.Contains(r, authCode) {
				t.Errorf("a delivery carries the auth code: %s", r)
			}
		}
		h.hooks.mu.Unlock()
		logLacks(t, h.proc, authCode)
	})
}

// dailyRuns counts the domains_daily jobs River has completed.
func dailyRuns(t *testing.T, dsn string) int64 {
	t.Helper()
	var n int64
	withStore(t, dsn, func(ctx context.Context, st *store.Store) {
		c, err := st.DB().NewSelect().Table("river_job").Where("kind = ?", "domains_daily").Where("state = ?", "completed").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n = c
	})
	return n
}

// restartForDaily stops the server and starts it again: the daily job
// runs at start (and then once a day). It returns once a run that began
// after the restart has completed.
func (h *domainsEnv) restartForDaily(t *testing.T, dsn string) {
	t.Helper()
	before := dailyRuns(t, dsn)
	h.proc.Stop(t)
	h.proc = h.env.Serve(t)
	deadline := time.Now().Add(90 * time.Second)
	for dailyRuns(t, dsn) <= before {
		if time.Now().After(deadline) {
			t.Fatal("the daily job did not run after the restart")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mailsOf counts the mails of template tmpl.
func (h *domainsEnv) mailsOf(t *testing.T, tmpl string) int {
	t.Helper()
	n := 0
	for _, m := range h.smtp.Messages() {
		msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		if msg.Header.Get("X-Switchyard-Template") == tmpl {
			n++
		}
	}
	return n
}

// TestServeDomainRenewalReminder: the daily job reads each domain's expiry
// from the registrar; a domain expiring within domains.reminder_days gets
// one renewal reminder through the SMTP plugin (not another on the next
// run), and one past its expiry emits domain.expired. The registration
// lasts ten days (awsfake's NextTerm) instead of a year the test cannot
// wait for; each restart of the server runs the daily job.
func TestServeDomainRenewalReminder(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		h := newDomainsEnv(t, dsn)
		deadline := time.Now().Add(90 * time.Second)
		for dailyRuns(t, dsn) < 1 { // the first start's run, before there is a domain
			if time.Now().After(deadline) {
				t.Fatal("the daily job did not run at start")
			}
			time.Sleep(100 * time.Millisecond)
		}
		const name = "remind-e2e.com"
		h.aws.NextTerm(name, 10*24*time.Hour)
		code, raw, id := h.create(t, "DOM-R", domainItem(t, name, nil))
		if code != http.StatusCreated {
			t.Fatalf("create session: %d %s", code, raw)
		}
		servetest.PayWithSandbox(t, h.proc, id)
		h.hooks.wait(t, "domain.registered", 1)
		d := h.settled(t, name, 2) // registration and mail records
		if n := h.mailsOf(t, "domain_renewal_reminder"); n != 0 || d.ExpiresAt == nil {
			t.Fatalf("%d reminders before a daily run; expires %v", n, d.ExpiresAt)
		}

		h.restartForDaily(t, dsn)
		_, text := h.waitMail(t, "domain_renewal_reminder", "ada@customer.example")
		if !strings.Contains(text, name) {
			t.Errorf("reminder text lacks the domain:\n%s", text)
		}
		h.restartForDaily(t, dsn)
		if n := h.mailsOf(t, "domain_renewal_reminder"); n != 1 {
			t.Errorf("%d reminders after a second run in the same window, want 1", n)
		}

		// The registrar now reports it expired yesterday.
		h.aws.SetExpiry(name, time.Now().Add(-24*time.Hour))
		h.restartForDaily(t, dsn)
		expired := h.hooks.wait(t, "domain.expired", 1)
		if d := eventData(t, expired[0]); d.Domain != name || d.Status != domains.StatusExpired {
			t.Errorf("domain.expired data: %+v", d)
		}
		if d := h.detail(t, name); d.Status != domains.StatusExpired {
			t.Errorf("status after expiry: %s", d.Status)
		}
		if n := h.mailsOf(t, "domain_renewal_reminder"); n != 1 {
			t.Errorf("%d reminders in all, want 1", n)
		}
	})
}
