package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/stripe/stripemock"
)

// postSigned delivers a Stripe event signed the way stripe-go's webhook
// package signs test payloads (Stripe-Signature: t=…,v1=…).
func (e *stripeE2E) postSigned(t *testing.T, ev map[string]any) {
	t.Helper()
	ev["object"], ev["api_version"], ev["livemode"], ev["created"] = "event", "2023-10-16", false, time.Now().Unix()
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: stripeE2EWebhookSecret, Timestamp: time.Now()})
	code, resp, _ := e.do(t, http.MethodPost, "/hooks/stripe/stripe", signed.Payload,
		http.Header{"Stripe-Signature": {signed.Header}, "Content-Type": {"application/json"}})
	if code != http.StatusOK {
		t.Fatalf("POST %s: %d %s", ev["type"], code, resp)
	}
}

func (e *stripeE2E) view(t *testing.T, sessionID string) map[string]any {
	t.Helper()
	code, body, _ := e.do(t, http.MethodGet, "/v1/sessions/"+sessionID, nil, e.auth())
	var v map[string]any
	if code != http.StatusOK || json.Unmarshal(body, &v) != nil {
		t.Fatalf("status: %d %s", code, body)
	}
	return v
}

// completed is checkout.session.completed for ref as Stripe sends it, with
// the amount and currency Stripe charged (amount < 0 leaves it out).
func completed(id, ref, sessionID string, amount int64, currency string) map[string]any {
	obj := map[string]any{
		"id": ref, "object": "checkout.session", "mode": "payment", "currency": currency,
		"client_reference_id": sessionID, "metadata": map[string]string{"switchyard_session_id": sessionID},
		"payment_intent": "pi_" + id, "payment_status": "paid", "status": "complete",
	}
	if amount >= 0 {
		obj["amount_total"] = amount
	}
	return map[string]any{"id": id, "type": "checkout.session.completed", "data": map[string]any{"object": obj}}
}

// TestStripeMoneyIntegrity sends Stripe-signed checkout.session.completed
// events through the real stripe plugin binary (against stripe-mock) for
// 49.95 USD sessions: only the confirmed amount and currency decide, and an
// event without an amount is confirmed with Stripe before anything settles.
func TestStripeMoneyIntegrity(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the stripe plugin binary")
	}
	mock := stripemock.Start(t)
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := startStripeE2E(t, st, mock)
		for _, tc := range []struct {
			name                      string
			amount                    int64
			currency, status          string
			review, received, recvCur any
		}{
			{"exact", 4995, "usd", "paid", nil, "49.95", "USD"},
			{"less", 1000, "usd", "requires_review", "amount_mismatch", "10.00", "USD"},
			{"more", 9995, "usd", "paid", "amount_mismatch", "99.95", "USD"},
			{"another currency", 4995, "eur", "requires_review", "currency_mismatch", "49.95", "EUR"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				sid, ref := e.openCheckout(t, "money-"+strings.ReplaceAll(tc.name, " ", "-"))
				e.postSigned(t, completed("evt_money_"+sid, ref, sid, tc.amount, tc.currency))
				v := e.view(t, sid)
				if v["status"] != tc.status || v["review_reason"] != tc.review || v["amount_received"] != tc.received || v["currency_received"] != tc.recvCur {
					t.Fatalf("status endpoint %v", v)
				}
				if n := e.events(t, sid, "session.amount_mismatch"); (n == 1) != (tc.review != nil) || n > 1 {
					t.Fatalf("%d session.amount_mismatch events", n)
				}
			})
		}

		t.Run("no amount: confirmed with Stripe before settling", func(t *testing.T) {
			sid, ref := e.openCheckout(t, "money-noamt-1")
			e.lookup.answer(ref, map[string]any{
				"id": ref, "object": "checkout.session", "mode": "payment", "amount_total": 4995, "currency": "usd",
				"payment_status": "paid", "status": "complete", "client_reference_id": sid,
				"payment_intent": map[string]any{"id": "pi_noamt_1", "object": "payment_intent", "status": "succeeded",
					"amount": 4995, "amount_received": 4995, "currency": "usd"},
			})
			e.postSigned(t, completed("evt_money_noamt_1", ref, sid, -1, "usd"))
			if v := e.view(t, sid); v["status"] != "paid" || v["amount_received"] != "49.95" {
				t.Fatalf("status endpoint %v", v)
			}
			if pe := e.providerEvent(t, "evt_money_noamt_1"); pe.Outcome != store.OutcomeApplied || !strings.Contains(pe.Reason, "confirmed by GetPayment") {
				t.Fatalf("provider event %+v", pe)
			}
		})

		t.Run("no amount: Stripe confirms less, held for review", func(t *testing.T) {
			sid, ref := e.openCheckout(t, "money-noamt-2")
			e.lookup.answer(ref, map[string]any{
				"id": ref, "object": "checkout.session", "mode": "payment", "amount_total": 4995, "currency": "usd",
				"payment_status": "paid", "status": "complete", "client_reference_id": sid,
				"payment_intent": map[string]any{"id": "pi_noamt_2", "object": "payment_intent", "status": "succeeded",
					"amount": 4995, "amount_received": 2000, "currency": "usd"},
			})
			e.postSigned(t, completed("evt_money_noamt_2", ref, sid, -1, "usd"))
			if v := e.view(t, sid); v["status"] != "requires_review" || v["amount_received"] != "20.00" {
				t.Fatalf("status endpoint %v", v)
			}
		})

		t.Run("no amount: Stripe cannot confirm, session waits in processing", func(t *testing.T) {
			sid, ref := e.openCheckout(t, "money-noamt-3")
			e.lookup.answer(ref, map[string]any{
				"id": ref, "object": "checkout.session", "mode": "payment", "amount_total": 4995, "currency": "usd",
				"payment_status": "unpaid", "status": "open", "client_reference_id": sid,
			})
			e.postSigned(t, completed("evt_money_noamt_3", ref, sid, -1, "usd"))
			if v := e.view(t, sid); v["status"] != "processing" || v["amount_received"] != nil || v["paid_at"] != nil {
				t.Fatalf("status endpoint %v", v)
			}
			pe := e.providerEvent(t, "evt_money_noamt_3")
			if pe.Outcome != store.OutcomeApplied || !strings.Contains(pe.Reason, "without a confirmed amount") || !strings.Contains(pe.Reason, "pending") {
				t.Fatalf("provider event %+v", pe)
			}
			atts, _ := store.NewRepo(st.DB()).SessionAttempts(t.Context(), sid)
			if atts[0].Status != store.AttemptProcessing {
				t.Fatalf("attempt %s, want processing for reconciliation", atts[0].Status)
			}
		})
	})
}
