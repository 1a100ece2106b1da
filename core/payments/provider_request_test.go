package payments_test

import (
	"context"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk/provider"
)

// recordingProvider keeps the last CreatePaymentRequest it received, after
// the trip through the SDK's gRPC adapters.
type recordingProvider struct {
	*sandbox.Provider
	mu   sync.Mutex
	last provider.CreatePaymentRequest
}

func (r *recordingProvider) CreatePayment(ctx context.Context, req provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	r.mu.Lock()
	r.last = req
	r.mu.Unlock()
	return r.Provider.CreatePayment(ctx, req)
}

// TestCreatePaymentTellsTheProviderWhomTheShopperPays: provider pages show
// the shopper the merchant's display name and the order, so the host sends
// both with every payment.
func TestCreatePaymentTellsTheProviderWhomTheShopperPays(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		rec := &recordingProvider{Provider: sandbox.New()}
		env := paymentstest.New(t, st, paymentstest.Options{Instances: []paymentstest.Instance{
			{ID: "sbx", Impl: rec, Settings: map[string]string{sandbox.SettingSigningSecret: sandboxSecret}},
		}})
		m := env.Merchant(t, domain.PlanPro, "shop.test")
		_, key := env.Key(t, m.ID, domain.ModeTest)
		req := createReq("ORDER-1042")
		req.Method = "card"
		sess := mustCreate(t, env, key, req)
		if _, err := env.Service.StartPayment(ctxT(t), sess.SessionID, "", ""); err != nil {
			t.Fatalf("StartPayment: %v", err)
		}
		rec.mu.Lock()
		got := rec.last
		rec.mu.Unlock()
		if got.MerchantName != m.Name || m.Name == "" {
			t.Errorf("MerchantName = %q, want the merchant's name %q", got.MerchantName, m.Name)
		}
		if got.Description != "Order ORDER-1042" {
			t.Errorf("Description = %q, want %q", got.Description, "Order ORDER-1042")
		}
		if got.SessionID != sess.SessionID || got.Amount != 4995 || got.Currency != "USD" {
			t.Errorf("request %+v does not describe session %s (49.95 USD)", got, sess.SessionID)
		}
	})
}
