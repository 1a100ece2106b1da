package accounts_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/accounts"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
)

// linkProvider answers HandleHTTP only; anything else panics (nil embed).
type linkProvider struct {
	provider.Client
	resp provider.HTTPResponse
	err  error
	got  provider.HTTPRequest
}

func (p *linkProvider) HandleHTTP(_ context.Context, req provider.HTTPRequest) (provider.HTTPResponse, error) {
	p.got = req
	return p.resp, p.err
}

type lookup map[string]provider.Client

func (l lookup) Provider(id string) (provider.Client, error) {
	if p, ok := l[id]; ok {
		return p, nil
	}
	return nil, domain.NotFound("plugin")
}

func TestStartLink(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := merchant(t, s, "Link")
		const base = "https://pay.example.test"
		ok := func(url string) provider.HTTPResponse {
			return provider.HTTPResponse{Status: http.StatusOK, Body: []byte(`{"url":"` + url + `","expires_at":"2026-11-22T04:00:00Z"}`)}
		}
		cases := []struct {
			name     string
			merchant int64
			provider string
			impl     *linkProvider
			kind     error
		}{
			{"ok", m, "stripe", &linkProvider{resp: ok(base + "/p/stripe/connect/start?merchant=1&token=x")}, nil},
			{"unknown merchant", 999999, "stripe", &linkProvider{resp: ok(base + "/p/stripe/connect/start")}, domain.ErrNotFound},
			{"unknown provider", m, "nope", nil, domain.ErrNotFound},
			{"provider without onboarding (404)", m, "stripe", &linkProvider{resp: provider.HTTPResponse{Status: 404}}, domain.ErrUnprocessable},
			{"provider without onboarding (unimplemented)", m, "stripe", &linkProvider{err: sdk.Unimplemented("no")}, domain.ErrUnprocessable},
			{"plugin down", m, "stripe", &linkProvider{err: sdk.Unavailable("down")}, domain.ErrUnavailable},
			{"link to somewhere else", m, "stripe", &linkProvider{resp: ok("https://evil.test/p/stripe/connect/start")}, domain.ErrUnavailable},
			{"link to another instance", m, "stripe", &linkProvider{resp: ok(base + "/p/stripe2/connect/start")}, domain.ErrUnavailable},
			{"garbage", m, "stripe", &linkProvider{resp: provider.HTTPResponse{Status: 200, Body: []byte("<html>")}}, domain.ErrUnavailable},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				l := lookup{}
				if c.impl != nil {
					l["stripe"] = c.impl
				}
				svc, _ := accounts.New(accounts.Deps{Store: s, Providers: l, PublicBaseURL: base + "/"})
				link, err := svc.StartLink(ctx, c.merchant, c.provider)
				if c.kind != nil {
					if !errors.Is(err, c.kind) {
						t.Fatalf("err %v, want %v", err, c.kind)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if link.URL != base+"/p/stripe/connect/start?merchant=1&token=x" || !link.ExpiresAt.Equal(time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)) {
					t.Errorf("link %+v", link)
				}
				got := c.impl.got
				if got.Method != http.MethodGet || got.Path != provider.AdminConnectStartLinkPath || got.Query != "merchant="+itoa(m) ||
					got.BaseURL != base+"/p/stripe" {
					t.Errorf("plugin asked with %+v", got)
				}
			})
		}
	})
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"acct_1MerchantOne0001": "acct_****0001",
		"acct_12":               "acct_****",
		"ABCDEFGH1234":          "****1234",
		"":                      "****",
		"merchant_account_9876": "merchant_****9876",
		"verylongprefix_abcdef": "****cdef",
	} {
		if got := accounts.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDisconnect(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := merchant(t, s, "Gone")
		mid := itoa(m)
		const acct = "acct_1DisconnectMe"
		confirm := func(merchant, account string) provider.HTTPResponse {
			return provider.HTTPResponse{Status: 200, Body: []byte(`{"disconnected":true}`),
				Events: []provider.Event{disconnected(merchant, account, time.Now().Add(time.Second))}}
		}
		cases := []struct {
			name      string
			connected bool
			impl      *linkProvider
			kind      error
		}{
			{"not connected", false, &linkProvider{resp: confirm(mid, acct)}, domain.ErrNotFound},
			{"plugin fails upstream", true, &linkProvider{resp: provider.HTTPResponse{Status: 502}}, domain.ErrUnavailable},
			{"plugin confirms nothing", true, &linkProvider{resp: provider.HTTPResponse{Status: 200}}, domain.ErrUnavailable},
			{"plugin reports another account", true, &linkProvider{resp: confirm(mid, "acct_1Other")}, domain.ErrUnavailable},
			{"unsupported", true, &linkProvider{resp: provider.HTTPResponse{Status: 404}}, domain.ErrUnprocessable},
			{"disconnected", true, &linkProvider{resp: confirm(mid, acct)}, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				svc, _ := accounts.New(accounts.Deps{Store: s, Keyring: keyring(t, newKey(t, "k1")), Providers: lookup{"stripe": c.impl},
					PublicBaseURL: "https://pay.example.test"})
				if c.connected {
					if err := svc.ApplyHTTPEvents(ctx, "stripe", []provider.Event{connected(mid, acct, time.Now())}); err != nil {
						t.Fatal(err)
					}
				}
				err := svc.Disconnect(ctx, m, "stripe")
				got, _ := svc.Account(ctx, m, "stripe")
				if c.kind != nil {
					if !errors.Is(err, c.kind) {
						t.Fatalf("err %v, want %v", err, c.kind)
					}
					if c.connected && got != acct {
						t.Errorf("a failed disconnect changed the account to %q", got)
					}
					return
				}
				if err != nil || got != "" {
					t.Fatalf("err %v, account after %q", err, got)
				}
				if g := c.impl.got; g.Method != http.MethodPost || g.Path != provider.AdminConnectDisconnectPath || g.Query != "account="+acct+"&merchant="+mid {
					t.Errorf("plugin asked with %+v", g)
				}
			})
		}
	})
}
