package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/internal/servetest"
	"github.com/switchyard/switchyard/plugins/whm/whmfake"
)

// seedServices stores what fulfillment leaves after a paid session with
// two hosting items: one service active, one failed with WHM's reason and
// its failed create action.
func seedServices(t *testing.T, dsn string, merchantID int64) (active, failed string) {
	t.Helper()
	ctx := context.Background()
	st := openTestStore(t, dsn)
	sess := insertPaidSession(t, st, merchantID, "HOST-1", 4995)
	now := sess.CreatedAt
	var items []*store.SessionItem
	var svcs []*store.Service
	for i, d := range []string{"shop.example", "blog.example"} {
		it := &store.SessionItem{ID: domain.NewItemID(), SessionID: sess.ID, MerchantID: merchantID, Position: i, SKU: "host-basic",
			Name: "Basic hosting", Quantity: 1, Kind: domain.KindProvision, Spec: `{"kind":"provision","provisioner":"whm","package":"basic"}`,
			Domain: d, Username: fmt.Sprintf("user%d", i), CreatedAt: now}
		items = append(items, it)
		svcs = append(svcs, &store.Service{ID: domain.NewServiceID(), MerchantID: merchantID, Mode: store.ModeTest, SessionID: sess.ID,
			ItemID: it.ID, Kind: domain.KindProvision, SKU: it.SKU, Provisioner: "whm", Package: "basic", Domain: d, Username: it.Username,
			Status: domain.ServiceActive, ActivatedAt: &now, Server: "host1.example", CreatedAt: now, UpdatedAt: now})
	}
	svcs[1].Status, svcs[1].ActivatedAt, svcs[1].Server = domain.ServiceFailed, nil, ""
	svcs[1].LastError = `create: WHM refused: Sorry, the package "basic" does not exist.`
	if err := st.InsertSessionItems(ctx, sess.ID, "[]", items); err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs {
		if err := st.InsertService(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	act := &store.ServiceAction{ID: domain.NewActionID(), ServiceID: svcs[1].ID, Action: domain.ActionCreate, Status: domain.ActionFailed,
		Reason: "paid", Source: "payment", Attempts: 1, LastError: `WHM refused: Sorry, the package "basic" does not exist.`, CreatedAt: now, UpdatedAt: now}
	if err := st.InsertServiceAction(ctx, act); err != nil {
		t.Fatal(err)
	}
	return svcs[0].ID, svcs[1].ID
}

type cliService struct {
	ID        string  `json:"id"`
	Status    string  `json:"status"`
	LastError *string `json:"last_error"`
	Actions   []struct {
		Action string `json:"action"`
		Status string `json:"status"`
		Source string `json:"source"`
		Reason string `json:"reason"`
	} `json:"actions"`
}

func TestServicesCommands(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		cfg := writeConfig(t, "")
		sy, merchant := cliWithMerchant(t, cfg, dsn)
		active, failed := seedServices(t, dsn, merchant)

		stdout, stderr, code := sy("services", "list", "--status", "failed", "--json")
		var list []cliService
		if code != 0 || json.Unmarshal([]byte(stdout), &list) != nil || len(list) != 1 || list[0].ID != failed ||
			list[0].Status != "failed" || list[0].LastError == nil || !strings.Contains(*list[0].LastError, `package "basic" does not exist`) {
			t.Fatalf("list --status failed --json: %d %s %s", code, stdout, stderr)
		}
		stdout, _, code = sy("services", "list", "--status", "failed")
		if code != 0 || !strings.Contains(stdout, failed) || strings.Contains(stdout, active) || !strings.Contains(stdout, "LAST ERROR") ||
			!strings.Contains(stdout, `package "basic" does not exist`) {
			t.Fatalf("list --status failed table: %d %s", code, stdout)
		}
		stdout, _, code = sy("services", "list", "--merchant", fmt.Sprint(merchant+1), "--json")
		if code != 0 || strings.TrimSpace(stdout) != "[]" {
			t.Fatalf("list of another merchant: %d %s", code, stdout)
		}
		if _, stderr, code := sy("services", "list", "--status", "broken"); code != 1 ||
			!strings.HasPrefix(stderr, "switchyard: invalid_status: ") {
			t.Fatalf("list --status broken: %d %s", code, stderr)
		}

		stdout, _, code = sy("services", "show", failed)
		for _, want := range []string{failed + " (failed)", `last error   create: WHM refused`, "user1 on whm, package basic, domain blog.example", "create", "payment"} {
			if code != 0 || !strings.Contains(stdout, want) {
				t.Fatalf("show: %d, %q not in\n%s", code, want, stdout)
			}
		}
		stdout, _, code = sy("services", "show", failed, "--json")
		var shown cliService
		if code != 0 || json.Unmarshal([]byte(stdout), &shown) != nil || shown.ID != failed || len(shown.Actions) != 1 ||
			shown.Actions[0].Action != "create" || shown.Actions[0].Status != "failed" {
			t.Fatalf("show --json: %d %s", code, stdout)
		}

		stdout, stderr, code = sy("services", "suspend", active, "--reason", "abuse report 41", "--json")
		var susp cliService
		if code != 0 || json.Unmarshal([]byte(stdout), &susp) != nil || susp.ID != active || len(susp.Actions) != 1 ||
			susp.Actions[0].Action != "suspend" || susp.Actions[0].Status != "pending" || susp.Actions[0].Reason != "abuse report 41" ||
			!strings.HasPrefix(susp.Actions[0].Source, "operator:cli") {
			t.Fatalf("suspend: %d %s %s", code, stdout, stderr)
		}
		st, err := store.Open(context.Background(), dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		acts, err := st.ServiceActions(context.Background(), active, domain.ActionPending)
		if err != nil || len(acts) != 1 || acts[0].Action != domain.ActionSuspend || acts[0].Reason != "abuse report 41" {
			t.Fatalf("stored actions after suspend: %+v %v", acts, err)
		}

		unknown := domain.NewServiceID()
		for _, args := range [][]string{{"show", unknown}, {"suspend", unknown}, {"show", "not-a-service"}, {"login-url", unknown}} {
			stdout, stderr, code := sy(append([]string{"services"}, args...)...)
			if code != 1 || stdout != "" || strings.TrimSpace(stderr) != "switchyard: resource_missing: no such service" {
				t.Errorf("services %v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
			}
		}
		if _, stderr, code := sy("services", "retry", active); code != 1 || !strings.Contains(stderr, "service_not_failed") {
			t.Errorf("retry of an active service: %d %s", code, stderr)
		}
		if _, stderr, code := sy("services", "login-url", failed); code != 1 || !strings.Contains(stderr, "invalid_service_state") {
			t.Errorf("login-url of a failed service: %d %s", code, stderr)
		}
		if _, stderr, code := sy("services", "login-url", active, "--service", "ftp"); code != 2 || !strings.Contains(stderr, "--service") {
			t.Errorf("login-url --service ftp: %d %s", code, stderr)
		}
	})
}

// TestServicesChangePackageAndLoginURL runs the real switchyard and whm
// plugin binaries against whmfake: a hosting session paid on the sandbox
// gets its account from `switchyard serve`; `services change-package`
// (checked against listpkgs by the CLI's own plugin) queues the change
// that the running server makes at WHM, and a package WHM does not list is
// refused with nothing queued; `services login-url` prints WHM's one-time
// link once, on stdout only, and stores it nowhere.
func TestServicesChangePackageAndLoginURL(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		fake := whmfake.New(t, whmfake.Options{})
		whm, whmEnv := servetest.WHMInstance("whmtest", fake)
		e := servetest.New(t, servetest.Options{DSN: dsn, Plugins: []string{"whm"}, Instances: whm, Env: whmEnv})
		e.SetProducts(t, `products:
  - sku: hosting-basic
    name: Basic hosting
    fulfillment: {kind: provision, provisioner: whmtest, package: basic}
`)
		e.CLI(t, "migrate")
		m := e.NewMerchant(t, "Acme Hosting", "free")
		p := e.Serve(t)
		var s struct {
			SessionID string `json:"session_id"`
		}
		if code, raw := servetest.Call(t, "POST", p.Public+"/v1/sessions", m.Key, map[string]any{
			"domain": "shop.test", "amount": "49.95", "currency": "USD", "order_id": "HOST-CLI", "customer_email": "ann@customer.example",
			"items": []map[string]any{{"sku": "hosting-basic", "domain": "ann.example", "username": "annhost"}},
		}, &s); code != http.StatusCreated {
			t.Fatalf("create session: %d %s", code, raw)
		}
		servetest.PayWithSandbox(t, p, s.SessionID)
		show := func(id string) cliService {
			t.Helper()
			var d cliService
			if err := json.Unmarshal(e.CLI(t, "services", "show", id, "--json"), &d); err != nil {
				t.Fatal(err)
			}
			return d
		}
		var list []cliService
		deadline := time.Now().Add(90 * time.Second)
		for len(list) != 1 || list[0].Status != "active" {
			if time.Now().After(deadline) {
				t.Fatalf("no active service for the paid session: %+v", list)
			}
			time.Sleep(200 * time.Millisecond)
			if err := json.Unmarshal(e.CLI(t, "services", "list", "--session", s.SessionID, "--json"), &list); err != nil {
				t.Fatal(err)
			}
		}
		id := list[0].ID

		// A package WHM does not list (names are exact): refused, nothing queued.
		before := len(show(id).Actions)
		if out, stderr, err := e.TryCLI("services", "change-package", id, "Reseller_Gold"); err == nil || len(out) != 0 ||
			!strings.HasPrefix(stderr, "switchyard: unknown_package: ") || !strings.Contains(stderr, `"Reseller_Gold"`) {
			t.Fatalf("change-package Reseller_Gold: %v\n%s%s", err, out, stderr)
		}
		if n := len(show(id).Actions); n != before {
			t.Fatalf("a refused change-package queued an action: %d actions, had %d", n, before)
		}

		var queued cliService
		if err := json.Unmarshal(e.CLI(t, "services", "change-package", id, "reseller_gold", "--json"), &queued); err != nil {
			t.Fatal(err)
		}
		last := queued.Actions[len(queued.Actions)-1]
		if last.Action != "change_package" || last.Status != "pending" || !strings.HasPrefix(last.Source, "operator:cli") {
			t.Fatalf("change-package queued %+v", last)
		}
		deadline = time.Now().Add(90 * time.Second)
		for {
			d := show(id)
			if l := d.Actions[len(d.Actions)-1]; l.Action == "change_package" && l.Status == "done" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("serve did not make the package change: %+v", d.Actions)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if acct, _ := fake.Account("annhost"); acct.Plan != "reseller_gold" {
			t.Fatalf("account at WHM after change-package: %+v", acct)
		}
		calls := fake.Calls("changepackage")
		if len(calls) != 1 || calls[0].Params.Get("user") != "annhost" || calls[0].Params.Get("pkg") != "reseller_gold" {
			t.Fatalf("changepackage calls: %+v", calls)
		}
		var pkg struct{ Package string }
		if err := json.Unmarshal(e.CLI(t, "services", "show", id, "--json"), &pkg); err != nil || pkg.Package != "reseller_gold" {
			t.Fatalf("service package after the change: %q %v", pkg.Package, err)
		}

		out, stderr, err := e.TryCLI("services", "login-url", id)
		links := fake.Sessions()
		if err != nil || len(links) != 1 {
			t.Fatalf("login-url: %v, %d sessions at WHM\n%s", err, len(links), stderr)
		}
		if strings.TrimSpace(string(out)) != links[0] || strings.Count(string(out), links[0]) != 1 {
			t.Fatalf("login-url printed %q, want WHM's link %q once", out, links[0])
		}
		if strings.Contains(stderr, links[0]) {
			t.Fatalf("the login link reached stderr (logs): %s", stderr)
		}
		assertNotStored(t, dsn, links[0])
	})
}

// assertNotStored fails when any row of the tables a service, its
// actions, its events or jobs live in carries secret.
func assertNotStored(t *testing.T, dsn, secret string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, table := range []string{"services", "service_actions", "events", "river_job", "audit_log"} {
		rows, err := st.DB().QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			n++
			for i, v := range vals {
				if strings.Contains(fmt.Sprintf("%s", v), secret) {
					t.Errorf("%s.%s stores the login link", table, cols[i])
				}
			}
		}
		rows.Close()
		if table == "services" && n == 0 {
			t.Fatal("no services rows read: the check would see nothing")
		}
	}
}
