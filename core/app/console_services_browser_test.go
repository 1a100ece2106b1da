package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/switchyard/switchyard/internal/servetest"
	"github.com/switchyard/switchyard/plugins/route53/awsfake"
	"github.com/switchyard/switchyard/plugins/smtp/smtptest"
	"github.com/switchyard/switchyard/plugins/whm/whmfake"
)

const (
	consoleAWSKeyID  = "AKIACONSOLEBROWSER01"
	consoleAWSSecret = "consoleBrowserSecret/0123456789abcdefgh"
	// The example configuration's viewer, which servetest leaves as it is.
	exampleViewerToken = "dev-viewer-token-change-me"
)

// consoleItemsEnv is `switchyard serve` (servetest, SQLite) with the real
// sandbox, whm, route53 and smtp plugin binaries: whm against whmfake over
// HTTPS with its certificate pinned, route53 against awsfake, smtp against
// the in-process SMTP server (a service's actions run in order, the
// service-ready mail first), a hosting product and a .com domain product,
// and a merchant's API key.
type consoleItemsEnv struct {
	whm  *whmfake.Server
	aws  *awsfake.Server
	smtp *smtptest.Server
	proc *servetest.Proc
	key  string
}

func newConsoleItemsEnv(t *testing.T) *consoleItemsEnv {
	t.Helper()
	c := &consoleItemsEnv{whm: whmfake.New(t, whmfake.Options{}), aws: awsfake.New(t, consoleAWSKeyID, consoleAWSSecret),
		smtp: smtptest.New(t, smtptest.Options{})}
	whm, whmEnv := servetest.WHMInstance("whmtest", c.whm)
	mail, mailEnv := servetest.SMTPInstance(t, "mailtest", c.smtp)
	registrar := fmt.Sprintf(`    - id: r53test
      kind: registrar
      binary: route53
      settings:
        access_key_id: %s
        secret_access_key: env:R53TEST_SECRET
        domains_endpoint: %s
        route53_endpoint: %s
`, consoleAWSKeyID, c.aws.URL(), c.aws.URL())
	env := append(append(whmEnv, mailEnv...),
		"R53TEST_SECRET="+consoleAWSSecret,
		"SWITCHYARD_MAIL__MAILER=mailtest",
		"SWITCHYARD_FULFILLMENT__RETRY_DELAY=1s",
		// Registrar operations are polled every fraction of a second.
		"SWITCHYARD_DOMAINS__POLL_INTERVAL=200ms",
		"SWITCHYARD_DOMAINS__POLL_MAX=1s")
	e := servetest.New(t, servetest.Options{DSN: "sqlite:" + filepath.Join(t.TempDir(), "sy.db"), Plugins: []string{"whm", "route53", "smtp"},
		Instances: whm + registrar + mail, Env: env})
	e.SetProducts(t, `products:
  - sku: hosting-basic
    name: Basic hosting
    fulfillment:
      kind: provision
      provisioner: whmtest
      package: basic
  - sku: domain-com
    name: A .com domain
    fulfillment:
      kind: register_domain
      registrar: r53test
      tlds: [com]
`)
	e.CLI(t, "migrate")
	var m struct{ ID int64 }
	if err := json.Unmarshal(e.CLI(t, "merchants", "create", "--name", "Console Hosting", "--plan", "free",
		"--domain", "shop.test", "--contact-email", "ops@shop.test", "--json"), &m); err != nil {
		t.Fatal(err)
	}
	var k struct{ Key string }
	if err := json.Unmarshal(e.CLI(t, "keys", "create", "--merchant", fmt.Sprint(m.ID), "--json"), &k); err != nil {
		t.Fatal(err)
	}
	c.key = k.Key
	c.proc = e.Serve(t)
	return c
}

// buy creates a session with a hosting item and a domain item and pays it
// on the sandbox's page.
func (c *consoleItemsEnv) buy(t *testing.T, order, username, hostDomain, domainName string) string {
	t.Helper()
	contact := map[string]string{"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.org", "phone": "+1.2025550100",
		"address1": "1 Navy Way", "city": "Arlington", "state": "VA", "postal_code": "22201", "country_code": "US"}
	var s struct {
		SessionID string `json:"session_id"`
	}
	if code, raw := servetest.Call(t, "POST", c.proc.Public+"/v1/sessions", c.key, map[string]any{
		"domain": "shop.test", "amount": "59.95", "currency": "USD", "order_id": order, "customer_email": username + "@customer.example",
		"items": []map[string]any{
			{"sku": "hosting-basic", "domain": hostDomain, "username": username},
			{"sku": "domain-com", "domain": domainName, "contact": contact},
		},
	}, &s); code != http.StatusCreated {
		t.Fatalf("create session: %d %s", code, raw)
	}
	servetest.PayWithSandbox(t, c.proc, s.SessionID)
	return s.SessionID
}

// waitWHM waits until whmfake received n calls of function for user.
func (c *consoleItemsEnv) waitWHM(t *testing.T, function, userParam, user string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := 0
		for _, call := range c.whm.Calls(function) {
			if call.Params.Get(userParam) == user {
				got++
			}
		}
		if got == n {
			return
		}
		if got > n || time.Now().After(deadline) {
			t.Fatalf("whmfake received %d %s calls for %s, want %d", got, function, user, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsoleServicesInBrowser drives the Services and Domains pages in a
// real Chromium against the real binary: a paid session with a hosting
// item and a domain item makes a WHM account (whm binary, whmfake) and
// registers the domain (route53 binary, awsfake). The operator filters
// the services by status, opens the service, suspends and unsuspends it
// (each seen at whmfake), gets a one-time login link shown once, changes
// its package (an unlisted one refused with the panel's list, a listed
// one made at whmfake); a viewer is refused; the domains list and a
// domain's page, its transfer lock toggled and a renewal made at awsfake; the
// session's page links both. Screenshots at 1280 and 390 px go to
// $SWITCHYARD_ARTIFACTS_DIR/console-services (else var/artifacts).
func TestConsoleServicesInBrowser(t *testing.T) {
	chromium := requireChromium(t)
	env := newConsoleItemsEnv(t)
	admin := env.proc.Admin
	sessionID := env.buy(t, "CONSOLE-ITEMS-1", "conshop", "console-host.example", "console-shop.com")
	env.waitWHM(t, "createacct", "username", "conshop", 1)

	shots := artifactsDir(t, "console-services")
	b := newBrowser(t, chromium)
	op := b.tab(t)
	op.do(t, chromedp.Navigate(admin+"/console/"), chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), servetest.AdminToken+kb.Enter),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Overview"]`)))

	// The services list, filtered by status: the active account is listed
	// under active, not under suspended.
	row := `//tr[td[normalize-space()="conshop"]]`
	op.waitText(t, admin+"/console/services", "the service is active", row+`//span[normalize-space()="active"]`)
	filter := func(status string) {
		t.Helper()
		op.do(t, chromedp.Navigate(admin+"/console/services"), chromedp.WaitVisible(chromedp.CSS(`#status`)),
			chromedp.SetValue(chromedp.CSS(`#status`), status),
			chromedp.SetAttributeValue(chromedp.CSS(`body`), "data-stale", "1"),
			chromedp.Click(chromedp.Search(`//button[normalize-space()="Filter"]`)),
			chromedp.WaitNotPresent(chromedp.CSS(`body[data-stale]`)),
			chromedp.WaitReady(chromedp.CSS(`main`)))
		if got := op.location(t).Query().Get("status"); got != status {
			t.Fatalf("filter status %q, want %q", got, status)
		}
	}
	filter("suspended")
	op.wantText(t, "No services match.")
	filter("active")
	op.wantText(t, "console-host.example", "hosting-basic · basic", "whmtest")
	op.pageShots(t, shots, "services")

	// The service's page.
	op.do(t, chromedp.Click(chromedp.Search(row+`//a[starts-with(normalize-space(), "svc_")]`)),
		chromedp.WaitVisible(chromedp.Search(`//h2[normalize-space()="Operate"]`)))
	servicePath := op.location(t).Path
	serviceURL := admin + servicePath
	op.wantText(t, "hosting-basic (provision)", "console-host.example", "conshop", "never shown", "Actions so far")
	op.pageShots(t, shots, "service")

	// Suspend, seen at WHM; then unsuspend.
	op.do(t, chromedp.Click(chromedp.Search(`//summary[normalize-space()="Suspend…"]`)),
		chromedp.SendKeys(chromedp.CSS(`#suspend-reason`), "abuse report"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Suspend service"]`)),
		chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"flash")][contains(., "suspension queued.")]`)))
	env.waitWHM(t, "suspendacct", "user", "conshop", 1)
	if call := env.whm.Calls("suspendacct"); call[0].Params.Get("reason") != "abuse report" {
		t.Errorf("suspendacct reason %q", call[0].Params.Get("reason"))
	}
	op.waitText(t, serviceURL, "the service is suspended", `//button[normalize-space()="Unsuspend"]`)
	op.wantText(t, "Suspended because", "abuse report")
	op.do(t, chromedp.Click(chromedp.Search(`//button[normalize-space()="Unsuspend"]`)),
		chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"flash")][contains(., "unsuspension queued.")]`)))
	env.waitWHM(t, "unsuspendacct", "user", "conshop", 1)
	op.waitText(t, serviceURL, "the service is active again", `//summary[normalize-space()="Suspend…"]`)
	if acct, _ := env.whm.Account("conshop"); acct.Suspended {
		t.Errorf("the account is still suspended at whmfake")
	}

	// A one-time login link, shown on the page that answers the form only.
	op.do(t, chromedp.Click(chromedp.Search(`//summary[normalize-space()="Login link…"]`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Make a login link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`output#login-link`)))
	link := strings.TrimSpace(op.text(t, `output#login-link`))
	if sessions := env.whm.Sessions(); len(sessions) != 1 || sessions[0] != link {
		t.Fatalf("login link %q, whmfake made %q", link, sessions)
	}
	op.wantText(t, "shown this once")
	op.pageShots(t, shots, "service-login-link")
	op.do(t, chromedp.Navigate(serviceURL), chromedp.WaitVisible(chromedp.Search(`//h2[normalize-space()="Operate"]`)))
	if strings.Contains(op.text(t, "body"), link) {
		t.Errorf("the login link is shown again on the service's page")
	}

	// Change of package: one the panel does not list is refused with the
	// ones it does; a listed one is made at WHM.
	changePackage := func(pkg string) {
		t.Helper()
		op.do(t, chromedp.Navigate(serviceURL), chromedp.WaitVisible(chromedp.Search(`//summary[normalize-space()="Change package…"]`)),
			chromedp.Click(chromedp.Search(`//summary[normalize-space()="Change package…"]`)),
			chromedp.SendKeys(chromedp.CSS(`#package`), pkg),
			chromedp.Click(chromedp.Search(`//button[normalize-space()="Change package"]`)),
			chromedp.WaitVisible(chromedp.CSS(`div.flash`)))
	}
	changePackage("platinum")
	op.wantText(t, `whmtest lists no package "platinum"`, "it lists: default, basic, root_premium, reseller_gold")
	if n := len(env.whm.Calls("changepackage")); n != 0 {
		t.Fatalf("an unlisted package reached WHM (%d changepackage calls)", n)
	}
	changePackage("root_premium")
	op.wantText(t, "change to package root_premium queued.")
	env.waitWHM(t, "changepackage", "user", "conshop", 1)
	op.waitText(t, serviceURL, "the package changed", `//dd[normalize-space()="root_premium"]`)

	// A viewer sees the service and can do nothing to it.
	viewer := b.isolatedTab(t)
	viewer.do(t, chromedp.Navigate(admin+"/console/login"), chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), exampleViewerToken+kb.Enter),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Overview"]`)),
		chromedp.Navigate(serviceURL), chromedp.WaitVisible(chromedp.Search(`//h2[normalize-space()="Operate"]`)))
	if got := viewer.eval(t, `String(document.querySelector('form[action$="/suspend"] button').disabled)`); got != "true" {
		t.Errorf("a viewer's suspend button is enabled")
	}
	viewer.do(t, chromedp.Click(chromedp.Search(`//summary[normalize-space()="Suspend…"]`)),
		chromedp.RemoveAttribute(chromedp.CSS(`form[action$="/suspend"] button`), "disabled"),
		chromedp.Click(chromedp.CSS(`form[action$="/suspend"] button`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Not allowed"]`)))
	viewer.wantText(t, "viewer role", "Nothing was changed")
	if n := len(env.whm.Calls("suspendacct")); n != 1 {
		t.Errorf("suspendacct calls after the viewer's try: %d, want 1", n)
	}
	viewer.noCSPViolations(t)

	// The domains list and the domain's page; the transfer lock is turned
	// off at the registrar.
	domRow := `//tr[td/a[normalize-space()="console-shop.com"]]`
	op.waitText(t, admin+"/console/domains?status=active", "the domain is registered", domRow+`//span[normalize-space()="active"]`)
	op.pageShots(t, shots, "domains")
	op.do(t, chromedp.Click(chromedp.Search(domRow+`//a`)),
		chromedp.WaitVisible(chromedp.Search(`//h2[normalize-space()="Registrar operations"]`)))
	domainURL := admin + op.location(t).Path
	op.wantText(t, "console-shop.com", "register", "succeeded", "Renew…", "Nameservers…")
	op.pageShots(t, shots, "domain")
	// The transfer lock, toggled from whatever the page says it is.
	locked := op.eval(t, `document.evaluate('//dt[normalize-space()="Transfer lock"]/following-sibling::dd[1]', document, null, XPathResult.STRING_TYPE, null).stringValue.trim()`) == "locked"
	button, call, after := "Lock transfers", "route53domains.EnableDomainTransferLock", "locked"
	if locked {
		button, call, after = "Unlock transfers", "route53domains.DisableDomainTransferLock", "unlocked"
	}
	op.do(t, chromedp.Click(chromedp.Search(`//summary[normalize-space()="`+button+`…"]`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="`+button+`"]`)),
		chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"flash")][contains(., "(operation dop_")]`)))
	op.waitText(t, domainURL, "the lock is toggled", `//dt[normalize-space()="Transfer lock"]/following-sibling::dd[1][normalize-space()="`+after+`"]`)
	if n := env.aws.Count(call); n != 1 {
		t.Errorf("%s calls: %d, want 1", call, n)
	}
	if d, ok := env.aws.Domain("console-shop.com"); !ok || d.Locked == locked {
		t.Errorf("awsfake's console-shop.com: %+v (exists %v), locked was %v", d, ok, locked)
	}

	// A renewal for two years, made at the registrar once.
	op.do(t, chromedp.Click(chromedp.Search(`//summary[normalize-space()="Renew…"]`)),
		chromedp.SetValue(chromedp.CSS(`#renew-years`), "2"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Renew domain"]`)),
		chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"flash")][contains(., "renewal for 2 years queued")]`)))
	op.waitText(t, domainURL, "the renewal succeeded", `//tr[td[normalize-space()="renew (2 y)"]]//span[normalize-space()="succeeded"]`)
	if n := env.aws.Count("route53domains.RenewDomain"); n != 1 {
		t.Errorf("RenewDomain calls: %d, want 1", n)
	}

	// The session's page lists both, linked.
	op.do(t, chromedp.Navigate(admin+"/console/sessions/"+sessionID), chromedp.WaitVisible(chromedp.Search(`//h2[normalize-space()="Services and domains"]`)))
	if got := op.eval(t, `[...document.querySelectorAll('section[aria-labelledby="items"] a')].map(a => a.getAttribute("href")).join(" ")`); !strings.Contains(got, servicePath) ||
		!strings.Contains(got, strings.TrimPrefix(domainURL, admin)) {
		t.Errorf("the session's page links %q, want %s and the domain", got, servicePath)
	}
	op.pageShots(t, shots, "session-items")

	op.do(t, chromedp.Navigate(admin+"/console/audit"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	op.wantText(t, "service.suspend", "service.unsuspend", "service.login_link", "service.change_package", "domain.transfer_lock", "domain.renew", "demo-viewer", "denied")
	if strings.Contains(op.text(t, "body"), link) {
		t.Errorf("the audit log shows the login link")
	}
	op.noCSPViolations(t)
	t.Logf("console screenshots in %s", shots)
}
