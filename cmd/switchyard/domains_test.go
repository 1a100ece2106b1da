package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/internal/servetest"
	"github.com/switchyard/switchyard/plugins/route53/awsfake"
)

const (
	cliKeyID     = "AKIADOMAINSCLITEST01"
	cliKeySecret = "domainsCliSecret/0123456789abcdefghijklm"
)

// seedDomains stores what a paid session with two domain items leaves:
// shopName registered (active, in awsfake's account with a hosted zone)
// and failedName failed with the registrar's reason.
func seedDomains(t *testing.T, dsn string, merchantID int64, shopName, failedName string) (shopID string) {
	t.Helper()
	ctx := context.Background()
	st := openTestStore(t, dsn)
	sess := insertPaidSession(t, st, merchantID, "DOM-1", 2400)
	now := sess.CreatedAt
	exp := now.AddDate(1, 0, 0)
	for i, d := range []*store.Domain{
		{Name: shopName, Status: domains.StatusActive, ExpiresAt: &exp, Nameservers: `["ns-1.awsdns-01.com"]`, Locked: true},
		{Name: failedName, Status: domains.StatusFailed, FailureMessage: failedName + " is not available (taken); nothing was bought", Nameservers: "[]"},
	} {
		d.ID, d.MerchantID, d.Mode, d.RegistrarID, d.Action, d.Years = domain.NewDomainID(), merchantID, store.ModeTest, "r53test", domains.ActionRegister, 1
		d.SessionID, d.ItemID, d.ContactEmail, d.HostingNameservers = sess.ID, fmt.Sprintf("item_%d", i), "grace@example.org", "[]"
		d.CreatedAt, d.UpdatedAt = now, now
		if err := st.InsertDomain(ctx, d); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			shopID = d.ID
		}
	}
	return shopID
}

// openTestStore opens the database the CLI uses; it is closed at cleanup.
func openTestStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// insertPaidSession stores a session of merchantID paid in full (amount
// in cents of USD).
func insertPaidSession(t *testing.T, st *store.Store, merchantID int64, order string, amount int64) *store.Session {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	sess := &store.Session{ID: domain.NewSessionID(), MerchantID: merchantID, Mode: store.ModeTest, Status: domain.StatusPaid,
		Domain: "acme.test", OrderID: order, Amount: amount, Currency: "USD", Metadata: "{}", AmountReceived: amount, CurrencyReceived: "USD",
		PaidAt: &now, ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	if err := st.InsertSession(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	return sess
}

// TestDomainsCommands drives `switchyard domains …` against a store with
// an active and a failed domain, and the real route53 binary against
// awsfake for the commands that ask the registrar (check, auth-code,
// records). The others store an operation for a server's job, which the
// test reads back.
func TestDomainsCommands(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		aws := awsfake.New(t, cliKeyID, cliKeySecret)
		const shop, taken, authCode = "cli-shop.com", "cli-taken.com", "Cli-Auth-Code-9f3k"
		aws.AddDomain(awsfake.Domain{Name: shop, Expires: time.Now().AddDate(1, 0, 0), Locked: true, AuthCode: authCode})
		aws.SetAvailability(taken, "UNAVAILABLE")
		cfg := writeConfig(t, fmt.Sprintf(`plugins:
  dir: %s
  instances:
    - id: r53test
      kind: registrar
      binary: route53
      settings:
        access_key_id: %s
        secret_access_key: %s
        domains_endpoint: %s
        route53_endpoint: %s
`, filepath.Dir(bins.Plugin(t, "route53")), cliKeyID, cliKeySecret, aws.URL(), aws.URL()))
		sy, merchant := cliWithMerchant(t, cfg, dsn)
		shopID := seedDomains(t, dsn, merchant, shop, taken)

		t.Run("list", func(t *testing.T) { testDomainsList(t, sy, merchant, shop, taken) })
		t.Run("show", func(t *testing.T) { testDomainsShow(t, sy, shop, shopID) })
		t.Run("check", func(t *testing.T) {
			stdout, stderr, code := sy("domains", "check", "free-cli.com", "CLI-Taken.com", "--registrar", "r53test", "--json")
			var av []domains.AvailabilityView
			if code != 0 || json.Unmarshal([]byte(stdout), &av) != nil || len(av) != 2 || !av[0].Available || av[0].Domain != "free-cli.com" ||
				av[1].Available || av[1].Domain != taken || av[1].Reason != "taken" {
				t.Fatalf("check --json: %d %s %s", code, stdout, stderr)
			}
			if stdout, _, code := sy("domains", "check", "free-cli.com", "--registrar", "r53test"); code != 0 ||
				!strings.Contains(stdout, "AVAILABLE") || !strings.Contains(stdout, "free-cli.com") || !strings.Contains(stdout, "true") {
				t.Errorf("check table: %d %s", code, stdout)
			}
			if _, stderr, code := sy("domains", "check", "a.com", "--registrar", "nowhere"); code != 1 || !strings.Contains(stderr, "unknown_registrar") {
				t.Errorf("check with an unknown registrar: %d %s", code, stderr)
			}
		})
		t.Run("operations", func(t *testing.T) { testDomainsOperations(t, sy, shop, taken) })
		t.Run("auth-code", func(t *testing.T) { testDomainsAuthCode(t, sy, dsn, shop, taken, authCode) })
		t.Run("records", func(t *testing.T) {
			stdout, stderr, code := sy("domains", "records", shop, "--json")
			var recs []domains.RecordView
			if code != 0 || json.Unmarshal([]byte(stdout), &recs) != nil || !strings.Contains(stdout, `"values": [`) {
				t.Fatalf("records --json: %d %s %s", code, stdout, stderr)
			}
			var ns bool
			for _, r := range recs {
				ns = ns || (r.Name == "@" && r.Type == "NS" && len(r.Values) == 4)
			}
			if !ns {
				t.Errorf("records lack the zone's NS set: %s", stdout)
			}
			if stdout, _, code := sy("domains", "records", shop); code != 0 || !strings.Contains(stdout, "NAME") || !strings.Contains(stdout, "SOA") {
				t.Errorf("records table: %d %s", code, stdout)
			}
			stdout, stderr, code = sy("domains", "records", shop, "--mail-dns", "--dkim", "v=DKIM1; k=rsa; p=CLI", "--json")
			var op domains.OperationView
			if code != 0 || json.Unmarshal([]byte(stdout), &op) != nil || op.Type != domains.OpChangeRecords || op.Status != domains.OpQueued || op.RequestedBy != "cli" {
				t.Fatalf("records --mail-dns: %d %s %s", code, stdout, stderr)
			}
			if n := aws.Count("route53.ChangeResourceRecordSets"); n != 0 {
				t.Errorf("the CLI changed records itself (%d batches); a server's job does", n)
			}
		})
	})
}

// cliRunner runs the CLI with a test's configuration and store.
type cliRunner func(args ...string) (string, string, int)

// cliWithMerchant migrates the store and creates a merchant through the
// CLI; it returns the runner and the merchant's id.
func cliWithMerchant(t *testing.T, cfg, dsn string) (cliRunner, int64) {
	t.Helper()
	sy := func(args ...string) (string, string, int) {
		t.Helper()
		return cli(t, append(args, "--config", cfg, "--store-dsn", dsn)...)
	}
	if _, stderr, code := sy("migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	stdout, stderr, code := sy("merchants", "create", "--name", "Acme", "--plan", "free",
		"--domain", "acme.test", "--contact-email", "ops@acme.test", "--json")
	var m struct{ ID int64 }
	if code != 0 || json.Unmarshal([]byte(stdout), &m) != nil {
		t.Fatalf("merchants create: %d %s %s", code, stdout, stderr)
	}
	return sy, m.ID
}

func testDomainsList(t *testing.T, sy cliRunner, merchant int64, shop, taken string) {
	stdout, stderr, code := sy("domains", "list", "--json")
	var all []domains.View
	if code != 0 || json.Unmarshal([]byte(stdout), &all) != nil || len(all) != 2 {
		t.Fatalf("list --json: %d %s %s", code, stdout, stderr)
	}
	stdout, _, code = sy("domains", "list", "--status", "active")
	if code != 0 || !strings.Contains(stdout, shop) || strings.Contains(stdout, taken) || !strings.Contains(stdout, "EXPIRES") {
		t.Errorf("list --status active: %d %s", code, stdout)
	}
	stdout, _, code = sy("domains", "list", "--status", "failed", "--json")
	if code != 0 || json.Unmarshal([]byte(stdout), &all) != nil || len(all) != 1 || all[0].Domain != taken || all[0].FailureMessage == nil {
		t.Errorf("list --status failed: %d %s", code, stdout)
	}
	if stdout, _, code := sy("domains", "list", "--merchant", fmt.Sprint(merchant+1), "--json"); code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Errorf("list of another merchant: %d %s", code, stdout)
	}
	if _, stderr, code := sy("domains", "list", "--status", "gone"); code != 1 || !strings.HasPrefix(stderr, "switchyard: invalid_status: ") {
		t.Errorf("list --status gone: %d %s", code, stderr)
	}
}

func testDomainsShow(t *testing.T, sy cliRunner, shop, shopID string) {
	for _, ref := range []string{shop, "CLI-Shop.com", shopID} {
		stdout, stderr, code := sy("domains", "show", ref)
		var d domains.Detail
		if code != 0 || json.Unmarshal([]byte(stdout), &d) != nil || d.DomainID != shopID || d.Status != domains.StatusActive || d.Operations == nil {
			t.Errorf("show %s: %d %s %s", ref, code, stdout, stderr)
		}
	}
	if _, stderr, code := sy("domains", "show", "nobody-here.com"); code != 1 || !strings.HasPrefix(stderr, "switchyard: resource_missing: ") {
		t.Errorf("show of an unknown domain: %d %s", code, stderr)
	}
}

// testDomainsOperations: renew, transfer-lock and nameservers store an
// operation for a server's job; a second renewal of the same expiry is
// the same operation (an operator's double run never pays twice).
func testDomainsOperations(t *testing.T, sy cliRunner, shop, taken string) {
	op := func(args ...string) domains.OperationView {
		t.Helper()
		stdout, stderr, code := sy(append(args, "--json")...)
		var v domains.OperationView
		if code != 0 || json.Unmarshal([]byte(stdout), &v) != nil || v.Status != domains.OpQueued || v.RequestedBy != "cli" {
			t.Fatalf("%v: %d %s %s", args, code, stdout, stderr)
		}
		return v
	}
	renew := op("domains", "renew", shop, "--years", "2")
	if renew.Type != domains.OpRenew || renew.Years != 2 {
		t.Errorf("renew: %+v", renew)
	}
	if again := op("domains", "renew", shop); again.OperationID != renew.OperationID {
		t.Errorf("a second renewal of the same expiry made operation %s besides %s", again.OperationID, renew.OperationID)
	}
	if stdout, _, code := sy("domains", "renew", shop); code != 0 || !strings.Contains(stdout, renew.OperationID) || !strings.Contains(stdout, "a running server makes the registrar call") {
		t.Errorf("renew (human): %d %s", code, stdout)
	}
	if lock := op("domains", "transfer-lock", shop, "off"); lock.Type != domains.OpSetLock {
		t.Errorf("transfer-lock: %+v", lock)
	}
	if ns := op("domains", "nameservers", shop, "ns1.host.example", "NS2.Host.Example"); ns.Type != domains.OpSetNameservers {
		t.Errorf("nameservers: %+v", ns)
	}
	refusals := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"domains", "renew", shop, "--years", "11"}, 1, "invalid_years"},
		{[]string{"domains", "renew", taken}, 1, "domain_not_active"},
		{[]string{"domains", "transfer-lock", shop, "maybe"}, 2, "on or off"},
		{[]string{"domains", "nameservers", shop, "ns1.host.example"}, 1, ""},
		{[]string{"domains", "nameservers", shop, "ns1.host.example", "not a host"}, 1, "nameservers[1]"},
	}
	for _, r := range refusals {
		if _, stderr, code := sy(r.args...); code != r.code || !strings.Contains(stderr, r.want) {
			t.Errorf("%v: exit %d %s; want %d with %q", r.args, code, stderr, r.code, r.want)
		}
	}
	stdout, _, _ := sy("domains", "show", shop)
	var d domains.Detail
	if err := json.Unmarshal([]byte(stdout), &d); err != nil || len(d.Operations) != 3 {
		t.Errorf("operations stored: %s", stdout)
	}
}

// testDomainsAuthCode: the code is printed once on stdout, and is not in
// the log (at debug level, which records the retrieval) or the database.
func testDomainsAuthCode(t *testing.T, sy cliRunner, dsn, shop, taken, authCode string) {
	before := dbText(t, dsn, authCode)
	stdout, stderr, code := sy("domains", "auth-code", shop, "--log-level", "debug")
	if code != 0 || stdout != authCode+"\n" {
		t.Fatalf("auth-code: %d %q %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "domain auth code retrieved") || strings.Contains(stderr, authCode) {
		t.Errorf("auth-code log (the retrieval, never the code):\n%s", stderr)
	}
	if after := dbText(t, dsn, authCode); after != before || strings.Contains(after, authCode) {
		t.Errorf("auth-code changed or stored something in the database")
	}
	if _, stderr, code := sy("domains", "auth-code", taken); code != 1 || !strings.Contains(stderr, "domain_not_active") {
		t.Errorf("auth-code of a failed domain: %d %s", code, stderr)
	}
}

// dbText is the domain tables' rows and, on SQLite, whether the database
// files hold secret anywhere.
func dbText(t *testing.T, dsn, secret string) string {
	t.Helper()
	ctx := context.Background()
	st := openTestStore(t, dsn)
	var b strings.Builder
	for _, table := range []string{"domains", "domain_operations"} {
		var rows []map[string]any
		if err := st.DB().NewSelect().Table(table).OrderExpr("id").Scan(ctx, &rows); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		fmt.Fprintf(&b, "%s %v\n", table, rows)
	}
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		for _, f := range []string{path, path + "-wal"} {
			raw, _ := os.ReadFile(f)
			if strings.Contains(string(raw), secret) {
				b.WriteString("the SQLite file " + f + " holds the auth code\n")
			}
		}
	}
	return b.String()
}
