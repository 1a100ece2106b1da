package refunds_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/refunds"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/plugins/paypro/payprofake"
	"github.com/switchyard/switchyard/plugins/paypro/payproprovider"
	"github.com/switchyard/switchyard/plugins/stripe/stripefake"
	"github.com/switchyard/switchyard/plugins/stripe/stripeprovider"
	"github.com/switchyard/switchyard/sdk/provider"
)

const (
	stripeKey   = "sk_test_RefundsTestKey0000000000000000"
	stripeWhsec = "whsec_refunds_test_secret_0000000000001"
)

// stripeEvent is a Stripe event as Stripe sends it, signed with the
// endpoint secret the way Stripe signs (stripefake.Event).
func stripeEvent(t *testing.T, id, typ string, object, previous map[string]any) provider.WebhookRequest {
	t.Helper()
	h, body := stripefake.Event(stripeWhsec, id, typ, object, previous)
	return provider.WebhookRequest{Method: http.MethodPost, Path: "/hooks/stripe/stripe", Headers: h, Body: body, RemoteAddr: "3.18.12.63:443"}
}

// chargeRefunded is Stripe's charge.refunded for a charge of amount with
// refunded in total (before: previously), the newest refund refundID.
func chargeRefunded(t *testing.T, evtID, pi string, amount, refunded, before int64, refundID string) provider.WebhookRequest {
	t.Helper()
	return stripeEvent(t, evtID, "charge.refunded", map[string]any{
		"id": "ch_" + pi, "object": "charge", "amount": amount, "amount_refunded": refunded, "currency": "usd",
		"payment_intent": pi, "refunds": map[string]any{"data": []map[string]any{{"id": refundID, "amount": refunded - before, "created": time.Now().Unix()}}},
	}, map[string]any{"amount_refunded": before})
}

func (e *env) applyWebhook(t *testing.T, typ string, req provider.WebhookRequest) {
	t.Helper()
	resp, err := e.Service.ApplyWebhook(ctxT(t), e.providerID, typ, req)
	if err != nil || (resp.Status != 0 && resp.Status >= 300 && resp.Status != http.StatusSeeOther) {
		t.Fatalf("ApplyWebhook: %+v %v", resp, err)
	}
}

// TestStripeRefundWebhookBeforeAndAfter plays charge.refunded arriving
// before the provider call's answer was recorded, after it, twice, and for
// a refund made in Stripe's dashboard: each refund is counted once.
func TestStripeRefundWebhookBeforeAndAfter(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		fake := stripefake.New(t)
		e := newEnv(t, st, paymentstest.Instance{ID: "stripe", Impl: stripeprovider.New(), Settings: map[string]string{
			stripeprovider.SettingSecretKey: stripeKey, stripeprovider.SettingWebhookSecrets: stripeWhsec,
			stripeprovider.SettingMode: stripeprovider.ModeTest, stripeprovider.SettingAPIBase: fake.URL(),
		}})
		id := e.openSession(t, "O-1", "49.95")
		if _, err := e.Service.StartPayment(ctxT(t), id, "card", ""); err != nil {
			t.Fatalf("StartPayment: %v", err)
		}
		atts, _ := st.SessionAttempts(ctxT(t), id)
		cs := atts[0].ProviderRef
		pi := fake.Pay("", cs)
		e.applyWebhook(t, "stripe", stripeEvent(t, "evt_paid", "checkout.session.completed", map[string]any{
			"id": cs, "object": "checkout.session", "mode": "payment", "amount_total": 4995, "currency": "usd",
			"client_reference_id": id, "metadata": map[string]string{stripeprovider.MetaSessionID: id},
			"payment_intent": pi, "payment_status": "paid", "status": "complete",
		}, nil))
		if s := e.session(t, id); s.Status != domain.StatusPaid {
			t.Fatalf("session after checkout.session.completed: %s", s.Status)
		}

		// Before: the call reached Stripe but its answer was not recorded
		// when charge.refunded arrives.
		a := e.mustCreate(t, id, `{"amount":"10.00"}`)
		made, err := e.Providers.Client("stripe").Refund(ctxT(t), provider.RefundRequest{
			ProviderRef: cs, SessionID: id, Amount: 1000, Currency: "USD", IdempotencyKey: refunds.IdempotencyKey(a.RefundID), Reason: "requested_by_customer",
		})
		if err != nil {
			t.Fatal(err)
		}
		e.applyWebhook(t, "stripe", chargeRefunded(t, "evt_r1", pi, 4995, 1000, 0, made.RefundRef))
		if got := e.refund(t, a.RefundID); got.Status != domain.RefundSucceeded {
			t.Fatalf("refund after its webhook: %+v", got)
		}
		e.run(t, a.RefundID) // the job's call: Stripe replays the same refund
		if got := e.refund(t, a.RefundID); got.ProviderReference == nil || *got.ProviderReference != made.RefundRef {
			t.Errorf("refund reference %v, want %s", got.ProviderReference, made.RefundRef)
		}
		if s := e.session(t, id); s.AmountRefunded != 1000 {
			t.Fatalf("refunded %d after webhook then call, want 1000", s.AmountRefunded)
		}

		// After: the call's answer is recorded first, then the webhook and
		// a redelivery of it.
		b := e.mustCreate(t, id, `{"amount":"5.00"}`)
		e.run(t, b.RefundID)
		ref := *e.refund(t, b.RefundID).ProviderReference
		for range 2 {
			e.applyWebhook(t, "stripe", chargeRefunded(t, "evt_r2", pi, 4995, 1500, 1000, ref))
		}
		// The same refund under another event id (Stripe sends charge.refunded
		// and a later retry with a new id is still the same refund).
		e.applyWebhook(t, "stripe", chargeRefunded(t, "evt_r2_again", pi, 4995, 1500, 1000, ref))
		if s := e.session(t, id); s.AmountRefunded != 1500 || s.Status != domain.StatusPartiallyRefunded {
			t.Fatalf("session after call then webhook: refunded %d %s", s.AmountRefunded, s.Status)
		}

		// A refund made in Stripe's dashboard: counted, and listed.
		e.applyWebhook(t, "stripe", chargeRefunded(t, "evt_dash", pi, 4995, 2000, 1500, "re_dashboard1"))
		if s := e.session(t, id); s.AmountRefunded != 2000 {
			t.Fatalf("refunded %d after a dashboard refund, want 2000", s.AmountRefunded)
		}
		list, err := e.Refunds.ListSession(ctxT(t), e.caller(), id, refunds.ListParams{})
		if err != nil || len(list.Data) != 3 {
			t.Fatalf("refund list: %+v %v", list, err)
		}
		dash := list.Data[0]
		if dash.Source != domain.RefundSourceProvider || dash.Amount != "5.00" || dash.Status != domain.RefundSucceeded ||
			dash.ProviderReference == nil || *dash.ProviderReference != "re_dashboard1" {
			t.Errorf("dashboard refund: %+v", dash)
		}
		if n := len(fake.Refunds()); n != 2 {
			t.Errorf("Stripe made %d refunds through the API, want 2", n)
		}
		want := "session.created session.paid refund.created refund.succeeded session.partially_refunded " +
			"refund.created refund.succeeded session.partially_refunded session.partially_refunded refund.created refund.succeeded"
		if got := joined(e.eventTypes(t, id)); got != want {
			t.Errorf("events\n got %s\nwant %s", got, want)
		}

		// Stripe declines: the refund fails with Stripe's message.
		fake.RejectRefunds(http.StatusBadRequest, "invalid_request_error", "charge_disputed", "Charge has been charged back; cannot issue a refund.")
		c := e.mustCreate(t, id, `{"amount":"1.00"}`)
		e.run(t, c.RefundID)
		got := e.refund(t, c.RefundID)
		if got.Status != domain.RefundFailed || got.FailureMessage == nil || !strings.Contains(*got.FailureMessage, "charged back") {
			t.Errorf("declined refund: %+v", got)
		}
	})
}

const (
	ppValidationKey = "vk_refunds_3c9a71f0"
	ppSecretKey     = "sk_refunds_6b2d"
	ppVendor        = 150138
	ppAPISecret     = "api-secret-refunds-test-0001"
	ppOrderID       = "40000001"
)

// TestPayProIPNBeforeTheAPIAnswers refunds through PayPro's API (the
// local fake) while PayPro's refund IPN is applied during the API call,
// before its answer comes back, as PayPro may do; then a full refund
// whose IPN comes after. Each refund is counted once.
func TestPayProIPNBeforeTheAPIAnswers(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		fake := payprofake.New(t, ppVendor, ppAPISecret)
		e := newEnv(t, st, paymentstest.Instance{ID: "paypro", Impl: payproprovider.New(), Settings: map[string]string{
			payproprovider.SettingValidationKey: ppValidationKey, payproprovider.SettingSecretKey: ppSecretKey,
			payproprovider.SettingDefaultProduct: "68452", payproprovider.SettingIPAllowlist: "127.0.0.1",
			payproprovider.SettingVendorAccountID: strconv.Itoa(ppVendor), payproprovider.SettingAPISecretKey: ppAPISecret,
			payproprovider.SettingAPIBase: fake.URL(),
		}})
		keys := ipn.Keys{ValidationKey: ppValidationKey, SecretKey: ppSecretKey}
		id := e.openSession(t, "O-1", "49.95")
		checkout, err := e.Service.StartPayment(ctxT(t), id, "card", "")
		if err != nil {
			t.Fatalf("StartPayment: %v", err)
		}
		ipnRequest := func(typ ipn.Type, fields ...string) provider.WebhookRequest {
			t.Helper()
			v, err := ipn.Simulation{Type: typ, CheckoutURL: checkout, Keys: keys, Fields: append([]string{"ORDER_ID=" + ppOrderID}, fields...)}.Build()
			if err != nil {
				t.Fatal(err)
			}
			return provider.WebhookRequest{Method: http.MethodPost, Path: "/hooks/paypro/paypro",
				Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(v.Encode()), RemoteAddr: "127.0.0.1:4000"}
		}
		charged := ipnRequest(ipn.OrderCharged)
		e.applyWebhook(t, "paypro", charged)
		if s := e.session(t, id); s.Status != domain.StatusPaid {
			t.Fatalf("session after OrderCharged: %s", s.Status)
		}
		data, err := e.Service.PaymentData(ctxT(t), st.Repo, id, "paypro")
		if err != nil || data["order_id"] != ppOrderID || data["order_item_id"] == "" {
			t.Fatalf("payment data %v %v", data, err)
		}
		item, _ := strconv.ParseInt(data["order_item_id"], 10, 64)
		order, _ := strconv.ParseInt(ppOrderID, 10, 64)
		fake.AddOrder(payprofake.Order{ID: order, ItemID: item, Total: 4995, Currency: "USD"})

		// PayPro sends the IPN while the API call is still open.
		fake.OnRefund(func(r payprofake.Refund) {
			typ := ipn.OrderPartiallyRefunded
			if r.Full {
				typ = ipn.OrderRefunded
			}
			e.applyWebhook(t, "paypro", ipnRequest(typ, "ORDER_REFUNDED="+r.FormatRefunded(), "ORDER_ITEM_REFUNDED="+r.FormatRefunded()))
		})
		part := e.mustCreate(t, id, `{"amount":"12.50"}`)
		e.run(t, part.RefundID)
		if got := e.refund(t, part.RefundID); got.Status != domain.RefundSucceeded || got.ProviderReference == nil ||
			*got.ProviderReference != fmt.Sprintf("%s:refund:1250", ppOrderID) {
			t.Errorf("partial refund: %+v", got)
		}
		if s := e.session(t, id); s.AmountRefunded != 1250 || s.Status != domain.StatusPartiallyRefunded {
			t.Fatalf("session after the partial refund: refunded %d %s", s.AmountRefunded, s.Status)
		}

		// The rest, with the IPN after the answer this time.
		fake.OnRefund(nil)
		rest := e.mustCreate(t, id, `{}`)
		e.run(t, rest.RefundID)
		if s := e.session(t, id); s.AmountRefunded != 4995 || s.Status != domain.StatusRefunded {
			t.Fatalf("session after the rest: refunded %d %s", s.AmountRefunded, s.Status)
		}
		last := fake.Refunds()[len(fake.Refunds())-1]
		e.applyWebhook(t, "paypro", ipnRequest(ipn.OrderRefunded, "ORDER_REFUNDED="+last.FormatRefunded()))
		if s := e.session(t, id); s.AmountRefunded != 4995 {
			t.Fatalf("refunded %d after the late IPN, want 4995", s.AmountRefunded)
		}
		if n := len(fake.Refunds()); n != 2 {
			t.Errorf("PayPro made %d refunds, want 2", n)
		}
		got := fake.Refunds()
		if got[0].Operation != "DoPartialRefund" || got[0].Amount != 1250 || got[1].Operation != "DoPartialRefund" || got[1].Amount != 3745 {
			t.Errorf("PayPro refunds %+v", got)
		}
		want := "session.created session.paid refund.created refund.succeeded session.partially_refunded refund.created refund.succeeded session.refunded"
		if got := joined(e.eventTypes(t, id)); got != want {
			t.Errorf("events\n got %s\nwant %s", got, want)
		}
	})
}
