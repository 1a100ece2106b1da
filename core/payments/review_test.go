package payments_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk/provider"
)

// signedCallback is the sandbox's own signed confirmation for the session's
// latest attempt, with the amount and currency the provider reports (the
// sandbox signs whatever it charged; a test holding its secret plays the
// provider reporting another amount).
func signedCallback(t *testing.T, env *paymentstest.Env, sessionID, choice string, amount int64, currency, path string) provider.WebhookRequest {
	t.Helper()
	atts, err := env.Store.SessionAttempts(ctxT(t), sessionID)
	if err != nil || len(atts) == 0 {
		t.Fatalf("attempts = %v, %v", atts, err)
	}
	a := atts[len(atts)-1]
	form := sandbox.SignCallback(sandboxSecret, sandbox.Callback{Choice: choice, Ref: a.ProviderRef, SessionID: sessionID,
		Amount: amount, Currency: currency, TS: time.Now()})
	return provider.WebhookRequest{Method: http.MethodPost, Path: path,
		Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form.Encode()), RemoteAddr: "127.0.0.1:9"}
}

func providerEventOutcome(t *testing.T, st *store.Store, sessionID string) (outcome, reason string) {
	t.Helper()
	err := st.DB().NewRaw("SELECT outcome, reason FROM provider_events WHERE session_id = ? ORDER BY id DESC LIMIT 1", sessionID).
		Scan(ctxT(t), &outcome, &reason)
	if err != nil {
		t.Fatal(err)
	}
	return outcome, reason
}

func onlyReview(t *testing.T, env *paymentstest.Env, sessionID string) *payments.ReviewView {
	t.Helper()
	d, err := env.Service.AdminSession(ctxT(t), sessionID)
	if err != nil || len(d.Reviews) != 1 {
		t.Fatalf("reviews of %s = %+v, %v; want one", sessionID, d, err)
	}
	return d.Reviews[0]
}

func started(t *testing.T, env *paymentstest.Env, p *merchants.Principal, order string) *payments.SessionView {
	t.Helper()
	v := mustCreate(t, env, p, createReq(order))
	if _, err := env.Service.StartPayment(ctxT(t), v.SessionID, "card", ""); err != nil {
		t.Fatal(err)
	}
	return v
}

// A provider-signed success is settled by the amount and currency it
// confirms: equal is paid, less or another currency is held for review,
// more is paid and flagged; the status endpoint shows what was received.
func TestConfirmedAmountDecides(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)
		for _, tc := range []struct {
			order    string
			amount   int64
			currency string
			status   domain.SessionStatus
			events   string
			review   domain.ReviewReason
			received string
		}{
			{"EXACT", 4995, "USD", domain.StatusPaid, "session.created,session.paid", "", "49.95"},
			{"UNDER-050", 50, "USD", domain.StatusRequiresReview, "session.created,session.amount_mismatch", domain.ReviewAmountMismatch, "0.50"},
			{"UNDER-1000", 1000, "USD", domain.StatusRequiresReview, "session.created,session.amount_mismatch", domain.ReviewAmountMismatch, "10.00"},
			{"CURRENCY", 4995, "EUR", domain.StatusRequiresReview, "session.created,session.amount_mismatch", domain.ReviewCurrencyMismatch, "49.95"},
			{"OVER", 5995, "USD", domain.StatusPaid, "session.created,session.paid,session.amount_mismatch", domain.ReviewAmountMismatch, "59.95"},
		} {
			t.Run(tc.order, func(t *testing.T) {
				v := started(t, env, p, tc.order)
				req := signedCallback(t, env, v.SessionID, sandbox.ChoiceSucceed, tc.amount, tc.currency, "/hooks/sandbox/sbx")
				if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", req); err != nil {
					t.Fatal(err)
				}
				s := status(t, env, v.SessionID)
				if s.Status != tc.status || string(s.ReviewReason) != string(tc.review) {
					t.Fatalf("status %s review %q, want %s %q", s.Status, s.ReviewReason, tc.status, tc.review)
				}
				if got := eventTypes(t, env, v.SessionID); got != tc.events {
					t.Fatalf("events %s, want %s", got, tc.events)
				}
				if (s.PaidAt != nil) != (tc.status == domain.StatusPaid) {
					t.Fatalf("paid_at = %v with status %s", s.PaidAt, s.Status)
				}
				view, err := env.Service.GetSession(ctx, p, v.SessionID)
				if err != nil {
					t.Fatal(err)
				}
				if view.Amount != "49.95" || view.AmountReceived == nil || *view.AmountReceived != tc.received ||
					view.CurrencyReceived == nil || *view.CurrencyReceived != tc.currency {
					t.Fatalf("view amount %s received %v %v", view.Amount, view.AmountReceived, view.CurrencyReceived)
				}
				atts, _ := st.SessionAttempts(ctx, v.SessionID)
				if atts[0].Status != store.AttemptSucceeded {
					t.Fatalf("attempt %s: the provider did take the money", atts[0].Status)
				}
				if tc.review != "" {
					rv := onlyReview(t, env, v.SessionID)
					if rv.Status != domain.ReviewOpen || rv.Reason != tc.review || rv.ExpectedAmount != "49.95" ||
						rv.ReceivedAmount != tc.received || rv.ReceivedCurrency != tc.currency || rv.ProviderID != "sbx" {
						t.Fatalf("review %+v", rv)
					}
				}
				// Delivered twice: applied once.
				if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", req); err != nil {
					t.Fatal(err)
				}
				if got := eventTypes(t, env, v.SessionID); got != tc.events {
					t.Fatalf("after a redelivery: events %s", got)
				}
			})
		}
		// The held order is not paid, and not open for another session.
		_, err := env.Service.CreateSession(ctx, p, createReq("UNDER-050"), "")
		wantCode(t, err, domain.ErrConflict, "order_under_review")
		_, err = env.Service.StartPayment(ctx, status(t, env, mustSessionOf(t, env, "UNDER-050", m.ID)).ID, "card", "")
		wantCode(t, err, domain.ErrConflict, "session_under_review")
	})
}

func mustSessionOf(t *testing.T, env *paymentstest.Env, order string, merchantID int64) string {
	t.Helper()
	ss, err := env.Store.OrderSessions(ctxT(t), merchantID, store.ModeTest, order, 5)
	if err != nil || len(ss) == 0 {
		t.Fatalf("sessions of %s: %v %v", order, ss, err)
	}
	return ss[0].ID
}

// A success that states no amount is confirmed with the provider's
// GetPayment before anything settles; when the provider cannot confirm
// it, the session waits in processing and reconciliation asks again.
func TestMissingAmountGoesThroughGetPayment(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)
		sbx := env.Providers.Client("sbx")

		t.Run("confirmed by GetPayment", func(t *testing.T) {
			v := started(t, env, p, "NOAMT-1")
			out, err := sbx.HandleWebhook(ctx, signedCallback(t, env, v.SessionID, sandbox.ChoiceSucceed, 4995, "USD", ""))
			if err != nil || len(out.Events) != 1 {
				t.Fatalf("HandleWebhook = %+v, %v", out, err)
			}
			ev := out.Events[0]
			ev.Amount, ev.Currency = 0, ""
			if _, err := payments.ApplyEventForTest(env.Service, ctx, "sbx", ev); err != nil {
				t.Fatal(err)
			}
			if s := status(t, env, v.SessionID); s.Status != domain.StatusPaid || s.AmountReceived != 4995 || s.CurrencyReceived != "USD" {
				t.Fatalf("session %s received %d %s", s.Status, s.AmountReceived, s.CurrencyReceived)
			}
			if outcome, reason := providerEventOutcome(t, st, v.SessionID); outcome != "applied" || !strings.Contains(reason, "confirmed by GetPayment") {
				t.Fatalf("outcome %s: %s", outcome, reason)
			}
		})

		t.Run("unconfirmed stays processing until reconciliation confirms", func(t *testing.T) {
			v := started(t, env, p, "NOAMT-2")
			atts, _ := st.SessionAttempts(ctx, v.SessionID)
			// The provider reports success without an amount, and its
			// GetPayment still says pending.
			ev := provider.Event{Type: provider.PaymentSucceeded, ProviderEventID: "noamt-2", ProviderRef: atts[0].ProviderRef,
				SessionID: v.SessionID, OccurredAt: time.Now()}
			if _, err := payments.ApplyEventForTest(env.Service, ctx, "sbx", ev); err != nil {
				t.Fatal(err)
			}
			s := status(t, env, v.SessionID)
			if s.Status != domain.StatusProcessing || s.PaidAt != nil || s.AmountReceived != 0 {
				t.Fatalf("after an unconfirmed success: %s paid_at %v", s.Status, s.PaidAt)
			}
			if outcome, reason := providerEventOutcome(t, st, v.SessionID); outcome != "applied" ||
				!strings.Contains(reason, "without a confirmed amount") || !strings.Contains(reason, "pending") {
				t.Fatalf("outcome %s: %s", outcome, reason)
			}
			if atts, _ := st.SessionAttempts(ctx, v.SessionID); atts[0].Status != store.AttemptProcessing {
				t.Fatalf("attempt %s, want processing for reconciliation", atts[0].Status)
			}
			env.Clock.Advance(11 * time.Minute)
			defer env.Clock.Advance(-11 * time.Minute)
			if n, err := env.Service.ReconcileProcessing(ctx); err != nil || n != 0 {
				t.Fatalf("reconcile while the provider still says pending = %d, %v", n, err)
			}
			// The payment completes upstream (its notification is lost).
			if _, err := sbx.HandleWebhook(ctx, signedCallback(t, env, v.SessionID, sandbox.ChoiceSucceed, 4995, "USD", "")); err != nil {
				t.Fatal(err)
			}
			if n, err := env.Service.ReconcileProcessing(ctx); err != nil || n != 1 {
				t.Fatalf("reconcile = %d, %v", n, err)
			}
			if s := status(t, env, v.SessionID); s.Status != domain.StatusPaid || s.AmountReceived != 4995 {
				t.Fatalf("after reconciliation: %s %d", s.Status, s.AmountReceived)
			}
		})

		t.Run("unconfirmed on an expired session is reconciled", func(t *testing.T) {
			v := started(t, env, p, "NOAMT-3")
			env.Clock.Advance(2 * time.Hour)
			defer env.Clock.Advance(-2 * time.Hour)
			if _, err := env.Service.ExpireSession(ctx, v.SessionID); err != nil {
				t.Fatal(err)
			}
			atts, _ := st.SessionAttempts(ctx, v.SessionID)
			ev := provider.Event{Type: provider.PaymentSucceeded, ProviderEventID: "noamt-3", ProviderRef: atts[0].ProviderRef,
				SessionID: v.SessionID, OccurredAt: time.Now()}
			if _, err := payments.ApplyEventForTest(env.Service, ctx, "sbx", ev); err != nil {
				t.Fatal(err)
			}
			if s := status(t, env, v.SessionID); s.Status != domain.StatusExpired {
				t.Fatalf("status %s, want expired until confirmed", s.Status)
			}
			if _, err := sbx.HandleWebhook(ctx, signedCallback(t, env, v.SessionID, sandbox.ChoiceSucceed, 4995, "USD", "")); err != nil {
				t.Fatal(err)
			}
			env.Clock.Advance(11 * time.Minute)
			defer env.Clock.Advance(-11 * time.Minute)
			if n, err := env.Service.ReconcileProcessing(ctx); err != nil || n != 1 {
				t.Fatalf("reconcile = %d, %v", n, err)
			}
			if got := eventTypes(t, env, v.SessionID); got != "session.created,session.expired,session.paid" {
				t.Fatalf("events %s", got)
			}
		})
	})
}

// An event settles a session only through the provider instance its
// attempt was routed to: the same account's IPN/callback posted to another
// instance is recorded with the reason and changes nothing.
func TestInstanceBinding(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		settings := map[string]string{sandbox.SettingSigningSecret: sandboxSecret}
		env := paymentstest.New(t, st, paymentstest.Options{
			Instances: []paymentstest.Instance{{ID: "sbx", Impl: sandbox.New(), Settings: settings}, {ID: "sbx_b", Impl: sandbox.New(), Settings: settings}},
		})
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)
		v := started(t, env, p, "BIND-1")
		atts, _ := st.SessionAttempts(ctx, v.SessionID)
		if len(atts) != 1 || atts[0].ProviderID != "sbx" {
			t.Fatalf("routed to %+v, want sbx", atts)
		}
		req := signedCallback(t, env, v.SessionID, sandbox.ChoiceSucceed, 4995, "USD", "/hooks/sandbox/sbx_b")
		if _, err := env.Service.ApplyWebhook(ctx, "sbx_b", "sandbox", req); err != nil {
			t.Fatal(err)
		}
		s := status(t, env, v.SessionID)
		if s.Status != domain.StatusOpen {
			t.Fatalf("status %s after an event through another instance", s.Status)
		}
		outcome, reason := providerEventOutcome(t, st, v.SessionID)
		if outcome != "recorded" || !strings.Contains(reason, "instance_mismatch") || !strings.Contains(reason, "routed to sbx, not sbx_b") {
			t.Fatalf("outcome %s: %s", outcome, reason)
		}
		if atts, _ := st.SessionAttempts(ctx, v.SessionID); len(atts) != 1 || atts[0].Status != store.AttemptPending {
			t.Fatalf("attempts %+v", atts)
		}
		// The same callback through the routed instance pays it.
		req.Path = "/hooks/sandbox/sbx"
		if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", req); err != nil {
			t.Fatal(err)
		}
		if s := status(t, env, v.SessionID); s.Status != domain.StatusPaid {
			t.Fatalf("status %s through the routed instance", s.Status)
		}
	})
}

// Operators resolve reviews: accept pays a held session; refund records
// the decision and the amount, and the provider's refund closes it.
func TestResolveReviews(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		m := env.Merchant(t, domain.PlanFree, "shop.test")
		_, p := env.Key(t, m.ID, domain.ModeTest)
		ctx := ctxT(t)
		pay := func(order string, amount int64, currency string) string {
			t.Helper()
			v := started(t, env, p, order)
			if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", signedCallback(t, env, v.SessionID, sandbox.ChoiceSucceed, amount, currency, "")); err != nil {
				t.Fatal(err)
			}
			return v.SessionID
		}
		refundEvent := func(sessionID, id string, kind provider.EventType, amount int64) {
			t.Helper()
			atts, _ := st.SessionAttempts(ctx, sessionID)
			if _, err := payments.ApplyEventForTest(env.Service, ctx, "sbx", provider.Event{Type: kind, ProviderEventID: id,
				ProviderRef: atts[0].ProviderRef, SessionID: sessionID, Amount: amount, Currency: "USD", OccurredAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}

		t.Run("accept an underpayment", func(t *testing.T) {
			sid := pay("R-ACCEPT", 4000, "USD")
			rv := onlyReview(t, env, sid)
			got, err := env.Service.ResolveReview(ctx, rv.ID, payments.ResolveReviewRequest{Action: "accept", Note: "customer called", Operator: "test"})
			if err != nil || got.Status != domain.ReviewResolved || *got.Resolution != domain.ResolutionAccept || *got.ResolvedBy != "test" || *got.Note != "customer called" {
				t.Fatalf("resolve = %+v, %v", got, err)
			}
			s := status(t, env, sid)
			if s.Status != domain.StatusPaid || s.PaidAt == nil || s.ReviewReason != "" || s.AmountReceived != 4000 {
				t.Fatalf("session %+v", s)
			}
			if got := eventTypes(t, env, sid); got != "session.created,session.amount_mismatch,session.paid" {
				t.Fatalf("events %s", got)
			}
			_, err = env.Service.ResolveReview(ctx, rv.ID, payments.ResolveReviewRequest{Action: "refund"})
			wantCode(t, err, domain.ErrConflict, "review_not_open")
			// Refunds now count against the 40.00 received, not 49.95.
			refundEvent(sid, "r-accept-refund", provider.PaymentPartiallyRefunded, 4000)
			if s := status(t, env, sid); s.Status != domain.StatusRefunded || s.AmountRefunded != 4000 {
				t.Fatalf("after refunding all that was received: %s %d", s.Status, s.AmountRefunded)
			}
		})

		t.Run("refund an underpayment", func(t *testing.T) {
			sid := pay("R-REFUND", 1000, "USD")
			rv := onlyReview(t, env, sid)
			got, err := env.Service.ResolveReview(ctx, rv.ID, payments.ResolveReviewRequest{Action: "refund", Operator: "test"})
			if err != nil || got.Status != domain.ReviewRefundPending || *got.RefundAmount != "10.00" || *got.RefundCurrency != "USD" {
				t.Fatalf("resolve = %+v, %v", got, err)
			}
			if s := status(t, env, sid); s.Status != domain.StatusRequiresReview || s.ReviewReason != domain.ReviewAmountMismatch {
				t.Fatalf("a refund decision alone moves no money: %s %q", s.Status, s.ReviewReason)
			}
			// The refund made at the provider arrives and closes it.
			refundEvent(sid, "r-refund-refund", provider.PaymentRefunded, 1000)
			s := status(t, env, sid)
			if s.Status != domain.StatusRefunded || s.AmountRefunded != 1000 || s.ReviewReason != "" || s.PaidAt != nil {
				t.Fatalf("after the refund: %+v", s)
			}
			if rv := onlyReview(t, env, sid); rv.Status != domain.ReviewResolved || *rv.Resolution != domain.ResolutionRefunded {
				t.Fatalf("review %+v", rv)
			}
		})

		t.Run("refund the excess of an overpayment", func(t *testing.T) {
			sid := pay("R-OVER", 5995, "USD")
			rv := onlyReview(t, env, sid)
			got, err := env.Service.ResolveReview(ctx, rv.ID, payments.ResolveReviewRequest{Action: "refund"})
			if err != nil || *got.RefundAmount != "10.00" || *got.ResolvedBy != "operator" {
				t.Fatalf("resolve = %+v, %v", got, err)
			}
			if s := status(t, env, sid); s.Status != domain.StatusPaid {
				t.Fatalf("status %s", s.Status)
			}
			// A refund of another amount leaves the decision pending; the
			// refund of exactly the excess closes it.
			refundEvent(sid, "r-over-other", provider.PaymentPartiallyRefunded, 300)
			if rv := onlyReview(t, env, sid); rv.Status != domain.ReviewRefundPending {
				t.Fatalf("after an unrelated refund: %+v", rv)
			}
			refundEvent(sid, "r-over-excess", provider.PaymentPartiallyRefunded, 1000)
			if rv := onlyReview(t, env, sid); rv.Status != domain.ReviewResolved || *rv.Resolution != domain.ResolutionRefunded {
				t.Fatalf("after the excess was refunded: %+v", rv)
			}
			if s := status(t, env, sid); s.ReviewReason != "" || s.Status != domain.StatusPartiallyRefunded {
				t.Fatalf("session %s %q", s.Status, s.ReviewReason)
			}
		})

		t.Run("a refund beyond what was paid is flagged, not applied blindly", func(t *testing.T) {
			sid := pay("R-EXCESS", 4995, "USD")
			refundEvent(sid, "r-excess-1", provider.PaymentPartiallyRefunded, 4000)
			refundEvent(sid, "r-excess-2", provider.PaymentPartiallyRefunded, 2000)
			s := status(t, env, sid)
			if s.Status != domain.StatusRefunded || s.AmountRefunded != 4995 || s.ReviewReason != domain.ReviewRefundExceedsPayment {
				t.Fatalf("session %s refunded %d review %q", s.Status, s.AmountRefunded, s.ReviewReason)
			}
			rv := onlyReview(t, env, sid)
			if rv.ReceivedAmount != "20.00" || rv.ExpectedAmount != "9.95" || rv.Event != "payment.partially_refunded" {
				t.Fatalf("review %+v", rv)
			}
			// Both refunds were made upstream: each is listed as a refund
			// (source provider) for what was applied.
			if got := eventTypes(t, env, sid); got != "session.created,session.paid,session.partially_refunded,refund.created,refund.succeeded,"+
				"session.refunded,session.amount_mismatch,refund.created,refund.succeeded" {
				t.Fatalf("events %s", got)
			}
			_, err := env.Service.ResolveReview(ctx, rv.ID, payments.ResolveReviewRequest{Action: "refund"})
			wantCode(t, err, domain.ErrUnprocessable, "nothing_to_refund")
			if got, err := env.Service.ResolveReview(ctx, rv.ID, payments.ResolveReviewRequest{Action: "accept"}); err != nil || got.Status != domain.ReviewResolved {
				t.Fatalf("acknowledge = %+v, %v", got, err)
			}
			if s := status(t, env, sid); s.Status != domain.StatusRefunded || s.ReviewReason != "" {
				t.Fatalf("after acknowledging: %s %q", s.Status, s.ReviewReason)
			}
		})

		t.Run("listing and bad input", func(t *testing.T) {
			held := onlyReview(t, env, pay("R-QUEUE", 100, "USD"))
			queue, err := env.Service.ListReviews(ctx, payments.ReviewListRequest{})
			if err != nil {
				t.Fatal(err)
			}
			for _, rv := range queue {
				if rv.Status == domain.ReviewResolved {
					t.Fatalf("the queue lists a resolved review: %+v", rv)
				}
			}
			if len(queue) != 1 || queue[0].ID != held.ID {
				t.Fatalf("queue has %d reviews: %+v", len(queue), queue)
			}
			all, err := env.Service.ListReviews(ctx, payments.ReviewListRequest{Status: "all"})
			if err != nil || len(all) != 5 {
				t.Fatalf("all = %d, %v", len(all), err)
			}
			_, err = env.Service.ListReviews(ctx, payments.ReviewListRequest{Status: "closed"})
			wantCode(t, err, domain.ErrInvalid, "invalid_status")
			_, err = env.Service.ResolveReview(ctx, all[0].ID, payments.ResolveReviewRequest{Action: "ignore"})
			wantCode(t, err, domain.ErrInvalid, "invalid_action")
			_, err = env.Service.ResolveReview(ctx, "rev_nope", payments.ResolveReviewRequest{Action: "accept"})
			wantCode(t, err, domain.ErrNotFound, "resource_missing")
		})
	})
}
