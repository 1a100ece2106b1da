package webhooks_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/webhook"
)

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fastSchedules replace the presets so retries take milliseconds.
func fastSchedules() map[string][]time.Duration {
	return map[string][]time.Duration{
		webhooks.ScheduleSvix:   {0, 20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond},
		webhooks.SchedulePayPro: {0, 10 * time.Millisecond},
	}
}

type recordedNotices struct {
	mu sync.Mutex
	ns []webhooks.Notice
}

func (r *recordedNotices) Notify(_ context.Context, n webhooks.Notice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ns = append(r.ns, n)
	return nil
}

func (r *recordedNotices) all() []webhooks.Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhooks.Notice(nil), r.ns...)
}

type harness struct {
	st       *store.Store
	svc      *webhooks.Service
	merchant *store.Merchant
	notices  *recordedNotices
	keyring  *secrets.Keyring
}

func testKeyring(t testing.TB) *secrets.Keyring {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	kr, err := secrets.NewKeyring([]secrets.Key{{ID: "k1", Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// newHarness builds the service with an insert-only runner, as core/app
// does, plus a merchant with sites shop.test and other.test.
func newHarness(t testing.TB, st *store.Store, mut func(*webhooks.Deps)) *harness {
	t.Helper()
	ins, err := jobs.New(st, jobs.Options{InsertOnly: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{st: st, notices: &recordedNotices{}, keyring: testKeyring(t)}
	d := webhooks.Deps{
		Store: st, Keyring: h.keyring, Jobs: ins, AllowPrivateTargets: true,
		Schedules: fastSchedules(), Jitter: -1, Notifier: h.notices, Timeout: 5 * time.Second,
	}
	if mut != nil {
		mut(&d)
	}
	if h.svc, err = webhooks.New(d); err != nil {
		t.Fatal(err)
	}
	h.merchant, err = merchants.New(st).CreateMerchant(ctxT(t), merchants.NewMerchant{
		Name: "Shop", Plan: string(domain.PlanPro), ContactEmail: "ops@shop.test", Domains: []string{"shop.test", "other.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// startWorkers runs the delivery worker on its own runner (and pool, for
// PostgreSQL) until the test ends.
func (h *harness) startWorkers(t testing.TB, st *store.Store, id string) *jobs.Runner {
	t.Helper()
	return h.startWorkersN(t, st, id, 8)
}

func (h *harness) startWorkersN(t testing.TB, st *store.Store, id string, workers int) *jobs.Runner {
	t.Helper()
	reg := jobs.NewRegistry()
	if err := h.svc.Register(reg); err != nil {
		t.Fatal(err)
	}
	r, err := jobs.New(st, jobs.Options{Registry: reg, PollInterval: 20 * time.Millisecond, FetchCooldown: 5 * time.Millisecond,
		Workers: workers, ID: id, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = r.Stop(ctx)
	})
	return r
}

func (h *harness) addEndpoint(t testing.TB, in webhooks.NewEndpoint) *webhooks.EndpointWithSecret {
	t.Helper()
	in.MerchantID = h.merchant.ID
	ep, err := h.svc.CreateEndpoint(ctxT(t), in)
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	return ep
}

// session inserts an open session on site (and its ipn_url, if any).
func (h *harness) session(t testing.TB, site, mode, ipnURL string) *store.Session {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	s := &store.Session{
		ID: domain.NewSessionID(), MerchantID: h.merchant.ID, Mode: domain.Mode(mode), Status: domain.StatusOpen,
		Domain: site, OrderID: "ORD-" + domain.NewEventID(), Amount: 4995, Currency: "USD", Metadata: "{}",
		ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
	}
	if err := h.st.InsertSession(ctxT(t), s); err != nil {
		t.Fatal(err)
	}
	if ipnURL != "" {
		if err := h.st.SetSessionIPNURL(ctxT(t), s.ID, ipnURL); err != nil {
			t.Fatal(err)
		}
		s.IPNURL = ipnURL
	}
	return s
}

// emit writes an event for sess and its deliveries in one transaction,
// as core/payments does through its EventSink hook.
func (h *harness) emit(t testing.TB, sess *store.Session, typ string) *store.Event {
	t.Helper()
	sess.EventSeq++
	ev := &store.Event{
		ID: domain.NewEventID(), MerchantID: sess.MerchantID, Mode: sess.Mode, SessionID: sess.ID, Type: typ,
		Seq: sess.EventSeq, Data: `{"session_id":"` + sess.ID + `","status":"paid","amount":"49.95"}`,
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}
	err := h.st.RunInTx(ctxT(t), func(ctx context.Context, tx bun.Tx) error {
		if err := store.NewRepo(tx).InsertEvent(ctx, ev); err != nil {
			return err
		}
		return h.svc.EventsInserted(ctx, tx, sess, ev)
	})
	if err != nil {
		t.Fatalf("emit %s: %v", typ, err)
	}
	return ev
}

func (h *harness) deliveries(t testing.TB, f store.DeliveryFilter) []*webhooks.Delivery {
	t.Helper()
	ds, err := h.svc.ListDeliveries(ctxT(t), f)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func (h *harness) onlyDelivery(t *testing.T, eventID string) *webhooks.Delivery {
	t.Helper()
	ds := h.deliveries(t, store.DeliveryFilter{EventID: eventID})
	if len(ds) != 1 {
		t.Fatalf("event %s has %d deliveries, want 1", eventID, len(ds))
	}
	return ds[0]
}

// waitStatus polls until the delivery reaches status, failing after 20s.
func (h *harness) waitStatus(t *testing.T, id, status string) *webhooks.Delivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := h.svc.GetDelivery(ctxT(t), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == status {
			return d
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(d, "", "  ")
			t.Fatalf("delivery %s still %s, want %s:\n%s", id, d.Status, status, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hit is one request a receiver saw.
type hit struct {
	header http.Header
	body   []byte
}

// receiver answers with script[i] for the i-th request (the last entry
// repeats) and keeps every request.
type receiver struct {
	mu     sync.Mutex
	hits   []hit
	script []func(w http.ResponseWriter, r *http.Request)
	srv    *httptest.Server
}

func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, http.StatusText(code))
	}
}

func newReceiver(t testing.TB, script ...func(http.ResponseWriter, *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{script: script}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		i := len(rc.hits)
		rc.hits = append(rc.hits, hit{header: r.Header.Clone(), body: body})
		answer := rc.script[min(i, len(rc.script)-1)]
		rc.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) URL() string { return rc.srv.URL + "/hooks" }

func (rc *receiver) all() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

func verify(t *testing.T, profile string, secrets []string, h hit) {
	t.Helper()
	if err := webhook.Verify(profile, secrets, h.header, h.body, time.Minute); err != nil {
		t.Fatalf("receiver could not verify the %s signature: %v", profile, err)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
