package stripeprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	stripe "github.com/stripe/stripe-go/v76"

	"github.com/switchyard/switchyard/sdk/provider"
)

// maxWebhookBody bounds what is parsed; Stripe events are a few KB.
const maxWebhookBody = 1 << 20

// event is the part of a Stripe event this plugin relies on. It is decoded
// with plain structs rather than stripe-go's Event so that an endpoint on a
// different API version than stripe-go's pinned one still works: these
// fields have been stable across API versions, and that is the documented
// API-version policy (accept, map by these fields, log the version).
type event struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	Type       string `json:"type"`
	Created    int64  `json:"created"`
	APIVersion string `json:"api_version"`
	Account    string `json:"account"`
	Livemode   bool   `json:"livemode"`
	Data       struct {
		Object             eventObject                `json:"object"`
		PreviousAttributes map[string]json.RawMessage `json:"previous_attributes"`
	} `json:"data"`
}

type eventObject struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	Amount            int64             `json:"amount"`
	AmountTotal       int64             `json:"amount_total"`
	AmountReceived    int64             `json:"amount_received"`
	AmountRefunded    int64             `json:"amount_refunded"`
	Currency          string            `json:"currency"`
	Status            string            `json:"status"`
	PaymentStatus     string            `json:"payment_status"`
	ClientReferenceID string            `json:"client_reference_id"`
	Metadata          map[string]string `json:"metadata"`
	PaymentIntent     expandable        `json:"payment_intent"`
	Charge            expandable        `json:"charge"`
	Customer          expandable        `json:"customer"`
	Reason            string            `json:"reason"`
	LastPaymentError  *struct {
		Code        string `json:"code"`
		DeclineCode string `json:"decline_code"`
		Message     string `json:"message"`
	} `json:"last_payment_error"`
	Refunds *struct {
		Data []struct {
			ID      string `json:"id"`
			Amount  int64  `json:"amount"`
			Created int64  `json:"created"`
		} `json:"data"`
	} `json:"refunds"`
	// Invoice fields: the subscription an invoice bills (top level up to
	// API version 2025-02-24, under parent.subscription_details since
	// 2025-03-31) and why it was made.
	Subscription  expandable `json:"subscription"`
	BillingReason string     `json:"billing_reason"`
	AmountPaid    int64      `json:"amount_paid"`
	AttemptCount  int64      `json:"attempt_count"`
	Parent        *struct {
		SubscriptionDetails *struct {
			Subscription expandable `json:"subscription"`
		} `json:"subscription_details"`
	} `json:"parent"`
	// Subscription fields.
	CurrentPeriodEnd    int64 `json:"current_period_end"`
	CancelAtPeriodEnd   bool  `json:"cancel_at_period_end"`
	CancellationDetails *struct {
		Reason string `json:"reason"`
	} `json:"cancellation_details"`
	Items *struct {
		Data []struct {
			Price struct {
				ID string `json:"id"`
			} `json:"price"`
			CurrentPeriodEnd int64 `json:"current_period_end"`
		} `json:"data"`
	} `json:"items"`
}

// expandable is a Stripe field that is either an id string or an expanded
// object with an id.
type expandable string

func (e *expandable) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*e = ""
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = expandable(s)
		return nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*e = expandable(obj.ID)
	return nil
}

func jsonResponse(status int, code, message string) provider.HTTPResponse {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": message}})
	return provider.HTTPResponse{
		Status:  status,
		Headers: http.Header{"Content-Type": {"application/json"}},
		Body:    body,
	}
}

func ackResponse(note string) provider.HTTPResponse {
	body, _ := json.Marshal(map[string]any{"received": true, "note": note})
	return provider.HTTPResponse{Status: http.StatusOK, Headers: http.Header{"Content-Type": {"application/json"}}, Body: body}
}

// HandleWebhook implements provider.Provider. A request that fails
// verification gets a 400 (malformed or missing Stripe-Signature, bad
// payload) or 401 (signature or timestamp does not verify) and no events.
func (p *Provider) HandleWebhook(ctx context.Context, req provider.WebhookRequest) (provider.WebhookResponse, error) {
	if err := ctx.Err(); err != nil {
		return provider.WebhookResponse{}, err
	}
	inst, err := p.instance()
	if err != nil {
		return provider.WebhookResponse{}, err
	}
	if req.Method != "" && req.Method != http.MethodPost {
		return provider.WebhookResponse{Response: jsonResponse(http.StatusMethodNotAllowed, "method_not_allowed", "stripe webhooks are POST requests")}, nil
	}
	if len(req.Body) > maxWebhookBody {
		return provider.WebhookResponse{Response: jsonResponse(http.StatusRequestEntityTooLarge, "body_too_large", "webhook body too large")}, nil
	}
	if err := verifySignature(req.Headers.Get("Stripe-Signature"), req.Body, inst.webhookSecrets, p.now()); err != nil {
		p.log.Warn("stripe webhook rejected", "reason", err.Error(), "remote_addr", req.RemoteAddr)
		if errors.Is(err, errMalformedSignature) {
			return provider.WebhookResponse{Response: jsonResponse(http.StatusBadRequest, "invalid_signature_header", err.Error())}, nil
		}
		return provider.WebhookResponse{Response: jsonResponse(http.StatusUnauthorized, "signature_verification_failed", err.Error())}, nil
	}

	var ev event
	if err := json.Unmarshal(req.Body, &ev); err != nil || ev.ID == "" || ev.Type == "" || ev.Created <= 0 {
		p.log.Warn("stripe webhook: signed body is not a stripe event", "remote_addr", req.RemoteAddr)
		return provider.WebhookResponse{Response: jsonResponse(http.StatusBadRequest, "invalid_event", "body is not a Stripe event object")}, nil
	}
	if ev.APIVersion != "" && ev.APIVersion != stripe.APIVersion {
		msg := "stripe event api version differs from the plugin's; mapped by stable fields"
		if inst.versionPolicy == VersionPolicyWarn {
			p.log.Warn(msg, "event_id", ev.ID, "api_version", ev.APIVersion, "plugin_api_version", stripe.APIVersion)
		} else {
			p.log.Debug(msg, "event_id", ev.ID, "api_version", ev.APIVersion, "plugin_api_version", stripe.APIVersion)
		}
	}
	if ev.Livemode != (inst.mode == ModeLive) {
		// A live event at a test instance (or the reverse) is a
		// misconfigured endpoint; applying it would mix test and live money.
		p.log.Warn("stripe webhook: livemode does not match the instance mode; ignored", "event_id", ev.ID, "mode", inst.mode)
		return provider.WebhookResponse{Response: ackResponse("livemode does not match this instance; ignored")}, nil
	}

	events, err := p.mapEvent(ctx, inst, ev)
	if err != nil {
		return provider.WebhookResponse{}, err
	}
	if events == nil {
		p.log.Info("stripe webhook acknowledged without events", "event_id", ev.ID, "type", ev.Type)
		return provider.WebhookResponse{Response: ackResponse("event type not handled; acknowledged")}, nil
	}
	return provider.WebhookResponse{Events: events, Response: ackResponse("")}, nil
}

// mapEvent normalizes one verified event. nil means acknowledged and
// ignored (unknown type, or a payment that is not Switchyard's).
func (p *Provider) mapEvent(ctx context.Context, inst *instance, ev event) ([]provider.Event, error) {
	obj := ev.Data.Object
	cur := strings.ToUpper(obj.Currency)
	amount := func(v int64) int64 {
		m, exact := fromStripeAmount(v, cur)
		if !exact {
			p.log.Warn("stripe amount has precision beyond the currency's minor unit; truncated", "event_id", ev.ID, "currency", cur)
		}
		return m
	}
	out := provider.Event{
		ProviderEventID: ev.ID,
		OccurredAt:      time.Unix(ev.Created, 0).UTC(),
		RawType:         ev.Type,
		Currency:        cur,
		Data:            map[string]string{},
	}
	if ev.Account != "" {
		out.Data["account"] = ev.Account
	}

	switch ev.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed":
		out.ProviderRef = makeRef(ev.Account, obj.ID)
		out.SessionID = firstNonEmpty(obj.Metadata[MetaSessionID], obj.ClientReferenceID)
		out.Amount = amount(obj.AmountTotal)
		setIf(out.Data, "payment_intent_id", string(obj.PaymentIntent))
		switch {
		case ev.Type == "checkout.session.async_payment_failed":
			out.Type = provider.PaymentFailed
		case ev.Type == "checkout.session.async_payment_succeeded",
			obj.PaymentStatus == "paid", obj.PaymentStatus == "no_payment_required":
			out.Type = provider.PaymentSucceeded
		default:
			out.Type = provider.PaymentProcessing
		}
		return []provider.Event{out}, nil

	case "payment_intent.succeeded", "payment_intent.payment_failed":
		out.Data["payment_intent_id"] = obj.ID
		if ev.Type == "payment_intent.succeeded" {
			out.Type = provider.PaymentSucceeded
			out.Amount = amount(obj.AmountReceived)
		} else {
			out.Type = provider.PaymentFailed
			out.Amount = amount(obj.Amount)
			if e := obj.LastPaymentError; e != nil {
				setIf(out.Data, "failure_code", firstNonEmpty(e.DeclineCode, e.Code))
				setIf(out.Data, "failure_message", e.Message)
			}
		}
		return p.attach(ctx, inst, ev, obj.ID, obj.Metadata, out)

	case "charge.refunded":
		total := amount(obj.AmountRefunded)
		out.Type = provider.PaymentPartiallyRefunded
		if obj.AmountRefunded >= obj.Amount {
			out.Type = provider.PaymentRefunded
		}
		out.Amount = total
		if prev, ok := ev.Data.PreviousAttributes["amount_refunded"]; ok {
			if before, err := strconv.ParseInt(string(prev), 10, 64); err == nil {
				out.Amount = total - amount(before)
			}
		}
		out.Data["amount_refunded"] = strconv.FormatInt(total, 10)
		out.Data["charge_id"] = obj.ID
		if obj.Refunds != nil && len(obj.Refunds.Data) > 0 {
			latest := obj.Refunds.Data[0]
			for _, r := range obj.Refunds.Data[1:] {
				if r.Created > latest.Created {
					latest = r
				}
			}
			out.Data["refund_id"] = latest.ID
		}
		setIf(out.Data, "payment_intent_id", string(obj.PaymentIntent))
		return p.attach(ctx, inst, ev, string(obj.PaymentIntent), obj.Metadata, out)

	case "charge.dispute.created", "charge.dispute.closed":
		out.Data["dispute_id"] = obj.ID
		setIf(out.Data, "charge_id", string(obj.Charge))
		setIf(out.Data, "payment_intent_id", string(obj.PaymentIntent))
		setIf(out.Data, "reason", obj.Reason)
		out.Amount = amount(obj.Amount)
		switch {
		case ev.Type == "charge.dispute.created":
			out.Type = provider.PaymentDisputed
		case obj.Status == "won", obj.Status == "warning_closed":
			// warning_closed: an inquiry that never became a chargeback.
			out.Type = provider.PaymentDisputeWon
			out.Amount = 0
		case obj.Status == "lost":
			out.Type = provider.PaymentDisputeLost
		default:
			p.log.Warn("stripe dispute closed with an unexpected status; ignored", "event_id", ev.ID, "status", obj.Status)
			return nil, nil
		}
		out.Data["status"] = obj.Status
		return p.attach(ctx, inst, ev, string(obj.PaymentIntent), obj.Metadata, out)

	case "account.application.deauthorized":
		// Sent to a Connect endpoint when a connected account revokes the
		// platform (from its own dashboard). The event names the account,
		// not the merchant: the host finds the merchant by account.
		if ev.Account == "" || !validAccountID(ev.Account) {
			p.log.Warn("stripe deauthorization without a connected account; ignored", "event_id", ev.ID)
			return nil, nil
		}
		if inst.connectClientID != "" && obj.ID != "" && obj.ID != inst.connectClientID {
			// Another platform's application on the same endpoint secret.
			p.log.Info("stripe deauthorization for another application; ignored", "event_id", ev.ID, "application", obj.ID)
			return nil, nil
		}
		out.Type = provider.AccountDisconnected
		out.Currency = ""
		out.Data = map[string]string{"account_id": ev.Account}
		setIf(out.Data, "application_id", obj.ID)
		return []provider.Event{out}, nil

	case "invoice.paid", "invoice.payment_failed":
		// A subscription's renewal invoice (billing_reason
		// subscription_cycle) paid or failed; the first invoice is the
		// checkout's payment and other invoices are not renewals.
		sub := invoiceSubscription(obj)
		if sub == "" || obj.BillingReason != "subscription_cycle" {
			return nil, nil
		}
		out.Data["subscription_id"] = sub
		out.Data["invoice_id"] = obj.ID
		setIf(out.Data, "customer_id", string(obj.Customer))
		if ev.Type == "invoice.paid" {
			out.Type = provider.SubscriptionRenewed
			out.Amount = amount(obj.AmountPaid)
			return []provider.Event{out}, nil
		}
		out.Type = provider.SubscriptionPaymentFailed
		out.Data["failure_code"] = "invoice_payment_failed"
		out.Data["failed_attempts"] = strconv.FormatInt(obj.AttemptCount, 10)
		return []provider.Event{out}, nil

	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
		out.Currency = ""
		out.SessionID = obj.Metadata[MetaSessionID]
		out.Data["subscription_id"] = obj.ID
		setIf(out.Data, "status", obj.Status)
		setIf(out.Data, "customer_id", string(obj.Customer))
		if obj.Items != nil && len(obj.Items.Data) > 0 {
			setIf(out.Data, "plan", obj.Items.Data[0].Price.ID)
		}
		if end := periodEnd(obj); end > 0 && ev.Type != "customer.subscription.deleted" {
			out.Data["next_billing_at"] = time.Unix(end, 0).UTC().Format(time.RFC3339)
		}
		switch ev.Type {
		case "customer.subscription.created":
			out.Type = provider.SubscriptionCreated
		case "customer.subscription.updated":
			out.Type = provider.SubscriptionUpdated
			changed := make([]string, 0, len(ev.Data.PreviousAttributes))
			for k := range ev.Data.PreviousAttributes {
				changed = append(changed, k)
			}
			sort.Strings(changed)
			setIf(out.Data, "changed", strings.Join(changed, ","))
			out.Data["cancel_at_period_end"] = strconv.FormatBool(obj.CancelAtPeriodEnd)
		default:
			out.Type = provider.SubscriptionCanceled
			if d := obj.CancellationDetails; d != nil {
				setIf(out.Data, "canceled_by", d.Reason)
			}
		}
		return []provider.Event{out}, nil
	}
	return nil, nil
}

// invoiceSubscription is the subscription an invoice bills, "" for one
// that bills none.
func invoiceSubscription(obj eventObject) string {
	if obj.Subscription != "" {
		return string(obj.Subscription)
	}
	if p := obj.Parent; p != nil && p.SubscriptionDetails != nil {
		return string(p.SubscriptionDetails.Subscription)
	}
	return ""
}

// periodEnd reads current_period_end from the subscription, or from its
// first item on API versions that moved it there.
func periodEnd(obj eventObject) int64 {
	if obj.CurrentPeriodEnd > 0 {
		return obj.CurrentPeriodEnd
	}
	if obj.Items != nil && len(obj.Items.Data) > 0 {
		return obj.Items.Data[0].CurrentPeriodEnd
	}
	return 0
}

// attach names the Checkout Session behind a payment intent, charge or
// dispute event. Those objects do not carry the Checkout Session id, and
// charges and disputes do not carry the payment intent's metadata, so the
// session is looked up on Stripe by payment intent. A lookup failure is an
// error (the host answers 5xx and Stripe redelivers); a payment that no
// Switchyard session owns is acknowledged without events.
func (p *Provider) attach(ctx context.Context, inst *instance, ev event, paymentIntent string, md map[string]string, out provider.Event) ([]provider.Event, error) {
	out.SessionID = md[MetaSessionID]
	if paymentIntent != "" {
		cs, err := inst.sessionForPaymentIntent(ctx, ev.Account, paymentIntent)
		if err != nil {
			return nil, err
		}
		if cs != nil {
			out.ProviderRef = makeRef(ev.Account, cs.ID)
			if out.SessionID == "" {
				out.SessionID = firstNonEmpty(cs.Metadata[MetaSessionID], cs.ClientReferenceID)
			}
		}
	}
	if out.SessionID == "" && out.ProviderRef == "" {
		p.log.Info("stripe event for a payment no switchyard session owns; ignored", "event_id", ev.ID, "type", ev.Type)
		return nil, nil
	}
	return []provider.Event{out}, nil
}

func (inst *instance) sessionForPaymentIntent(ctx context.Context, account, paymentIntent string) (*stripe.CheckoutSession, error) {
	params := &stripe.CheckoutSessionListParams{PaymentIntent: stripe.String(paymentIntent)}
	params.Context = ctx
	params.Limit = stripe.Int64(1)
	params.Single = true
	if account != "" {
		params.SetStripeAccount(account)
	}
	it := inst.api.CheckoutSessions.List(params)
	if it.Next() {
		cs := it.CheckoutSession()
		// Only trust an answer about this very payment intent (a mock or
		// proxy that ignores the filter must not attach events elsewhere).
		if cs.PaymentIntent == nil || cs.PaymentIntent.ID != paymentIntent {
			return nil, nil
		}
		return cs, nil
	}
	if err := it.Err(); err != nil {
		return nil, mapError(ctx, "find checkout session by payment intent", err)
	}
	return nil, nil
}

func setIf(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
