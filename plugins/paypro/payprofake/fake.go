// Package payprofake is a local stand-in for the two refund operations of
// PayPro Global's API, for tests: PayPro offers no sandbox API that could
// run here. It follows the documented request and response shapes
// (https://developers.payproglobal.com/docs/api/orders/do-refund/ and
// …/do-partial-refund/): POST JSON with vendorAccountId and apiSecretKey in
// the body; answers {"response": {…}, "request": {…}, "errors":
// [{"propertyWithError", "propertyErrorMessages"}], "isSuccess"}. Request
// bodies are decoded strictly, so a plugin that sends a field PayPro does
// not document fails here.
//
// What PayPro answers to wrong credentials and to a caller whose IP address
// it has not whitelisted is not documented; the fake answers the first with
// isSuccess false and an error on apiSecretKey, the second with HTTP 403.
package payprofake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/plugins/paypro/ipn"
)

// Server is the fake. Its zero value is not usable; call New.
type Server struct {
	vendorID int64
	secret   string

	mu       sync.Mutex
	orders   map[int64]*Order
	byItem   map[int64]*Order
	refunds  []Refund
	failWith int             // HTTP status for every request, 0 for none
	allowed  map[string]bool // caller IPs; empty allows any
	onRefund func(Refund)
	srv      *httptest.Server
}

// Order is a PayPro order with one item, as Switchyard's checkout creates.
type Order struct {
	ID       int64
	ItemID   int64
	Total    int64 // minor units, what the customer paid
	Currency string
	Refunded int64
}

// Refund is one refund the fake executed.
type Refund struct {
	Operation   string // "DoRefund" or "DoPartialRefund"
	OrderID     int64
	OrderItemID int64
	Amount      int64 // minor units
	Currency    string
	Reason      string
	// RefundedTotal is the order's cumulative refunded amount afterwards
	// (PayPro's ORDER_REFUNDED in the IPN it would send).
	RefundedTotal int64
	Full          bool
}

// New starts a fake that accepts vendorID and secret, for the duration of t.
func New(t testing.TB, vendorID int64, secret string) *Server {
	t.Helper()
	f := &Server{vendorID: vendorID, secret: secret, orders: map[int64]*Order{}, byItem: map[int64]*Order{}, allowed: map[string]bool{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the API base to configure as the plugin's api_base.
func (f *Server) URL() string { return f.srv.URL + "/api" }

// AddOrder registers a paid order.
func (f *Server) AddOrder(o Order) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := o
	f.orders[o.ID] = &c
	f.byItem[o.ItemID] = &c
}

// Refunds returns the refunds executed so far, in order.
func (f *Server) Refunds() []Refund {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Refund(nil), f.refunds...)
}

// FailWith makes every request answer status (0 restores normal answers).
func (f *Server) FailWith(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failWith = status
}

// AllowOnly whitelists caller IP addresses, as PayPro does for API
// callers; with none listed every caller is accepted.
func (f *Server) AllowOnly(ips ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.allowed = map[string]bool{}
	for _, ip := range ips {
		f.allowed[ip] = true
	}
}

// OnRefund registers a function called (outside the fake's lock, before
// the answer is written) for every executed refund: a test sends PayPro's
// refund IPN from it to play the webhook arriving before the API answer.
func (f *Server) OnRefund(fn func(Refund)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onRefund = fn
}

type doRefundBody struct {
	OrderIDs        []int64  `json:"orderIds"`
	EmailAddresses  []string `json:"emailAddresses"`
	RefundReason    *string  `json:"refundReason"`
	VendorAccountID *int64   `json:"vendorAccountId"`
	APISecretKey    *string  `json:"apiSecretKey"`
}

type doPartialRefundBody struct {
	OrderItemID                        *int64       `json:"orderItemId"`
	RefundAmount                       *json.Number `json:"refundAmount"`
	ChangeSubscriptionPrice            *bool        `json:"changeSubscriptionPrice"`
	RefundReason                       *string      `json:"refundReason"`
	CancelSubscription                 *bool        `json:"cancelSubscription"`
	SubscriptionCancellationReasonText *string      `json:"subscriptionCancellationReasonText"`
	VendorAccountID                    *int64       `json:"vendorAccountId"`
	APISecretKey                       *string      `json:"apiSecretKey"`
}

type apiError struct {
	Property string   `json:"propertyWithError"`
	Messages []string `json:"propertyErrorMessages"`
}

// ServeHTTP implements http.Handler.
func (f *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	fail, allowed := f.failWith, len(f.allowed) == 0
	if !allowed {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		allowed = f.allowed[host]
	}
	f.mu.Unlock()
	switch {
	case fail != 0:
		http.Error(w, http.StatusText(fail), fail)
		return
	case !allowed:
		http.Error(w, "Forbidden: IP address is not whitelisted", http.StatusForbidden)
		return
	case r.Method != http.MethodPost:
		http.Error(w, "The requested resource does not support http method '"+r.Method+"'.", http.StatusMethodNotAllowed)
		return
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		http.Error(w, "unsupported media type", http.StatusUnsupportedMediaType)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	var request map[string]any
	_ = json.Unmarshal(raw, &request)
	var resp any
	var errs []apiError
	switch r.URL.Path {
	case "/api/Orders/DoRefund":
		resp, errs = f.doRefund(raw)
	case "/api/Orders/DoPartialRefund":
		resp, errs = f.doPartialRefund(raw)
	default:
		http.NotFound(w, r)
		return
	}
	if errs == nil {
		errs = []apiError{}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"response": resp, "request": request, "errors": errs, "isSuccess": len(errs) == 0})
}

func decodeStrict(raw []byte, v any) []apiError {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return []apiError{{Property: "request", Messages: []string{"The request is invalid: " + err.Error()}}}
	}
	return nil
}

func (f *Server) credentials(vendor *int64, secret *string) []apiError {
	var errs []apiError
	if vendor == nil || *vendor != f.vendorID {
		errs = append(errs, apiError{Property: "vendorAccountId", Messages: []string{"The vendor account is not found."}})
	}
	if secret == nil || *secret != f.secret {
		errs = append(errs, apiError{Property: "apiSecretKey", Messages: []string{"The API secret key is not valid."}})
	}
	return errs
}

func (f *Server) doRefund(raw []byte) (any, []apiError) {
	var b doRefundBody
	if errs := decodeStrict(raw, &b); errs != nil {
		return nil, errs
	}
	if errs := f.credentials(b.VendorAccountID, b.APISecretKey); errs != nil {
		return nil, errs
	}
	switch {
	case b.RefundReason == nil || strings.TrimSpace(*b.RefundReason) == "":
		return nil, []apiError{{Property: "refundReason", Messages: []string{"The refundReason field is required."}}}
	case len(b.OrderIDs) != 1 || len(b.EmailAddresses) > 0:
		return nil, []apiError{{Property: "orderIds", Messages: []string{"The fake refunds exactly one order per request."}}}
	}
	id := b.OrderIDs[0]
	f.mu.Lock()
	o, ok := f.orders[id]
	out := map[string]any{"orderId": id, "customerEmail": "", "isRefundSuccessful": false}
	var done Refund
	switch {
	case !ok:
		out["refundNotice"] = fmt.Sprintf("Order %d was not found.", id)
	case o.Refunded >= o.Total:
		out["refundNotice"] = fmt.Sprintf("Order %d is already refunded.", id)
	default:
		done = Refund{Operation: "DoRefund", OrderID: id, OrderItemID: o.ItemID, Amount: o.Total - o.Refunded, Currency: o.Currency,
			Reason: *b.RefundReason, RefundedTotal: o.Total, Full: true}
		o.Refunded = o.Total
		f.refunds = append(f.refunds, done)
		out["isRefundSuccessful"], out["refundNotice"] = true, ""
	}
	hook := f.onRefund
	f.mu.Unlock()
	if done.Operation != "" && hook != nil {
		hook(done)
	}
	return out, nil
}

func (f *Server) doPartialRefund(raw []byte) (any, []apiError) {
	var b doPartialRefundBody
	if errs := decodeStrict(raw, &b); errs != nil {
		return nil, errs
	}
	if errs := f.credentials(b.VendorAccountID, b.APISecretKey); errs != nil {
		return nil, errs
	}
	switch {
	case b.OrderItemID == nil:
		return nil, []apiError{{Property: "orderItemId", Messages: []string{"The orderItemId field is required."}}}
	case b.RefundAmount == nil:
		return nil, []apiError{{Property: "refundAmount", Messages: []string{"The refundAmount field is required."}}}
	case b.RefundReason == nil || strings.TrimSpace(*b.RefundReason) == "":
		return nil, []apiError{{Property: "refundReason", Messages: []string{"The refundReason field is required."}}}
	}
	item := *b.OrderItemID
	f.mu.Lock()
	o, ok := f.byItem[item]
	out := map[string]any{"orderItemId": item, "isRefundSuccessful": false}
	var done Refund
	if !ok {
		f.mu.Unlock()
		return nil, []apiError{{Property: "orderItemId", Messages: []string{fmt.Sprintf("Order item %d was not found.", item)}}}
	}
	amount, err := ipn.ParseAmount(b.RefundAmount.String(), o.Currency)
	switch {
	case err != nil || amount <= 0:
		f.mu.Unlock()
		return nil, []apiError{{Property: "refundAmount", Messages: []string{"The refundAmount must be a positive amount in the order currency."}}}
	case o.Refunded+amount > o.Total:
		left, _ := ipn.FormatAmount(o.Total-o.Refunded, o.Currency)
		out["refundNotice"] = "The refund amount exceeds the amount available for refund (" + left + " " + o.Currency + ")."
	default:
		o.Refunded += amount
		done = Refund{Operation: "DoPartialRefund", OrderID: o.ID, OrderItemID: item, Amount: amount, Currency: o.Currency,
			Reason: *b.RefundReason, RefundedTotal: o.Refunded, Full: o.Refunded == o.Total}
		f.refunds = append(f.refunds, done)
		out["isRefundSuccessful"], out["refundNotice"] = true, ""
	}
	hook := f.onRefund
	f.mu.Unlock()
	if done.Operation != "" && hook != nil {
		hook(done)
	}
	return out, nil
}

// FormatRefunded is r.RefundedTotal as PayPro writes amounts in IPNs.
func (r Refund) FormatRefunded() string {
	s, err := ipn.FormatAmount(r.RefundedTotal, r.Currency)
	if err != nil {
		return strconv.FormatInt(r.RefundedTotal, 10)
	}
	return s
}
