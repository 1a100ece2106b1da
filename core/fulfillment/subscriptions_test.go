package fulfillment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/fulfillment/fulfillmenttest"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/plugins/paypro/payproprovider"
	"github.com/switchyard/switchyard/plugins/stripe/stripefake"
	"github.com/switchyard/switchyard/plugins/stripe/stripeprovider"
	"github.com/switchyard/switchyard/plugins/whm/whmfake"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/provisioner"
)

const (
	ppValidationKey = "vk_subscriptions_5e1d07"
	ppSecretKey     = "sk_subscriptions_9b3a"
)

// payproInstance is the real PayPro provider (in-process gRPC) taking
// IPNs from the loopback address.
func payproInstance() paymentstest.Instance {
	return paymentstest.Instance{ID: "paypro", Impl: payproprovider.New(), Settings: map[string]string{
		payproprovider.SettingValidationKey: ppValidationKey, payproprovider.SettingSecretKey: ppSecretKey,
		payproprovider.SettingDefaultProduct: "68452", payproprovider.SettingIPAllowlist: "127.0.0.1",
	}}
}

// subscribed is a session paid through PayPro by an order that started
// subscription sub; its hosting service is active.
type subscribed struct {
	id, checkout, sub, svc, user string
	// order is the PayPro order of the first charge; the renewal cycle
	// the steps play is order+1.
	order int
}

// subscribe pays a session with one hosting item of sku through PayPro
// (OrderCharged with SUBSCRIPTION_ID: payment.succeeded and
// subscription.created) and creates its account.
func (e *env) subscribe(t *testing.T, sku, user string, n int) *subscribed {
	t.Helper()
	v, err := e.createSession(t, "sub-"+user, "49.95", fmt.Sprintf(`[{"sku":%q,"domain":"%s.example","username":%q}]`, sku, user, user))
	if err != nil {
		t.Fatal(err)
	}
	checkout, err := e.Service.StartPayment(ctxT(t), v.SessionID, "card", "")
	if err != nil {
		t.Fatalf("StartPayment: %v", err)
	}
	s := &subscribed{id: v.SessionID, checkout: checkout, sub: strconv.Itoa(880000 + n), user: user, order: 40000000 + 10*n}
	e.deliverIPN(t, s, ipn.OrderCharged, s.order, "SUBSCRIPTION_ID="+s.sub)
	ss := e.services(t, s.id)
	if len(ss) != 1 {
		t.Fatalf("services after OrderCharged: %+v", ss)
	}
	s.svc = ss[0].ID
	e.RunPending(t, s.svc, false)
	if d := e.service(t, s.svc); d.Status != domain.ServiceActive {
		t.Fatalf("service after create: %s", d.Status)
	}
	return s
}

// ipn delivers a PayPro IPN of the session's checkout, signed as PayPro
// signs, through the payments service's webhook intake.
func (e *env) deliverIPN(t *testing.T, s *subscribed, typ ipn.Type, order int, fields ...string) {
	t.Helper()
	v, err := ipn.Simulation{Type: typ, CheckoutURL: s.checkout, Keys: ipn.Keys{ValidationKey: ppValidationKey, SecretKey: ppSecretKey},
		Fields: append([]string{"ORDER_ID=" + strconv.Itoa(order)}, fields...)}.Build()
	if err != nil {
		t.Fatal(err)
	}
	req := provider.WebhookRequest{Method: http.MethodPost, Path: "/hooks/paypro/paypro",
		Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(v.Encode()), RemoteAddr: "127.0.0.1:4000"}
	resp, err := e.Service.ApplyWebhook(ctxT(t), "paypro", "paypro", req)
	if err != nil || resp.Status >= 300 {
		t.Fatalf("IPN %s: %d %s %v", typ, resp.Status, resp.Body, err)
	}
}

func (e *env) service(t *testing.T, id string) *fulfillment.ServiceDetail {
	t.Helper()
	d, err := e.Ful.GetService(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// panelCalls counts the whm fake's calls of function for the user.
func (e *env) panelCalls(function, user string) []string {
	var reasons []string
	for _, c := range e.WHM.Calls(function) {
		if c.Params.Get("user") == user {
			reasons = append(reasons, c.Params.Get("reason"))
		}
	}
	return reasons
}

// subStep is one thing that happens to a subscribed session.
type subStep struct {
	name string
	do   func(t *testing.T, e *env, s *subscribed)
}

// chargeFailed is PayPro's SubscriptionChargeFailed for the renewal
// cycle, its attempt-th failure (a redelivery repeats the attempt).
func chargeFailed(attempt int) subStep {
	return subStep{fmt.Sprintf("charge failed (attempt %d)", attempt), func(t *testing.T, e *env, s *subscribed) {
		e.deliverIPN(t, s, ipn.SubscriptionChargeFailed, s.order+1, "SUBSCRIPTION_ID="+s.sub,
			"SUBSCRIPTION_NUMBER_OF_FAILED_ATTEMPTS="+strconv.Itoa(attempt))
	}}
}

var (
	// renewed is PayPro's SubscriptionChargeSucceed for the cycle.
	renewed = subStep{"renewed", func(t *testing.T, e *env, s *subscribed) {
		e.deliverIPN(t, s, ipn.SubscriptionChargeSucceed, s.order+1, "SUBSCRIPTION_ID="+s.sub)
	}}
	// renewedNext is the next cycle's renewal (another order, a new event).
	renewedNext = subStep{"next cycle renewed", func(t *testing.T, e *env, s *subscribed) {
		e.deliverIPN(t, s, ipn.SubscriptionChargeSucceed, s.order+3, "SUBSCRIPTION_ID="+s.sub)
	}}
	// canceledJobFires runs the canceled suspend's job when it comes due
	// after all: it does nothing.
	canceledJobFires = subStep{"the canceled suspend's job fires", func(t *testing.T, e *env, s *subscribed) {
		var canceled []string
		for _, a := range e.service(t, s.svc).Actions {
			if a.Action == domain.ActionSuspend && a.Status == domain.ActionCanceled {
				canceled = append(canceled, a.ID)
			}
		}
		if len(canceled) != 1 {
			t.Fatalf("%d canceled suspends, want 1", len(canceled))
		}
		if err := e.Ful.RunAction(ctxT(t), canceled[0], false); err != nil {
			t.Fatal(err)
		}
	}}
	// due runs the service's pending actions as their jobs would once
	// due: the grace period has passed.
	due = subStep{"grace period over: due actions run", func(t *testing.T, e *env, s *subscribed) {
		e.RunPending(t, s.svc, false)
	}}
	// otherSubscriptionFailed is a failed charge of a subscription no
	// session is linked to, in an IPN that names this session.
	otherSubscriptionFailed = subStep{"another subscription's charge failed", func(t *testing.T, e *env, s *subscribed) {
		e.deliverIPN(t, s, ipn.SubscriptionChargeFailed, s.order+2, "SUBSCRIPTION_ID=999999", "SUBSCRIPTION_NUMBER_OF_FAILED_ATTEMPTS=1")
		pe, err := e.Store.GetProviderEvent(ctxT(t), "paypro", strconv.Itoa(s.order+2)+":7:1")
		if err != nil {
			t.Fatal(err)
		}
		if pe.Outcome != store.OutcomeRecorded || !strings.Contains(pe.Reason, "unknown_subscription") {
			t.Errorf("unknown subscription's event: %s %q", pe.Outcome, pe.Reason)
		}
	}}
	operatorSuspends = subStep{"operator suspends", func(t *testing.T, e *env, s *subscribed) {
		if _, err := e.Ful.Suspend(ctxT(t), s.svc, fulfillment.OperatorRequest{Reason: "abuse report", Operator: "ops"}); err != nil {
			t.Fatal(err)
		}
		e.RunPending(t, s.svc, false)
	}}
	disputed = subStep{"charged back", func(t *testing.T, e *env, s *subscribed) {
		e.deliverIPN(t, s, ipn.OrderChargedBack, s.order)
		if !e.service(t, s.svc).Paused {
			t.Fatal("the dispute did not pause the service")
		}
	}}
	resumed = subStep{"operator resumes", func(t *testing.T, e *env, s *subscribed) {
		if _, err := e.Ful.Resume(ctxT(t), s.svc, fulfillment.OperatorRequest{Operator: "ops"}); err != nil {
			t.Fatal(err)
		}
	}}
	// renewedWhileSuspending delivers the renewal while the panel call of
	// the due suspend is under way, then runs what follows.
	renewedWhileSuspending = subStep{"renewed while the suspension is being made", func(t *testing.T, e *env, s *subscribed) {
		orig := e.Provisioners["whm"]
		e.Provisioners["whm"] = suspendHook{Provisioner: orig, before: func() { renewed.do(t, e, s) }}
		defer func() { e.Provisioners["whm"] = orig }()
		e.RunPending(t, s.svc, false)
		var notes []string
		for _, a := range e.service(t, s.svc).Actions {
			if a.Action == domain.ActionSuspend && a.LastError != nil {
				notes = append(notes, string(a.Status)+": "+*a.LastError)
			}
		}
		if len(notes) != 1 || !strings.HasPrefix(notes[0], "done: made at the panel after a renewal canceled it") {
			t.Errorf("suspend action notes %q", notes)
		}
	}}
	// panelRefusesSuspend makes WHM refuse the next suspendacct.
	panelRefusesSuspend = subStep{"the panel refuses the next suspend", func(t *testing.T, e *env, s *subscribed) {
		e.WHM.Inject("suspendacct", whmfake.Fault{Kind: whmfake.Reason, Reason: "Unable to suspend: disk quota check failed."})
	}}
	operatorRetries = subStep{"operator retries the failed service", func(t *testing.T, e *env, s *subscribed) {
		if d := e.service(t, s.svc); d.Status != domain.ServiceFailed {
			t.Fatalf("service %s before the retry, want failed", d.Status)
		}
		if _, err := e.Ful.Retry(ctxT(t), s.svc, fulfillment.OperatorRequest{Operator: "ops"}); err != nil {
			t.Fatal(err)
		}
		e.RunPending(t, s.svc, false)
	}}
	stillActive = subStep{"still active", func(t *testing.T, e *env, s *subscribed) {
		if d := e.service(t, s.svc); d.Status != domain.ServiceActive || len(e.panelCalls("suspendacct", s.user)) != 0 {
			t.Fatalf("service %s, suspendacct %v; want active, none", d.Status, e.panelCalls("suspendacct", s.user))
		}
	}}
)

// suspendHook runs before before each Suspend call at the panel.
type suspendHook struct {
	provisioner.Provisioner
	before func()
}

func (h suspendHook) Suspend(ctx context.Context, req provisioner.SuspendRequest) (provisioner.Account, error) {
	h.before()
	return h.Provisioner.Suspend(ctx, req)
}

// graceScheduled checks the suspend a failed charge queued: due when the
// grace period ends, its River job scheduled (not available) until then.
func graceScheduled(grace time.Duration) subStep {
	return subStep{"suspend scheduled after " + grace.String(), func(t *testing.T, e *env, s *subscribed) {
		var pending []fulfillment.ActionView
		for _, a := range e.service(t, s.svc).Actions {
			if a.Status == domain.ActionPending && a.Action == domain.ActionSuspend {
				pending = append(pending, a)
			}
		}
		if len(pending) != 1 || pending[0].Source != fulfillment.SourceSubscription || pending[0].Reason != fulfillment.ReasonChargeFailed ||
			pending[0].NotBefore == nil {
			t.Fatalf("pending suspends %+v, want one for non-payment with a due time", pending)
		}
		at, err := time.Parse(time.RFC3339Nano, *pending[0].NotBefore)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(at); d < grace-time.Minute || d > grace {
			t.Errorf("suspend due in %s, want %s", d, grace)
		}
		n, err := e.Store.DB().NewSelect().Table("river_job").Where("kind = ? AND state = 'scheduled' AND CAST(args AS TEXT) LIKE ?",
			fulfillment.ActionArgs{}.Kind(), "%"+pending[0].ID+"%").Count(ctxT(t))
		if err != nil || n != 1 {
			t.Errorf("%d scheduled action jobs (%v), want 1", n, err)
		}
	}}
}

// TestSubscriptionLifecycle plays PayPro's subscription IPNs against a
// hosting service on SQLite and PostgreSQL: a failed renewal charge
// suspends after the product's grace period unless a renewal arrives
// first, a renewal lifts only a suspension for non-payment, an unknown
// subscription changes nothing, redeliveries act once, and a dispute
// holds the suspension until an operator resumes.
func TestSubscriptionLifecycle(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		grace := fulfillmenttest.HostingProduct("host-grace", "basic")
		grace.Fulfillment.GracePeriod = "72h"
		e := newEnv(t, st, []config.ProductConfig{grace, fulfillmenttest.HostingProduct("host-now", "basic")}, payproInstance())
		for i, tc := range []struct {
			name, sku string
			steps     []subStep
			// want: the service's status and suspend source, the panel's
			// suspendacct reasons and unsuspendacct count, the service
			// events after service.activated.
			status     domain.ServiceStatus
			source     string
			suspends   []string
			unsuspends int
			events     string
		}{
			{name: "failed, grace period over: suspended", sku: "host-grace",
				steps:  []subStep{chargeFailed(1), graceScheduled(72 * time.Hour), stillActive, due},
				status: domain.ServiceSuspended, source: "subscription", suspends: []string{"subscription charge failed"}, events: "service.suspended"},
			{name: "failed, renewed within the grace period: never suspended", sku: "host-grace",
				steps:  []subStep{chargeFailed(1), renewed, due, canceledJobFires},
				status: domain.ServiceActive, events: ""},
			{name: "no grace period: suspended at once, renewal unsuspends", sku: "host-now",
				steps:  []subStep{chargeFailed(1), due, renewed, due},
				status: domain.ServiceActive, suspends: []string{"subscription charge failed"}, unsuspends: 1, events: "service.suspended service.unsuspended"},
			{name: "renewal during the suspension's panel call: suspended, then unsuspended", sku: "host-now",
				steps:  []subStep{chargeFailed(1), renewedWhileSuspending},
				status: domain.ServiceActive, suspends: []string{"subscription charge failed"}, unsuspends: 1, events: "service.suspended service.unsuspended"},
			{name: "a refused suspend retried by an operator is still for non-payment: renewal lifts it", sku: "host-now",
				steps:  []subStep{panelRefusesSuspend, chargeFailed(1), due, operatorRetries, renewed, due},
				status: domain.ServiceActive, suspends: []string{"subscription charge failed", "subscription charge failed"}, unsuspends: 1,
				events: "service.failed service.suspended service.unsuspended"},
			{name: "operator's suspension outlasts a failure and a renewal", sku: "host-now",
				steps:  []subStep{operatorSuspends, chargeFailed(1), due, renewed, due},
				status: domain.ServiceSuspended, source: "operator:ops", suspends: []string{"abuse report"}, events: "service.suspended"},
			{name: "unknown subscription: recorded, nothing done", sku: "host-now",
				steps:  []subStep{otherSubscriptionFailed, due, stillActive},
				status: domain.ServiceActive, events: ""},
			{name: "redelivered and repeated failures suspend once, a redelivered renewal unsuspends once", sku: "host-now",
				steps:  []subStep{chargeFailed(1), chargeFailed(1), chargeFailed(2), due, chargeFailed(3), renewed, renewed, renewedNext, due},
				status: domain.ServiceActive, suspends: []string{"subscription charge failed"}, unsuspends: 1, events: "service.suspended service.unsuspended"},
			{name: "dispute holds the suspension until resumed", sku: "host-now",
				steps:  []subStep{disputed, chargeFailed(1), due, stillActive, resumed, due},
				status: domain.ServiceSuspended, source: "subscription", suspends: []string{"subscription charge failed"}, events: "service.suspended"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := e.subscribe(t, tc.sku, fmt.Sprintf("subs%d", i), i)
				for _, step := range tc.steps {
					step.do(t, e, s)
					if t.Failed() {
						t.Fatalf("after step %q", step.name)
					}
				}
				d := e.service(t, s.svc)
				var source string
				if err := e.Store.DB().NewSelect().Table("services").Column("suspend_source").Where("id = ?", s.svc).Scan(ctxT(t), &source); err != nil {
					t.Fatal(err)
				}
				if d.Status != tc.status || source != tc.source {
					t.Errorf("service %s (suspended by %q), want %s (%q)", d.Status, source, tc.status, tc.source)
				}
				if got := e.panelCalls("suspendacct", s.user); strings.Join(got, "|") != strings.Join(tc.suspends, "|") {
					t.Errorf("suspendacct reasons %q, want %q", got, tc.suspends)
				}
				if got := len(e.panelCalls("unsuspendacct", s.user)); got != tc.unsuspends {
					t.Errorf("unsuspendacct calls %d, want %d", got, tc.unsuspends)
				}
				var svcEvents []string
				for _, typ := range e.eventTypes(t, s.id) {
					if strings.HasPrefix(typ, "service.") && typ != "service.activated" {
						svcEvents = append(svcEvents, typ)
					}
				}
				if got := strings.Join(svcEvents, " "); got != tc.events {
					t.Errorf("service events %q, want %q", got, tc.events)
				}
			})
		}
	})
}

const (
	stripeKey   = "sk_test_SubscriptionsTestKey00000000000"
	stripeWhsec = "whsec_subscriptions_test_secret_000001"
)

// deliverStripe signs a Stripe event the way Stripe does and applies it
// through the payments service's webhook intake.
func (e *env) deliverStripe(t *testing.T, id, typ string, object map[string]any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "api_version": "2023-10-16",
		"created": time.Now().Unix(), "livemode": false, "data": map[string]any{"object": object}})
	if err != nil {
		t.Fatal(err)
	}
	req := provider.WebhookRequest{Method: http.MethodPost, Path: "/hooks/stripe/stripe",
		Headers: http.Header{"Content-Type": {"application/json"}, "Stripe-Signature": {stripeprovider.SignPayload(stripeWhsec, time.Now(), body)}},
		Body:    body, RemoteAddr: "3.18.12.63:443"}
	if resp, err := e.Service.ApplyWebhook(ctxT(t), "stripe", "stripe", req); err != nil || resp.Status >= 300 {
		t.Fatalf("Stripe %s: %d %s %v", typ, resp.Status, resp.Body, err)
	}
}

// TestStripeSubscriptionRenewal: with the real Stripe provider (against
// stripefake) a hosting session paid by Checkout is linked to the Stripe
// subscription whose metadata names it; a subscription_cycle invoice
// whose payment failed suspends the service (no grace period), its later
// invoice.paid unsuspends it. SQLite and PostgreSQL.
func TestStripeSubscriptionRenewal(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		fake := stripefake.New(t)
		e := newEnv(t, st, []config.ProductConfig{fulfillmenttest.HostingProduct("host-now", "basic")}, paymentstest.Instance{ID: "stripe",
			Impl: stripeprovider.New(), Settings: map[string]string{
				stripeprovider.SettingSecretKey: stripeKey, stripeprovider.SettingWebhookSecrets: stripeWhsec,
				stripeprovider.SettingMode: stripeprovider.ModeTest, stripeprovider.SettingAPIBase: fake.URL()}})
		v, err := e.createSession(t, "stripe-sub", "49.95", `[{"sku":"host-now","domain":"stripesub.example","username":"stripesub"}]`)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Service.StartPayment(ctxT(t), v.SessionID, "card", ""); err != nil {
			t.Fatalf("StartPayment: %v", err)
		}
		atts, err := st.SessionAttempts(ctxT(t), v.SessionID)
		if err != nil || len(atts) != 1 {
			t.Fatalf("attempts %v %v", atts, err)
		}
		cs := atts[0].ProviderRef
		e.deliverStripe(t, "evt_sub_paid", "checkout.session.completed", map[string]any{
			"id": cs, "object": "checkout.session", "mode": "payment", "amount_total": 4995, "currency": "usd",
			"client_reference_id": v.SessionID, "metadata": map[string]string{stripeprovider.MetaSessionID: v.SessionID},
			"payment_intent": fake.Pay("", cs), "payment_status": "paid", "status": "complete"})
		ss := e.services(t, v.SessionID)
		if len(ss) != 1 {
			t.Fatalf("services after paid: %+v", ss)
		}
		svc := ss[0].ID
		e.RunPending(t, svc, false)
		e.deliverStripe(t, "evt_sub_created", "customer.subscription.created", map[string]any{
			"id": "sub_SubsTest0001", "object": "subscription", "status": "active", "customer": "cus_SubsTest0001",
			"metadata": map[string]string{stripeprovider.MetaSessionID: v.SessionID}})
		invoice := func(evt, typ string, paid int64) {
			e.deliverStripe(t, evt, typ, map[string]any{"id": "in_SubsTest0002", "object": "invoice", "billing_reason": "subscription_cycle",
				"subscription": "sub_SubsTest0001", "customer": "cus_SubsTest0001", "currency": "usd", "amount_due": 4995,
				"amount_paid": paid, "attempt_count": 1})
			e.RunPending(t, svc, false)
		}
		invoice("evt_sub_failed", "invoice.payment_failed", 0)
		if d := e.service(t, svc); d.Status != domain.ServiceSuspended || len(e.panelCalls("suspendacct", "stripesub")) != 1 {
			t.Fatalf("after invoice.payment_failed: %s, suspendacct %v", d.Status, e.panelCalls("suspendacct", "stripesub"))
		}
		invoice("evt_sub_renewed", "invoice.paid", 4995)
		if d := e.service(t, svc); d.Status != domain.ServiceActive || len(e.panelCalls("unsuspendacct", "stripesub")) != 1 {
			t.Fatalf("after invoice.paid: %s, unsuspendacct %d", d.Status, len(e.panelCalls("unsuspendacct", "stripesub")))
		}
	})
}
