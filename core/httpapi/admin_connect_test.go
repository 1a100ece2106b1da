package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/accounts"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/sdk/provider"
)

// fakeConnect is a ConnectAdmin with canned answers.
type fakeConnect struct {
	link provider.ConnectStartLink
	err  error
	list []accounts.Connection
	args []any
}

func (f *fakeConnect) StartLink(_ context.Context, merchantID int64, providerID string) (provider.ConnectStartLink, error) {
	f.args = []any{merchantID, providerID}
	return f.link, f.err
}

func (f *fakeConnect) Disconnect(_ context.Context, merchantID int64, providerID string) error {
	f.args = []any{merchantID, providerID}
	return f.err
}

func (f *fakeConnect) List(_ context.Context, merchantID int64) ([]accounts.Connection, error) {
	f.args = []any{merchantID}
	return f.list, f.err
}

func TestAdminConnect(t *testing.T) {
	const token = "operator-token-0123456789"
	exp := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	connectedAt := exp.Add(-time.Hour)
	cases := []struct {
		name, method, path, auth string
		svc                      *fakeConnect
		status                   int
		contains                 []string
		args                     []any
	}{
		{"start link", "POST", "/admin/v1/merchants/42/connect/stripe", token,
			&fakeConnect{link: provider.ConnectStartLink{URL: "https://pay.test/p/stripe/connect/start?t=1", ExpiresAt: exp}}, 201,
			[]string{`"url":"https://pay.test/p/stripe/connect/start?t=1"`, `"merchant_id":42`, `"provider_id":"stripe"`, `"expires_at":"2026-11-22T04:00:00Z"`},
			[]any{int64(42), "stripe"}},
		{"needs the operator token", "POST", "/admin/v1/merchants/42/connect/stripe", "", &fakeConnect{}, 401, []string{"missing_token"}, nil},
		{"bad merchant id", "POST", "/admin/v1/merchants/x/connect/stripe", token, &fakeConnect{}, 400, []string{"invalid_id"}, nil},
		{"bad provider id", "POST", "/admin/v1/merchants/42/connect/Bad%20Id", token, &fakeConnect{}, 404, []string{"resource_missing"}, nil},
		{"unsupported provider", "POST", "/admin/v1/merchants/42/connect/sandbox", token,
			&fakeConnect{err: &domain.Error{Kind: domain.ErrUnprocessable, Code: "connect_unsupported", Message: "no"}}, 422,
			[]string{"connect_unsupported"}, []any{int64(42), "sandbox"}},
		{"disconnect", "DELETE", "/admin/v1/merchants/42/connect/stripe", token, &fakeConnect{}, 200,
			[]string{`"status":"disconnected"`, `"merchant_id":42`}, []any{int64(42), "stripe"}},
		{"disconnect when not connected", "DELETE", "/admin/v1/merchants/42/connect/stripe", token,
			&fakeConnect{err: domain.NotFound("connected account")}, 404, []string{"no such connected account"}, []any{int64(42), "stripe"}},
		{"disconnect upstream failure", "DELETE", "/admin/v1/merchants/42/connect/stripe", token,
			&fakeConnect{err: &domain.Error{Kind: domain.ErrUnavailable, Code: "provider_unavailable", Message: "retry"}}, 503,
			[]string{"provider_unavailable"}, []any{int64(42), "stripe"}},
		{"list", "GET", "/admin/v1/merchants/42/accounts", token,
			&fakeConnect{list: []accounts.Connection{{ProviderID: "stripe", Account: "acct_****0001", Status: accounts.StatusConnected, ConnectedAt: connectedAt}}}, 200,
			[]string{`"data":[{"provider_id":"stripe","account":"acct_****0001","livemode":false,"status":"connected","connected_at":"2026-11-22T03:00:00Z"}]`},
			[]any{int64(42)}},
		{"list of unknown merchant", "GET", "/admin/v1/merchants/7/accounts", token, &fakeConnect{err: domain.NotFound("merchant")}, 404,
			[]string{"resource_missing"}, []any{int64(7)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := httpapi.New(httpapi.Options{BodyLimit: 1 << 16}, httpapi.AdminConnect(c.svc, []string{token}))
			req := httptest.NewRequest(c.method, c.path, nil)
			if c.auth != "" {
				req.Header.Set("Authorization", "Bearer "+c.auth)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, c.status)
			}
			for _, s := range c.contains {
				if !strings.Contains(rec.Body.String(), s) {
					t.Errorf("body %s lacks %s", rec.Body, s)
				}
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Errorf("not JSON: %s", rec.Body)
			}
			if len(c.args) > 0 && (len(c.svc.args) != len(c.args) || c.svc.args[0] != c.args[0] || (len(c.args) > 1 && c.svc.args[1] != c.args[1])) {
				t.Errorf("service called with %v, want %v", c.svc.args, c.args)
			}
		})
	}
}
