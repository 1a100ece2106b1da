package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/internal/servetest"
	"github.com/switchyard/switchyard/plugins/stripe/stripefake"
	"github.com/switchyard/switchyard/plugins/stripe/stripeprovider"
	"github.com/switchyard/switchyard/plugins/whm/whmfake"
)

// The cases of issue 15's item 7 beyond the lifecycle and the outage
// (fulfillment_e2e_test.go), each through `switchyard serve` with the real
// plugin binaries on SQLite and PostgreSQL.

// sessionStatus is a session's status through the merchant API.
func (h *hostingEnv) sessionStatus(t *testing.T, id string) string {
	t.Helper()
	var s struct{ Status string }
	if code, raw := servetest.Call(t, "GET", h.proc.Public+"/v1/sessions/"+id, h.key, nil, &s); code != http.StatusOK {
		t.Fatalf("GET session: %d %s", code, raw)
	}
	return s.Status
}

// services lists a session's services through the admin API.
func (h *hostingEnv) services(t *testing.T, sessionID string) []fulfillment.ServiceView {
	t.Helper()
	var l struct{ Data []fulfillment.ServiceView }
	if code, raw := servetest.Call(t, "GET", h.proc.Admin+"/admin/v1/services?session="+sessionID, servetest.AdminToken, nil, &l); code != http.StatusOK {
		t.Fatalf("admin services: %d %s", code, raw)
	}
	return l.Data
}

// service is one service with its actions through the admin API.
func (h *hostingEnv) service(t *testing.T, id string) fulfillment.ServiceDetail {
	t.Helper()
	var d fulfillment.ServiceDetail
	if code, raw := servetest.Call(t, "GET", h.proc.Admin+"/admin/v1/services/"+id, servetest.AdminToken, nil, &d); code != http.StatusOK || d.ServiceView == nil {
		t.Fatalf("admin service %s: %d %s", id, code, raw)
	}
	return d
}

// onlyService is the one service of a session.
func (h *hostingEnv) onlyService(t *testing.T, sessionID string) fulfillment.ServiceDetail {
	t.Helper()
	ss := h.services(t, sessionID)
	if len(ss) != 1 {
		t.Fatalf("session %s has %d services, want 1", sessionID, len(ss))
	}
	return h.service(t, ss[0].ID)
}

// actionsOf lists a service's actions as "action/status/source".
func actionsOf(d fulfillment.ServiceDetail) string {
	var out []string
	for _, a := range d.Actions {
		out = append(out, string(a.Action)+"/"+string(a.Status)+"/"+a.Source)
	}
	return strings.Join(out, " ")
}

// TestServeHostingAdoptsAfterLostAnswer: WHM makes the account but the
// answer to createacct never comes back (the connection drops). The action
// is retried; the retry finds the account with accountsummary and adopts
// it (its password reset with passwd to the one mailed): one createacct,
// one account, the service active after two attempts.
func TestServeHostingAdoptsAfterLostAnswer(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		h := newHostingEnv(t, dsn)
		h.whm.Inject("createacct", whmfake.Fault{Kind: whmfake.DropAfterApply})
		id := h.buyHosting(t, "HOST-3", "shopthree", "shop-three.example")

		activated := h.hooks.wait(t, "service.activated", 1)
		if !strings.Contains(activated[0], id) {
			t.Fatalf("service.activated: %s", activated[0])
		}
		acct, ok := h.whm.Account("shopthree")
		if !ok || acct.Domain != "shop-three.example" || h.whm.Accounts() != 1 {
			t.Fatalf("accounts on whmfake: %d, shopthree %+v", h.whm.Accounts(), acct)
		}
		if n := len(h.whm.Calls("createacct")); n != 1 {
			t.Fatalf("createacct calls: %d, want 1 (the retry adopts, it does not create)", n)
		}
		if n := len(h.waitCalls(t, "passwd", "user", "shopthree", 1)); n != 1 {
			t.Fatalf("passwd calls: %d, want 1 (the adopted account gets the password that is mailed)", n)
		}
		if n := len(h.waitCalls(t, "accountsummary", "user", "shopthree", 2)); n < 2 {
			t.Fatalf("accountsummary calls: %d, want one per attempt", n)
		}
		_, text := h.waitMail(t, "service_ready", "shopthree@customer.example")
		if !strings.Contains(text, acct.Password) {
			t.Fatalf("the service-ready mail does not carry the adopted account's password:\n%s", text)
		}
		d := h.onlyService(t, id)
		if d.Status != "active" || len(d.Actions) == 0 || d.Actions[0].Action != "create" || d.Actions[0].Status != "done" || d.Actions[0].Attempts != 2 {
			t.Fatalf("service %s %s, create attempts %v; want active, create done after 2 attempts", d.Status, actionsOf(d), d.Actions)
		}
	})
}

// TestServeHostingReviewHoldsProvisioning: the shopper pays 10.00 of
// 49.95; the session is held for review and has no service (so nothing
// can be provisioned) until an operator accepts the review through the
// admin API; then exactly one account is made.
func TestServeHostingReviewHoldsProvisioning(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		h := newHostingEnv(t, dsn)
		id := h.hostingSession(t, "HOST-4", "shopfour", "shop-four.example", "")
		servetest.PayWithSandboxAmount(t, h.proc, id, 1000, "USD")
		if st := h.sessionStatus(t, id); st != "requires_review" {
			t.Fatalf("underpaid session: %s, want requires_review", st)
		}
		if ss := h.services(t, id); len(ss) != 0 {
			t.Fatalf("a session in review has services: %+v", ss)
		}
		if n := len(h.whm.Calls("createacct")); n != 0 || h.whm.Accounts() != 0 {
			t.Fatalf("held session provisioned: %d createacct, %d accounts", n, h.whm.Accounts())
		}

		var reviews struct {
			Data []struct {
				ID        string
				SessionID string `json:"session_id"`
			}
		}
		if code, raw := servetest.Call(t, "GET", h.proc.Admin+"/admin/v1/reviews?status=open", servetest.AdminToken, nil, &reviews); code != http.StatusOK ||
			len(reviews.Data) != 1 || reviews.Data[0].SessionID != id {
			t.Fatalf("open reviews: %d %s", code, raw)
		}
		if code, raw := servetest.Call(t, "POST", h.proc.Admin+"/admin/v1/reviews/"+reviews.Data[0].ID+"/resolve", servetest.AdminToken,
			map[string]string{"action": "accept", "note": "the rest came by bank transfer"}, nil); code != http.StatusOK {
			t.Fatalf("accept: %d %s", code, raw)
		}

		h.hooks.wait(t, "service.activated", 1)
		if n := len(h.waitCalls(t, "createacct", "username", "shopfour", 1)); n != 1 || h.whm.Accounts() != 1 {
			t.Fatalf("after accept: %d createacct, %d accounts; want 1, 1", n, h.whm.Accounts())
		}
		h.waitMail(t, "service_ready", "shopfour@customer.example")
		if st := h.sessionStatus(t, id); st != "paid" {
			t.Errorf("session after accept: %s, want paid", st)
		}
	})
}

// TestServeHostingWrongPackageRefused: a package WHM's listpkgs does not
// list is refused when the configuration is made, never at the first paid
// order — through the admin API (422 unknown_package, nothing stored or
// changed), and for a product of the file by `switchyard plugins test`
// and by serve, which does not start, each naming product and package.
func TestServeHostingWrongPackageRefused(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		h := newHostingEnv(t, dsn)
		products := h.proc.Admin + "/admin/v1/products"
		skus := func() string {
			t.Helper()
			var l struct{ Data []fulfillment.Product }
			if code, raw := servetest.Call(t, "GET", products, servetest.AdminToken, nil, &l); code != http.StatusOK {
				t.Fatalf("list products: %d %s", code, raw)
			}
			var out []string
			for _, p := range l.Data {
				out = append(out, p.SKU+"="+p.Fulfillment.Package)
			}
			return strings.Join(out, " ")
		}
		product := func(pkg string) map[string]any {
			return map[string]any{"sku": "hosting-gold", "name": "Gold hosting",
				"fulfillment": map[string]any{"kind": "provision", "provisioner": "whmtest", "package": pkg}}
		}
		wantUnknownPackage := func(what string, code int, raw []byte, pkg string) {
			t.Helper()
			var e struct {
				Error struct{ Code, Field, Message string }
			}
			if code != http.StatusUnprocessableEntity || json.Unmarshal(raw, &e) != nil || e.Error.Code != "unknown_package" ||
				e.Error.Field != "fulfillment.package" || !strings.Contains(e.Error.Message, `"`+pkg+`"`) {
				t.Fatalf("%s: %d %s, want 422 unknown_package naming %q", what, code, raw, pkg)
			}
		}
		before := skus()
		code, raw := servetest.Call(t, "POST", products, servetest.AdminToken, product("gold"), nil)
		wantUnknownPackage("create with package gold", code, raw, "gold")
		if got := skus(); got != before {
			t.Fatalf("a refused product was stored: %s (before %s)", got, before)
		}
		// Names are exact: the listed reseller_gold is accepted, Reseller_Gold is not.
		var p fulfillment.Product
		if code, raw := servetest.Call(t, "POST", products, servetest.AdminToken, product("reseller_gold"), &p); code != http.StatusCreated {
			t.Fatalf("create with a listed package: %d %s", code, raw)
		}
		code, raw = servetest.Call(t, "PUT", products+"/"+p.ID, servetest.AdminToken, product("Reseller_Gold"), nil)
		wantUnknownPackage("update to Reseller_Gold", code, raw, "Reseller_Gold")
		if got := skus(); got != before+" hosting-gold=reseller_gold" {
			t.Fatalf("products after a refused update: %s", got)
		}

		// The file names a package WHM does not list: serve refuses to start.
		h.proc.Kill9(t)
		cfg, rerr := os.ReadFile(h.env.Config)
		if rerr != nil {
			t.Fatal(rerr)
		}
		const good = "      provisioner: whmtest\n      package: basic\n"
		if !strings.Contains(string(cfg), good) {
			t.Fatal("the hosting product is not in the configuration")
		}
		if err := os.WriteFile(h.env.Config, []byte(strings.Replace(string(cfg), good, "      provisioner: whmtest\n      package: platinum\n", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		// `plugins test` checks the packages of the file's products on the
		// instance, naming the product.
		out, stderr, err := h.env.TryCLI("plugins", "test", "whmtest")
		if err == nil || !strings.Contains(string(out), `package "platinum": NOT FOUND`) ||
			!strings.Contains(stderr, `products (sku hosting-basic) uses package "platinum"`) {
			t.Fatalf("plugins test with package platinum in the file: %v\n%s%s", err, out, stderr)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, stderr, err = h.env.TryCLIContext(ctx, "serve")
		if ctx.Err() != nil {
			t.Fatalf("serve kept running with a package WHM does not list:\n%s", out)
		}
		if err == nil || strings.Contains(string(out), "listener") ||
			!regexp.MustCompile(`switchyard: .*hosting-basic.*whmtest lists no package "platinum"`).MatchString(stderr) {
			t.Fatalf("serve with package platinum: %v\nstdout: %s\nstderr (tail): %s", err, out, tail(stderr, 2000))
		}
		if n := len(h.whm.Calls("createacct")); n != 0 {
			t.Errorf("createacct calls: %d, want none", n)
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// stripeTestKey and stripeTestWhsec configure the stripe instance of the
// dispute test (stripefake accepts any sk_test_ key).
const (
	stripeTestKey   = "sk_test_FulfillmentE2EKey000000000000"
	stripeTestWhsec = "whsec_fulfillment_e2e_secret_000000001"
)

var fakeCheckoutSession = regexp.MustCompile(`cs_test_fake[0-9]+`)

// TestServeHostingDisputePausesRefund: a hosting session paid through the
// real stripe plugin (against stripefake, events signed as Stripe signs
// them) is active; a dispute (charge.dispute.created) pauses the service;
// a full refund reported by Stripe then (charge.refunded) queues the
// suspension paused, and WHM sees no suspendacct while the service waits;
// once an operator resumes the service through the admin API the
// suspension runs and service.suspended is delivered.
func TestServeHostingDisputePausesRefund(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		fake := stripefake.New(t)
		h := prepareHosting(t, dsn, hostingOptions{plugins: []string{"stripe"}, plan: "unlimited", routeTo: "stripe_e2e",
			instances: `    - id: stripe_e2e
      kind: provider
      binary: stripe
      enabled: true
      settings:
        secret_key: ` + stripeTestKey + `
        webhook_secrets: ` + stripeTestWhsec + `
        mode: test
        api_base: ` + fake.URL() + `
`})
		h.proc = h.env.Serve(t)
		hook := h.proc.Public + "/hooks/stripe/stripe_e2e"
		stripeEvent := func(id, typ string, object, previous map[string]any) {
			t.Helper()
			hdr, body := stripefake.Event(stripeTestWhsec, id, typ, object, previous)
			servetest.PostWebhook(t, hook, hdr, body)
		}

		id := h.hostingSession(t, "HOST-5", "shopfive", "shop-five.example", "card")
		resp, err := servetest.Client.PostForm(h.proc.Public+"/checkout/"+id+"/pay", map[string][]string{"method": {"card"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cs := fakeCheckoutSession.FindString(resp.Header.Get("Location"))
		if cs == "" {
			t.Fatalf("the checkout did not send the shopper to a Stripe Checkout Session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		pi := fake.Pay("", cs)
		stripeEvent("evt_host5_paid", "checkout.session.completed", map[string]any{
			"id": cs, "object": "checkout.session", "mode": "payment", "amount_total": 4995, "currency": "usd",
			"client_reference_id": id, "metadata": map[string]string{stripeprovider.MetaSessionID: id},
			"payment_intent": pi, "payment_status": "paid", "status": "complete",
		}, nil)
		h.hooks.wait(t, "service.activated", 1)
		h.waitMail(t, "service_ready", "shopfive@customer.example")

		stripeEvent("evt_host5_dispute", "charge.dispute.created", map[string]any{
			"id": "dp_host5", "object": "dispute", "amount": 4995, "currency": "usd", "charge": "ch_fake_" + cs,
			"payment_intent": pi, "reason": "fraudulent", "status": "needs_response", "metadata": map[string]string{},
		}, nil)
		if st := h.sessionStatus(t, id); st != "disputed" {
			t.Fatalf("after charge.dispute.created: %s, want disputed", st)
		}
		d := h.onlyService(t, id)
		if !d.Paused || d.Status != "active" || d.PauseReason == nil || !strings.Contains(*d.PauseReason, "dispute") {
			t.Fatalf("service after the dispute: %s paused %v (%v)", d.Status, d.Paused, d.PauseReason)
		}

		stripeEvent("evt_host5_refund", "charge.refunded", map[string]any{
			"id": "ch_fake_" + cs, "object": "charge", "amount": 4995, "amount_refunded": 4995, "currency": "usd", "payment_intent": pi,
			"refunds": map[string]any{"data": []map[string]any{{"id": "re_host5", "amount": 4995, "created": time.Now().Unix()}}},
		}, map[string]any{"amount_refunded": 0})
		// The webhook is answered after the refund and its paused action
		// are committed: the suspension exists, paused, with no job.
		d = h.service(t, d.ID)
		if got := actionsOf(d); !strings.Contains(got, "suspend/paused/refund") || d.Status != "active" {
			t.Fatalf("service after the refund while disputed: %s, actions %s; want active with a paused suspend", d.Status, got)
		}
		if n := len(h.whm.Calls("suspendacct")); n != 0 {
			t.Fatalf("suspendacct calls while paused: %d", n)
		}
		if acct, _ := h.whm.Account("shopfive"); acct.Suspended {
			t.Fatal("the account was suspended while the service was paused")
		}

		if code, raw := servetest.Call(t, "POST", h.proc.Admin+"/admin/v1/services/"+d.ID+"/resume", servetest.AdminToken,
			map[string]string{"reason": "dispute reviewed"}, nil); code != http.StatusAccepted {
			t.Fatalf("resume: %d %s", code, raw)
		}
		suspended := h.hooks.wait(t, "service.suspended", 1)
		if n := len(h.waitCalls(t, "suspendacct", "user", "shopfive", 1)); n != 1 {
			t.Fatalf("suspendacct calls after resume: %d, want 1", n)
		}
		if acct, _ := h.whm.Account("shopfive"); !acct.Suspended {
			t.Fatalf("account not suspended after resume: %+v", acct)
		}
		if !strings.Contains(suspended[0], d.ID) {
			t.Errorf("service.suspended: %s", suspended[0])
		}
		if d = h.service(t, d.ID); d.Paused || d.Status != "suspended" {
			t.Errorf("service after resume: %s paused %v, actions %s", d.Status, d.Paused, actionsOf(d))
		}
	})
}
