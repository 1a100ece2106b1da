package payments_test

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/telemetry/telemetrytest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
)

// TestPaymentMetrics: switchyard.payments counts attempts by provider
// instance, method and outcome: what the provider answered at creation
// (started, declined, error) and what a verified event settled (succeeded,
// failed), once per event however often it is delivered.
func TestPaymentMetrics(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		m := telemetrytest.New(t)
		settings := map[string]string{sandbox.SettingSigningSecret: sandboxSecret}
		env := paymentstest.New(t, st, paymentstest.Options{
			Instances: []paymentstest.Instance{
				{ID: "flaky", Impl: &unavailableProvider{Provider: sandbox.New()}, Settings: settings},
				{ID: "sbx", Impl: sandbox.New(), Settings: settings},
				{ID: "dec", Impl: &decliningProvider{Provider: sandbox.New()}, Settings: settings},
			},
			Rules: []config.RoutingRule{
				{Method: "card", Providers: []config.RoutingProvider{{ID: "flaky", Priority: 0}, {ID: "sbx", Priority: 1}}},
				{Method: "bank_transfer", Providers: []config.RoutingProvider{{ID: "dec"}}},
			},
			Meter: m.Meter(),
		})
		mer := env.Merchant(t, domain.PlanPro, "shop.test")
		_, p := env.Key(t, mer.ID, domain.ModeTest)
		ctx := ctxT(t)
		session := func(order, method string) string {
			t.Helper()
			req := createReq(order)
			req.Method = method
			return mustCreate(t, env, p, req).SessionID
		}

		paid := session("PM-1", "card")
		req := payWithSandbox(t, env, paid, sandbox.ChoiceSucceed)
		if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", req); err != nil { // delivered twice
			t.Fatal(err)
		}
		payWithSandbox(t, env, session("PM-2", "card"), sandbox.ChoiceDecline)
		if _, err := env.Service.StartPayment(ctx, session("PM-3", "bank_transfer"), "", ""); err == nil {
			t.Fatal("a declined payment started")
		}

		for _, tc := range []struct {
			provider, method, outcome string
			want                      int64
		}{
			{"flaky", "card", payments.PaymentError, 2},
			{"sbx", "card", payments.PaymentStarted, 2},
			{"sbx", "card", payments.PaymentSucceeded, 1},
			{"sbx", "card", payments.PaymentFailed, 1},
			{"dec", "bank_transfer", payments.PaymentDeclined, 1},
			{"dec", "bank_transfer", payments.PaymentStarted, 0},
		} {
			got := m.Int("switchyard.payments", attribute.String("provider", tc.provider), attribute.String("method", tc.method), attribute.String("outcome", tc.outcome))
			if got != tc.want {
				t.Errorf("payments{%s,%s,%s} = %d, want %d", tc.provider, tc.method, tc.outcome, got, tc.want)
			}
		}
	})
}
