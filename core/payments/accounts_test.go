package payments_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk/provider"
)

// accountsFake answers Account with a fixed result and records what it
// was asked and which events it applied.
type accountsFake struct {
	mu       sync.Mutex
	account  string
	err      error
	applyErr error
	asked    []string
	applied  []provider.Event
}

func (f *accountsFake) Account(_ context.Context, merchantID int64, providerID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, providerID)
	return f.account, f.err
}

func (f *accountsFake) ApplyEventTx(_ context.Context, _ bun.IDB, _ string, ev provider.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.applyErr == nil {
		f.applied = append(f.applied, ev)
	}
	return f.applyErr
}

// accountRecorder is the sandbox provider, recording the MerchantAccount
// of each CreatePayment as the plugin received it (across the wire).
type accountRecorder struct {
	*sandbox.Provider
	mu  sync.Mutex
	got []string
}

func (r *accountRecorder) CreatePayment(ctx context.Context, req provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	r.mu.Lock()
	r.got = append(r.got, req.MerchantAccount)
	r.mu.Unlock()
	return r.Provider.CreatePayment(ctx, req)
}

func (r *accountRecorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func accountsEnv(t *testing.T, st *store.Store, acc payments.Accounts) (*paymentstest.Env, *payments.Service, *accountRecorder) {
	t.Helper()
	rec := &accountRecorder{Provider: sandbox.New()}
	env := paymentstest.New(t, st, paymentstest.Options{
		Instances: []paymentstest.Instance{{ID: "sbx", Impl: rec, Settings: map[string]string{sandbox.SettingSigningSecret: sandboxSecret}}},
	})
	svc, err := payments.New(payments.Deps{Store: st, Jobs: env.Jobs, Router: env.Router, Providers: env.Providers,
		PublicBaseURL: env.BaseURL, Sessions: config.SessionsConfig{TTL: time.Hour}, Clock: env.Clock.Now, Accounts: acc})
	if err != nil {
		t.Fatal(err)
	}
	return env, svc, rec
}

func TestConnectedAccountOnCreatePayment(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		cases := []struct {
			name    string
			acc     *accountsFake
			want    []string // MerchantAccount values the plugin received
			errCode string
		}{
			{"connected account is passed", &accountsFake{account: "acct_1Merchant"}, []string{"acct_1Merchant"}, ""},
			{"no connected account", &accountsFake{}, []string{""}, ""},
			{"lookup failure never pays into the platform account", &accountsFake{err: errors.New("keyring: unknown key")}, nil, "no_provider_available"},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				env, svc, rec := accountsEnv(t, st, c.acc)
				m := env.Merchant(t, domain.PlanFree, "shop.test")
				_, p := env.Key(t, m.ID, domain.ModeTest)
				resp, err := svc.CreateSession(ctxT(t), p, createReq("acct-"+string(rune('a'+i))), "")
				if err != nil {
					t.Fatal(err)
				}
				_, err = svc.StartPayment(ctxT(t), resp.SessionID, "card", "")
				if c.errCode != "" {
					wantCode(t, err, domain.ErrUnavailable, c.errCode)
				} else if err != nil {
					t.Fatal(err)
				}
				if got := rec.calls(); len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
					t.Errorf("plugin received MerchantAccount %q, want %q", got, c.want)
				}
				if len(c.acc.asked) != 1 || c.acc.asked[0] != "sbx" {
					t.Errorf("accounts asked for %v", c.acc.asked)
				}
			})
		}
	})
}

func TestAccountEventsFromWebhooks(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		ev := func(id string) provider.Event {
			return provider.Event{Type: provider.AccountDisconnected, ProviderEventID: id, Data: map[string]string{"account_id": "acct_1"}}
		}
		cases := []struct {
			name    string
			acc     payments.Accounts
			outcome store.ProviderEventOutcome
			fails   bool
		}{
			{"applied", &accountsFake{}, store.OutcomeApplied, false},
			{"refused event is recorded, not redelivered forever", &accountsFake{applyErr: domain.NotFound("merchant")}, store.OutcomeIgnored, false},
			{"store failure fails the webhook so it is redelivered", &accountsFake{applyErr: errors.New("database is locked")}, "", true},
			{"no accounts service", nil, store.OutcomeIgnored, false},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, svc, _ := accountsEnv(t, st, c.acc)
				id := "evt_acct_" + string(rune('a'+i))
				out, err := payments.ApplyEventForTest(svc, ctxT(t), "sbx", ev(id))
				if c.fails {
					if err == nil {
						t.Fatal("no error")
					}
					if _, gerr := st.GetProviderEvent(ctxT(t), "sbx", id); !errors.Is(gerr, domain.ErrNotFound) {
						t.Errorf("failed event was recorded (%v), so a redelivery would be a duplicate", gerr)
					}
					return
				}
				if err != nil || out.Outcome != c.outcome {
					t.Fatalf("outcome %+v %v, want %s", out, err, c.outcome)
				}
				if f, ok := c.acc.(*accountsFake); ok && c.outcome == store.OutcomeApplied && (len(f.applied) != 1 || f.applied[0].ProviderEventID != id) {
					t.Errorf("applied %+v", f.applied)
				}
			})
		}
	})
}
