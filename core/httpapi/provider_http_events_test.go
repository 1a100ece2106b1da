package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard/switchyard/core/checkout"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/sdk/provider"
)

// recordingEvents is an AccountEvents that records what it was given and
// answers err.
type recordingEvents struct {
	err      error
	provider string
	got      []provider.Event
}

func (r *recordingEvents) ApplyHTTPEvents(_ context.Context, providerID string, events []provider.Event) error {
	r.provider, r.got = providerID, events
	return r.err
}

func eventsServer(t *testing.T, l *fakeLookup, ev httpapi.AccountEvents) http.Handler {
	t.Helper()
	r, err := checkout.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return httpapi.New(httpapi.Options{BodyLimit: 1 << 10}, httpapi.ProviderHTTP(l, r, httpapi.ProviderHTTPOptions{Events: ev}))
}

func TestProviderHTTPEvents(t *testing.T) {
	connected := provider.Event{Type: provider.AccountConnected, ProviderEventID: "c1",
		Data: map[string]string{"merchant_id": "42", "account_id": "acct_1"}}
	pluginPage := provider.HTTPResponse{Status: http.StatusOK, Headers: http.Header{"Set-Cookie": {"sy=; Max-Age=0"}},
		Body: []byte("connected acct_1"), Events: []provider.Event{connected}}
	cases := []struct {
		name       string
		applier    *recordingEvents
		status     int
		pluginPage bool
	}{
		{"applied, then the plugin's page", &recordingEvents{}, http.StatusOK, true},
		{"unknown merchant refused", &recordingEvents{err: domain.NotFound("merchant")}, http.StatusNotFound, false},
		{"invalid event refused", &recordingEvents{err: domain.Invalid("unsupported_event", "type", "no")}, http.StatusBadRequest, false},
		{"store failure", &recordingEvents{err: context.DeadlineExceeded}, http.StatusInternalServerError, false},
		{"no applier configured", nil, http.StatusInternalServerError, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &fakeProvider{resp: pluginPage}
			var ev httpapi.AccountEvents
			if c.applier != nil {
				ev = c.applier
			}
			srv := eventsServer(t, &fakeLookup{providers: map[string]*fakeProvider{"stripe": p}}, ev)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/p/stripe/connect/callback?code=x", nil))
			if rec.Code != c.status {
				t.Errorf("status %d, want %d", rec.Code, c.status)
			}
			shown := rec.Body.String() == "connected acct_1"
			if shown != c.pluginPage || (rec.Header().Get("Set-Cookie") != "") != c.pluginPage {
				t.Errorf("plugin page shown=%v (want %v): %q %v", shown, c.pluginPage, rec.Body.String(), rec.Header())
			}
			if c.applier != nil && (c.applier.provider != "stripe" || len(c.applier.got) != 1 || c.applier.got[0].ProviderEventID != "c1") {
				t.Errorf("applier got %q %+v", c.applier.provider, c.applier.got)
			}
		})
	}
	t.Run("no events, applier not called", func(t *testing.T) {
		r := &recordingEvents{}
		p := &fakeProvider{resp: provider.HTTPResponse{Status: http.StatusOK, Body: []byte("page")}}
		srv := eventsServer(t, &fakeLookup{providers: map[string]*fakeProvider{"stripe": p}}, r)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/p/stripe/anything", nil))
		if rec.Code != http.StatusOK || r.got != nil {
			t.Errorf("status %d, applier got %+v", rec.Code, r.got)
		}
	})
}

func TestProviderHTTPHidesAdminRoutes(t *testing.T) {
	for _, path := range []string{"/p/stripe/_admin", "/p/stripe/_admin/", "/p/stripe/_admin/connect/start-link?merchant=1", "/p/stripe/%5Fadmin/connect/start-link"} {
		t.Run(path, func(t *testing.T) {
			p := &fakeProvider{resp: provider.HTTPResponse{Status: http.StatusOK, Body: []byte(`{"url":"x"}`)}}
			srv := eventsServer(t, &fakeLookup{providers: map[string]*fakeProvider{"stripe": p}}, &recordingEvents{})
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != http.StatusNotFound || p.got != nil {
				t.Errorf("status %d, plugin called with %+v", rec.Code, p.got)
			}
		})
	}
}
