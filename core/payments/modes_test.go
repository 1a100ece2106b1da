package payments_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk/provider"
)

// modeEnv runs two provider instances: sbx in test mode and sbx_live in
// live mode (both the sandbox, which is enough to see where routing sends
// a session). liveIDs are the instances that are live in this env.
func modeEnv(t *testing.T, st *store.Store, liveIDs ...string) *paymentstest.Env {
	t.Helper()
	settings := map[string]string{sandbox.SettingSigningSecret: sandboxSecret}
	mode := func(id string) domain.Mode {
		for _, l := range liveIDs {
			if l == id {
				return domain.ModeLive
			}
		}
		return "" // the configuration's default: test
	}
	return paymentstest.New(t, st, paymentstest.Options{
		Instances: []paymentstest.Instance{
			{ID: "sbx", Impl: sandbox.New(), Settings: settings, Mode: mode("sbx")},
			{ID: "sbx_live", Impl: sandbox.New(), Settings: settings, Mode: mode("sbx_live")},
		},
		// The test instance ranks first for card, so a router that ignored
		// modes would send live sessions there; wallet has only it.
		Rules: []config.RoutingRule{
			{Method: "card", Providers: []config.RoutingProvider{{ID: "sbx"}, {ID: "sbx_live", Priority: 1}}},
			{Method: "wallet", Providers: []config.RoutingProvider{{ID: "sbx"}}},
		},
	})
}

// A session is routed only to a provider instance of its key's mode, and
// offered only the methods such instances take: a live session never
// reaches a test instance (whose payments move no money), a test session
// never a live one (which would charge real cards), even when the only
// instance of its own mode is down.
func TestRoutingKeepsModesApart(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := modeEnv(t, st, "sbx_live")
		ctx := ctxT(t)
		free := env.Merchant(t, domain.PlanFree, "shop.test")
		_, testKey := env.Key(t, free.ID, domain.ModeTest)
		_, liveKey := env.Key(t, free.ID, domain.ModeLive)

		routedTo := func(t *testing.T, sessionID string) string {
			t.Helper()
			atts, err := st.SessionAttempts(ctx, sessionID)
			if err != nil || len(atts) != 1 {
				t.Fatalf("attempts = %+v, %v", atts, err)
			}
			return atts[0].ProviderID
		}

		t.Run("live session to the live instance", func(t *testing.T) {
			v := started(t, env, liveKey, "MODE-L1")
			if got := routedTo(t, v.SessionID); got != "sbx_live" {
				t.Fatalf("live session routed to %s", got)
			}
		})
		t.Run("test session to the test instance", func(t *testing.T) {
			v := started(t, env, testKey, "MODE-T1")
			if got := routedTo(t, v.SessionID); got != "sbx" {
				t.Fatalf("test session routed to %s", got)
			}
		})
		t.Run("test session not to the live instance when the test one is down", func(t *testing.T) {
			env.Providers.SetDown("sbx", true)
			defer env.Providers.SetDown("sbx", false)
			v := mustCreate(t, env, testKey, createReq("MODE-T2"))
			_, err := env.Service.StartPayment(ctx, v.SessionID, "card", "")
			wantCode(t, err, domain.ErrUnavailable, "no_provider_available")
			if atts, _ := st.SessionAttempts(ctx, v.SessionID); len(atts) != 0 {
				t.Fatalf("attempts %+v", atts)
			}
		})
		t.Run("live session not to a test-only method", func(t *testing.T) {
			v := mustCreate(t, env, liveKey, createReq("MODE-L2"))
			_, err := env.Service.StartPayment(ctx, v.SessionID, "wallet", "")
			wantCode(t, err, domain.ErrUnprocessable, "method_unavailable")
			if !strings.Contains(err.Error(), "not available in live mode") {
				t.Fatalf("err = %v, want the mode named", err)
			}
		})
		t.Run("checkout offers the session's mode's methods", func(t *testing.T) {
			for _, tc := range []struct {
				key  string
				want string
			}{{"live", "card"}, {"test", "card,wallet"}} {
				p := testKey
				if tc.key == "live" {
					p = liveKey
				}
				v := mustCreate(t, env, p, createReq("MODE-C-"+tc.key))
				co, err := env.Service.CheckoutView(ctx, v.SessionID)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, m := range co.Methods {
					got = append(got, m.Method)
				}
				if strings.Join(got, ",") != tc.want {
					t.Errorf("%s session's checkout methods = %v, want %s", tc.key, got, tc.want)
				}
			}
		})
		t.Run("/v1/me lists the key's mode's methods", func(t *testing.T) {
			env.Providers.SetDown("sbx_live", true)
			defer env.Providers.SetDown("sbx_live", false)
			me, err := env.Service.Me(ctx, liveKey)
			if err != nil || len(me.Methods) != 0 {
				t.Fatalf("live key's methods with the only live instance down = %+v, %v", me.Methods, err)
			}
			me, err = env.Service.Me(ctx, testKey)
			if err != nil || len(me.Methods) != 2 {
				t.Fatalf("test key's methods = %+v, %v", me.Methods, err)
			}
		})
		t.Run("smart routing refuses a method no instance of the key's mode takes", func(t *testing.T) {
			pro := env.Merchant(t, domain.PlanPro, "shop.test")
			_, proLive := env.Key(t, pro.ID, domain.ModeLive)
			_, proTest := env.Key(t, pro.ID, domain.ModeTest)
			req := createReq("MODE-S1")
			req.Method = "wallet"
			_, err := env.Service.CreateSession(ctx, proLive, req, "")
			wantCode(t, err, domain.ErrUnprocessable, "method_unavailable")
			if _, err := env.Service.CreateSession(ctx, proTest, req, ""); err != nil {
				t.Fatalf("test key, wallet: %v", err)
			}
		})
	})
}

// An event settles a session only through an instance of the session's
// mode. Routing already keeps them apart, so the case is an instance whose
// mode changed after the session was routed to it: its events are recorded
// with reason mode_mismatch and change nothing, in either direction.
func TestEventFromInstanceOfOtherModeDoesNotSettle(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		before := modeEnv(t, st, "sbx_live")
		ctx := ctxT(t)
		m := before.Merchant(t, domain.PlanFree, "shop.test")
		_, testKey := before.Key(t, m.ID, domain.ModeTest)
		_, liveKey := before.Key(t, m.ID, domain.ModeLive)
		testSess := started(t, before, testKey, "SWAP-T")
		liveSess := started(t, before, liveKey, "SWAP-L")

		// The operator swaps the two instances' modes and restarts.
		after := modeEnv(t, st, "sbx")
		for _, tc := range []struct {
			name, sessionID, instance, sessionMode, instanceMode string
		}{
			{"test session, instance now live", testSess.SessionID, "sbx", "test", "live"},
			{"live session, instance now test", liveSess.SessionID, "sbx_live", "live", "test"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req := signedCallback(t, after, tc.sessionID, sandbox.ChoiceSucceed, 4995, "USD", "/hooks/sandbox/"+tc.instance)
				if _, err := after.Service.ApplyWebhook(ctx, tc.instance, "sandbox", req); err != nil {
					t.Fatal(err)
				}
				if s := status(t, after, tc.sessionID); s.Status != domain.StatusOpen || s.AmountReceived != 0 {
					t.Fatalf("session %s, received %d after an event from an instance of the other mode", s.Status, s.AmountReceived)
				}
				outcome, reason := providerEventOutcome(t, st, tc.sessionID)
				if outcome != "recorded" || !strings.Contains(reason, "mode_mismatch") ||
					!strings.Contains(reason, "a "+tc.sessionMode+"-mode session and provider instance "+tc.instance+" is a "+tc.instanceMode+"-mode instance") {
					t.Fatalf("outcome %s: %s", outcome, reason)
				}
				if atts, _ := st.SessionAttempts(ctx, tc.sessionID); len(atts) != 1 || atts[0].Status != store.AttemptPending {
					t.Fatalf("attempts %+v", atts)
				}
				if got := eventTypes(t, after, tc.sessionID); got != "session.created" {
					t.Fatalf("events %s", got)
				}
				// A failure is not applied either.
				fail := signedCallback(t, after, tc.sessionID, sandbox.ChoiceDecline, 4995, "USD", "/hooks/sandbox/"+tc.instance)
				if _, err := after.Service.ApplyWebhook(ctx, tc.instance, "sandbox", fail); err != nil {
					t.Fatal(err)
				}
				if s := status(t, after, tc.sessionID); s.Status != domain.StatusOpen {
					t.Fatalf("session %s after a decline from an instance of the other mode", s.Status)
				}
			})
		}
		t.Run("through the instance in its routed mode it settles", func(t *testing.T) {
			// A callback signed a minute later (within the sandbox's clock
			// skew): the one recorded above may carry the same second and
			// so the same event id, which is applied at most once.
			atts, _ := st.SessionAttempts(ctx, testSess.SessionID)
			form := sandbox.SignCallback(sandboxSecret, sandbox.Callback{Choice: sandbox.ChoiceSucceed, Ref: atts[0].ProviderRef,
				SessionID: testSess.SessionID, Amount: 4995, Currency: "USD", TS: time.Now().Add(time.Minute)})
			req := provider.WebhookRequest{Method: http.MethodPost, Path: "/hooks/sandbox/sbx",
				Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form.Encode()), RemoteAddr: "127.0.0.1:9"}
			if _, err := before.Service.ApplyWebhook(ctx, "sbx", "sandbox", req); err != nil {
				t.Fatal(err)
			}
			if s := status(t, before, testSess.SessionID); s.Status != domain.StatusPaid {
				t.Fatalf("status %s", s.Status)
			}
		})
	})
}
