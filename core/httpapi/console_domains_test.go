package httpapi_test

import (
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// TestConsoleDomainActions: the forms on an active domain's page start
// the domains service's operations for that domain and the signed-in
// operator (renew with its years, the transfer lock, the nameservers as
// pasted); bad input is refused before the service, the service's
// refusals come back as the notice, and each is audited on the domain.
func TestConsoleDomainActions(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newConsoleHarness(t, st, harnessOptions{})
		b := h.browser()
		csrf := b.login(t, operatorToken)
		page := "/console/domains/" + fakeDomainID
		body := html.UnescapeString(b.do(http.MethodGet, page, nil).Body.String())
		for _, want := range []string{`action="` + page + `/renew"`, "Unlock transfers…", `name="locked" value="false"`,
			`action="` + page + `/nameservers"`, "ns-1.awsdns.example\n</textarea>"} {
			if !strings.Contains(body, want) {
				t.Errorf("the domain's page lacks %q", want)
			}
		}
		for _, tc := range []struct {
			name, action string
			form         url.Values
			want         *domainCall // nil: the service is not asked
			outcome      string
			notice       string
		}{
			{"renew", "renew", url.Values{"years": {" 3 "}}, &domainCall{Op: "renew", Years: 3}, audit.OK,
				"Domain: renewal for 3 years queued (operation dop_2)."},
			{"renew default", "renew", url.Values{}, &domainCall{Op: "renew", Years: 1}, audit.OK,
				"Domain: renewal for 1 year queued (operation dop_2)."},
			{"renew not a number", "renew", url.Values{"years": {"two"}}, nil, audit.Failed, "years must be between 1 and 10"},
			{"renew refused", "renew", url.Values{"years": {"11"}}, &domainCall{}, audit.Failed, "years must be between 1 and 10"},
			{"unlock", "transfer-lock", url.Values{"locked": {"false"}}, &domainCall{Op: "set_lock"}, audit.OK,
				"Domain: unlocking queued (operation dop_2)."},
			{"lock", "transfer-lock", url.Values{"locked": {"true"}}, &domainCall{Op: "set_lock", Locked: true}, audit.OK,
				"Domain: transfer lock queued (operation dop_2)."},
			{"lock bad", "transfer-lock", url.Values{"locked": {"maybe"}}, nil, audit.Failed, "locked must be true or false"},
			{"nameservers", "nameservers", url.Values{"nameservers": {"ns1.host.example\r\nns2.host.example, ns3.host.example\r\n"}},
				&domainCall{Op: "set_nameservers", Nameservers: []string{"ns1.host.example", "ns2.host.example", "ns3.host.example"}}, audit.OK,
				"Domain: nameservers ns1.host.example, ns2.host.example, ns3.host.example queued (operation dop_2)."},
			{"one nameserver", "nameservers", url.Values{"nameservers": {"ns1.host.example"}}, &domainCall{}, audit.Failed, "give 2 to 13 nameservers"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.fakes.reset()
				*h.domains.last = domainCall{}
				form := url.Values{"csrf": {csrf}}
				for k, v := range tc.form {
					form[k] = v
				}
				rec := b.do(http.MethodPost, page+"/"+tc.action, form)
				if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != page {
					t.Fatalf("%d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
				}
				if tc.want == nil {
					if n := h.fakes.total(); n != 0 {
						t.Errorf("bad input reached the service: %v", h.fakes.calls)
					}
				} else if tc.want.Op != "" {
					got := h.domains.lastCall()
					if got.Op != tc.want.Op || got.Ref != fakeDomainID || got.By != "console:alice" || got.Years != tc.want.Years ||
						got.Locked != tc.want.Locked || !slices.Equal(got.Nameservers, tc.want.Nameservers) {
						t.Errorf("the service got %+v, want %+v", got, *tc.want)
					}
				} else if h.fakes.total() == 0 {
					t.Errorf("the service was not asked")
				}
				e := h.lastAudit(t)
				if e.Action != "domain."+strings.ReplaceAll(tc.action, "-", "_") || e.TargetType != "domain" || e.TargetID != fakeDomainID ||
					e.Outcome != tc.outcome || e.Actor != "alice" || e.Via != audit.ViaConsole {
					t.Errorf("audit %+v", e)
				}
				next := html.UnescapeString(b.do(http.MethodGet, page, nil).Body.String())
				if !strings.Contains(next, tc.notice) {
					t.Errorf("notice %q missing:\n%s", tc.notice, next)
				}
			})
		}
	})
}
