package stripefake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Server is a small stateful stand-in for the Checkout Session and
// Refund endpoints. stripe-mock validates requests but is stateless (it
// returns a fixture for any id), so checks that need state — a retrieved
// session matching the created one, idempotent replays, unknown ids — run
// against this fake. Responses follow Stripe's documented shapes.
type Server struct {
	mu       sync.Mutex
	next     int
	sessions map[string]map[string]any // key: account + "/" + id
	idem     map[string]idemEntry
	refunded map[string]int64
	refunds  []Refund
	reject   *rejection
	last     map[string]any
	srv      *httptest.Server
}

// Refund is one refund the fake created: what a test counts to know how
// many times money went back.
type Refund struct {
	ID             string
	Account        string // the Stripe-Account header, "" for the platform
	PaymentIntent  string
	Amount         int64
	Reason         string
	IdempotencyKey string
	Metadata       map[string]string
}

type rejection struct {
	status             int
	typ, code, message string
}

type idemEntry struct {
	params string
	body   map[string]any
}

// New starts a fake for the duration of t; its URL is the api_base setting.
func New(t testing.TB) *Server {
	t.Helper()
	f := &Server{sessions: map[string]map[string]any{}, idem: map[string]idemEntry{}, refunded: map[string]int64{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the fake's base URL.
func (f *Server) URL() string { return f.srv.URL }

// Refunds returns the refunds created so far, in order. Idempotent replays
// are not refunds: they return the first response and add nothing here.
func (f *Server) Refunds() []Refund {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Refund(nil), f.refunds...)
}

// RejectRefunds makes every later refund request fail with this Stripe API
// error (for example 402 card_error / 400 invalid_request_error
// charge_disputed, or 500 api_error); status 0 accepts refunds again.
func (f *Server) RejectRefunds(status int, typ, code, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if status == 0 {
		f.reject = nil
		return
	}
	f.reject = &rejection{status: status, typ: typ, code: code, message: message}
}

// WriteError answers with a Stripe API error object.
func WriteError(w http.ResponseWriter, status int, typ, code, msg string) {
	WriteJSON(w, status, map[string]any{"error": map[string]any{"type": typ, "code": code, "message": msg}})
}

// ServeHTTP implements http.Handler.
func (f *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer sk_test_") {
		WriteError(w, 401, "invalid_request_error", "", "Invalid API Key provided")
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	account := r.Header.Get("Stripe-Account")
	f.mu.Lock()
	defer f.mu.Unlock()

	if key := r.Header.Get("Idempotency-Key"); key != "" && r.Method == http.MethodPost {
		ik := account + "|" + r.URL.Path + "|" + key
		if prev, ok := f.idem[ik]; ok {
			if prev.params != string(body) {
				WriteError(w, 400, "idempotency_error", "", "Keys for idempotent requests can only be used with the same parameters they were first used with.")
				return
			}
			WriteJSON(w, 200, prev.body)
			return
		}
		defer func() {
			if b, ok := f.lastBody(); ok {
				f.idem[ik] = idemEntry{params: string(body), body: b}
			}
		}()
	}
	f.last = nil

	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/checkout/sessions":
		f.next++
		id := fmt.Sprintf("cs_test_fake%04d", f.next)
		unit, _ := strconv.ParseInt(form.Get("line_items[0][price_data][unit_amount]"), 10, 64)
		qty, _ := strconv.ParseInt(form.Get("line_items[0][quantity]"), 10, 64)
		md := formMetadata(form)
		cs := map[string]any{
			"id": id, "object": "checkout.session", "mode": form.Get("mode"),
			"amount_total": unit * qty, "currency": form.Get("line_items[0][price_data][currency]"),
			"client_reference_id": form.Get("client_reference_id"), "metadata": md,
			"status": "open", "payment_status": "unpaid", "payment_intent": nil,
			"url": "https://checkout.stripe.com/c/pay/" + id,
		}
		f.sessions[account+"/"+id] = cs
		f.respond(w, cs)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/checkout/sessions":
		pi := r.URL.Query().Get("payment_intent")
		data := []any{}
		for k, cs := range f.sessions {
			if strings.HasPrefix(k, account+"/") && pi != "" && piID(cs) == pi {
				data = append(data, cs)
			}
		}
		WriteJSON(w, 200, map[string]any{"object": "list", "data": data, "has_more": false, "url": "/v1/checkout/sessions"})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/checkout/sessions/"):
		id := strings.TrimPrefix(r.URL.Path, "/v1/checkout/sessions/")
		cs, ok := f.sessions[account+"/"+id]
		if !ok {
			WriteError(w, 404, "invalid_request_error", "resource_missing", "No such checkout.session: '"+id+"'")
			return
		}
		WriteJSON(w, 200, cs)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/refunds":
		if rj := f.reject; rj != nil {
			WriteError(w, rj.status, rj.typ, rj.code, rj.message)
			return
		}
		pi := form.Get("payment_intent")
		var cs map[string]any
		for k, s := range f.sessions {
			if strings.HasPrefix(k, account+"/") && piID(s) == pi {
				cs = s
			}
		}
		if cs == nil {
			WriteError(w, 404, "invalid_request_error", "resource_missing", "No such payment_intent: '"+pi+"'")
			return
		}
		total := cs["amount_total"].(int64)
		amount := total - f.refunded[pi]
		if a := form.Get("amount"); a != "" {
			amount, _ = strconv.ParseInt(a, 10, 64)
		}
		if amount <= 0 || f.refunded[pi]+amount > total {
			WriteError(w, 400, "invalid_request_error", "amount_too_large", "Refund amount is greater than unrefunded amount on charge")
			return
		}
		f.refunded[pi] += amount
		f.next++
		id := fmt.Sprintf("re_fake%04d", f.next)
		md := formMetadata(form)
		f.refunds = append(f.refunds, Refund{ID: id, Account: account, PaymentIntent: pi, Amount: amount,
			Reason: form.Get("reason"), IdempotencyKey: r.Header.Get("Idempotency-Key"), Metadata: md})
		f.respond(w, map[string]any{"id": id, "object": "refund", "amount": amount,
			"currency": cs["currency"], "payment_intent": pi, "status": "succeeded", "reason": form.Get("reason"), "metadata": md})
	default:
		WriteError(w, 404, "invalid_request_error", "", "Unrecognized request URL ("+r.Method+": "+r.URL.Path+")")
	}
}

// last holds the body of the response being written, for idempotent replay.
func (f *Server) respond(w http.ResponseWriter, body map[string]any) {
	f.last = body
	WriteJSON(w, 200, body)
}

func (f *Server) lastBody() (map[string]any, bool) { return f.last, f.last != nil }

// formMetadata collects metadata[key]=value form fields.
func formMetadata(form url.Values) map[string]string {
	md := map[string]string{}
	for k, v := range form {
		if inner, ok := strings.CutPrefix(k, "metadata["); ok {
			md[strings.TrimSuffix(inner, "]")] = v[0]
		}
	}
	return md
}

func piID(cs map[string]any) string {
	switch v := cs["payment_intent"].(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["id"].(string)
		return s
	}
	return ""
}

// Pay marks a session paid, as Stripe does once the shopper completes it,
// and returns its payment intent id.
func (f *Server) Pay(account, id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs := f.sessions[account+"/"+id]
	pi := "pi_fake_" + id
	cs["status"], cs["payment_status"] = "complete", "paid"
	cs["payment_intent"] = map[string]any{
		"id": pi, "object": "payment_intent", "status": "succeeded",
		"amount": cs["amount_total"], "currency": cs["currency"],
		"latest_charge": map[string]any{"id": "ch_fake_" + id, "object": "charge", "amount_refunded": f.refunded[pi]},
	}
	return pi
}

// WriteJSON writes v as a JSON response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
