package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	consoleOperatorToken = "browser-test-operator-token"
	consoleViewerToken   = "browser-test-viewer-token-0"
)

// TestConsoleInBrowser drives the operator console in a real Chromium
// against the real switchyard binary and sandbox plugin: an operator signs
// in with the keyboard, creates a merchant, a site, an API key (shown
// once) and a webhook endpoint pointing at the demo inbox; a shopper pays
// a session made with that key; the operator finds it with a filtered
// search, reads its timeline, resends its webhook and refunds part of it;
// a forged form is rejected, a viewer is refused an action, and both sign
// out. Every page
// is checked for labels, the security policy and overflow at 390 px, and
// screenshotted at 1280 and 390 px into the artifacts directory
// ($SWITCHYARD_ARTIFACTS_DIR/console, else var/artifacts/console).
func TestConsoleInBrowser(t *testing.T) {
	chromium := requireChromium(t)
	bin, pluginDir := switchyardBinaries(t)
	sy := startSwitchyardWith(t, bin, pluginDir, serveOptions{
		AdminTokens: fmt.Sprintf(`[{name: alice, role: operator, token: %s}, {name: victor, role: viewer, token: %s}]`,
			consoleOperatorToken, consoleViewerToken),
		AdminExtra: "  demo_inbox: true",
	})
	shots := artifactsDir(t, "console")
	b := newBrowser(t, chromium)
	op := b.tab(t)
	shot := func(name string) {
		t.Helper()
		op.pageShots(t, shots, name)
	}

	// Sign in with the keyboard: the token field has focus, Enter submits.
	op.do(t, chromedp.Navigate(sy.admin+"/console/"), chromedp.WaitVisible(chromedp.CSS(`#token`)))
	op.wantPath(t, "/console/login")
	shot("login")
	op.do(t, chromedp.SendKeys(chromedp.CSS(`#token`), consoleOperatorToken+kb.Enter),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Overview"]`)))
	op.wantText(t, "Signed in as alice", "operator", "Today's payments")
	// The first Tab reaches the skip link, with a visible focus ring.
	op.do(t, chromedp.KeyEvent(kb.Tab))
	if got := op.eval(t, `document.activeElement.className + " " + getComputedStyle(document.activeElement).outlineStyle`); got != "skip solid" {
		t.Errorf("first Tab: %q, want the skip link with a solid outline", got)
	}

	// A merchant with a site, made in the console.
	op.do(t, chromedp.Navigate(sy.admin+"/console/merchants"), chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Console Hosting"),
		chromedp.SetValue(chromedp.CSS(`#plan`), "pro"),
		chromedp.SendKeys(chromedp.CSS(`#contact_email`), "ops@console.example"),
		chromedp.SendKeys(chromedp.CSS(`#domains`), "console.example"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Create merchant"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Console Hosting"]`)))
	op.wantText(t, "created on plan pro")
	merchantPath := op.location(t).Path
	op.do(t, chromedp.SendKeys(chromedp.CSS(`#domain`), "shop.example"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Add site"]`)),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(., "Site shop.example added.")]`)))

	// An API key, shown once.
	op.do(t, chromedp.SendKeys(chromedp.CSS(`#key-name`), "browser test"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Create key"]`)),
		chromedp.WaitVisible(chromedp.CSS(`output#new-key`)))
	key := strings.TrimSpace(op.text(t, `output#new-key`))
	if !strings.HasPrefix(key, "sk_test_") {
		t.Fatalf("new key %q", key)
	}
	op.wantText(t, "shown this once")
	shot("key-created")
	op.do(t, chromedp.Navigate(sy.admin+merchantPath), chromedp.WaitVisible(chromedp.CSS(`#key-name`)))
	if strings.Contains(op.text(t, "body"), key) {
		t.Errorf("the key is shown again on the merchant page")
	}
	shot("merchant")

	// An endpoint to the demo inbox; its secret is shown once.
	op.do(t, chromedp.Navigate(sy.admin+"/console/endpoints/new"), chromedp.WaitVisible(chromedp.CSS(`#url`)),
		chromedp.SendKeys(chromedp.CSS(`#merchant`), strings.TrimPrefix(merchantPath, "/console/merchants/")),
		chromedp.SendKeys(chromedp.CSS(`#url`), sy.admin+"/demo/inbox"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Add endpoint"]`)),
		chromedp.WaitVisible(chromedp.CSS(`output#secret`)))
	if secret := op.text(t, `output#secret`); !strings.HasPrefix(strings.TrimSpace(secret), "whsec_") {
		t.Errorf("endpoint secret %q", secret)
	}

	// A shopper pays a session made with the new key.
	s := sy.createSessionFor(t, key, "shop.example", "card")
	shopper := b.tab(t)
	shopper.do(t, chromedp.Navigate(s.CheckoutURL), chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Succeed"]`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Succeed"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Payment received"]`)))
	// An unpaid session of the same merchant, which the filters must leave out.
	other := sy.createSessionFor(t, key, "shop.example", "card")

	// Filtered search: paid sessions of this merchant.
	op.do(t, chromedp.Navigate(sy.admin+"/console/sessions"), chromedp.WaitVisible(chromedp.CSS(`#status`)),
		chromedp.SendKeys(chromedp.CSS(`#merchant`), strings.TrimPrefix(merchantPath, "/console/merchants/")),
		chromedp.SetValue(chromedp.CSS(`#status`), "paid"),
		chromedp.SetValue(chromedp.CSS(`#provider`), "sandbox"),
		// The unfiltered list shows the order too: mark this page and wait
		// for the filtered one to replace it.
		chromedp.SetAttributeValue(chromedp.CSS(`body`), "data-stale", "1"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Filter"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`body[data-stale]`)),
		chromedp.WaitVisible(chromedp.Search(`//a[normalize-space()="`+s.OrderID+`"]`)))
	if q := op.location(t).Query(); q.Get("status") != "paid" || q.Get("provider") != "sandbox" {
		t.Errorf("filter query %v", q)
	}
	if body := op.text(t, "body"); strings.Contains(body, other.OrderID) {
		t.Errorf("the open session is listed under status paid")
	}
	shot("sessions")

	// The timeline: attempt with the routing reason, the provider's event
	// with its raw request, the merchant event and its delivery.
	op.do(t, chromedp.Click(chromedp.Search(`//a[normalize-space()="`+s.OrderID+`"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h2[normalize-space()="Timeline"]`)))
	op.wantPath(t, "/console/sessions/"+s.SessionID)
	op.waitText(t, sy.admin+"/console/sessions/"+s.SessionID, "succeeded", `//span[contains(@class,"badge")][normalize-space()="succeeded"]`)
	op.wantText(t, "Session created", "Payment attempt 1", "Routing:", "Provider event payment.succeeded", "Merchant event session.created",
		"Merchant event session.paid", "/demo/inbox")
	op.do(t, chromedp.Click(chromedp.Search(`//summary[starts-with(normalize-space(), "Payload and raw request")]`)))
	op.wantText(t, "Request POST", "verified by the plugin", "Credentials are redacted")
	shot("session")

	// Resend the session.paid webhook from the timeline; it is delivered again.
	paidDelivery := op.eval(t, `(() => { const li = [...document.querySelectorAll("ol.timeline > li")].find(l => l.textContent.includes("Merchant event session.paid"));
		return li.querySelector("a.mono").textContent.trim(); })()`)
	op.do(t, chromedp.Click(chromedp.Search(`//button[normalize-space()="Resend `+paidDelivery+`"]`)),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(., "is scheduled to be sent again now")]`)))
	op.wantPath(t, "/console/sessions/"+s.SessionID)
	op.waitText(t, sy.admin+"/console/deliveries/"+paidDelivery, "the resend delivered", `//tr[td[normalize-space()="resend"]]//span[normalize-space()="succeeded"]`)
	op.wantText(t, "Attempts", "auto", "resend")
	shot("delivery")

	// A partial refund through the session page's form (the refunds
	// service the admin API uses); the sandbox settles it and the page
	// says so, with the provider's reference.
	sessionURL := sy.admin + "/console/sessions/" + s.SessionID
	op.do(t, chromedp.Navigate(sessionURL), chromedp.WaitVisible(chromedp.Search(`//summary[normalize-space()="Refund…"]`)))
	op.wantText(t, "No refunds.")
	op.do(t, chromedp.Click(chromedp.Search(`//summary[normalize-space()="Refund…"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#refund-amount`)),
		chromedp.SendKeys(chromedp.CSS(`#refund-amount`), "10.00"),
		chromedp.SetValue(chromedp.CSS(`#refund-reason`), "duplicate"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Refund"]`)),
		chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"flash")][contains(., "of USD 10.00 created")]`)))
	op.wantPath(t, "/console/sessions/"+s.SessionID)
	op.waitText(t, sessionURL, "the refund succeeded",
		`//section[@aria-labelledby="refunds"]//tr[td[contains(., "10.00")]][td/span[normalize-space()="succeeded"]][td[normalize-space()="duplicate"]]`)
	op.wantText(t, "partially_refunded", "Merchant event refund.created", "Merchant event refund.succeeded")
	if ref := op.eval(t, `document.querySelector('section[aria-labelledby="refunds"] tbody tr td:nth-child(6)').textContent.trim()`); ref == "" || ref == "–" {
		t.Errorf("the succeeded refund shows no provider reference (%q)", ref)
	}
	shot("session-refunded")

	// Deliveries filtered by result and event type, resend a selection.
	op.do(t, chromedp.Navigate(sy.admin+"/console/deliveries?status=succeeded&event_type=session.created"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="id"]`)),
		chromedp.Click(chromedp.CSS(`#select-all`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Resend selected"]`)),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(., "selected deliveries scheduled to be sent again")]`)))
	op.wantText(t, "2 of 2 selected deliveries")
	shot("deliveries")

	// A forged form: the CSRF token is wrong, nothing happens.
	op.do(t, chromedp.Navigate(sy.admin+"/console/endpoints"), chromedp.WaitVisible(chromedp.CSS(`table`)),
		chromedp.Click(chromedp.CSS(`table a[href^="/console/endpoints/ep_"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Send a test event"]`)))
	shot("endpoint")
	op.do(t, chromedp.SetAttributeValue(chromedp.CSS(`form[action$="/test"] input[name="csrf"]`), "value", "forged"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Send a test event"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Form rejected"]`)))
	op.wantText(t, "Nothing was changed")
	shot("csrf-rejected")

	op.do(t, chromedp.Navigate(sy.admin+"/console/plugins"), chromedp.WaitVisible(chromedp.Search(`//h2[starts-with(normalize-space(), "sandbox")]`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Test connection of sandbox"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#test-result`)))
	op.wantText(t, "connection OK")
	shot("plugins")
	op.do(t, chromedp.Navigate(sy.admin+"/console/"), chromedp.WaitVisible(chromedp.Search(`//h2[normalize-space()="Today's payments"]`)))
	op.wantText(t, "sandbox", "card", "USD 49.95", "100.0%")
	shot("overview")
	op.do(t, chromedp.Navigate(sy.admin+"/console/reviews"), chromedp.WaitVisible(chromedp.CSS(`#status`)))
	shot("reviews")

	// A viewer sees everything, can do nothing, and is recorded trying.
	viewer := b.isolatedTab(t)
	viewer.do(t, chromedp.Navigate(sy.admin+"/console/login"), chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), consoleViewerToken),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Sign in"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Overview"]`)),
		chromedp.Navigate(sy.admin+"/console/sessions/"+s.SessionID),
		chromedp.WaitVisible(chromedp.Search(`//h2[normalize-space()="Timeline"]`)))
	viewer.wantText(t, "Signed in as victor", "viewer role")
	if got := viewer.eval(t, `String(document.querySelector('form[action$="/resend"] button').disabled)`); got != "true" {
		t.Errorf("a viewer's resend button is enabled")
	}
	if got := viewer.eval(t, `String(document.querySelector('form[action$="/refunds"] button').disabled)`); got != "true" {
		t.Errorf("a viewer's refund button is enabled")
	}
	viewer.screenshot(t, filepath.Join(shots, "viewer-session-1280.png"), 1280, 900)
	viewer.do(t, chromedp.RemoveAttribute(chromedp.CSS(`form[action$="/resend"] button`), "disabled"),
		chromedp.Click(chromedp.CSS(`form[action$="/resend"] button`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Not allowed"]`)))
	viewer.wantText(t, "viewer role", "Nothing was changed")
	viewer.noCSPViolations(t)

	// The audit log has it all, refusals included.
	op.do(t, chromedp.Navigate(sy.admin+"/console/audit"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	op.wantText(t, "merchant.create", "site.add", "key.create", "endpoint.create", "delivery.resend", "delivery.resend_selected", "refund.create",
		"plugin.test", "login", "victor", "denied", "the viewer role can only read", "the form's CSRF token or origin was wrong")
	shot("audit")

	// Signing out ends the session.
	for _, tb := range []*tab{op, viewer} {
		tb.do(t, chromedp.Click(chromedp.Search(`//button[normalize-space()="Sign out"]`)),
			chromedp.WaitVisible(chromedp.Search(`//*[contains(., "You have signed out.")]`)),
			chromedp.Navigate(sy.admin+"/console/sessions"),
			chromedp.WaitVisible(chromedp.CSS(`#token`)))
		tb.wantPath(t, "/console/login")
	}
	op.noCSPViolations(t)
	t.Logf("console screenshots in %s", shots)
}

// pageShots checks the page's labels and that it fits 390 px, and writes
// its screenshots at 1280 and 390 px to dir as NAME-1280.png and
// NAME-390.png.
func (tb *tab) pageShots(t *testing.T, dir, name string) {
	t.Helper()
	tb.a11y(t)
	tb.screenshot(t, filepath.Join(dir, name+"-1280.png"), 1280, 900)
	tb.screenshot(t, filepath.Join(dir, name+"-390.png"), 390, 844)
	tb.noHorizontalOverflow(t, 390)
	tb.do(t, chromedp.EmulateViewport(1280, 900))
}

// createSessionFor creates a smart-routing session with key.
func (s *switchyard) createSessionFor(t *testing.T, key, site, method string) session {
	t.Helper()
	status, b := s.api(t, http.MethodPost, "/v1/sessions", key, map[string]any{
		"domain": site, "amount": "49.95", "currency": "USD", "method": method,
		"order_id": fmt.Sprintf("CONSOLE-%d", time.Now().UnixNano()), "return_url": "https://" + site + "/done",
	})
	if status != http.StatusCreated {
		t.Fatalf("POST /v1/sessions = %d: %s", status, b)
	}
	var out session
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// artifactsDir is where a browser test leaves its screenshots for review:
// $SWITCHYARD_ARTIFACTS_DIR/<name>, else var/artifacts/<name> in the
// module. It is emptied first.
func artifactsDir(t *testing.T, name string) string {
	t.Helper()
	base := os.Getenv("SWITCHYARD_ARTIFACTS_DIR")
	if base == "" {
		base = filepath.Join(moduleRoot(t), "var", "artifacts")
	}
	dir := filepath.Join(base, name)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// isolatedTab opens a tab in its own browser context (own cookies), for a
// second operator signed in at the same time.
func (b *browser) isolatedTab(t *testing.T) *tab {
	t.Helper()
	return b.tabWith(t, chromedp.WithNewBrowserContext())
}

func (tb *tab) eval(t *testing.T, js string) string {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func (tb *tab) text(t *testing.T, css string) string {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return v
}

// waitText reloads url until xpath shows up (background work such as a
// webhook delivery), for at most 20 seconds.
func (tb *tab) waitText(t *testing.T, url, what, xpath string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tb.do(t, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS(`main`)))
		n, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.evaluate(`+jsString(xpath)+`, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`))
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not shown at %s within 20s:\n%s", what, url, tb.text(t, "main"))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// a11y fails on form controls without a label and images without alt.
func (tb *tab) a11y(t *testing.T) {
	t.Helper()
	unlabeled := tb.eval(t, `[...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
		.filter(el => !el.hidden && !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
		.map(el => el.outerHTML.slice(0, 80)).join(' | ')`)
	if unlabeled != "" {
		t.Errorf("%s: controls without a label: %s", tb.location(t).Path, unlabeled)
	}
	if n := tb.eval(t, `String(document.querySelectorAll('h1').length) + (document.documentElement.lang ? "" : " no lang")`); n != "1" {
		t.Errorf("%s: %s h1 elements", tb.location(t).Path, n)
	}
}

// noHorizontalOverflow fails when the page is wider than the viewport:
// wide tables must scroll inside their own box.
func (tb *tab) noHorizontalOverflow(t *testing.T, width int) {
	t.Helper()
	tb.do(t, chromedp.EmulateViewport(int64(width), 844))
	if got := tb.eval(t, `String(document.documentElement.scrollWidth)`); got != fmt.Sprint(width) {
		wide := tb.eval(t, `[...document.querySelectorAll("body *")].filter(el => el.getBoundingClientRect().right > `+fmt.Sprint(width)+` && !el.closest(".table-scroll, pre")).slice(0, 5).map(el => el.tagName + "." + el.className + " " + Math.round(el.getBoundingClientRect().right)).join(", ")`)
		t.Errorf("%s at %d px: the page is %s px wide (%s)", tb.location(t).Path, width, got, wide)
	}
}
