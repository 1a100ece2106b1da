package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/webhook"
)

func TestDeliverySignedEnvelope(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		rc := newReceiver(t, status(200))
		ep := h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL()})
		h.startWorkers(t, st, "w1")
		sess := h.session(t, "shop.test", "test", "")
		h.emit(t, sess, "session.created")
		ev := h.emit(t, sess, "session.paid")

		d := h.waitStatus(t, h.onlyDelivery(t, ev.ID).ID, store.DeliverySucceeded)
		if d.Attempts != 1 || len(d.AttemptLog) != 1 || *d.AttemptLog[0].StatusCode != 200 || d.AttemptLog[0].ResponseBody != "OK" {
			t.Fatalf("delivery %+v attempts %+v", d, d.AttemptLog[0])
		}
		var got *hit
		for _, x := range rc.all() {
			if x.header.Get("webhook-id") == ev.ID {
				got = &x
			}
		}
		if got == nil {
			t.Fatal("receiver never saw the session.paid event")
		}
		verify(t, webhook.ProfileStandard, []string{ep.Secret}, *got)
		var env webhook.Event
		if err := json.Unmarshal(got.body, &env); err != nil {
			t.Fatal(err)
		}
		if env.ID != ev.ID || env.Event != "session.paid" || env.TenantID != h.merchant.ID || env.Sequence != 2 ||
			string(env.Data) != ev.Data || env.CreatedAt.Unix() != ev.CreatedAt.Unix() {
			t.Fatalf("envelope %s", got.body)
		}
		if !strings.HasPrefix(string(got.body), `{"id":"`+ev.ID+`","event":"session.paid","created_at":"`) {
			t.Fatalf("envelope field order: %s", got.body)
		}
		if got.header.Get("Content-Type") != "application/json" || got.header.Get("User-Agent") != webhooks.UserAgent {
			t.Fatalf("headers %v", got.header)
		}
	})
}

func TestRetriesUntilReceiverRecovers(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		rc := newReceiver(t, status(500), status(502), status(200))
		ep := h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL()})
		h.startWorkers(t, st, "w1")
		ev := h.emit(t, h.session(t, "shop.test", "test", ""), "session.paid")

		d := h.waitStatus(t, h.onlyDelivery(t, ev.ID).ID, store.DeliverySucceeded)
		if d.Attempts != 3 {
			t.Fatalf("attempts %d", d.Attempts)
		}
		var states, codes []string
		for _, a := range d.AttemptLog {
			states = append(states, a.State)
			codes = append(codes, http.StatusText(*a.StatusCode))
			if a.Cause != "auto" {
				t.Errorf("cause %s", a.Cause)
			}
		}
		if strings.Join(states, ",") != "failed,failed,succeeded" {
			t.Fatalf("states %v codes %v", states, codes)
		}
		// Attempt 2 waited for the schedule's second entry (20ms).
		if gap := d.AttemptLog[1].ScheduledAt.Sub(*d.AttemptLog[0].AttemptedAt); gap < 20*time.Millisecond {
			t.Fatalf("attempt 2 scheduled %s after attempt 1", gap)
		}
		hits := rc.all()
		if len(hits) != 3 {
			t.Fatalf("receiver saw %d requests", len(hits))
		}
		for i, x := range hits {
			if x.header.Get("webhook-id") != ev.ID || string(x.body) != string(hits[0].body) {
				t.Fatalf("attempt %d changed id or body", i+1)
			}
			verify(t, webhook.ProfileStandard, []string{ep.Secret}, x)
			if x.header.Get("X-Switchyard-Attempt") != string(rune('1'+i)) {
				t.Errorf("attempt header %q", x.header.Get("X-Switchyard-Attempt"))
			}
		}
		if len(h.notices.all()) != 0 {
			t.Fatalf("notified although delivered: %+v", h.notices.all())
		}
	})
}

func TestLastAttemptFailsAndNotifies(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		rc := newReceiver(t, status(500))
		h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL(), Schedule: webhooks.SchedulePayPro})
		h.startWorkers(t, st, "w1")
		ev := h.emit(t, h.session(t, "shop.test", "test", ""), "session.paid")

		d := h.waitStatus(t, h.onlyDelivery(t, ev.ID).ID, store.DeliveryFailed)
		if d.Attempts != 2 || len(rc.all()) != 2 || d.NextAttemptAt != nil || *d.LastStatusCode != 500 {
			t.Fatalf("paypro test schedule has 2 attempts: %+v, hits %d", d, len(rc.all()))
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(h.notices.all()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		ns := h.notices.all()
		if len(ns) != 1 || ns[0].Kind != webhooks.NoticeDeliveryFailed || ns[0].Contact != "ops@shop.test" ||
			ns[0].DeliveryID != d.ID || ns[0].Attempts != 2 {
			t.Fatalf("notices %+v", ns)
		}
		if ns[0].EventType != "session.paid" || ns[0].EventID != ev.ID {
			t.Fatalf("notice names %s %s, want session.paid %s", ns[0].EventType, ns[0].EventID, ev.ID)
		}
	})
}

func TestGoneDisablesEndpoint(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		rc := newReceiver(t, status(http.StatusGone))
		ep := h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL()})
		h.startWorkers(t, st, "w1")
		sess := h.session(t, "shop.test", "test", "")
		ev := h.emit(t, sess, "session.paid")

		d := h.waitStatus(t, h.onlyDelivery(t, ev.ID).ID, store.DeliveryDisabled)
		if d.Attempts != 1 || len(rc.all()) != 1 {
			t.Fatalf("410 must not be retried: %+v", d)
		}
		got, err := h.svc.GetEndpoint(ctxT(t), ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Enabled || !strings.Contains(got.DisabledReason, "410") {
			t.Fatalf("endpoint %+v", got)
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(h.notices.all()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if ns := h.notices.all(); len(ns) != 1 || ns[0].Kind != webhooks.NoticeEndpointDisabled || ns[0].EndpointID != ep.ID {
			t.Fatalf("notices %+v", ns)
		}
		// While disabled, new events are recorded for the endpoint but not sent.
		ev2 := h.emit(t, sess, "session.refunded")
		d2 := h.onlyDelivery(t, ev2.ID)
		if d2.Status != store.DeliveryDisabled || !strings.Contains(d2.LastError, "410") || d2.Attempts != 0 {
			t.Fatalf("delivery for a disabled endpoint: %+v", d2)
		}
		// Resend and recover are refused until the endpoint is enabled again.
		if _, err := h.svc.Resend(ctxT(t), d.ID); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("resend to disabled endpoint: %v", err)
		}
		since := time.Now().Add(-time.Minute)
		if res, err := h.svc.Recover(ctxT(t), webhooks.RecoverRequest{Since: since}); err != nil || res.Resent != 0 || res.Skipped != 2 {
			t.Fatalf("recover while disabled: %+v %v", res, err)
		}
		// The receiver is back: enable, recover, both events arrive.
		rc.mu.Lock()
		rc.script = []func(http.ResponseWriter, *http.Request){status(200)}
		rc.mu.Unlock()
		if _, err := h.svc.SetEnabled(ctxT(t), ep.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if res, err := h.svc.Recover(ctxT(t), webhooks.RecoverRequest{Since: since}); err != nil || res.Resent != 2 || res.ResentDisabled != 2 || res.ResentFailed != 0 {
			t.Fatalf("recover after enabling: %+v %v", res, err)
		}
		h.waitStatus(t, d.ID, store.DeliverySucceeded)
		h.waitStatus(t, d2.ID, store.DeliverySucceeded)
		if len(rc.all()) != 3 {
			t.Fatalf("receiver saw %d requests, want 3", len(rc.all()))
		}
	})
}

func TestRetryAfterPostponesNextAttempt(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}, status(200))
		h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL()})
		h.startWorkers(t, st, "w1")
		ev := h.emit(t, h.session(t, "shop.test", "test", ""), "session.paid")

		d := h.waitStatus(t, h.onlyDelivery(t, ev.ID).ID, store.DeliverySucceeded)
		gap := d.AttemptLog[1].ScheduledAt.Sub(*d.AttemptLog[0].AttemptedAt)
		if gap < time.Second {
			t.Fatalf("Retry-After: 1 ignored, next attempt %s later (schedule says 20ms)", gap)
		}
		if *d.AttemptLog[0].StatusCode != 429 {
			t.Fatalf("first attempt %+v", d.AttemptLog[0])
		}
	})
}

func TestRedirectIsAFailure(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		target := newReceiver(t, status(200))
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL(), http.StatusFound)
		})
		h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL(), Schedule: webhooks.SchedulePayPro})
		h.startWorkers(t, st, "w1")
		ev := h.emit(t, h.session(t, "shop.test", "test", ""), "session.paid")
		d := h.waitStatus(t, h.onlyDelivery(t, ev.ID).ID, store.DeliveryFailed)
		if len(target.all()) != 0 {
			t.Fatal("redirect was followed")
		}
		if *d.AttemptLog[0].StatusCode != 302 || !strings.Contains(d.AttemptLog[0].Error, "not followed") {
			t.Fatalf("attempt %+v", d.AttemptLog[0])
		}
	})
}

func TestSlowReceiverTimesOut(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, func(d *webhooks.Deps) {
			d.Timeout = 200 * time.Millisecond
			d.Schedules = map[string][]time.Duration{webhooks.ScheduleSvix: {0}}
		})
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		})
		h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL()})
		h.startWorkers(t, st, "w1")
		ev := h.emit(t, h.session(t, "shop.test", "test", ""), "session.paid")
		d := h.waitStatus(t, h.onlyDelivery(t, ev.ID).ID, store.DeliveryFailed)
		a := d.AttemptLog[0]
		if !strings.Contains(a.Error, "timeout") || a.StatusCode != nil || *a.LatencyMS > 4000 {
			t.Fatalf("attempt %+v", a)
		}
	})
}

// The save-time check saw a public address; at send time the name points
// at loopback. The dial-time guard stops the request.
func TestDialTimeGuardInWorker(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		guard := webhooks.NewGuard(false)
		guard.Lookup = fixedLookup("93.184.216.34")
		h := newHarness(t, st, func(d *webhooks.Deps) {
			d.AllowPrivateTargets = false
			d.Guard = guard
			d.Schedules = map[string][]time.Duration{webhooks.ScheduleSvix: {0}}
		})
		rc := newReceiver(t, status(200))
		url := strings.Replace(rc.URL(), "127.0.0.1", "localhost", 1)
		h.addEndpoint(t, webhooks.NewEndpoint{URL: url})
		h.startWorkers(t, st, "w1")
		ev := h.emit(t, h.session(t, "shop.test", "test", ""), "session.paid")
		d := h.waitStatus(t, h.onlyDelivery(t, ev.ID).ID, store.DeliveryFailed)
		if len(rc.all()) != 0 || !strings.Contains(d.AttemptLog[0].Error, "127.0.0.1 is not a permitted destination") {
			t.Fatalf("hits %d, attempt %+v", len(rc.all()), d.AttemptLog[0])
		}
	})
}

func TestEndpointSelection(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		const url = "http://127.0.0.1:9/never"
		all := h.addEndpoint(t, webhooks.NewEndpoint{URL: url})
		paidOnly := h.addEndpoint(t, webhooks.NewEndpoint{URL: url, EventTypes: []string{"session.paid"}})
		refunds := h.addEndpoint(t, webhooks.NewEndpoint{URL: url, EventTypes: []string{"session.refunded", "session.partially_refunded", "subscription.*"}})
		sessions := h.addEndpoint(t, webhooks.NewEndpoint{URL: url, EventTypes: []string{"session.*"}})
		otherSite := h.addEndpoint(t, webhooks.NewEndpoint{URL: url, Site: "other.test"})
		liveOnly := h.addEndpoint(t, webhooks.NewEndpoint{URL: url, Mode: "live"})
		off := h.addEndpoint(t, webhooks.NewEndpoint{URL: url})
		if _, err := h.svc.SetEnabled(ctxT(t), off.ID, false, ""); err != nil {
			t.Fatal(err)
		}
		gone := h.addEndpoint(t, webhooks.NewEndpoint{URL: url})
		if err := h.svc.DeleteEndpoint(ctxT(t), gone.ID); err != nil {
			t.Fatal(err)
		}
		sess := h.session(t, "shop.test", "test", "")
		// targets maps endpoint id to delivery status ("" when none).
		targets := func(ev *store.Event) map[string]string {
			out := map[string]string{}
			for _, d := range h.deliveries(t, store.DeliveryFilter{EventID: ev.ID}) {
				out[*d.EndpointID] = d.Status
			}
			return out
		}
		// The disabled endpoint gets its deliveries recorded as disabled.
		paid := targets(h.emit(t, sess, "session.paid"))
		if len(paid) != 4 || paid[all.ID] != store.DeliveryPending || paid[paidOnly.ID] != store.DeliveryPending || paid[sessions.ID] != store.DeliveryPending || paid[off.ID] != store.DeliveryDisabled {
			t.Fatalf("session.paid went to %v", paid)
		}
		ref := targets(h.emit(t, sess, "session.partially_refunded"))
		if len(ref) != 4 || ref[all.ID] != store.DeliveryPending || ref[refunds.ID] != store.DeliveryPending || ref[sessions.ID] != store.DeliveryPending || ref[off.ID] != store.DeliveryDisabled {
			t.Fatalf("session.partially_refunded went to %v", ref)
		}
		live := h.session(t, "other.test", "live", "")
		lv := targets(h.emit(t, live, "session.created"))
		if len(lv) != 5 || lv[otherSite.ID] != store.DeliveryPending || lv[liveOnly.ID] != store.DeliveryPending || lv[all.ID] != store.DeliveryPending || lv[sessions.ID] != store.DeliveryPending || lv[off.ID] != store.DeliveryDisabled {
			t.Fatalf("live other.test session.created went to %v", lv)
		}
		if _, ok := lv[gone.ID]; ok {
			t.Fatal("a deleted endpoint got a delivery")
		}
	})
}

func TestEndpointValidation(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, func(d *webhooks.Deps) { d.AllowPrivateTargets = false })
		tests := []struct {
			name string
			in   webhooks.NewEndpoint
			code string
		}{
			{"loopback", webhooks.NewEndpoint{URL: "http://127.0.0.1/x"}, "forbidden_url"},
			{"localhost name", webhooks.NewEndpoint{URL: "http://localhost/x"}, "forbidden_url"},
			{"metadata", webhooks.NewEndpoint{URL: "http://169.254.169.254/"}, "forbidden_url"},
			{"bad profile", webhooks.NewEndpoint{URL: "http://93.184.216.34/", Profile: "md5"}, "invalid_profile"},
			{"bad schedule", webhooks.NewEndpoint{URL: "http://93.184.216.34/", Schedule: "hourly"}, "invalid_schedule"},
			{"bad mode", webhooks.NewEndpoint{URL: "http://93.184.216.34/", Mode: "prod"}, "invalid_mode"},
			{"bad filter", webhooks.NewEndpoint{URL: "http://93.184.216.34/", EventTypes: []string{"Session.Paid"}}, "invalid_event_type"},
			{"unknown site", webhooks.NewEndpoint{URL: "http://93.184.216.34/", Site: "evil.test"}, "unknown_site"},
			{"ipn with url", webhooks.NewEndpoint{URL: "http://93.184.216.34/", IPN: true}, "invalid_url"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				tc.in.MerchantID = h.merchant.ID
				_, err := h.svc.CreateEndpoint(ctxT(t), tc.in)
				de, ok := domain.AsError(err)
				if !ok || de.Code != tc.code {
					t.Fatalf("want %s, got %v", tc.code, err)
				}
			})
		}
		if eps, _ := h.svc.ListEndpoints(ctxT(t), h.merchant.ID); len(eps) != 0 {
			t.Fatalf("rejected endpoints were stored: %d", len(eps))
		}
		_, err := h.svc.CreateEndpoint(ctxT(t), webhooks.NewEndpoint{MerchantID: 999999, URL: "http://93.184.216.34/"})
		if !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unknown merchant: %v", err)
		}
	})
}

// The secret is stored sealed to its row and column: the plaintext is not
// in the table, and a ciphertext moved to another endpoint does not open.
func TestSecretEncryptedAtRest(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		a := h.addEndpoint(t, webhooks.NewEndpoint{URL: "http://127.0.0.1:9/a"})
		b := h.addEndpoint(t, webhooks.NewEndpoint{URL: "http://127.0.0.1:9/b"})
		ra, _ := st.GetWebhookEndpoint(ctxT(t), a.ID)
		if strings.Contains(ra.Secret, strings.TrimPrefix(a.Secret, "whsec_")) || !strings.HasPrefix(ra.Secret, "v1:k1:") {
			t.Fatalf("stored secret %q", ra.Secret)
		}
		if _, err := st.DB().NewUpdate().Table("webhook_endpoints").Set("secret = ?", ra.Secret).Where("id = ?", b.ID).Exec(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.TestEndpoint(ctxT(t), b.ID); err == nil || !strings.Contains(err.Error(), "authentication") {
			t.Fatalf("swapped ciphertext opened: %v", err)
		}
		for _, col := range webhooks.EncryptedColumns() {
			if col.Table != "webhook_endpoints" || col.IDColumn != "id" {
				t.Fatalf("column %+v", col)
			}
		}
	})
}

func TestEventsRollBackWithTheirTransaction(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		h.addEndpoint(t, webhooks.NewEndpoint{URL: "http://127.0.0.1:9/a"})
		sess := h.session(t, "shop.test", "test", "")
		boom := errors.New("boom")
		ev := &store.Event{ID: domain.NewEventID(), MerchantID: sess.MerchantID, Mode: sess.Mode, SessionID: sess.ID,
			Type: "session.paid", Seq: 1, Data: "{}", CreatedAt: time.Now().UTC()}
		err := st.RunInTx(ctxT(t), func(ctx context.Context, tx bun.Tx) error {
			if err := store.NewRepo(tx).InsertEvent(ctx, ev); err != nil {
				return err
			}
			if err := h.svc.EventsInserted(ctx, tx, sess, ev); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if ds := h.deliveries(t, store.DeliveryFilter{}); len(ds) != 0 {
			t.Fatalf("%d deliveries survived the rollback", len(ds))
		}
		var jobs int
		if err := st.DB().NewSelect().Table("river_job").ColumnExpr("count(*)").Scan(ctxT(t), &jobs); err != nil {
			t.Fatal(err)
		}
		if jobs != 0 {
			t.Fatalf("%d jobs survived the rollback", jobs)
		}
	})
}

// Without a keyring (secrets.keys empty) endpoints cannot be created, and
// a nil *secrets.Keyring passed as the interface behaves the same.
func TestNoKeyring(t *testing.T) {
	st := storetest.SQLite(t)
	h := newHarness(t, st, func(d *webhooks.Deps) { d.Keyring = (*secrets.Keyring)(nil) })
	_, err := h.svc.CreateEndpoint(ctxT(t), webhooks.NewEndpoint{MerchantID: h.merchant.ID, URL: "http://127.0.0.1:9/x"})
	if err == nil || !strings.Contains(err.Error(), "secrets.keys is empty") {
		t.Fatalf("want a keyring error, got %v", err)
	}
}
