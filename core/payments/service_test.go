package payments_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
)

const sandboxSecret = "sandbox-signing-secret-0123456789"

func newEnv(t *testing.T, st *store.Store) *paymentstest.Env {
	t.Helper()
	return paymentstest.New(t, st, paymentstest.Options{
		Instances: []paymentstest.Instance{{ID: "sbx", Impl: sandbox.New(), Settings: map[string]string{sandbox.SettingSigningSecret: sandboxSecret}}},
	})
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func amount(s string) json.RawMessage { return json.RawMessage(`"` + s + `"`) }

func createReq(order string) *payments.CreateSessionRequest {
	return &payments.CreateSessionRequest{Domain: "shop.test", Amount: amount("49.95"), Currency: "usd", OrderID: order}
}

func mustCreate(t *testing.T, env *paymentstest.Env, p *merchants.Principal, req *payments.CreateSessionRequest) *payments.SessionView {
	t.Helper()
	resp, err := env.Service.CreateSession(ctxT(t), p, req, "")
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	var v payments.SessionView
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func wantCode(t *testing.T, err error, kind error, code string) {
	t.Helper()
	de, ok := domain.AsError(err)
	if !ok || !errors.Is(err, kind) || de.Code != code {
		t.Fatalf("err = %v, want %s (%v)", err, code, kind)
	}
}

func status(t *testing.T, env *paymentstest.Env, id string) *store.Session {
	t.Helper()
	s, err := env.Store.GetSession(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func eventTypes(t *testing.T, env *paymentstest.Env, id string) string {
	t.Helper()
	evs, err := env.Store.SessionEvents(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		types = append(types, e.Type)
	}
	return strings.Join(types, ",")
}

func TestCreateSessionStoresSessionAndEvent(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		req := createReq("ORDER-1")
		req.Metadata = map[string]string{"b": "2", "a": "1"}
		resp, err := env.Service.CreateSession(ctxT(t), p, req, "")
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusCreated {
			t.Fatalf("status = %d", resp.Status)
		}
		var v payments.SessionView
		if err := json.Unmarshal(resp.Body, &v); err != nil {
			t.Fatal(err)
		}
		if !domain.ValidSessionID(v.SessionID) || v.CheckoutURL != env.BaseURL+"/checkout/"+v.SessionID ||
			v.Status != domain.StatusOpen || v.Amount != "49.95" || v.Currency != "USD" || v.Method != nil ||
			string(v.Metadata) != `{"a":"1","b":"2"}` {
			t.Fatalf("view = %s", resp.Body)
		}
		evs, err := st.SessionEvents(ctxT(t), v.SessionID)
		if err != nil || len(evs) != 1 || evs[0].Type != "session.created" || evs[0].Data != string(resp.Body) {
			t.Fatalf("events = %+v, %v; want session.created with the response as data", evs, err)
		}
		// No job per session: the expiry sweep finds it by expires_at.
		var jobCount int
		if err := st.DB().NewRaw("SELECT COUNT(*) FROM river_job").Scan(ctxT(t), &jobCount); err != nil || jobCount != 0 {
			t.Fatalf("river_job rows after a create = %d, %v; want 0", jobCount, err)
		}
		if sess := status(t, env, v.SessionID); !sess.ExpiresAt.Equal(env.Clock.Now().UTC().Truncate(time.Microsecond).Add(time.Hour)) {
			t.Fatalf("expires_at = %v, want now + TTL", sess.ExpiresAt)
		}
		got, err := env.Service.GetSession(ctxT(t), p, v.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := payments.RenderView(got)
		if !bytes.Equal(b, resp.Body) {
			t.Fatalf("status view differs from create view:\n%s\n%s", b, resp.Body)
		}
	})
}

func TestGetSessionTenancy(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		a := env.Merchant(t, domain.PlanFree, "shop.test")
		b := env.Merchant(t, domain.PlanFree, "shop.test")
		_, pa := env.Key(t, a.ID, domain.ModeTest)
		_, paLive := env.Key(t, a.ID, domain.ModeLive)
		_, pb := env.Key(t, b.ID, domain.ModeTest)
		v := mustCreate(t, env, pa, createReq("O-1"))
		for name, p := range map[string]*merchants.Principal{"other merchant": pb, "other mode": paLive} {
			t.Run(name, func(t *testing.T) {
				_, err := env.Service.GetSession(ctxT(t), p, v.SessionID)
				wantCode(t, err, domain.ErrNotFound, "resource_missing")
			})
		}
		_, err := env.Service.GetSession(ctxT(t), pa, "cs_junk")
		wantCode(t, err, domain.ErrNotFound, "resource_missing")
	})
}

func TestCreateSessionOrderRules(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		first := mustCreate(t, env, p, createReq("ORDER-1"))

		t.Run("same order same amount returns the open session", func(t *testing.T) {
			resp, err := env.Service.CreateSession(ctxT(t), p, createReq("ORDER-1"), "")
			if err != nil || resp.Status != http.StatusOK || resp.SessionID != first.SessionID {
				t.Fatalf("resp = %+v, %v", resp, err)
			}
		})
		t.Run("same order other amount conflicts", func(t *testing.T) {
			req := createReq("ORDER-1")
			req.Amount = amount("10.00")
			_, err := env.Service.CreateSession(ctxT(t), p, req, "")
			wantCode(t, err, domain.ErrConflict, "order_in_progress")
		})
		t.Run("paid order conflicts", func(t *testing.T) {
			payWithSandbox(t, env, first.SessionID, sandbox.ChoiceSucceed)
			_, err := env.Service.CreateSession(ctxT(t), p, createReq("ORDER-1"), "")
			wantCode(t, err, domain.ErrConflict, "order_already_paid")
		})
		n, _ := st.CountSessions(ctxT(t), m.ID)
		if n != 1 {
			t.Fatalf("sessions = %d, want 1", n)
		}
	})
}

func TestCreateSessionIdempotency(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)

		first, err := env.Service.CreateSession(ctx, p, createReq("IDEM-1"), "key-1")
		if err != nil {
			t.Fatal(err)
		}
		// The session changes afterwards; the replay still shows the first answer.
		if _, err := env.Service.Cancel(ctx, first.SessionID); err != nil {
			t.Fatal(err)
		}
		again, err := env.Service.CreateSession(ctx, p, createReq("IDEM-1"), "key-1")
		if err != nil {
			t.Fatal(err)
		}
		if !again.Replayed || again.Status != first.Status || !bytes.Equal(again.Body, first.Body) {
			t.Fatalf("replay = %d %s, want %d %s", again.Status, again.Body, first.Status, first.Body)
		}
		other := createReq("IDEM-1")
		other.Amount = amount("1.00")
		_, err = env.Service.CreateSession(ctx, p, other, "key-1")
		wantCode(t, err, domain.ErrConflict, "idempotency_key_reused")

		if _, err := env.Service.CreateSession(ctx, p, createReq("IDEM-2"), "key-2"); err != nil {
			t.Fatal(err)
		}

		// An expired key is free again before the cleanup runs: the create
		// deletes the stale row and stores the new response.
		env.Clock.Advance(25 * time.Hour)
		reused := createReq("IDEM-3")
		fresh, err := env.Service.CreateSession(ctx, p, reused, "key-2")
		if err != nil || fresh.Replayed || fresh.Status != http.StatusCreated {
			t.Fatalf("reuse of an expired key = %+v, %v", fresh, err)
		}
		replayed, err := env.Service.CreateSession(ctx, p, reused, "key-2")
		if err != nil || !replayed.Replayed || !bytes.Equal(replayed.Body, fresh.Body) {
			t.Fatalf("replay of the reused key = %+v, %v", replayed, err)
		}

		// Keys expire after the TTL and the cleanup removes them (key-1;
		// key-2 was just stored again).
		n, err := env.Service.CleanupIdempotencyKeys(ctx)
		if err != nil || n != 1 {
			t.Fatalf("cleanup = %d, %v", n, err)
		}
	})
}

func TestConcurrentCreatesMakeOneSession(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		for _, tc := range []struct{ name, order, key string }{
			{"same idempotency key", "C-1", "concurrent-key"},
			{"no key same order", "C-2", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				const n = 20
				var wg sync.WaitGroup
				resps := make([]*payments.Response, n)
				errs := make([]error, n)
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						resps[i], errs[i] = env.Service.CreateSession(ctxT(t), p, createReq(tc.order), tc.key)
					}()
				}
				wg.Wait()
				ids := map[string]bool{}
				created := 0
				for i := range n {
					if errs[i] != nil {
						t.Fatalf("request %d: %v", i, errs[i])
					}
					ids[resps[i].SessionID] = true
					if resps[i].Status == http.StatusCreated {
						created++
					}
					if tc.key != "" && !bytes.Equal(resps[i].Body, resps[0].Body) {
						t.Fatalf("replay %d differs", i)
					}
				}
				if len(ids) != 1 {
					t.Fatalf("sessions = %d, want 1", len(ids))
				}
				if tc.key != "" && created != n {
					t.Fatalf("with a key every answer replays the 201, got %d", created)
				}
				if tc.key == "" && created != 1 {
					t.Fatalf("without a key one 201 and the rest 200, got %d created", created)
				}
			})
		}
		total, _ := st.CountSessions(ctxT(t), m.ID)
		if total != 2 {
			t.Fatalf("sessions = %d, want 2", total)
		}
	})
}

// payWithSandbox runs a payment the way a shopper does: StartPayment, then
// the sandbox page's signed callback through ApplyWebhook.
func payWithSandbox(t *testing.T, env *paymentstest.Env, sessionID, choice string) provider.WebhookRequest {
	t.Helper()
	ctx := ctxT(t)
	redirect, err := env.Service.StartPayment(ctx, sessionID, "card", "")
	if err != nil {
		t.Fatalf("StartPayment: %v", err)
	}
	if !strings.HasPrefix(redirect, env.BaseURL+"/p/sbx/pay/") {
		t.Fatalf("redirect = %s", redirect)
	}
	req := sandboxCallback(t, env, sessionID, choice)
	if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", req); err != nil {
		t.Fatalf("ApplyWebhook: %v", err)
	}
	return req
}

func sandboxCallback(t *testing.T, env *paymentstest.Env, sessionID, choice string) provider.WebhookRequest {
	t.Helper()
	atts, err := env.Store.SessionAttempts(ctxT(t), sessionID)
	if err != nil || len(atts) == 0 {
		t.Fatalf("attempts = %v, %v", atts, err)
	}
	a := atts[len(atts)-1]
	sess := status(t, env, sessionID)
	form := sandbox.SignCallback(sandboxSecret, sandbox.Callback{Choice: choice, Ref: a.ProviderRef, SessionID: sessionID,
		Amount: sess.Amount, Currency: sess.Currency, TS: time.Now()})
	return provider.WebhookRequest{Method: http.MethodPost, Path: "/hooks/sandbox/sbx",
		Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form.Encode()), RemoteAddr: "127.0.0.1:9"}
}

func TestWebhookEvents(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)

		t.Run("paid once when delivered twice", func(t *testing.T) {
			v := mustCreate(t, env, p, createReq("W-1"))
			req := payWithSandbox(t, env, v.SessionID, sandbox.ChoiceSucceed)
			if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", req); err != nil {
				t.Fatal(err)
			}
			s := status(t, env, v.SessionID)
			if s.Status != domain.StatusPaid || s.PaidAt == nil {
				t.Fatalf("status = %s", s.Status)
			}
			if got := eventTypes(t, env, v.SessionID); got != "session.created,session.paid" {
				t.Fatalf("events = %s", got)
			}
			atts, _ := st.SessionAttempts(ctx, v.SessionID)
			if len(atts) != 1 || atts[0].Status != store.AttemptSucceeded || atts[0].Reason == "" {
				t.Fatalf("attempts = %+v", atts[0])
			}
			// The paid event's data is the status endpoint's view.
			evs, _ := st.SessionEvents(ctx, v.SessionID)
			view, _ := env.Service.GetSession(ctx, p, v.SessionID)
			b, _ := payments.RenderView(view)
			if evs[1].Data != string(b) {
				t.Fatalf("session.paid data = %s, status = %s", evs[1].Data, b)
			}
		})

		t.Run("failed after paid is recorded, not applied", func(t *testing.T) {
			v := mustCreate(t, env, p, createReq("W-2"))
			payWithSandbox(t, env, v.SessionID, sandbox.ChoiceSucceed)
			late := sandboxCallback(t, env, v.SessionID, sandbox.ChoiceDecline)
			if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", late); err != nil {
				t.Fatal(err)
			}
			if s := status(t, env, v.SessionID); s.Status != domain.StatusPaid {
				t.Fatalf("status = %s, want paid", s.Status)
			}
			if got := eventTypes(t, env, v.SessionID); got != "session.created,session.paid" {
				t.Fatalf("events = %s", got)
			}
			var outcomes []string
			err := st.DB().NewRaw("SELECT outcome FROM provider_events WHERE session_id = ? ORDER BY id", v.SessionID).Scan(ctx, &outcomes)
			if err != nil || strings.Join(outcomes, ",") != "applied,recorded" {
				t.Fatalf("outcomes = %v, %v", outcomes, err)
			}
		})

		t.Run("late payment on expired session is applied", func(t *testing.T) {
			v := mustCreate(t, env, p, createReq("W-3"))
			if _, err := env.Service.StartPayment(ctx, v.SessionID, "card", ""); err != nil {
				t.Fatal(err)
			}
			env.Clock.Advance(2 * time.Hour)
			defer env.Clock.Advance(-2 * time.Hour)
			if wait, err := env.Service.ExpireSession(ctx, v.SessionID); err != nil || wait != 0 {
				t.Fatalf("ExpireSession = %v, %v", wait, err)
			}
			if s := status(t, env, v.SessionID); s.Status != domain.StatusExpired {
				t.Fatalf("status = %s, want expired", s.Status)
			}
			_, err := env.Service.StartPayment(ctx, v.SessionID, "card", "")
			wantCode(t, err, domain.ErrConflict, "session_expired")
			if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", sandboxCallback(t, env, v.SessionID, sandbox.ChoiceSucceed)); err != nil {
				t.Fatal(err)
			}
			if s := status(t, env, v.SessionID); s.Status != domain.StatusPaid {
				t.Fatalf("status = %s, want paid", s.Status)
			}
			if got := eventTypes(t, env, v.SessionID); got != "session.created,session.expired,session.paid" {
				t.Fatalf("events = %s", got)
			}
		})

		t.Run("decline reopens for another method", func(t *testing.T) {
			v := mustCreate(t, env, p, createReq("W-4"))
			payWithSandbox(t, env, v.SessionID, sandbox.ChoiceDecline)
			if s := status(t, env, v.SessionID); s.Status != domain.StatusOpen {
				t.Fatalf("status = %s", s.Status)
			}
			co, err := env.Service.CheckoutView(ctx, v.SessionID)
			if err != nil || co.LastAttempt == nil || co.LastAttempt.Status != store.AttemptFailed || len(co.Methods) != 3 {
				t.Fatalf("checkout = %+v, %v", co, err)
			}
			payWithSandbox(t, env, v.SessionID, sandbox.ChoiceProcessingThenSucceed)
			if got := eventTypes(t, env, v.SessionID); got != "session.created,session.failed,session.processing,session.paid" {
				t.Fatalf("events = %s", got)
			}
		})

		t.Run("unknown session is recorded and acknowledged", func(t *testing.T) {
			form := sandbox.SignCallback(sandboxSecret, sandbox.Callback{Choice: sandbox.ChoiceSucceed, Ref: "sbx_000000000000000000000000",
				SessionID: domain.NewSessionID(), Amount: 100, Currency: "USD", TS: time.Now()})
			resp, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", provider.WebhookRequest{Method: http.MethodPost, Body: []byte(form.Encode())})
			if err != nil || (resp.Status != 0 && resp.Status != http.StatusOK) {
				t.Fatalf("resp = %+v, %v", resp, err)
			}
			var outcome, reason string
			err = st.DB().NewRaw("SELECT outcome, reason FROM provider_events WHERE provider_ref = ?", "sbx_000000000000000000000000").Scan(ctx, &outcome, &reason)
			if err != nil || outcome != "recorded" || !strings.Contains(reason, "no session") {
				t.Fatalf("outcome = %q %q, %v", outcome, reason, err)
			}
		})

		t.Run("stored request keeps everything but credentials", func(t *testing.T) {
			req := provider.WebhookRequest{Method: http.MethodPost, Path: "/hooks/sandbox/sbx", Query: "a=1",
				Headers: http.Header{"Authorization": {"Basic c2VjcmV0"}, "X-Signature": {"sha256=ab"}}, Body: []byte("x=1"), RemoteAddr: "192.0.2.1:5"}
			if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", req); err != nil {
				t.Fatal(err)
			}
			var got struct {
				Headers string `bun:"headers"`
				Body    []byte `bun:"body"`
				Query   string `bun:"query"`
				Remote  string `bun:"remote_addr"`
				Status  int    `bun:"response_status"`
			}
			if err := st.DB().NewRaw("SELECT headers, body, query, remote_addr, response_status FROM webhook_requests ORDER BY id DESC LIMIT 1").Scan(ctx, &got); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(got.Headers, "c2VjcmV0") || !strings.Contains(got.Headers, "redacted") || !strings.Contains(got.Headers, "sha256=ab") ||
				string(got.Body) != "x=1" || got.Query != "a=1" || got.Remote != "192.0.2.1:5" || got.Status != http.StatusBadRequest {
				t.Fatalf("stored = %+v", got)
			}
		})

		t.Run("unknown provider, wrong type, plugin down", func(t *testing.T) {
			req := provider.WebhookRequest{Method: http.MethodPost}
			_, err := env.Service.ApplyWebhook(ctx, "nope", "sandbox", req)
			wantCode(t, err, domain.ErrNotFound, "resource_missing")
			_, err = env.Service.ApplyWebhook(ctx, "sbx", "stripe", req)
			wantCode(t, err, domain.ErrNotFound, "resource_missing")
			env.Providers.SetDown("sbx", true)
			defer env.Providers.SetDown("sbx", false)
			_, err = env.Service.ApplyWebhook(ctx, "sbx", "sandbox", req)
			wantCode(t, err, domain.ErrUnavailable, "provider_unavailable")
		})
	})
}

func TestStartPaymentFailover(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := paymentstest.New(t, st, paymentstest.Options{Instances: []paymentstest.Instance{
			{ID: "flaky", Impl: &unavailableProvider{Provider: sandbox.New()}, Settings: map[string]string{sandbox.SettingSigningSecret: sandboxSecret}},
			{ID: "sbx", Impl: sandbox.New(), Settings: map[string]string{sandbox.SettingSigningSecret: sandboxSecret}},
		}})
		m := env.Merchant(t, domain.PlanPro, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		req := createReq("F-1")
		req.Method = "card"
		v := mustCreate(t, env, p, req)
		redirect, err := env.Service.StartPayment(ctxT(t), v.SessionID, "", "")
		if err != nil || !strings.Contains(redirect, "/p/sbx/") {
			t.Fatalf("StartPayment = %s, %v", redirect, err)
		}
		atts, _ := st.SessionAttempts(ctxT(t), v.SessionID)
		if len(atts) != 2 || atts[0].ProviderID != "flaky" || atts[0].Status != store.AttemptFailed ||
			atts[1].ProviderID != "sbx" || atts[1].Status != store.AttemptPending || atts[1].ProviderRef == "" {
			t.Fatalf("attempts = %+v %+v", atts[0], atts[len(atts)-1])
		}
		_, err = env.Service.StartPayment(ctxT(t), v.SessionID, "wallet", "")
		wantCode(t, err, domain.ErrInvalid, "method_mismatch")
	})
}

// unavailableProvider fails every CreatePayment as an unreachable upstream.
type unavailableProvider struct{ *sandbox.Provider }

func (unavailableProvider) CreatePayment(context.Context, provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	return provider.CreatePaymentResponse{}, sdk.Unavailable("upstream unreachable")
}

func TestExpireAndCancel(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)
		v := mustCreate(t, env, p, createReq("E-1"))
		wait, err := env.Service.ExpireSession(ctx, v.SessionID)
		if err != nil || wait <= 0 {
			t.Fatalf("early expiry: wait %v, %v", wait, err)
		}
		env.Clock.Advance(time.Hour)
		if _, err := env.Service.ExpireSession(ctx, v.SessionID); err != nil {
			t.Fatal(err)
		}
		if s := status(t, env, v.SessionID); s.Status != domain.StatusExpired {
			t.Fatalf("status = %s", s.Status)
		}
		// Expired frees the order for a new session.
		v2 := mustCreate(t, env, p, createReq("E-1"))
		cv, err := env.Service.Cancel(ctx, v2.SessionID)
		if err != nil || cv.Status != domain.StatusCanceled || cv.CanceledAt == nil {
			t.Fatalf("Cancel = %+v, %v", cv, err)
		}
		if got := eventTypes(t, env, v2.SessionID); got != "session.created,session.canceled" {
			t.Fatalf("events = %s", got)
		}
		_, err = env.Service.StartPayment(ctx, v2.SessionID, "card", "")
		wantCode(t, err, domain.ErrConflict, "session_canceled")
	})
}

func TestReconcileProcessing(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)
		v2 := mustCreate(t, env, p, createReq("R-2"))
		if _, err := env.Service.StartPayment(ctx, v2.SessionID, "card", ""); err != nil {
			t.Fatal(err)
		}
		// The sandbox reports processing then succeeded and records the
		// success upstream; only the processing event reaches the service,
		// as if the success notification were lost.
		req2 := sandboxCallback(t, env, v2.SessionID, sandbox.ChoiceProcessingThenSucceed)
		out2, err := env.Providers.Client("sbx").HandleWebhook(ctx, req2)
		if err != nil || len(out2.Events) != 2 {
			t.Fatalf("HandleWebhook = %+v, %v", out2, err)
		}
		for _, ev := range out2.Events[:1] {
			if _, err := payments.ApplyEventForTest(env.Service, ctx, "sbx", ev); err != nil {
				t.Fatal(err)
			}
		}
		if s := status(t, env, v2.SessionID); s.Status != domain.StatusProcessing {
			t.Fatalf("status = %s, want processing", s.Status)
		}
		n, err := env.Service.ReconcileProcessing(ctx)
		if err != nil || n != 0 {
			t.Fatalf("reconcile before the threshold = %d, %v", n, err)
		}
		env.Clock.Advance(11 * time.Minute)
		n, err = env.Service.ReconcileProcessing(ctx)
		if err != nil || n != 1 {
			t.Fatalf("reconcile = %d, %v", n, err)
		}
		if s := status(t, env, v2.SessionID); s.Status != domain.StatusPaid {
			t.Fatalf("status = %s, want paid", s.Status)
		}
		if n, _ := env.Service.ReconcileProcessing(ctx); n != 0 {
			t.Fatalf("second reconcile applied %d", n)
		}
	})
}

func TestMe(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		for _, tc := range []struct {
			plan domain.Plan
			mode domain.IntegrationMode
		}{
			{domain.PlanFree, domain.ModeHostedCheckout},
			{domain.PlanStarter, domain.ModeHostedCheckout},
			{domain.PlanPro, domain.ModeSmartRouting},
			{domain.PlanUnlimited, domain.ModeSmartRouting},
		} {
			t.Run(string(tc.plan), func(t *testing.T) {
				m := env.Merchant(t, tc.plan, "shop.test", "www.shop.test")
				_, p := env.Key(t, m.ID, domain.ModeTest)
				me, err := env.Service.Me(ctxT(t), p)
				if err != nil {
					t.Fatal(err)
				}
				if me.IntegrationMode != tc.mode || me.Plan != tc.plan || me.MerchantID != m.ID ||
					strings.Join(me.Domains, ",") != "shop.test,www.shop.test" || len(me.Methods) != 3 ||
					me.Methods[0].Method != "bank_transfer" || me.Methods[0].Label != "Bank transfer (sandbox)" {
					t.Fatalf("me = %+v", me)
				}
			})
		}
		env.Providers.SetDown("sbx", true)
		defer env.Providers.SetDown("sbx", false)
		m := env.Merchant(t, domain.PlanPro, "x.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		me, err := env.Service.Me(ctxT(t), p)
		if err != nil || len(me.Methods) != 0 {
			t.Fatalf("methods with the only provider down = %+v, %v", me.Methods, err)
		}
	})
}

// The domain keeps its own copy of the SDK's payment event names; they must
// stay identical, and agree on which events move money.
func TestPaymentEventKindsMatchSDK(t *testing.T) {
	for _, k := range domain.PaymentEventKinds() {
		et := provider.EventType(k)
		if !et.Valid() {
			t.Errorf("domain kind %q is not an SDK event type", k)
		}
		if k != domain.PaymentDisputeWon && et.MovesMoney() != k.MovesMoney() {
			t.Errorf("%q: sdk MovesMoney %v, domain %v", k, et.MovesMoney(), k.MovesMoney())
		}
	}
}

// The expiry sweep runs as a periodic job in a real River worker (leader
// elected, short interval here) and expires the session when its TTL
// passes, with its event.
func TestExpiryJobRuns(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := paymentstest.New(t, st, paymentstest.Options{
			RealClock: true,
			Sessions:  config.SessionsConfig{TTL: time.Second},
			Instances: []paymentstest.Instance{{ID: "sbx", Impl: sandbox.New(), Settings: map[string]string{sandbox.SettingSigningSecret: sandboxSecret}}},
		})
		reg := jobs.NewRegistry()
		if err := env.Service.RegisterJobs(reg); err != nil {
			t.Fatal(err)
		}
		runner, err := jobs.New(st, jobs.Options{
			Registry: reg, PollInterval: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
			PeriodicJobs: []*river.PeriodicJob{env.Service.ExpirySweepJob(200 * time.Millisecond)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := runner.Start(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = runner.Stop(ctx)
		})
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		v := mustCreate(t, env, p, createReq("JOB-1"))
		deadline := time.Now().Add(20 * time.Second)
		for status(t, env, v.SessionID).Status != domain.StatusExpired {
			if time.Now().After(deadline) {
				t.Fatalf("session still %s after its TTL", status(t, env, v.SessionID).Status)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := eventTypes(t, env, v.SessionID); got != "session.created,session.expired" {
			t.Fatalf("events = %s", got)
		}
		var sweeps int
		err = st.DB().NewRaw("SELECT COUNT(*) FROM river_job WHERE kind = ?", payments.ExpireSessionsArgs{}.Kind()).Scan(ctxT(t), &sweeps)
		if err != nil || sweeps == 0 {
			t.Fatalf("expire_sessions jobs = %d, %v", sweeps, err)
		}
	})
}

// The sweep expires exactly the open sessions past expires_at, across
// several batches, each with its event; sessions not yet due, and those
// no longer open, are left alone.
func TestExpireDueSessions(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)
		var due []string
		for i := range 7 {
			due = append(due, mustCreate(t, env, p, createReq(fmt.Sprintf("DUE-%d", i))).SessionID)
			env.Clock.Advance(time.Millisecond)
		}
		canceled := mustCreate(t, env, p, createReq("DUE-CANCELED")).SessionID
		if _, err := env.Service.Cancel(ctx, canceled); err != nil {
			t.Fatal(err)
		}
		env.Clock.Advance(30 * time.Minute)
		notDue := mustCreate(t, env, p, createReq("NOT-DUE")).SessionID
		env.Clock.Advance(31 * time.Minute) // the first eight are past their 1 h TTL

		n, err := payments.ExpireDueSessionsForTest(env.Service, ctx, 3)
		if err != nil || n != len(due) {
			t.Fatalf("sweep = %d, %v; want %d", n, err, len(due))
		}
		for _, id := range due {
			if s := status(t, env, id); s.Status != domain.StatusExpired {
				t.Fatalf("%s: status %s, want expired", id, s.Status)
			}
			if got := eventTypes(t, env, id); got != "session.created,session.expired" {
				t.Fatalf("%s: events %s", id, got)
			}
		}
		if got := eventTypes(t, env, canceled); got != "session.created,session.canceled" {
			t.Fatalf("canceled session: events %s", got)
		}
		if s := status(t, env, notDue); s.Status != domain.StatusOpen {
			t.Fatalf("not-due session: status %s", s.Status)
		}
		// A second run finds nothing left to do.
		if n, err := env.Service.ExpireDueSessions(ctx); err != nil || n != 0 {
			t.Fatalf("second sweep = %d, %v", n, err)
		}
	})
}

// A create for an order whose open session is past expires_at, before the
// sweep got to it, expires that session (with its event) and creates a new
// one instead of handing back a session the checkout would refuse.
func TestCreateExpiresDueOpenSessionOfOrder(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)
		old := mustCreate(t, env, p, createReq("LAG-1"))
		env.Clock.Advance(time.Hour)
		resp, err := env.Service.CreateSession(ctx, p, createReq("LAG-1"), "")
		if err != nil || resp.Status != http.StatusCreated || resp.SessionID == old.SessionID {
			t.Fatalf("create after TTL = %+v, %v; want a new session", resp, err)
		}
		if got := eventTypes(t, env, old.SessionID); got != "session.created,session.expired" {
			t.Fatalf("old session: events %s", got)
		}
		// Not yet due (TTL not passed): the open session is returned.
		again, err := env.Service.CreateSession(ctx, p, createReq("LAG-1"), "")
		if err != nil || again.Status != http.StatusOK || again.SessionID != resp.SessionID {
			t.Fatalf("create before TTL = %+v, %v", again, err)
		}
		// A due session does not hold its order against another amount
		// either (before it is due, that is order_in_progress).
		other := createReq("LAG-1")
		other.Amount = amount("12.00")
		_, err = env.Service.CreateSession(ctx, p, other, "")
		wantCode(t, err, domain.ErrConflict, "order_in_progress")
		env.Clock.Advance(time.Hour)
		third, err := env.Service.CreateSession(ctx, p, other, "")
		if err != nil || third.Status != http.StatusCreated || third.SessionID == resp.SessionID {
			t.Fatalf("create with another amount after TTL = %+v, %v", third, err)
		}
		if got := eventTypes(t, env, resp.SessionID); got != "session.created,session.expired" {
			t.Fatalf("second session: events %s", got)
		}
	})
}

// recordingSink is an EventSink that records what it was given and can be
// told to fail.
type recordingSink struct {
	mu    sync.Mutex
	types []string
	fail  error
}

func (r *recordingSink) EventsInserted(ctx context.Context, tx bun.Tx, sess *store.Session, events ...*store.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	for _, ev := range events {
		// The event row is visible inside the caller's transaction.
		if _, err := store.NewRepo(tx).SessionEvents(ctx, ev.SessionID); err != nil {
			return err
		}
		r.types = append(r.types, ev.Type)
	}
	return nil
}

func TestEventSinkAndIPNURL(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		sink := &recordingSink{}
		env := paymentstest.New(t, st, paymentstest.Options{
			Events: sink,
			CheckIPNURL: func(_ context.Context, raw string) error {
				if strings.Contains(raw, "127.0.0.1") {
					return domain.Invalid("blocked_url", "url", "url resolves to a loopback address")
				}
				return nil
			},
			Instances: []paymentstest.Instance{{ID: "sbx", Impl: sandbox.New(), Settings: map[string]string{sandbox.SettingSigningSecret: sandboxSecret}}},
		})
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)

		req := createReq("SINK-1")
		req.IPNURL = "https://shop.test/ipn"
		v := mustCreate(t, env, p, req)
		if v.IPNURL == nil || *v.IPNURL != "https://shop.test/ipn" {
			t.Fatalf("ipn_url = %v", v.IPNURL)
		}
		payWithSandbox(t, env, v.SessionID, sandbox.ChoiceSucceed)
		if got := strings.Join(sink.types, ","); got != "session.created,session.paid" {
			t.Fatalf("sink saw %s", got)
		}

		for name, c := range map[string]struct {
			url, code string
		}{
			"relative": {"/ipn", "invalid_url"},
			"blocked":  {"https://127.0.0.1/ipn", "blocked_url"},
			"non-http": {"mailto:x@shop.test", "invalid_url"},
		} {
			t.Run(name, func(t *testing.T) {
				r := createReq("SINK-BAD")
				r.IPNURL = c.url
				_, err := env.Service.CreateSession(ctx, p, r, "")
				wantCode(t, err, domain.ErrInvalid, c.code)
				if de, _ := domain.AsError(err); de.Field != "ipn_url" {
					t.Fatalf("field = %q", de.Field)
				}
			})
		}

		// A failing sink rolls the whole create back.
		sink.fail = errors.New("deliveries unavailable")
		before, _ := st.CountSessions(ctx, m.ID)
		if _, err := env.Service.CreateSession(ctx, p, createReq("SINK-2"), "k-sink"); err == nil {
			t.Fatal("create succeeded with a failing sink")
		}
		after, _ := st.CountSessions(ctx, m.ID)
		if after != before {
			t.Fatalf("sessions %d -> %d after a failed sink", before, after)
		}
		if _, err := st.GetIdempotencyKey(ctx, m.ID, domain.ModeTest, "k-sink"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("idempotency key stored for a failed create: %v", err)
		}
	})
}

// decliningProvider declines every payment on its merits.
type decliningProvider struct{ *sandbox.Provider }

func (decliningProvider) CreatePayment(context.Context, provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	return provider.CreatePaymentResponse{}, sdk.Declined("card declined").WithCode("insufficient_funds")
}

func TestStartPaymentErrors(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		settings := map[string]string{sandbox.SettingSigningSecret: sandboxSecret}
		env := paymentstest.New(t, st, paymentstest.Options{
			Instances: []paymentstest.Instance{
				{ID: "decl", Impl: &decliningProvider{Provider: sandbox.New()}, Settings: settings},
				{ID: "flaky", Impl: &unavailableProvider{Provider: sandbox.New()}, Settings: settings},
			},
			Rules: []config.RoutingRule{
				{Method: "card", Providers: []config.RoutingProvider{{ID: "decl"}}},
				{Method: "wallet", Providers: []config.RoutingProvider{{ID: "flaky"}}},
			},
		})
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)

		v := mustCreate(t, env, p, createReq("D-1"))
		_, err := env.Service.StartPayment(ctx, v.SessionID, "card", "")
		wantCode(t, err, domain.ErrUnprocessable, "payment_declined")
		if de, _ := domain.AsError(err); !strings.Contains(de.Message, "insufficient_funds") {
			t.Fatalf("message = %q", de.Message)
		}
		if env.Router.Breaker("decl") != "closed" {
			t.Fatal("a decline tripped the breaker")
		}
		_, err = env.Service.StartPayment(ctx, v.SessionID, "bank_transfer", "")
		wantCode(t, err, domain.ErrUnprocessable, "method_unavailable")
		_, err = env.Service.StartPayment(ctx, v.SessionID, "", "")
		wantCode(t, err, domain.ErrInvalid, "missing_field")

		// Three unavailable answers open the breaker; then routing itself
		// reports no provider, without calling the plugin.
		for i := range 3 {
			_, err = env.Service.StartPayment(ctx, v.SessionID, "wallet", "")
			wantCode(t, err, domain.ErrUnavailable, "no_provider_available")
			if i < 2 && env.Router.Breaker("flaky") != "closed" {
				t.Fatalf("breaker open after %d failures", i+1)
			}
		}
		if env.Router.Breaker("flaky") != "open" {
			t.Fatalf("breaker = %s after 3 failures", env.Router.Breaker("flaky"))
		}
		atts, _ := st.SessionAttempts(ctx, v.SessionID)
		_, err = env.Service.StartPayment(ctx, v.SessionID, "wallet", "")
		wantCode(t, err, domain.ErrUnavailable, "no_provider_available")
		after, _ := st.SessionAttempts(ctx, v.SessionID)
		if len(after) != len(atts) || len(atts) != 4 {
			t.Fatalf("attempts %d -> %d; want 4 and no new one while the breaker is open", len(atts), len(after))
		}
		for i, a := range after {
			if a.Seq != int64(i+1) || a.Status != store.AttemptFailed || a.Error == "" {
				t.Fatalf("attempt %d = %+v", i, a)
			}
		}
	})
}

// A payment that succeeded upstream but whose webhook never came is found
// when the session expires, and the session ends paid, not expired.
func TestExpiryChecksPendingPayments(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)
		for _, c := range []struct {
			order, choice string
			want          domain.SessionStatus
			events        string
		}{
			{"LOST-1", sandbox.ChoiceSucceed, domain.StatusPaid, "session.created,session.paid"},
			{"LOST-2", "", domain.StatusExpired, "session.created,session.expired"},
		} {
			v := mustCreate(t, env, p, createReq(c.order))
			if _, err := env.Service.StartPayment(ctx, v.SessionID, "card", ""); err != nil {
				t.Fatal(err)
			}
			if c.choice != "" {
				// The sandbox records the outcome; its webhook is lost.
				if _, err := env.Providers.Client("sbx").HandleWebhook(ctx, sandboxCallback(t, env, v.SessionID, c.choice)); err != nil {
					t.Fatal(err)
				}
			}
			env.Clock.Advance(2 * time.Hour)
			if _, err := env.Service.ExpireSession(ctx, v.SessionID); err != nil {
				t.Fatal(err)
			}
			env.Clock.Advance(-2 * time.Hour)
			if s := status(t, env, v.SessionID); s.Status != c.want {
				t.Fatalf("%s: status %s, want %s", c.order, s.Status, c.want)
			}
			if got := eventTypes(t, env, v.SessionID); got != c.events {
				t.Fatalf("%s: events %s", c.order, got)
			}
		}
	})
}
