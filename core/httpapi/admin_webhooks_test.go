package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/webhook"
)

func TestAdminWebhooks(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		kr, err := secrets.NewKeyring([]secrets.Key{{ID: "k1", Key: key}})
		if err != nil {
			t.Fatal(err)
		}
		ins, err := jobs.New(st, jobs.Options{InsertOnly: true, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := webhooks.New(webhooks.Deps{Store: st, Keyring: kr, Jobs: ins, AllowPrivateTargets: true})
		if err != nil {
			t.Fatal(err)
		}
		m, err := merchants.New(st).CreateMerchant(ctx, merchants.NewMerchant{Name: "A", Plan: "pro", ContactEmail: "a@a.test", Domains: []string{"a.test"}})
		if err != nil {
			t.Fatal(err)
		}
		var received http.Header
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			received = r.Header.Clone()
			_, _ = w.Write([]byte("thanks"))
		}))
		defer rc.Close()

		const token = "operator-token-0123456789"
		e := httpapi.New(httpapi.Options{BodyLimit: 1 << 16}, httpapi.AdminWebhooks(svc, []string{token}))
		do := func(method, path, body string) *httptest.ResponseRecorder {
			t.Helper()
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			return rec
		}
		mid := itoa(m.ID)
		rec := do("POST", "/admin/v1/endpoints", `{"merchant_id":`+mid+`,"url":"`+rc.URL+`","event_types":["session.*"],"profile":"ecomtrade"}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		var ep struct {
			ID, Secret, Profile string
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &ep)
		if !strings.HasPrefix(ep.Secret, "whsec_") || ep.Profile != "ecomtrade" {
			t.Fatalf("created %s", rec.Body)
		}

		// A session with one event and its delivery, for the history routes.
		now := time.Now().UTC().Truncate(time.Microsecond)
		sess := &store.Session{ID: domain.NewSessionID(), MerchantID: m.ID, Mode: domain.ModeTest, Status: domain.StatusPaid,
			Domain: "a.test", OrderID: "O-1", Amount: 100, Currency: "USD", Metadata: "{}", EventSeq: 1,
			ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
		ev := &store.Event{ID: domain.NewEventID(), MerchantID: m.ID, Mode: domain.ModeTest, SessionID: sess.ID,
			Type: "session.paid", Seq: 1, Data: `{"status":"paid"}`, CreatedAt: now}
		err = st.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			r := store.NewRepo(tx)
			if err := r.InsertSession(ctx, sess); err != nil {
				return err
			}
			if err := r.InsertEvent(ctx, ev); err != nil {
				return err
			}
			return svc.EventsInserted(ctx, tx, sess, ev)
		})
		if err != nil {
			t.Fatal(err)
		}
		ds, _ := svc.ListDeliveries(ctx, store.DeliveryFilter{EventID: ev.ID})
		if len(ds) != 1 {
			t.Fatalf("%d deliveries", len(ds))
		}

		cases := []struct {
			name, method, path, body string
			status                   int
			contains                 string
		}{
			{"list endpoints", "GET", "/admin/v1/endpoints?merchant=" + mid, "", 200, ep.ID},
			{"get endpoint", "GET", "/admin/v1/endpoints/" + ep.ID, "", 200, `"profile":"ecomtrade"`},
			{"missing endpoint", "GET", "/admin/v1/endpoints/ep_nope", "", 404, "resource_missing"},
			{"forbidden url", "POST", "/admin/v1/endpoints", `{"merchant_id":` + mid + `,"url":"http://169.254.169.254/"}`, 400, "forbidden_url"},
			{"unknown field", "POST", "/admin/v1/endpoints", `{"merchant_id":` + mid + `,"url":"` + rc.URL + `","secret":"x"}`, 400, "unknown_field"},
			{"test endpoint", "POST", "/admin/v1/endpoints/" + ep.ID + "/test", "", 200, `"succeeded":true`},
			{"events", "GET", "/admin/v1/events?merchant=" + mid + "&type=session.paid", "", 200, ev.ID},
			{"event detail", "GET", "/admin/v1/events/" + ev.ID, "", 200, ds[0].ID},
			{"bad since", "GET", "/admin/v1/events?since=yesterday", "", 400, "invalid_since"},
			{"deliveries by status", "GET", "/admin/v1/deliveries?status=pending&endpoint=" + ep.ID + "&event_type=session.paid&since=2000-01-01T00:00:00Z", "", 200, ds[0].ID},
			{"deliveries other status", "GET", "/admin/v1/deliveries?status=failed", "", 200, `{"data":[]}`},
			{"bad status", "GET", "/admin/v1/deliveries?status=lost", "", 400, "invalid_status"},
			{"delivery detail", "GET", "/admin/v1/deliveries/" + ds[0].ID, "", 200, `"attempt_log"`},
			{"resend pending", "POST", "/admin/v1/deliveries/" + ds[0].ID + "/resend", "", 409, "delivery_pending"},
			{"recover needs since", "POST", "/admin/v1/deliveries/recover", `{}`, 400, "invalid_since"},
			{"recover", "POST", "/admin/v1/deliveries/recover", `{"since":"2000-01-01T00:00:00Z"}`, 200, `"resent":0`},
			{"rotate", "POST", "/admin/v1/endpoints/" + ep.ID + "/rotate-secret", `{"overlap":"1h"}`, 200, "whsec_"},
			{"rotate bad overlap", "POST", "/admin/v1/endpoints/" + ep.ID + "/rotate-secret", `{"overlap":"soon"}`, 400, "invalid_overlap"},
			{"disable", "POST", "/admin/v1/endpoints/" + ep.ID + "/disable", `{"reason":"maintenance"}`, 200, `"enabled":false`},
			{"enable", "POST", "/admin/v1/endpoints/" + ep.ID + "/enable", "", 200, `"enabled":true`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec := do(tc.method, tc.path, tc.body)
				if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.contains) {
					t.Fatalf("%d %s, want %d containing %q", rec.Code, rec.Body, tc.status, tc.contains)
				}
			})
		}
		if received == nil || !strings.HasPrefix(received.Get(webhook.HeaderEcomtradeSignature), "sha256=") {
			t.Fatalf("test delivery was not signed with the endpoint's profile: %v", received)
		}
		for _, path := range []string{"/admin/v1/endpoints", "/admin/v1/endpoints/" + ep.ID} {
			if body := do("GET", path, "").Body.String(); strings.Contains(body, "whsec_") || strings.Contains(body, "v1:k1:") {
				t.Fatalf("%s exposes a secret: %s", path, body)
			}
		}
		if rec := do("DELETE", "/admin/v1/endpoints/"+ep.ID, ""); rec.Code != http.StatusNoContent {
			t.Fatalf("delete %d %s", rec.Code, rec.Body)
		}
		if rec := do("GET", "/admin/v1/endpoints/"+ep.ID, ""); rec.Code != http.StatusNotFound {
			t.Fatalf("deleted endpoint still visible: %d", rec.Code)
		}
		req := httptest.NewRequest("GET", "/admin/v1/deliveries", nil)
		rec = httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("no token: %d", rec.Code)
		}
	})
}
