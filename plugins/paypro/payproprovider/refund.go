package payproprovider

import (
	"context"
	"strconv"

	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Refund implements provider.Refunder through PayPro's order API: a whole
// order (Amount 0: everything, taxes included) with Orders/DoRefund, part of
// it with Orders/DoPartialRefund on the order item. PayPro names orders by
// its own ids, which reach the host in the payment.succeeded event's Data
// (order_id, order_item_id) and come back in RefundRequest.PaymentData.
//
// PayPro's API takes no idempotency key and returns no refund id: the
// plugin answers a repeated key from memory (for the life of the process),
// and PayPro itself refuses to refund an order twice or beyond what is
// left. The refund is identified later by the OrderRefunded or
// OrderPartiallyRefunded IPN PayPro sends, which the host matches.
func (p *Provider) Refund(ctx context.Context, req provider.RefundRequest) (provider.RefundResult, error) {
	if err := ctx.Err(); err != nil {
		return provider.RefundResult{}, sdk.Unavailable("refund: %w", err)
	}
	s, err := p.config()
	if err != nil {
		return provider.RefundResult{}, err
	}
	if req.Amount < 0 {
		return provider.RefundResult{}, sdk.Invalid("refund amount must not be negative").WithField("amount").WithCode("invalid_amount")
	}
	orderID, ok := positiveID(req.PaymentData["order_id"])
	if !ok {
		return provider.RefundResult{}, sdk.NotFound("no settled PayPro order is known for payment %q (its OrderCharged IPN names the order)", req.ProviderRef)
	}
	if s.api == nil {
		return provider.RefundResult{}, sdk.Invalid("refunds through PayPro need the %s and %s settings", SettingVendorAccountID, SettingAPISecretKey).
			WithCode("refunds_not_configured")
	}
	if req.IdempotencyKey != "" {
		p.mu.RLock()
		prev, ok := p.refunds[req.IdempotencyKey]
		p.mu.RUnlock()
		if ok {
			return prev, nil
		}
	}
	api := &apiClient{base: s.api.base, vendorID: s.api.vendorID, secret: s.api.secret, http: p.httpClient}
	reason := refundReasonText(req.Reason)
	var out refundOutcome
	if req.Amount == 0 {
		out, err = api.doRefund(ctx, orderID, reason)
	} else {
		itemID, ok := positiveID(req.PaymentData["order_item_id"])
		if !ok {
			return provider.RefundResult{}, sdk.Invalid("PayPro order %d has no known order item id, which partial refunds need", orderID).
				WithCode("partial_refund_unavailable")
		}
		amount, ferr := ipn.FormatAmount(req.Amount, req.Currency)
		if ferr != nil {
			return provider.RefundResult{}, sdk.Invalid("refund currency: %v", ferr).WithField("currency")
		}
		out, err = api.doPartialRefund(ctx, itemID, amount, reason)
	}
	if err != nil {
		return provider.RefundResult{}, err
	}
	if !out.Successful {
		notice := out.Notice
		if notice == "" {
			notice = "PayPro did not refund the order"
		}
		return provider.RefundResult{}, sdk.Declined("paypro: %s", notice).WithCode("refund_declined")
	}
	res := provider.RefundResult{Status: provider.RefundSucceeded, Amount: req.Amount}
	if req.IdempotencyKey != "" {
		p.rememberRefund(req.IdempotencyKey, res)
	}
	return res, nil
}

func (p *Provider) rememberRefund(key string, res provider.RefundResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.refunds[key]; ok {
		return
	}
	p.refunds[key] = res
	p.refundOrder = append(p.refundOrder, key)
	for len(p.refundOrder) > maxRemembered {
		delete(p.refunds, p.refundOrder[0])
		p.refundOrder = p.refundOrder[1:]
	}
}

func positiveID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}
