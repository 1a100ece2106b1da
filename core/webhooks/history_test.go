package webhooks_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/webhook"
)

func TestResendAndRecover(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		var healthy atomic.Bool
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			if healthy.Load() {
				status(200)(w, r)
				return
			}
			status(503)(w, r)
		})
		ep := h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL(), Schedule: webhooks.SchedulePayPro})
		h.startWorkers(t, st, "w1")
		sess := h.session(t, "shop.test", "test", "")
		before := time.Now().Add(-time.Second)
		ev1 := h.emit(t, sess, "session.paid")
		ev2 := h.emit(t, sess, "session.refunded")
		d1 := h.waitStatus(t, h.onlyDelivery(t, ev1.ID).ID, store.DeliveryFailed)
		d2 := h.waitStatus(t, h.onlyDelivery(t, ev2.ID).ID, store.DeliveryFailed)

		// The receiver is fixed; resend one delivery by hand.
		healthy.Store(true)
		if _, err := h.svc.Resend(ctxT(t), d1.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.Resend(ctxT(t), d1.ID); !errors.Is(err, domain.ErrConflict) {
			// Unless the worker already finished it; then it is not pending.
			if got, _ := h.svc.GetDelivery(ctxT(t), d1.ID); got.Status == store.DeliveryPending {
				t.Fatalf("second resend of a pending delivery: %v", err)
			}
		}
		r1 := h.waitStatus(t, d1.ID, store.DeliverySucceeded)
		last := r1.AttemptLog[len(r1.AttemptLog)-1]
		if last.Cause != "resend" || last.N != 3 || r1.Attempts != 3 {
			t.Fatalf("resent delivery %+v, last attempt %+v", r1, last)
		}

		// Recover picks up the other failed one, not the succeeded one.
		res, err := h.svc.Recover(ctxT(t), webhooks.RecoverRequest{Since: before, MerchantID: h.merchant.ID})
		if err != nil {
			t.Fatal(err)
		}
		if res.Resent != 1 || res.ResentFailed != 1 || res.ResentDisabled != 0 || res.Skipped != 0 {
			t.Fatalf("recover %+v", res)
		}
		r2 := h.waitStatus(t, d2.ID, store.DeliverySucceeded)
		if c := r2.AttemptLog[len(r2.AttemptLog)-1].Cause; c != "recover" {
			t.Fatalf("cause %s", c)
		}
		// Nothing failed since: recover again is a no-op.
		if res, err := h.svc.Recover(ctxT(t), webhooks.RecoverRequest{Since: before}); err != nil || res.Resent != 0 {
			t.Fatalf("second recover %+v %v", res, err)
		}
		// Resent requests carry the same event id and a resent marker, and verify.
		var resent int
		for _, x := range rc.all() {
			if x.header.Get("X-Switchyard-Resent") == "1" {
				resent++
				verify(t, webhook.ProfileStandard, []string{ep.Secret}, x)
			}
		}
		if resent != 2 {
			t.Fatalf("%d resent requests, want 2", resent)
		}

		// History: the event shows its delivery with every attempt.
		detail, err := h.svc.GetEvent(ctxT(t), ev1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if detail.Sequence != 1 || len(detail.Deliveries) != 1 || len(detail.Deliveries[0].AttemptLog) != 3 {
			t.Fatalf("event detail %+v", detail)
		}
		evs, err := h.svc.ListEvents(ctxT(t), store.EventFilter{MerchantID: h.merchant.ID, Type: "session.refunded"})
		if err != nil || len(evs) != 1 || evs[0].ID != ev2.ID {
			t.Fatalf("events %v %v", evs, err)
		}
		if ds := h.deliveries(t, store.DeliveryFilter{Status: store.DeliveryFailed}); len(ds) != 0 {
			t.Fatalf("failed deliveries remain: %d", len(ds))
		}
		if _, err := h.svc.Recover(ctxT(t), webhooks.RecoverRequest{}); !errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("recover without since: %v", err)
		}
	})
}

func TestIPNDeliveries(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		rc := newReceiver(t, status(200))
		sess := h.session(t, "shop.test", "test", rc.URL())

		// Without an IPN config for the site, nothing is sent unsigned.
		ev := h.emit(t, sess, "session.paid")
		d := h.onlyDelivery(t, ev.ID)
		if d.Status != store.DeliveryDisabled || d.EndpointID != nil || !strings.Contains(d.LastError, "--ipn") {
			t.Fatalf("delivery %+v", d)
		}

		cfg := h.addEndpoint(t, webhooks.NewEndpoint{IPN: true, Site: "shop.test", Profile: webhook.ProfilePGApp})
		if _, err := h.svc.CreateEndpoint(ctxT(t), webhooks.NewEndpoint{MerchantID: h.merchant.ID, IPN: true, Site: "shop.test"}); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("second IPN config for one site: %v", err)
		}
		h.startWorkers(t, st, "w1")
		if _, err := h.svc.Resend(ctxT(t), d.ID); err != nil {
			t.Fatal(err)
		}
		got := h.waitStatus(t, d.ID, store.DeliverySucceeded)
		if got.EndpointID == nil || *got.EndpointID != cfg.ID {
			t.Fatalf("resend did not pick up the IPN config: %+v", got)
		}
		ev2 := h.emit(t, sess, "session.refunded")
		h.waitStatus(t, h.onlyDelivery(t, ev2.ID).ID, store.DeliverySucceeded)
		hits := rc.all()
		if len(hits) != 2 {
			t.Fatalf("%d hits", len(hits))
		}
		for _, x := range hits {
			verify(t, webhook.ProfilePGApp, []string{cfg.Secret}, x)
		}
		if _, err := h.svc.TestEndpoint(ctxT(t), cfg.ID); !errors.Is(err, domain.ErrUnprocessable) {
			t.Fatalf("test of an IPN config: %v", err)
		}
	})
}

func TestRotationOverlap(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		rc := newReceiver(t, status(200))
		std := h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL() + "?p=standard"})
		proe := h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL() + "?p=proe", Profile: webhook.ProfilePROE})
		newStd, err := h.svc.RotateSecret(ctxT(t), std.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		newProe, err := h.svc.RotateSecret(ctxT(t), proe.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if newStd.Secret == std.Secret || newStd.PreviousSecretExpiresAt == nil {
			t.Fatalf("rotation %+v", newStd.Endpoint)
		}
		h.startWorkers(t, st, "w1")
		ev := h.emit(t, h.session(t, "shop.test", "test", ""), "session.paid")
		for _, d := range h.deliveries(t, store.DeliveryFilter{EventID: ev.ID}) {
			h.waitStatus(t, d.ID, store.DeliverySucceeded)
		}
		for _, x := range rc.all() {
			if x.header.Get("webhook-signature") != "" && x.header.Get("X-PROE-Signature") == "" {
				if n := len(strings.Fields(x.header.Get("webhook-signature"))); n != 2 {
					t.Fatalf("standard during overlap: %d signatures", n)
				}
				verify(t, webhook.ProfileStandard, []string{std.Secret}, x)
				verify(t, webhook.ProfileStandard, []string{newStd.Secret}, x)
				continue
			}
			// One signature only: the old secret until the overlap ends.
			verify(t, webhook.ProfilePROE, []string{proe.Secret}, x)
			if err := webhook.Verify(webhook.ProfilePROE, []string{newProe.Secret}, x.header, x.body, 0); err == nil {
				t.Fatal("proe signed with the new secret during the overlap")
			}
		}

		// Rotation without overlap: only the new secret signs.
		now, err := h.svc.RotateSecret(ctxT(t), proe.ID, -1)
		if err != nil {
			t.Fatal(err)
		}
		res, err := h.svc.TestEndpoint(ctxT(t), proe.ID)
		if err != nil || !res.Succeeded {
			t.Fatalf("test %+v %v", res, err)
		}
		lastHit := rc.all()[len(rc.all())-1]
		verify(t, webhook.ProfilePROE, []string{now.Secret}, lastHit)
		var env webhook.Event
		if err := jsonUnmarshal(lastHit.body, &env); err != nil || env.Event != webhooks.TestEvent || env.ID != res.EventID {
			t.Fatalf("test envelope %s", lastHit.body)
		}
	})
}

// Two runners, each with its own connection pool, work one PostgreSQL
// queue: every attempt is made exactly once.
func TestTwoRunnersDeliverEachAttemptOnce(t *testing.T) {
	storetest.ForPostgres(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		var mu sync.Mutex
		seen := map[string]int{}
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[r.Header.Get("webhook-id")+"/"+r.Header.Get("X-Switchyard-Attempt")]++
			n := len(seen)
			mu.Unlock()
			// Some deliveries need a second attempt. Only first attempts
			// fail: with a global count, a delivery whose retries kept
			// landing on multiples of 5 (others' attempts in between) would
			// use up its schedule and end failed.
			if n%5 == 0 && r.Header.Get("X-Switchyard-Attempt") == "1" {
				status(500)(w, r)
				return
			}
			status(200)(w, r)
		})
		h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL()})
		h.startWorkers(t, st, "instance-a")
		h.startWorkers(t, storetest.Reopen(t, st), "instance-b")
		const events = 150
		sess := h.session(t, "shop.test", "test", "")
		for range events {
			h.emit(t, sess, "session.paid")
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			pending := h.deliveries(t, store.DeliveryFilter{Status: store.DeliveryPending})
			if len(pending) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d deliveries still pending", len(pending))
			}
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		for k, n := range seen {
			if n != 1 {
				t.Errorf("attempt %s made %d times", k, n)
			}
		}
		ok := h.deliveries(t, store.DeliveryFilter{Status: store.DeliverySucceeded, Limit: 1000})
		if len(ok) != events {
			// Say what became of the others, attempt by attempt.
			for _, d := range h.deliveries(t, store.DeliveryFilter{Limit: 1000}) {
				if d.Status == store.DeliverySucceeded {
					continue
				}
				full, err := h.svc.GetDelivery(ctxT(t), d.ID)
				if err != nil {
					t.Fatal(err)
				}
				t.Errorf("delivery %s is %s after %d attempts", d.ID, d.Status, d.Attempts)
				for _, a := range full.AttemptLog {
					t.Errorf("  attempt %d (%s) %s: status %v, %d ms, error %q", a.N, a.Cause, a.State, deref(a.StatusCode), deref(a.LatencyMS), a.Error)
				}
			}
			t.Fatalf("%d of %d delivered", len(ok), events)
		}
		var attempts int
		for _, d := range ok {
			attempts += d.Attempts
		}
		if attempts != len(seen) {
			t.Fatalf("recorded %d attempts, receiver saw %d", attempts, len(seen))
		}
		var byInstance []string
		if err := st.DB().NewSelect().Table("river_job").ColumnExpr("DISTINCT attempted_by[1]").Scan(ctxT(t), &byInstance); err != nil {
			t.Fatal(err)
		}
		t.Logf("jobs worked by %v; %d attempts for %d events", byInstance, attempts, events)
	})
}

// TestFailedManualAttemptKeepsSuccess: a resend of a delivery that already
// reached its receiver is kept in the history when it fails, but does not
// turn the delivery into a failed one, which recover would send again.
// A delivery that never got through stays failed.
func TestFailedManualAttemptKeepsSuccess(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		// One automatic attempt: a delivery that fails, fails at once.
		h := newHarness(t, st, func(d *webhooks.Deps) {
			d.Schedules = map[string][]time.Duration{webhooks.ScheduleSvix: {0}, webhooks.SchedulePayPro: {0}}
		})
		rc := newReceiver(t, status(200), status(500), status(410))
		h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL(), Site: "shop.test"})
		broken := newReceiver(t, status(500))
		other := h.addEndpoint(t, webhooks.NewEndpoint{URL: broken.URL(), Site: "other.test"})
		h.startWorkers(t, st, "w1")
		since := time.Now().Add(-time.Minute)

		ev := h.emit(t, h.session(t, "shop.test", "test", ""), "session.paid")
		d := h.waitStatus(t, h.onlyDelivery(t, ev.ID).ID, store.DeliverySucceeded)
		resendAndSettle := func(id string, want string) *webhooks.Delivery {
			t.Helper()
			before, _ := h.svc.GetDelivery(ctxT(t), id)
			if _, err := h.svc.Resend(ctxT(t), id); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				got, err := h.svc.GetDelivery(ctxT(t), id)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != store.DeliveryPending && len(got.AttemptLog) == len(before.AttemptLog)+1 {
					if got.Status != want {
						t.Fatalf("after a failed resend the delivery is %s, want %s: %+v", got.Status, want, got)
					}
					return got
				}
				if time.Now().After(deadline) {
					t.Fatalf("resend of %s did not settle: %+v", id, got)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}

		got := resendAndSettle(d.ID, store.DeliverySucceeded)
		last := got.AttemptLog[len(got.AttemptLog)-1]
		if last.Cause != store.CauseResend || last.State != store.AttemptError || last.StatusCode == nil || *last.StatusCode != 500 || got.Attempts != 2 {
			t.Fatalf("the failed resend is not in the history as it happened: %+v, last %+v", got, last)
		}
		res, err := h.svc.Recover(ctxT(t), webhooks.RecoverRequest{Since: since, EndpointID: *got.EndpointID})
		if err != nil || res.Resent != 0 || res.Skipped != 0 {
			t.Fatalf("recover picked up a delivered event: %+v, %v", res, err)
		}
		// A resend answered 410 disables the endpoint; the delivery that
		// got through before stays succeeded.
		got = resendAndSettle(d.ID, store.DeliverySucceeded)
		ep, err := h.svc.GetEndpoint(ctxT(t), *got.EndpointID)
		if err != nil || ep.Enabled || !strings.Contains(ep.DisabledReason, "410") {
			t.Fatalf("endpoint after a 410 = %+v, %v", ep, err)
		}
		if n := len(rc.all()); n != 3 {
			t.Fatalf("receiver saw %d requests, want 3", n)
		}

		// Never delivered: the failed resend leaves it failed.
		ev2 := h.emit(t, h.session(t, "other.test", "test", ""), "session.paid")
		d2 := h.waitStatus(t, h.onlyDelivery(t, ev2.ID).ID, store.DeliveryFailed)
		resendAndSettle(d2.ID, store.DeliveryFailed)
		res, err = h.svc.Recover(ctxT(t), webhooks.RecoverRequest{Since: since, EndpointID: other.ID})
		if err != nil || res.Resent != 1 || res.ResentFailed != 1 || res.ResentDisabled != 0 {
			t.Fatalf("recover of the failed delivery = %+v, %v", res, err)
		}
	})
}

// deref is *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
