package httpapi_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// TestConsoleRefund: the session page's refund form calls the refunds
// service as an operator (the admin API's caller), with the amount as the
// API takes it (omitted when empty: everything left), the reason and the
// form's Idempotency-Key; the outcome is a notice on the session page and
// an audit entry, refusals included.
func TestConsoleRefund(t *testing.T) {
	h := newConsoleHarness(t, storetest.SQLite(t), harnessOptions{})
	b := h.browser()
	b.login(t, operatorToken)
	sessionPath := "/console/sessions/" + fakeSessionID
	page := b.do(http.MethodGet, sessionPath, nil).Body.String()
	csrf := csrfOf(t, page)
	key := regexpKey.FindStringSubmatch(page)
	if key == nil {
		t.Fatalf("no idempotency key in the refund form:\n%s", page)
	}
	if again := regexpKey.FindStringSubmatch(b.do(http.MethodGet, sessionPath, nil).Body.String()); again == nil || again[1] == key[1] {
		t.Errorf("the refund form's key is not fresh on each rendering: %q then %v", key[1], again)
	}

	for _, tc := range []struct {
		name        string
		form        url.Values
		wantAmount  string
		wantOutcome string
		wantNotice  string
	}{
		{"partial", url.Values{"amount": {" 10.00 "}, "reason": {"duplicate"}, "idempotency_key": {key[1]}}, `"10.00"`, audit.OK,
			"Refund " + fakeRefundID + " of USD 10.00 created: it is pending until the provider settles it."},
		{"everything left", url.Values{"amount": {""}, "reason": {"other"}}, "", audit.OK, "Refund " + fakeRefundID + " of USD 49.95 created"},
		{"too much", url.Values{"amount": {"999.00"}}, `"999.00"`, audit.Failed, "amount exceeds what is left to refund (39.95 USD)"},
		{"bad reason", url.Values{"reason": {"bored"}}, "", audit.Failed, "reason must be one of"},
		{"resubmitted", url.Values{"amount": {"10.00"}, "idempotency_key": {"replayed"}}, `"10.00"`, audit.OK,
			"This form was already sent: refund " + fakeRefundID + " of USD 10.00 is pending."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf", csrf)
			rec := b.do(http.MethodPost, sessionPath+"/refunds", tc.form)
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != sessionPath {
				t.Fatalf("refund: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
			}
			got := h.fakes.lastRefund
			if got.Caller.MerchantID != 0 || got.Caller.Source != domain.RefundSourceOperator || got.SessionID != fakeSessionID ||
				got.Amount != tc.wantAmount || got.Reason != tc.form.Get("reason") || got.IdemKey != tc.form.Get("idempotency_key") {
				t.Errorf("the service got %+v", got)
			}
			e := h.lastAudit(t)
			if e.Action != "refund.create" || e.TargetType != "session" || e.TargetID != fakeSessionID || e.Outcome != tc.wantOutcome || e.Actor != "alice" {
				t.Errorf("audit %+v", e)
			}
			if tc.wantOutcome == audit.OK && !strings.Contains(e.Detail, fakeRefundID) {
				t.Errorf("audit detail %q does not name the refund", e.Detail)
			}
			next := html.UnescapeString(b.do(http.MethodGet, sessionPath, nil).Body.String())
			if !strings.Contains(next, tc.wantNotice) {
				t.Errorf("notice %q missing:\n%s", tc.wantNotice, next)
			}
		})
	}
}

var regexpKey = regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`)
