package httpapi_test

import (
	"bytes"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// TestConsoleServiceActions: each action form on a service's page calls
// the matching fulfillment operation for that service with the trimmed
// reason and the signed-in operator, answers with a notice on the service
// page, and is audited on the service, refusals included.
func TestConsoleServiceActions(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newConsoleHarness(t, st, harnessOptions{})
		b := h.browser()
		csrf := b.login(t, operatorToken)
		for _, tc := range []struct {
			action, id, reason string
			wantOutcome        string
			wantNotice         string
		}{
			{"suspend", fakeActiveID, "  abuse report  ", audit.OK, "Service " + fakeActiveID + ": suspension queued."},
			{"unsuspend", fakeActiveID, "", audit.OK, "Service " + fakeActiveID + ": unsuspension queued."},
			{"terminate", fakeActiveID, "customer left", audit.OK, "Service " + fakeActiveID + ": termination queued."},
			{"retry", fakeServiceID, "", audit.OK, "Service " + fakeServiceID + ": the failed actions are queued again."},
			{"resume", fakeActiveID, "", audit.OK, "Service " + fakeActiveID + ": resumed; its paused actions are queued again."},
			{"suspend", "svc_terminated", "late", audit.Failed, "cannot suspend a service that is terminated"},
		} {
			t.Run(tc.action+" "+tc.id, func(t *testing.T) {
				page := "/console/services/" + tc.id
				rec := b.do(http.MethodPost, page+"/"+tc.action, url.Values{"csrf": {csrf}, "reason": {tc.reason}})
				if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != page {
					t.Fatalf("%s: %d %q\n%s", tc.action, rec.Code, rec.Header().Get("Location"), rec.Body)
				}
				got := h.services.lastCall()
				if got.Op != tc.action || got.ID != tc.id || got.In.Reason != strings.TrimSpace(tc.reason) ||
					got.In.Operator != "console:alice" || got.In.Package != "" {
					t.Errorf("the service got %+v", got)
				}
				e := h.lastAudit(t)
				if e.Action != "service."+tc.action || e.TargetType != "service" || e.TargetID != tc.id || e.Outcome != tc.wantOutcome ||
					e.Actor != "alice" || e.Via != audit.ViaConsole {
					t.Errorf("audit %+v", e)
				}
				next := html.UnescapeString(b.do(http.MethodGet, page, nil).Body.String())
				if !strings.Contains(next, tc.wantNotice) {
					t.Errorf("notice %q missing:\n%s", tc.wantNotice, next)
				}
			})
		}
	})
}

// TestConsoleServiceLoginLink: the login link the provisioner makes is on
// the page that answers the form, once and never cached; it is not on the
// service's page afterwards, nor in the audit log, its page or the log.
func TestConsoleServiceLoginLink(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		var logs bytes.Buffer
		h := newConsoleHarness(t, st, harnessOptions{logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		b := h.browser()
		csrf := b.login(t, operatorToken)
		page := "/console/services/" + fakeActiveID

		rec := b.do(http.MethodPost, page+"/login-link", url.Values{"csrf": {csrf}, "service": {"webmail"}})
		if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("login link: %d %q\n%s", rec.Code, rec.Header().Get("Cache-Control"), rec.Body)
		}
		body := html.UnescapeString(rec.Body.String())
		if n := strings.Count(body, fakeLoginURL); n != 1 {
			t.Errorf("the login link is on its page %d times, want once:\n%s", n, body)
		}
		if !strings.Contains(body, "shown this once") || !strings.Contains(body, "2026-12-05 10:05:00 UTC") {
			t.Errorf("the page does not say the link is shown once and until when:\n%s", body)
		}
		if got := h.services.lastCall(); got.Op != "LoginURL" || got.ID != fakeActiveID || got.Service != "webmail" {
			t.Errorf("the service got %+v", got)
		}
		e := h.lastAudit(t)
		if e.Action != "service.login_link" || e.TargetType != "service" || e.TargetID != fakeActiveID || e.Outcome != audit.OK ||
			e.Detail != "one-time webmail login link made, valid until 2026-12-05T10:05:00Z" {
			t.Errorf("audit %+v", e)
		}

		// Bad input and refusals: nothing asked of the provisioner for an
		// unknown login, the service's refusal as a notice; both audited.
		h.fakes.reset()
		rec = b.do(http.MethodPost, page+"/login-link", url.Values{"csrf": {csrf}, "service": {"ftp"}})
		if rec.Code != http.StatusSeeOther || h.fakes.calls["LoginURL"] != 0 {
			t.Errorf("unknown login: %d, %d provisioner calls", rec.Code, h.fakes.calls["LoginURL"])
		}
		if e := h.lastAudit(t); e.Action != "service.login_link" || e.Outcome != audit.Failed || e.Detail != "service must be panel or webmail" {
			t.Errorf("unknown login audit %+v", e)
		}
		rec = b.do(http.MethodPost, "/console/services/svc_terminated/login-link", url.Values{"csrf": {csrf}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/services/svc_terminated" {
			t.Errorf("terminated: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		if got := h.services.lastCall(); got.Service != "" {
			t.Errorf("no service chosen: the provisioner got %q", got.Service)
		}

		// Afterwards the link is nowhere to be read again.
		for _, path := range []string{page, "/console/audit"} {
			if body := html.UnescapeString(b.do(http.MethodGet, path, nil).Body.String()); strings.Contains(body, "ONE-TIME-SECRET") {
				t.Errorf("%s shows the login link again", path)
			}
		}
		if strings.Contains(logs.String(), "ONE-TIME-SECRET") {
			t.Errorf("the login link was logged:\n%s", logs.String())
		}
		if !strings.Contains(logs.String(), "service.login_link") {
			t.Errorf("the audit log wrote no line for the login link, so the check above proves nothing:\n%s", logs.String())
		}
	})
}

// TestConsoleServiceChangePackage: the service's page offers the change
// of package; the form's package (trimmed) and reason reach fulfillment's
// ChangePackage for the signed-in operator, and a package the panel does
// not list comes back as the notice naming the ones it does, audited as
// failed.
func TestConsoleServiceChangePackage(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newConsoleHarness(t, st, harnessOptions{})
		b := h.browser()
		csrf := b.login(t, operatorToken)
		page := "/console/services/" + fakeActiveID
		if body := b.do(http.MethodGet, page, nil).Body.String(); !strings.Contains(body, `action="`+page+`/change-package"`) ||
			!strings.Contains(body, "New package (now gold)") {
			t.Fatalf("the service's page offers no change of package:\n%s", body)
		}
		for _, tc := range []struct {
			name, pkg, wantPkg, wantOutcome, wantNotice, wantDetail string
		}{
			{"listed", " silver ", "silver", audit.OK, "Service " + fakeActiveID + ": change to package silver queued.",
				"Service " + fakeActiveID + ": change to package silver queued."},
			{"not listed", "platinum", "platinum", audit.Failed, `whm lists no package "platinum" (names are exact, reseller prefix included); it lists: gold, silver`,
				`whm lists no package "platinum" (names are exact, reseller prefix included); it lists: gold, silver`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rec := b.do(http.MethodPost, page+"/change-package", url.Values{"csrf": {csrf}, "package": {tc.pkg}, "reason": {"upgrade "}})
				if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != page {
					t.Fatalf("change-package: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
				}
				if got := h.services.lastCall(); got.Op != "change-package" || got.ID != fakeActiveID || got.In.Package != tc.wantPkg ||
					got.In.Reason != "upgrade" || got.In.Operator != "console:alice" {
					t.Errorf("the service got %+v", got)
				}
				e := h.lastAudit(t)
				if e.Action != "service.change_package" || e.TargetType != "service" || e.TargetID != fakeActiveID || e.Outcome != tc.wantOutcome ||
					e.Detail != tc.wantDetail {
					t.Errorf("audit %+v", e)
				}
				next := html.UnescapeString(b.do(http.MethodGet, page, nil).Body.String())
				if !strings.Contains(next, tc.wantNotice) {
					t.Errorf("notice %q missing:\n%s", tc.wantNotice, next)
				}
			})
		}
	})
}

// TestConsoleSessionItems: a session's page lists the services and
// domains its items made, asked of the services by that session, with
// links to their pages.
func TestConsoleSessionItems(t *testing.T) {
	h := newConsoleHarness(t, storetest.SQLite(t), harnessOptions{})
	b := h.browser()
	b.login(t, operatorToken)
	rec := b.do(http.MethodGet, "/console/sessions/"+fakeSessionID, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("session page: %d\n%s", rec.Code, rec.Body)
	}
	if got := h.services.lastCall(); got.Op != "ListServices" || got.List.SessionID != fakeSessionID || got.List.Limit != 51 {
		t.Errorf("the services were asked %+v", got)
	}
	body := html.UnescapeString(rec.Body.String())
	for _, want := range []string{`<h2 id="items">Services and domains</h2>`, `href="/console/services/` + fakeServiceID + `"`,
		`href="/console/domains/` + fakeDomainID + `">bücher.example</a>`, "HOST-GOLD · gold"} {
		if !strings.Contains(body, want) {
			t.Errorf("the session page lacks %q", want)
		}
	}
	if strings.Contains(body, "Only the first") {
		t.Errorf("a session with one service and one domain says its list is cut")
	}
}
