package payproprovider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
)

// maxIPNBody bounds the form body; a real IPN is a few kilobytes.
const maxIPNBody = 256 << 10

// HandleWebhook implements provider.Provider for PayPro's IPN. The checks
// run cheapest first — method, source address, form, SIGNATURE/HASH — and
// any failure answers 4xx with no events. A verified IPN answers 200 "OK";
// the host sends that only after storing the request, which is when PayPro
// may stop retrying.
func (p *Provider) HandleWebhook(ctx context.Context, req provider.WebhookRequest) (provider.WebhookResponse, error) {
	if err := ctx.Err(); err != nil {
		return provider.WebhookResponse{}, sdk.Unavailable("handle webhook: %w", err)
	}
	s, err := p.config()
	if err != nil {
		return provider.WebhookResponse{}, err
	}
	if req.Method != http.MethodPost {
		return reject(http.StatusMethodNotAllowed, "PayPro IPNs are POST requests"), nil
	}
	addr, err := s.guard.clientAddr(req.RemoteAddr, req.Headers)
	if err != nil {
		return reject(http.StatusForbidden, "source address not recognized"), nil
	}
	if !s.guard.permits(addr) {
		return reject(http.StatusForbidden, "source address "+addr.String()+" is not an allowed PayPro address"), nil
	}
	if len(req.Body) > maxIPNBody {
		return reject(http.StatusRequestEntityTooLarge, "IPN body too large"), nil
	}
	values, err := url.ParseQuery(string(req.Body))
	if err != nil || len(values) == 0 {
		return reject(http.StatusBadRequest, "body is not a form-encoded IPN"), nil
	}
	switch err := ipn.Verify(values, ipn.Keys{ValidationKey: s.keys.validation, SecretKey: s.keys.secret}); {
	case errors.Is(err, ipn.ErrSignatureMissing), errors.Is(err, ipn.ErrHashMissing):
		return reject(http.StatusBadRequest, err.Error()), nil
	case err != nil:
		return reject(http.StatusForbidden, "IPN verification failed"), nil
	}
	n, err := ipn.FromValues(values)
	if errors.Is(err, ipn.ErrUnknownType) {
		// Verified, but of a type this plugin does not know (PayPro adds
		// types). A non-200 would make PayPro retry three times and email
		// the vendor; the host stores the request and records the event.
		return provider.WebhookResponse{Events: []provider.Event{p.unknownTypeEvent(values)},
			Response: textResponse(http.StatusOK, "OK")}, nil
	}
	if err != nil {
		return reject(http.StatusBadRequest, err.Error()), nil
	}
	events := p.events(s, n)
	resp := provider.WebhookResponse{Events: events, Response: textResponse(http.StatusOK, "OK")}
	if n.TypeID == ipn.LicenseRequested {
		// PayPro delivers whatever a 200 carries as the license key, so
		// the plugin's own answer is the failure one; the host replaces it
		// with the merchant's key (see license.requested in the doc).
		resp.Response = textResponse(http.StatusServiceUnavailable, "license key not available")
	}
	return resp, nil
}

// unknownTypeEvent records a verified IPN of an undocumented type: nothing
// to apply, kept for the operator with its raw type.
func (p *Provider) unknownTypeEvent(v url.Values) provider.Event {
	typeID, typeName := v.Get(ipn.FieldTypeID), v.Get(ipn.FieldTypeName)
	d := map[string]string{
		"order_id": v.Get(ipn.FieldOrderID), "ipn_type_id": typeID,
		"ignored_reason": "IPN type " + typeID + " (" + typeName + ") is not one this plugin knows; acknowledged and recorded",
	}
	if v.Get("TEST_MODE") == "1" {
		d["test_mode"] = "1"
	}
	return provider.Event{
		Type:            provider.TestIgnored,
		ProviderEventID: v.Get(ipn.FieldOrderID) + ":" + typeID + ":" + shortHash(v.Encode()),
		OccurredAt:      p.now().UTC(),
		RawType:         typeName,
		Data:            d,
	}
}

func reject(status int, msg string) provider.WebhookResponse {
	return provider.WebhookResponse{Response: textResponse(status, msg)}
}

func textResponse(status int, body string) provider.HTTPResponse {
	return provider.HTTPResponse{
		Status:  status,
		Headers: http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		Body:    []byte(body),
	}
}

// events maps one verified IPN onto normalized events.
func (p *Provider) events(s *settings, n *ipn.IPN) []provider.Event {
	base := provider.Event{
		ProviderEventID: eventID(n),
		OccurredAt:      p.now().UTC(),
		RawType:         n.TypeID.String(),
		Currency:        n.OrderCurrency,
		Data:            commonData(n),
	}
	c, why := link(n, s.keys.validation)
	if why != "" {
		base.Data["unlinked_reason"] = why
	} else {
		base.SessionID, base.ProviderRef = c.session, c.ref
	}
	orderAmount := confirmedAmount(s, n, c, why == "", base.Data)
	if n.TestMode && !s.testMode && n.TypeID != ipn.LicenseRequested {
		// A test order reached a live instance: keep it visible, never
		// apply it.
		ev := base
		ev.Type = provider.TestIgnored
		ev.ProviderEventID += ":test"
		ev.Amount = 0
		ev.Data["ignored_reason"] = "test-mode IPN (TEST_MODE=1) on a live instance"
		return []provider.Event{ev}
	}
	if !n.TestMode && s.testMode {
		base.Data["live_ipn_on_test_instance"] = "1"
	}
	mk := func(t provider.EventType, amount int64, extra map[string]string) provider.Event {
		ev := base
		ev.Type, ev.Amount = t, amount
		ev.Data = make(map[string]string, len(base.Data)+len(extra))
		for k, v := range base.Data {
			ev.Data[k] = v
		}
		for k, v := range extra {
			if v != "" {
				ev.Data[k] = v
			}
		}
		return ev
	}
	orderID := strconv.FormatInt(n.OrderID, 10)
	var out []provider.Event
	switch n.TypeID {
	case ipn.OrderCharged:
		out = append(out, mk(provider.PaymentSucceeded, orderAmount, nil))
		if n.SubscriptionID != 0 {
			out = append(out, subscriptionCreated(mk, n))
		}
	case ipn.TrialCharge:
		// A paid trial captured money for the checkout; a free one only
		// starts the subscription.
		if a := orderAmount; a > 0 {
			out = append(out, mk(provider.PaymentSucceeded, a, nil))
		}
		out = append(out, subscriptionCreated(mk, n))
	case ipn.OrderRefunded, ipn.OrderPartiallyRefunded:
		t := provider.PaymentRefunded
		if n.TypeID == ipn.OrderPartiallyRefunded {
			t = provider.PaymentPartiallyRefunded
		}
		total := n.OrderRefunded.Minor
		out = append(out, mk(t, p.refundDelta(n.OrderID, total), map[string]string{
			"refund_id":        orderID + ":refund:" + strconv.FormatInt(total, 10),
			"amount_refunded":  strconv.FormatInt(total, 10),
			"reason":           n.ActionReason,
			"refund_issued_by": n.RefundIssuedBy,
		}))
	case ipn.OrderChargedBack:
		out = append(out, mk(provider.PaymentDisputed, orderAmount, map[string]string{"dispute_id": orderID, "reason": n.ActionReason}))
	case ipn.OrderChargebackIsWon:
		out = append(out, mk(provider.PaymentDisputeWon, 0, map[string]string{"dispute_id": orderID, "reason": n.ActionReason}))
	case ipn.OrderDeclined:
		out = append(out, mk(provider.PaymentFailed, orderAmount, map[string]string{"failure_code": "declined", "failure_message": n.ActionReason}))
	case ipn.OrderOnWaiting:
		out = append(out, mk(provider.PaymentProcessing, orderAmount, nil))
	case ipn.SubscriptionChargeSucceed:
		out = append(out, mk(provider.SubscriptionRenewed, orderAmount, map[string]string{"next_billing_at": nextBilling(n)}))
	case ipn.SubscriptionChargeFailed:
		out = append(out, mk(provider.SubscriptionPaymentFailed, 0, map[string]string{
			"failure_code": "charge_failed", "failure_message": n.ActionReason,
			"failed_attempts": strconv.FormatInt(n.SubscriptionFailedAttempts, 10),
		}))
	case ipn.SubscriptionSuspended:
		out = append(out, mk(provider.SubscriptionSuspended, 0, map[string]string{"reason": n.ActionReason}))
	case ipn.SubscriptionRenewed:
		// PayPro's "renewed" is a suspended subscription being resumed; the
		// charge, if any, arrives as SubscriptionChargeSucceed.
		out = append(out, mk(provider.SubscriptionUpdated, 0, map[string]string{"change": "resumed", "status": n.SubscriptionStatusName, "next_billing_at": nextBilling(n)}))
	case ipn.SubscriptionTerminated:
		out = append(out, mk(provider.SubscriptionCanceled, 0, map[string]string{
			"reason": n.ActionReason, "cancellation_reason_id": nonZero(n.SubscriptionCancellationReasonID),
		}))
	case ipn.SubscriptionFinished:
		out = append(out, mk(provider.SubscriptionFinished, 0, map[string]string{"finished_at": n.SubscriptionFinishDate}))
	case ipn.SubscriptionPaymentInfoChanged:
		out = append(out, mk(provider.SubscriptionUpdated, 0, map[string]string{
			"change": "payment_info", "card_last4": n.CreditCardLast4, "card_expiration": n.CreditCardExpirationDate,
			"paypal_account": n.PayPalAccount,
		}))
	case ipn.LicenseRequested:
		out = append(out, mk(provider.LicenseRequested, 0, map[string]string{
			"quantity": strconv.FormatInt(n.ProductQuantity, 10), "custom_license_info": n.CustomLicenseInfo,
			"order_item_id": nonZero(n.OrderItemID), "order_item_name": n.OrderItemName, "order_item_sku": n.OrderItemSKU,
			"customer_email": n.CustomerEmail, "customer_name": n.CustomerName,
			"licensed_to_name": n.LicensedToName, "licensed_to_email": n.LicensedToEmail,
		}))
	case ipn.OrderCustomerInformationChanged:
		out = append(out, mk(provider.CustomerUpdated, 0, map[string]string{
			"email": n.CustomerEmail, "name": n.CustomerName, "country": n.CustomerCountryCode,
		}))
	case ipn.InstantLeadNotification:
		// Marketing data with nothing to apply; recorded for the operator.
		out = append(out, mk(provider.TestIgnored, 0, map[string]string{
			"ignored_reason": "instant lead notification (marketing data, nothing to apply)",
			"lead_type":      n.LeadTypeName, "lead_campaign_id": n.LeadCampaignID, "lead_follow_up_id": n.LeadFollowUpID,
			"email": n.CustomerEmail,
		}))
	}
	for _, ev := range out {
		if ev.ProviderRef != "" {
			p.observe(ev.ProviderRef, ev)
		}
	}
	return out
}

func subscriptionCreated(mk func(provider.EventType, int64, map[string]string) provider.Event, n *ipn.IPN) provider.Event {
	ev := mk(provider.SubscriptionCreated, 0, map[string]string{
		"plan": nonZero(n.ProductID), "next_billing_at": nextBilling(n), "trial_until": n.TrialPeriodTill,
	})
	ev.ProviderEventID += ":subscription"
	return ev
}

// confirmedAmount is the order amount the plugin reports, in
// ORDER_CURRENCY_CODE, for the host to compare with the session (the host
// decides; the plugin only says what PayPro confirmed). It is the order
// total, never ORDER_ITEM_UNIT_PRICE (the price before discounts), so a
// coupon that lowered the total shows as less money:
//
//   - prices_include_tax: ORDER_TOTAL_AMOUNT, the total charged including
//     tax — the field SIGNATURE covers. The checkout link's price is then
//     the tax-inclusive price.
//   - otherwise (the default: PayPro adds its tax on top of the link's
//     price): ORDER_TOTAL_AMOUNT_SHOWN, the total without tax. When
//     ORDER_TAXES_AMOUNT is sent too it must add up with it to the signed
//     ORDER_TOTAL_AMOUNT; if it does not, nothing is confirmed (0) and the
//     host holds the payment for an operator rather than believe an
//     unsigned field. Without ORDER_TOTAL_AMOUNT_SHOWN the signed total
//     less ORDER_TAXES_AMOUNT (or the total alone when no tax is stated)
//     is used.
//   - A test order (TEST_MODE=1, applied only on a test_mode instance)
//     carries 0 in every amount, as PayPro documents; the amount its signed
//     checkout link fixed is reported instead. Test orders move no money.
//
// Data["amount_source"] names the field used, or Data["amount_unconfirmed"]
// says why there is none; the charged total and tax stay in Data.
func confirmedAmount(s *settings, n *ipn.IPN, c checkoutRef, linked bool, data map[string]string) int64 {
	total, shown, taxes := n.OrderTotalAmount, n.OrderTotalAmountShown, n.OrderTaxesAmount
	switch {
	case n.TestMode:
		if linked && c.currency == n.OrderCurrency {
			data["amount_source"] = "checkout link (test order: PayPro reports 0 amounts)"
			return c.amount
		}
		data["amount_unconfirmed"] = "test order without a linked checkout: PayPro reports 0 amounts"
		return 0
	case s.pricesIncludeTax:
		data["amount_source"] = "ORDER_TOTAL_AMOUNT"
		return total.Minor
	case shown.Set && taxes.Set && total.Set && shown.Minor+taxes.Minor != total.Minor:
		data["amount_unconfirmed"] = "ORDER_TOTAL_AMOUNT_SHOWN + ORDER_TAXES_AMOUNT (" + shown.String() + " + " + taxes.String() +
			") differs from the signed ORDER_TOTAL_AMOUNT (" + total.String() + ")"
		return 0
	case shown.Set:
		data["amount_source"] = "ORDER_TOTAL_AMOUNT_SHOWN"
		return shown.Minor
	case taxes.Set:
		data["amount_source"] = "ORDER_TOTAL_AMOUNT - ORDER_TAXES_AMOUNT"
		return total.Minor - taxes.Minor
	}
	data["amount_source"] = "ORDER_TOTAL_AMOUNT"
	return total.Minor
}

// eventID identifies the upstream event for de-duplication. IS_RESENT is
// deliberately not part of it: a resend is the same event. Types PayPro can
// send more than once per order get a discriminator.
func eventID(n *ipn.IPN) string {
	id := strconv.FormatInt(n.OrderID, 10) + ":" + strconv.Itoa(int(n.TypeID))
	switch n.TypeID {
	case ipn.OrderRefunded, ipn.OrderPartiallyRefunded:
		// Successive partial refunds differ in their cumulative total.
		id += ":" + strconv.FormatInt(n.OrderRefunded.Minor, 10)
	case ipn.SubscriptionChargeFailed:
		id += ":" + strconv.FormatInt(n.SubscriptionFailedAttempts, 10)
	case ipn.SubscriptionSuspended, ipn.SubscriptionRenewed, ipn.SubscriptionTerminated, ipn.SubscriptionFinished:
		id += ":" + strconv.FormatInt(n.SubscriptionID, 10) + ":" + strconv.FormatInt(n.SubscriptionBillingCycles, 10)
	case ipn.LicenseRequested:
		id += ":" + strconv.FormatInt(n.OrderItemID, 10)
	case ipn.OrderCustomerInformationChanged:
		id += ":" + shortHash(strings.ToLower(n.CustomerEmail)+"\x00"+n.CustomerName+"\x00"+n.CustomerCountryCode)
	case ipn.SubscriptionPaymentInfoChanged:
		id += ":" + shortHash(n.PaymentMethodName+"\x00"+n.CreditCardLast4+"\x00"+n.CreditCardExpirationDate+"\x00"+n.PayPalAccount)
	case ipn.InstantLeadNotification:
		id += ":" + n.LeadCampaignID + ":" + n.LeadFollowUpID
	}
	return id
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func commonData(n *ipn.IPN) map[string]string {
	d := map[string]string{
		"order_id":    strconv.FormatInt(n.OrderID, 10),
		"ipn_type_id": strconv.Itoa(int(n.TypeID)),
	}
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	// Refunds through PayPro's API name the order (DoRefund) or its item
	// (DoPartialRefund); the host hands these back in PaymentData.
	set("order_item_id", nonZero(n.OrderItemID))
	set("product_id", nonZero(n.ProductID))
	set("order_status", n.OrderStatus)
	set("payment_method", n.PaymentMethodName)
	set("customer_country", n.CustomerCountryCode)
	set("subscription_id", nonZero(n.SubscriptionID))
	if n.OrderTotalAmount.Set {
		set("charged_total", strconv.FormatInt(n.OrderTotalAmount.Minor, 10))
	}
	if n.OrderTaxesAmount.Set {
		set("tax_amount", strconv.FormatInt(n.OrderTaxesAmount.Minor, 10))
	}
	if len(n.Licenses) > 0 {
		set("licenses", strings.Join(n.Licenses, "\n"))
	}
	if at, ok := n.PlacedAt(); ok {
		set("order_placed_at", at.Format(time.RFC3339))
	}
	if n.TestMode {
		d["test_mode"] = "1"
	}
	if n.IsResent {
		d["resent"] = "1"
	}
	return d
}

// nextBilling converts SUBSCRIPTION_NEXT_CHARGE_DATE to RFC 3339 when it is
// in a recognizable format, and passes it through otherwise.
func nextBilling(n *ipn.IPN) string {
	raw := strings.TrimSpace(n.SubscriptionNextChargeDate)
	for _, l := range []string{"01/02/2006", "1/2/2006", "2006-01-02", "01/02/2006 15:04:05"} {
		if t, err := time.ParseInLocation(l, raw, time.UTC); err == nil {
			return t.Format(time.RFC3339)
		}
	}
	return raw
}

func nonZero(i int64) string {
	if i == 0 {
		return ""
	}
	return strconv.FormatInt(i, 10)
}
