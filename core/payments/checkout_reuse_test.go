package payments_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk/provider"
)

// countingProvider counts the upstream payments CreatePayment makes.
type countingProvider struct {
	*sandbox.Provider
	created atomic.Int64
}

func (c *countingProvider) CreatePayment(ctx context.Context, req provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	c.created.Add(1)
	return c.Provider.CreatePayment(ctx, req)
}

// noRedirectProvider answers like a provider that needs no shopper page.
type noRedirectProvider struct{ *sandbox.Provider }

func (n noRedirectProvider) CreatePayment(ctx context.Context, req provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	resp, err := n.Provider.CreatePayment(ctx, req)
	resp.NextAction = provider.NextAction{Type: provider.NextActionNone}
	return resp, err
}

func TestStartPaymentReusesPendingAttempt(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		counter := &countingProvider{Provider: sandbox.New()}
		env := paymentstest.New(t, st, paymentstest.Options{Instances: []paymentstest.Instance{
			{ID: "sbx", Impl: counter, Settings: map[string]string{sandbox.SettingSigningSecret: sandboxSecret}},
		}})
		ctx := ctxT(t)
		pro := env.Merchant(t, domain.PlanPro, "shop.test") // smart_routing: method fixed at create
		_, proKey := env.Key(t, pro.ID, domain.ModeTest)
		free := env.Merchant(t, domain.PlanFree, "shop.test") // hosted_checkout: the shopper picks
		_, freeKey := env.Key(t, free.ID, domain.ModeTest)

		start := func(t *testing.T, sessionID, method string) string {
			t.Helper()
			u, err := env.Service.StartPayment(ctx, sessionID, method, "")
			if err != nil {
				t.Fatalf("StartPayment(%q): %v", method, err)
			}
			return u
		}
		attempts := func(t *testing.T, sessionID string) []*store.PaymentAttempt {
			t.Helper()
			atts, err := st.SessionAttempts(ctx, sessionID)
			if err != nil {
				t.Fatal(err)
			}
			return atts
		}
		smartSession := func(t *testing.T, order string) string {
			t.Helper()
			req := createReq(order)
			req.Method = "card"
			return mustCreate(t, env, proKey, req).SessionID
		}

		t.Run("reload returns the same page and makes one attempt", func(t *testing.T) {
			id := smartSession(t, "R-1")
			before := counter.created.Load()
			first := start(t, id, "")
			for range 3 {
				if again := start(t, id, ""); again != first {
					t.Fatalf("reload redirect = %s, want the first %s", again, first)
				}
			}
			atts := attempts(t, id)
			if len(atts) != 1 || atts[0].Status != store.AttemptPending || atts[0].RedirectURL != first ||
				!strings.HasPrefix(first, env.BaseURL+"/p/sbx/pay/") {
				t.Fatalf("attempts = %+v, redirect %s; want one pending attempt storing it", atts, first)
			}
			if n := counter.created.Load() - before; n != 1 {
				t.Fatalf("upstream payments created = %d, want 1", n)
			}
		})

		t.Run("failed attempt makes a new one", func(t *testing.T) {
			id := smartSession(t, "R-2")
			first := start(t, id, "")
			if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", sandboxCallback(t, env, id, sandbox.ChoiceDecline)); err != nil {
				t.Fatal(err)
			}
			second := start(t, id, "")
			atts := attempts(t, id)
			if second == first || len(atts) != 2 || atts[0].Status != store.AttemptFailed ||
				atts[1].Status != store.AttemptPending || atts[1].RedirectURL != second {
				t.Fatalf("after a decline: redirect %s (first %s), attempts %+v", second, first, atts)
			}
		})

		t.Run("another method makes a new one", func(t *testing.T) {
			id := mustCreate(t, env, freeKey, createReq("R-3")).SessionID
			card := start(t, id, "card")
			wallet := start(t, id, "wallet")
			if wallet == card || len(attempts(t, id)) != 2 {
				t.Fatalf("wallet after card: %s vs %s, %d attempts; want a new attempt", wallet, card, len(attempts(t, id)))
			}
			// Back from the wallet page and the same choice again: reused.
			if again := start(t, id, "wallet"); again != wallet || len(attempts(t, id)) != 2 {
				t.Fatalf("wallet again = %s, %d attempts; want %s and no new attempt", again, len(attempts(t, id)), wallet)
			}
			// Card again: the latest attempt is the wallet one, so card
			// gets a fresh attempt rather than the older card page.
			if again := start(t, id, "card"); again == card || len(attempts(t, id)) != 3 {
				t.Fatalf("card again = %s, %d attempts; want a new attempt", again, len(attempts(t, id)))
			}
		})

		t.Run("an old pending attempt is not reused", func(t *testing.T) {
			id := smartSession(t, "R-4")
			first := start(t, id, "")
			env.Clock.Advance(29 * time.Minute)
			if again := start(t, id, ""); again != first {
				t.Fatalf("after 29 minutes: %s, want the first page %s", again, first)
			}
			env.Clock.Advance(time.Minute)
			later := start(t, id, "")
			if later == first || len(attempts(t, id)) != 2 {
				t.Fatalf("after 30 minutes: %s (first %s), %d attempts; want a new attempt", later, first, len(attempts(t, id)))
			}
		})
	})
}

func TestStartPaymentWithoutRedirectIsNotReused(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := paymentstest.New(t, st, paymentstest.Options{Instances: []paymentstest.Instance{
			{ID: "direct", Impl: noRedirectProvider{Provider: sandbox.New()}, Settings: map[string]string{sandbox.SettingSigningSecret: sandboxSecret}},
		}})
		ctx := ctxT(t)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		id := mustCreate(t, env, p, createReq("N-1")).SessionID
		for i := range 2 {
			u, err := env.Service.StartPayment(ctx, id, "card", "")
			if err != nil || u != env.BaseURL+"/checkout/"+id+"/return" {
				t.Fatalf("StartPayment %d = %s, %v; want the return page", i, u, err)
			}
		}
		atts, err := st.SessionAttempts(ctx, id)
		if err != nil || len(atts) != 2 || atts[0].RedirectURL != "" || atts[0].Status != store.AttemptPending {
			t.Fatalf("attempts = %+v, %v; want two, without a redirect", atts, err)
		}
	})
}
