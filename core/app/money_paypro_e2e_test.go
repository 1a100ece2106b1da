package app_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/checkout"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/plugins/paypro/payproprovider"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// newPayProInstances is newPayProEnv with several real PayPro plugin
// processes, one per instance id, each with the base settings plus extra.
// Routing tries them in the order given, so sessions go to the first.
func newPayProInstances(t *testing.T, st *store.Store, bin string, extra map[string]string, ids ...string) *payproEnv {
	t.Helper()
	var instances []paymentstest.Instance
	for _, id := range ids {
		settings := map[string]string{
			payproprovider.SettingValidationKey:  ppValidationKey,
			payproprovider.SettingSecretKey:      ppSecretKey,
			payproprovider.SettingDefaultProduct: "68452",
			payproprovider.SettingIPAllowlist:    "127.0.0.1, ::1",
		}
		for k, v := range extra {
			settings[k] = v
		}
		instances = append(instances, paymentstest.Instance{ID: id, Mode: domain.ModeLive, Impl: sdktest.LaunchProvider(t, bin, host.Options{}), Settings: settings})
	}
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	env := paymentstest.New(t, st, paymentstest.Options{BaseURL: base, RealClock: true, Instances: instances})
	pages, err := checkout.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = httpapi.New(httpapi.Options{BodyLimit: 1 << 20},
		httpapi.MerchantAPI(env.Service, env.Merchants, httpapi.MerchantAPIOptions{}),
		httpapi.Checkout(env.Service, pages, httpapi.CheckoutOptions{PublicBaseURL: base}),
		httpapi.ProviderHooks(env.Service, httpapi.ProviderHooksOptions{}),
	)
	srv.Start()
	t.Cleanup(srv.Close)
	m := env.Merchant(t, domain.PlanFree, "shop.example")
	key, _ := env.Key(t, m.ID, domain.Mode("live"))
	return &payproEnv{env: env, base: base, key: key, c: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// orderIDs gives every simulated PayPro order its own ORDER_ID, as PayPro
// does; event ids start with it.
var orderIDs atomic.Int64

func init() { orderIDs.Store(30_000_000) }

// signIPN computes SIGNATURE and HASH from the IPN reference's definitions,
// independently of the plugin's code: SHA-256 of ORDER_ID + ORDER_STATUS +
// ORDER_TOTAL_AMOUNT + CUSTOMER_EMAIL + validation key + TEST_MODE +
// IPN_TYPE_NAME, and MD5 of ORDER_ID + secret key ("1" for a test order),
// both as lower-case hex.
func signIPN(v url.Values) {
	sig := sha256.Sum256([]byte(v.Get("ORDER_ID") + v.Get("ORDER_STATUS") + v.Get("ORDER_TOTAL_AMOUNT") + v.Get("CUSTOMER_EMAIL") +
		ppValidationKey + v.Get("TEST_MODE") + v.Get("IPN_TYPE_NAME")))
	v.Set("SIGNATURE", hex.EncodeToString(sig[:]))
	in := v.Get("ORDER_ID") + ppSecretKey
	if v.Get("TEST_MODE") == "1" {
		in = "1"
	}
	sum := md5.Sum([]byte(in))
	v.Set("HASH", hex.EncodeToString(sum[:]))
}

// orderIPN is PayPro's IPN for an order placed through checkoutURL with
// fields overridden, signed as PayPro signs, posted to instance.
func (e *payproEnv) orderIPN(t *testing.T, instance string, typ ipn.Type, checkoutURL, orderID string, fields map[string]string) ipn.Response {
	t.Helper()
	v, err := ipn.Simulation{Type: typ, CheckoutURL: checkoutURL, Keys: ipn.Keys{ValidationKey: "placeholder"}}.Build()
	if err != nil {
		t.Fatal(err)
	}
	v.Set("ORDER_ID", orderID)
	for k, val := range fields {
		if val == "-" {
			v.Del(k)
		} else {
			v.Set(k, val)
		}
	}
	signIPN(v)
	resp, err := ipn.Post(context.Background(), e.c, e.base+"/hooks/paypro/"+instance, v)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// sessionView is the merchant's status endpoint for a session.
func (e *payproEnv) sessionView(t *testing.T, id string) map[string]any {
	t.Helper()
	status, _, b := e.do(t, http.MethodGet, "/v1/sessions/"+url.PathEscape(id), nil, http.Header{"Authorization": {"Bearer " + e.key}})
	var v map[string]any
	if status != http.StatusOK || json.Unmarshal(b, &v) != nil {
		t.Fatalf("GET session = %d: %s", status, b)
	}
	return v
}

func totals(total, shown, taxes string) map[string]string {
	return map[string]string{"ORDER_TOTAL_AMOUNT": total, "ORDER_TOTAL_AMOUNT_SHOWN": shown, "ORDER_TAXES_AMOUNT": taxes,
		"ORDER_TOTAL_AMOUNT_WITH_TAXES_SHOWN": total}
}

func withFields(m map[string]string, kv ...string) map[string]string {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// TestPayProMoneyIntegrity posts independently signed PayPro IPNs for
// 49.95 USD sessions through the real plugin binary: only the order total
// in the session's currency decides; less or another currency is held for
// review, more is paid and flagged, and an IPN through another instance
// changes nothing.
func TestPayProMoneyIntegrity(t *testing.T) {
	bin := payproBinary(t)
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newPayProInstances(t, st, bin, nil, "paypro", "paypro_b")

		for _, tc := range []struct {
			name     string
			fields   map[string]string
			status   string
			events   []string
			review   any
			received string
			currency string
		}{
			{"exact", totals("49.95", "49.95", "0.00"), "paid", []string{"session.created", "session.paid"}, nil, "49.95", "USD"},
			{"tax added on top", totals("59.44", "49.95", "9.49"), "paid", []string{"session.created", "session.paid"}, nil, "49.95", "USD"},
			{"total 0.50", totals("0.50", "0.50", "0.00"), "requires_review", []string{"session.created", "session.amount_mismatch"}, "amount_mismatch", "0.50", "USD"},
			{"total 10.00", totals("10.00", "10.00", "0.00"), "requires_review", []string{"session.created", "session.amount_mismatch"}, "amount_mismatch", "10.00", "USD"},
			{"coupon: unit price 49.95, total 10.00", withFields(totals("10.00", "10.00", "0.00"), "ORDER_ITEM_UNIT_PRICE", "49.95",
				"ORDER_ITEM_COUPON_DISCOUNT", "39.95", "ORDER_ITEM_TOTAL_DISCOUNT", "39.95", "ORDER_ITEM_TOTAL_AMOUNT", "10.00"),
				"requires_review", []string{"session.created", "session.amount_mismatch"}, "amount_mismatch", "10.00", "USD"},
			{"no unit price, total 10.00", withFields(totals("10.00", "10.00", "0.00"), "ORDER_ITEM_UNIT_PRICE", "-"),
				"requires_review", []string{"session.created", "session.amount_mismatch"}, "amount_mismatch", "10.00", "USD"},
			{"more than asked", totals("59.95", "59.95", "0.00"), "paid", []string{"session.created", "session.paid", "session.amount_mismatch"}, "amount_mismatch", "59.95", "USD"},
			{"another currency", withFields(totals("49.95", "49.95", "0.00"), "ORDER_CURRENCY_CODE", "EUR"),
				"requires_review", []string{"session.created", "session.amount_mismatch"}, "currency_mismatch", "49.95", "EUR"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := e.createSession(t)
				redirect := checkoutRedirect(t, e, s)
				order := strconv.FormatInt(orderIDs.Add(1), 10)
				wantOK(t, "OrderCharged", e.orderIPN(t, "paypro", ipn.OrderCharged, redirect, order, tc.fields))
				v := e.sessionView(t, s.SessionID)
				if v["status"] != tc.status || v["amount"] != "49.95" || v["amount_received"] != tc.received ||
					v["currency_received"] != tc.currency || v["review_reason"] != tc.review {
					t.Fatalf("status endpoint: %v", v)
				}
				if got := e.sessionEvents(t, s.SessionID); !equalStrings(got, tc.events) {
					t.Fatalf("events %v, want %v", got, tc.events)
				}
				if pe := e.providerEvent(t, order+":1"); pe.Outcome != store.OutcomeApplied || pe.SessionID != s.SessionID {
					t.Fatalf("provider event %+v", pe)
				}
				if tc.status == "requires_review" {
					// The order is held: no second session, no new attempt.
					body, _ := json.Marshal(map[string]any{"domain": "shop.example", "amount": "49.95", "currency": "USD", "order_id": orderOf(t, e, s.SessionID)})
					status, _, b := e.do(t, http.MethodPost, "/v1/sessions", bytes.NewReader(body), http.Header{
						"Authorization": {"Bearer " + e.key}, "Content-Type": {"application/json"}})
					if status != http.StatusConflict || !strings.Contains(string(b), "order_under_review") {
						t.Fatalf("create for the held order: %d %s", status, b)
					}
				}
			})
		}

		t.Run("an IPN through another instance is recorded, not applied", func(t *testing.T) {
			s := e.createSession(t)
			redirect := checkoutRedirect(t, e, s)
			atts, err := store.NewRepo(st.DB()).SessionAttempts(context.Background(), s.SessionID)
			if err != nil || len(atts) != 1 || atts[0].ProviderID != "paypro" {
				t.Fatalf("attempts %+v %v", atts, err)
			}
			order := strconv.FormatInt(orderIDs.Add(1), 10)
			// Same PayPro account (same keys), the IPN URL of paypro_b.
			wantOK(t, "OrderCharged to paypro_b", e.orderIPN(t, "paypro_b", ipn.OrderCharged, redirect, order, totals("49.95", "49.95", "0.00")))
			if v := e.sessionView(t, s.SessionID); v["status"] != "open" || v["amount_received"] != nil {
				t.Fatalf("session after the other instance's IPN: %v", v)
			}
			pe, err := store.NewRepo(st.DB()).GetProviderEvent(context.Background(), "paypro_b", order+":1")
			if err != nil || pe.Outcome != store.OutcomeRecorded || pe.SessionID != s.SessionID ||
				!strings.Contains(pe.Reason, "instance_mismatch") || !strings.Contains(pe.Reason, "routed to paypro, not paypro_b") {
				t.Fatalf("provider event %+v %v", pe, err)
			}
			if atts, _ := store.NewRepo(st.DB()).SessionAttempts(context.Background(), s.SessionID); atts[0].Status != store.AttemptPending {
				t.Fatalf("the routed attempt moved to %s", atts[0].Status)
			}
			// The same order's IPN at the routed instance pays it.
			wantOK(t, "OrderCharged to paypro", e.orderIPN(t, "paypro", ipn.OrderCharged, redirect, order, totals("49.95", "49.95", "0.00")))
			if v := e.sessionView(t, s.SessionID); v["status"] != "paid" {
				t.Fatalf("through the routed instance: %v", v)
			}
		})

		t.Run("an unknown IPN type is acknowledged and recorded", func(t *testing.T) {
			s := e.createSession(t)
			redirect := checkoutRedirect(t, e, s)
			order := strconv.FormatInt(orderIDs.Add(1), 10)
			r := e.orderIPN(t, "paypro", ipn.OrderCharged, redirect, order, map[string]string{"IPN_TYPE_ID": "19", "IPN_TYPE_NAME": "OrderReserved"})
			wantOK(t, "unknown type", r)
			var pe store.ProviderEvent
			err := st.DB().NewSelect().Model(&pe).Where("provider_id = ? AND raw_type = ?", "paypro", "OrderReserved").Scan(context.Background())
			if err != nil || pe.Type != "test.ignored" || pe.Outcome != store.OutcomeIgnored || !strings.HasPrefix(pe.ProviderEventID, order+":19:") {
				t.Fatalf("recorded as %+v, %v", pe, err)
			}
			if v := e.sessionView(t, s.SessionID); v["status"] != "open" {
				t.Fatalf("session %v", v)
			}
		})
	})
}

// TestPayProTaxIncludedStore: with prices_include_tax the signed
// ORDER_TOTAL_AMOUNT is what must equal the session.
func TestPayProTaxIncludedStore(t *testing.T) {
	bin := payproBinary(t)
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newPayProInstances(t, st, bin, map[string]string{payproprovider.SettingPricesIncludeTax: "true"}, "paypro")
		for _, tc := range []struct {
			name, total, shown, taxes, status string
			review                            any
		}{
			{"tax included in the price", "49.95", "41.97", "7.98", "paid", nil},
			{"tax added although the store says included", "59.44", "49.95", "9.49", "paid", "amount_mismatch"},
			{"coupon", "10.00", "8.40", "1.60", "requires_review", "amount_mismatch"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := e.createSession(t)
				redirect := checkoutRedirect(t, e, s)
				wantOK(t, "OrderCharged", e.orderIPN(t, "paypro", ipn.OrderCharged, redirect, strconv.FormatInt(orderIDs.Add(1), 10),
					totals(tc.total, tc.shown, tc.taxes)))
				if v := e.sessionView(t, s.SessionID); v["status"] != tc.status || v["amount_received"] != tc.total || v["review_reason"] != tc.review {
					t.Fatalf("status endpoint %v", v)
				}
			})
		}
	})
}

func orderOf(t *testing.T, e *payproEnv, sessionID string) string {
	t.Helper()
	sess, err := e.env.Store.GetSession(context.Background(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	return sess.OrderID
}
