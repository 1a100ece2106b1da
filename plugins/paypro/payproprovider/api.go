package payproprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchyard/switchyard/sdk"
)

// DefaultAPIBase is PayPro Global's API; its operations are POST
// {base}/{Group}/{Operation} with a JSON body.
const DefaultAPIBase = "https://store.payproglobal.com/api"

// maxAPIResponse bounds what is read from PayPro's API.
const maxAPIResponse = 1 << 20

// apiClient calls PayPro Global's order API. Every request carries the
// vendor account id and API secret key in its body, as PayPro requires;
// PayPro additionally accepts API calls only from IP addresses it has
// whitelisted for the vendor (docs/providers/paypro.md).
type apiClient struct {
	base     *url.URL
	vendorID int64
	secret   string
	http     *http.Client
}

// apiEnvelope is the documented shape of every PayPro API answer:
// response (operation-specific), request (an echo of the request, which
// includes the secret key and is therefore never read or logged), errors
// and isSuccess.
type apiEnvelope struct {
	Response json.RawMessage `json:"response"`
	Errors   []apiError      `json:"errors"`
	Success  bool            `json:"isSuccess"`
}

type apiError struct {
	Property string   `json:"propertyWithError"`
	Messages []string `json:"propertyErrorMessages"`
}

// refundOutcome is the response object of Orders/DoRefund (orderId,
// customerEmail) and Orders/DoPartialRefund (orderItemId): whether PayPro
// refunded and, if not, why.
type refundOutcome struct {
	OrderID     int64  `json:"orderId"`
	OrderItemID int64  `json:"orderItemId"`
	Successful  bool   `json:"isRefundSuccessful"`
	Notice      string `json:"refundNotice"`
}

type doRefundRequest struct {
	OrderIDs        []int64 `json:"orderIds"`
	RefundReason    string  `json:"refundReason"`
	VendorAccountID int64   `json:"vendorAccountId"`
	APISecretKey    string  `json:"apiSecretKey"`
}

type doPartialRefundRequest struct {
	OrderItemID     int64       `json:"orderItemId"`
	RefundAmount    json.Number `json:"refundAmount"`
	RefundReason    string      `json:"refundReason"`
	VendorAccountID int64       `json:"vendorAccountId"`
	APISecretKey    string      `json:"apiSecretKey"`
}

// doRefund refunds a whole order (Orders/DoRefund).
func (c *apiClient) doRefund(ctx context.Context, orderID int64, reason string) (refundOutcome, error) {
	body := doRefundRequest{OrderIDs: []int64{orderID}, RefundReason: reason, VendorAccountID: c.vendorID, APISecretKey: c.secret}
	return c.refund(ctx, "Orders/DoRefund", body, func(o refundOutcome) bool { return o.OrderID == orderID })
}

// doPartialRefund refunds amount (a decimal in the order's currency) of
// one order item (Orders/DoPartialRefund).
func (c *apiClient) doPartialRefund(ctx context.Context, itemID int64, amount, reason string) (refundOutcome, error) {
	body := doPartialRefundRequest{OrderItemID: itemID, RefundAmount: json.Number(amount), RefundReason: reason,
		VendorAccountID: c.vendorID, APISecretKey: c.secret}
	return c.refund(ctx, "Orders/DoPartialRefund", body, func(o refundOutcome) bool { return o.OrderItemID == itemID })
}

// refund posts one refund operation and reads its outcome. PayPro
// documents response as an object; a list (one entry per order) is
// accepted too, taking the entry for this order.
func (c *apiClient) refund(ctx context.Context, op string, body any, ours func(refundOutcome) bool) (refundOutcome, error) {
	env, err := c.post(ctx, op, body)
	if err != nil {
		return refundOutcome{}, err
	}
	raw := bytes.TrimSpace(env.Response)
	if len(raw) > 0 && raw[0] == '[' {
		var list []refundOutcome
		if err := json.Unmarshal(raw, &list); err != nil {
			return refundOutcome{}, sdk.Unavailable("paypro %s: unreadable response: %v", op, err)
		}
		for _, o := range list {
			if ours(o) {
				return o, nil
			}
		}
		return refundOutcome{}, sdk.Unavailable("paypro %s: the response does not mention the order", op)
	}
	var out refundOutcome
	if err := json.Unmarshal(raw, &out); err != nil || len(raw) == 0 || string(raw) == "null" {
		return refundOutcome{}, sdk.Unavailable("paypro %s: response without a refund outcome", op)
	}
	return out, nil
}

// post sends one API request and maps transport and envelope failures
// onto SDK categories: no answer, 5xx and unreadable answers are
// unavailable (retried with the same key); 429 is retryable; 401/403 mean
// the credentials or this server's address were refused; documented
// errors (isSuccess false) are invalid input with PayPro's messages.
func (c *apiClient) post(ctx context.Context, op string, body any) (apiEnvelope, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return apiEnvelope{}, sdk.Internal("paypro %s: encode request: %v", op, err)
	}
	u := c.base.JoinPath(strings.Split(op, "/")...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return apiEnvelope{}, sdk.Internal("paypro %s: build request: %v", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// The error text names only the URL, never the body (and so never
		// the secret key).
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return apiEnvelope{}, sdk.Unavailable("paypro %s: %v", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		return apiEnvelope{}, sdk.Unavailable("paypro %s: read response: %v", op, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return apiEnvelope{}, sdk.Unauthorized("paypro %s: refused with status %d: check vendor_account_id and api_secret_key, "+
			"and that PayPro has whitelisted this server's IP address for API calls", op, resp.StatusCode).WithCode("paypro_api_refused")
	case resp.StatusCode == http.StatusTooManyRequests:
		return apiEnvelope{}, sdk.Retryable("paypro %s: rate limited", op)
	case resp.StatusCode >= 500:
		return apiEnvelope{}, sdk.Unavailable("paypro %s: status %d", op, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return apiEnvelope{}, sdk.Invalid("paypro %s: unexpected status %d", op, resp.StatusCode)
	}
	var env apiEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return apiEnvelope{}, sdk.Unavailable("paypro %s: response is not PayPro's JSON envelope", op)
	}
	if !env.Success || len(env.Errors) > 0 {
		return apiEnvelope{}, sdk.Invalid("paypro %s: %s", op, errorText(env.Errors)).WithCode("paypro_api_error")
	}
	return env, nil
}

// errorText joins PayPro's documented errors into one message.
func errorText(errs []apiError) string {
	if len(errs) == 0 {
		return "request refused without details"
	}
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		msg := strings.Join(e.Messages, "; ")
		if msg == "" {
			msg = "invalid"
		}
		if e.Property != "" {
			msg = e.Property + ": " + msg
		}
		parts = append(parts, msg)
	}
	return strings.Join(parts, ", ")
}

// refundReasonText turns Switchyard's refund reason into the text PayPro
// records (refundReason is required and free text).
func refundReasonText(reason string) string {
	switch reason {
	case "requested_by_customer":
		return "Requested by customer"
	case "duplicate":
		return "Duplicate payment"
	case "fraudulent":
		return "Fraudulent payment"
	case "", "other":
		return "Refund requested by the merchant"
	}
	return reason
}
