package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/mail"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/internal/testbin"
	"github.com/switchyard/switchyard/plugins/smtp/smtptest"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

var bins testbin.Builder

// mailers serves plugin handles by instance id, as pluginhost.Host does.
type mailers map[string]mailer.Mailer

func (m mailers) Mailer(id string) (mailer.Mailer, error) {
	if h, ok := m[id]; ok {
		return h, nil
	}
	return nil, domain.NotFound("plugin instance")
}

// syncBuffer is a log sink tests read while workers write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a mail service on a real store, sending through the real smtp
// plugin binary to an in-process SMTP server (STARTTLS, AUTH PLAIN), with
// a real job runner working its receipt jobs.
type env struct {
	st       *store.Store
	svc      *mail.Service
	srv      *smtptest.Server
	runner   *jobs.Runner
	logs     *syncBuffer
	merchant *store.Merchant
}

func newEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	srv := smtptest.New(t, smtptest.Options{})
	m := sdktest.LaunchMailer(t, bins.Plugin(t, "smtp"), host.Options{})
	if err := m.Configure(context.Background(), srv.Settings("Switchyard Test")); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	e := &env{st: st, srv: srv, logs: logs}
	reg := jobs.NewRegistry()
	svc, err := mail.New(mail.Deps{Store: st, Mailers: mailers{"smtp": m}, Jobs: enqueuer{e}, MailerIDs: []string{"smtp", "other"},
		NoticeMailer: "smtp", NoticeFrom: "Switchyard <noreply@switchyard.example>",
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RegisterJobs(reg); err != nil {
		t.Fatal(err)
	}
	runner, err := jobs.New(st, jobs.Options{Registry: reg, Workers: 2, PollInterval: 50 * time.Millisecond, PollOnly: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = runner.Stop(stop)
		cancel()
	})
	e.svc, e.runner = svc, runner
	e.merchant, err = st.CreateMerchant(context.Background(), store.NewMerchant{Name: "Café Ünïcode ✓", Plan: store.Plan("pro"),
		ContactEmail: "ops@shop.example", Domains: []string{"shop.example"}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// enqueuer binds the service to the runner built after it.
type enqueuer struct{ e *env }

func (q enqueuer) EnqueueTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return q.e.runner.EnqueueTx(ctx, tx, args, opts)
}

// paidSession stores a session that a provider confirmed paid.
func (e *env) paidSession(t *testing.T, email string) *store.Session {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	s := &store.Session{ID: domain.NewSessionID(), MerchantID: e.merchant.ID, Mode: store.ModeTest, Status: domain.StatusPaid,
		Domain: "shop.example", OrderID: "ORD-Ä-1", Amount: 4995, Currency: "USD", Method: "card", CustomerEmail: email,
		Metadata: "{}", AmountReceived: 4995, CurrencyReceived: "USD", PaidAt: &now, ExpiresAt: now.Add(time.Hour),
		CreatedAt: now, UpdatedAt: now}
	if err := e.st.InsertSession(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// emit inserts an event and hands it to the service in one transaction,
// as core/payments does through its EventSink.
func (e *env) emit(t *testing.T, sess *store.Session, typ domain.DomainEvent, data string) {
	t.Helper()
	err := e.st.RunInTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		sess.EventSeq++
		ev := &store.Event{ID: domain.NewEventID(), MerchantID: sess.MerchantID, Mode: sess.Mode, SessionID: sess.ID,
			Type: string(typ), Seq: sess.EventSeq, Data: data, CreatedAt: time.Now().UTC()}
		if err := store.NewRepo(tx).InsertEvent(ctx, ev); err != nil {
			return err
		}
		return e.svc.EventsInserted(ctx, tx, sess, ev)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitMessages waits (bounded) until the server has accepted n messages.
func (e *env) waitMessages(t *testing.T, n int) []smtptest.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		msgs := e.srv.Messages()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages arrived, want %d; logs:\n%s", len(msgs), n, e.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) jobCount(t *testing.T, kind string) int {
	t.Helper()
	n, err := e.st.DB().NewSelect().Table("river_job").Where("kind = ?", kind).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// waitJobsCompleted waits (bounded) until River recorded every job of kind
// as completed.
func (e *env) waitJobsCompleted(t *testing.T, kind string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := e.st.DB().NewSelect().Table("river_job").Where("kind = ? AND state <> ?", kind, "completed").Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s jobs not completed", n, kind)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// received is an arrived mail, decoded.
type received struct {
	header     netmail.Header
	subject    string
	text, html string
}

func parse(t *testing.T, m smtptest.Message) received {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	var r received
	r.header = msg.Header
	if r.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if !strings.EqualFold(cp["charset"], "utf-8") {
			t.Fatalf("part %s charset %q", ct, cp["charset"])
		}
		switch ct {
		case "text/plain":
			r.text = string(body)
		case "text/html":
			r.html = string(body)
		default:
			t.Fatalf("unexpected part %s", ct)
		}
	}
	if r.text == "" || r.html == "" {
		t.Fatalf("want both parts, got text %d bytes, html %d bytes", len(r.text), len(r.html))
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func TestPaymentReceiptThroughSMTP(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		off := e.paidSession(t, "early@customer.example")
		e.emit(t, off, domain.EventSessionPaid, "{}")
		if n := e.jobCount(t, "mail_payment_receipt"); n != 0 {
			t.Fatalf("receipts are off by default, yet %d jobs", n)
		}

		if _, err := e.svc.UpdateSettings(ctx, e.merchant.ID, mail.SettingsUpdate{ReceiptsEnabled: ptr(true), Mailer: ptr("smtp"),
			From: ptr("Café Billing <billing@shop.example>"), ReplyTo: ptr("help@shop.example")}); err != nil {
			t.Fatal(err)
		}
		sess := e.paidSession(t, "zoe@customer.example")
		e.emit(t, sess, domain.EventSessionProcessing, "{}") // not a receipt
		e.emit(t, sess, domain.EventSessionPaid, "{}")
		e.emit(t, sess, domain.EventSessionPaid, "{}") // paid again (dispute won): no second receipt
		if n := e.jobCount(t, "mail_payment_receipt"); n != 1 {
			t.Fatalf("%d receipt jobs, want 1", n)
		}
		noEmail := e.paidSession(t, "")
		e.emit(t, noEmail, domain.EventSessionPaid, "{}")
		if n := e.jobCount(t, "mail_payment_receipt"); n != 1 {
			t.Fatalf("a session without customer email got a receipt job")
		}

		m := e.waitMessages(t, 1)[0]
		if !m.TLS || m.AuthUser != e.srv.Username() || m.From != e.srv.Username() || len(m.To) != 1 || m.To[0] != "zoe@customer.example" {
			t.Fatalf("envelope %+v", m)
		}
		r := parse(t, m)
		from, _ := netmail.ParseAddress(r.header.Get("From"))
		if from == nil || from.Name != "Café Billing" || from.Address != "billing@shop.example" {
			t.Fatalf("From %q", r.header.Get("From"))
		}
		if r.header.Get("To") != "<zoe@customer.example>" && r.header.Get("To") != "zoe@customer.example" {
			t.Fatalf("To %q", r.header.Get("To"))
		}
		if !strings.Contains(r.header.Get("Reply-To"), "help@shop.example") || r.header.Get("X-Switchyard-Template") != "payment_receipt" ||
			r.header.Get("Message-Id") == "" {
			t.Fatalf("headers %v", r.header)
		}
		if want := "[TEST] Receipt from Café Ünïcode ✓: 49.95 USD for order ORD-Ä-1"; r.subject != want {
			t.Fatalf("subject %q, want %q", r.subject, want)
		}
		// Long after, River has pruned the finished job; the session is paid
		// again (a dispute lost, then won): still no second receipt.
		e.waitJobsCompleted(t, "mail_payment_receipt")
		if _, err := st.DB().NewDelete().Table("river_job").Where("kind = ?", "mail_payment_receipt").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		e.emit(t, sess, domain.EventSessionPaid, "{}")
		if n := e.jobCount(t, "mail_payment_receipt"); n != 0 {
			t.Fatalf("a session paid again after its job was pruned got %d receipt jobs", n)
		}
		if !strings.Contains(r.text, "49.95 USD") || !strings.Contains(r.text, sess.ID) || !strings.Contains(r.html, "<strong>Café Ünïcode ✓</strong>") {
			t.Fatalf("bodies:\n%s\n%s", r.text, r.html)
		}
	})
}

func TestRefundReceiptAndOverride(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		if _, err := e.svc.UpdateSettings(ctx, e.merchant.ID, mail.SettingsUpdate{ReceiptsEnabled: ptr(true), Mailer: ptr("smtp")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.PutTemplate(ctx, e.merchant.ID, mail.RefundReceipt, mail.Source{Subject: "Erstattung {{.Amount}} {{.Currency}} – {{.RefundID}}"}); err != nil {
			t.Fatal(err)
		}
		sess := e.paidSession(t, "zoe@customer.example")
		now := time.Now().UTC().Truncate(time.Microsecond)
		rf := &store.Refund{ID: domain.NewRefundID(), SessionID: sess.ID, MerchantID: e.merchant.ID, Mode: store.ModeTest,
			ProviderID: "sandbox", AttemptID: "att_1", Amount: 1000, Currency: "USD", Reason: "requested_by_customer", Metadata: "{}",
			Status: domain.RefundSucceeded, Source: "api", CreatedAt: now, UpdatedAt: now, SettledAt: &now}
		if err := st.InsertRefund(ctx, rf); err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(map[string]string{"refund_id": rf.ID, "status": "succeeded"})
		e.emit(t, sess, domain.EventRefundSucceeded, string(data))
		r := parse(t, e.waitMessages(t, 1)[0])
		if r.subject != "Erstattung 10.00 USD – "+rf.ID {
			t.Fatalf("override subject not used: %q", r.subject)
		}
		if !strings.Contains(r.text, "part of your payment") || !strings.Contains(r.text, "Refunded:     10.00 USD") ||
			!strings.Contains(r.text, "Paid:         49.95 USD") || !strings.Contains(r.html, rf.ID) {
			t.Fatalf("built-in bodies expected:\n%s", r.text)
		}
		// The From is the plugin's own sender when the merchant names none.
		if from, _ := netmail.ParseAddress(r.header.Get("From")); from == nil || from.Address != e.srv.Username() {
			t.Fatalf("From %q", r.header.Get("From"))
		}
	})
}

func TestServiceMailsKeepThePasswordOutOfLogs(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		const password = "Zq7!vR2#pL9$wK4%"
		data := mail.ServiceReadyData{Customer: mail.Customer{Name: "<b>Zoë</b>"}, ServiceID: "svc_1", Domain: "zoe.example",
			Username: "zoeexam", Password: password, PanelURL: "https://panel.example:2083", LoginURL: "https://panel.example:2083/cpsess1/login"}
		if err := e.svc.ServiceReady(ctx, e.merchant.ID, "zoe@customer.example", data); !errors.Is(err, mail.ErrNotConfigured) {
			t.Fatalf("without a mailer: %v", err)
		}
		if _, err := e.svc.UpdateSettings(ctx, e.merchant.ID, mail.SettingsUpdate{Mailer: ptr("smtp")}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ServiceReady(ctx, e.merchant.ID, "zoe@customer.example", data); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ServiceSuspended(ctx, e.merchant.ID, "zoe@customer.example", mail.ServiceSuspendedData{ServiceID: "svc_1",
			Domain: "zoe.example", Username: "zoeexam", Reason: "the payment was refunded"}); err != nil {
			t.Fatal(err)
		}
		msgs := e.waitMessages(t, 2)
		ready, suspended := parse(t, msgs[0]), parse(t, msgs[1])
		if ready.subject != "Your hosting for zoe.example is ready" || !strings.Contains(ready.text, "Password:      "+password) ||
			!strings.Contains(ready.html, "<code>Zq7!vR2#pL9$wK4%</code>") || !strings.Contains(ready.html, "&lt;b&gt;Zoë&lt;/b&gt;") ||
			!strings.Contains(ready.text, "https://panel.example:2083/cpsess1/login") {
			t.Fatalf("service ready:\n%s\n%s", ready.text, ready.html)
		}
		if suspended.subject != "Your hosting for zoe.example is suspended" || !strings.Contains(suspended.text, "Reason: the payment was refunded") {
			t.Fatalf("suspended: %q\n%s", suspended.subject, suspended.text)
		}
		logs := e.logs.String()
		if strings.Contains(logs, password) || !strings.Contains(logs, `"template":"service_ready"`) {
			t.Fatalf("logs:\n%s", logs)
		}
		// The recipient must be an address.
		if err := e.svc.ServiceReady(ctx, e.merchant.ID, "not an address", data); !errors.Is(err, domain.ErrInvalid) || !mail.Permanent(err) {
			t.Fatalf("bad recipient: %v", err)
		}
	})
}

func TestWebhookNotices(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
		failed := webhooks.Notice{Kind: webhooks.NoticeDeliveryFailed, MerchantID: e.merchant.ID, Contact: "ops@shop.example",
			EndpointID: "we_1", DeliveryID: "whd_1", EventID: "evt_1", EventType: "session.paid", URL: "https://shop.example/hooks",
			Attempts: 8, LastError: "receiver answered 500", At: at}
		if err := e.svc.Notify(ctx, failed); err != nil {
			t.Fatal(err)
		}
		gone := failed
		gone.Kind, gone.DeliveryID = webhooks.NoticeEndpointDisabled, "whd_2"
		if err := e.svc.Notify(ctx, gone); err != nil {
			t.Fatal(err)
		}
		msgs := e.waitMessages(t, 2)
		a, b := parse(t, msgs[0]), parse(t, msgs[1])
		if a.subject != "Webhook delivery failed: session.paid" || !strings.Contains(a.text, "switchyard deliveries resend whd_1") ||
			!strings.Contains(a.text, "after 8 attempts") || !strings.Contains(a.header.Get("From"), "noreply@switchyard.example") ||
			msgs[0].To[0] != "ops@shop.example" {
			t.Fatalf("delivery failed: %q\n%s", a.subject, a.text)
		}
		if b.subject != "Webhook endpoint disabled: https://shop.example/hooks" || !strings.Contains(b.text, "410 Gone") {
			t.Fatalf("endpoint disabled: %q\n%s", b.subject, b.text)
		}
		if err := e.svc.Notify(ctx, webhooks.Notice{MerchantID: e.merchant.ID}); err == nil || !strings.Contains(err.Error(), "no contact") {
			t.Fatalf("notice without contact: %v", err)
		}
	})
}

func TestSettingsAndOverrides(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		id := e.merchant.ID
		s, err := e.svc.Settings(ctx, id)
		if err != nil || s.ReceiptsEnabled || s.Mailer != "" || s.UpdatedAt != nil {
			t.Fatalf("defaults %+v %v", s, err)
		}
		bad := []struct {
			in   mail.SettingsUpdate
			code string
		}{
			{mail.SettingsUpdate{ReceiptsEnabled: ptr(true)}, "mailer_required"},
			{mail.SettingsUpdate{Mailer: ptr("nope")}, "unknown_mailer"},
			{mail.SettingsUpdate{Mailer: ptr("smtp"), From: ptr("not a mailbox")}, "invalid_mailbox"},
			{mail.SettingsUpdate{Mailer: ptr("smtp"), ReplyTo: ptr("a@b@c")}, "invalid_mailbox"},
		}
		for _, b := range bad {
			if _, err := e.svc.UpdateSettings(ctx, id, b.in); !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("%+v: %v", b.in, err)
			} else if de, _ := domain.AsError(err); de.Code != b.code {
				t.Fatalf("%+v: code %s, want %s", b.in, de.Code, b.code)
			}
		}
		if s, _ := e.svc.Settings(ctx, id); s.UpdatedAt != nil || s.Mailer != "" {
			t.Fatalf("a refused change was stored: %+v", s)
		}
		s, err = e.svc.UpdateSettings(ctx, id, mail.SettingsUpdate{ReceiptsEnabled: ptr(true), Mailer: ptr("other"), From: ptr("Shop <b@shop.example>")})
		if err != nil || !s.ReceiptsEnabled || s.EffectiveMailer != "other" {
			t.Fatalf("%+v %v", s, err)
		}
		// A partial update keeps the rest.
		s, err = e.svc.UpdateSettings(ctx, id, mail.SettingsUpdate{Mailer: ptr("smtp")})
		if err != nil || !s.ReceiptsEnabled || s.From != "Shop <b@shop.example>" || s.Mailer != "smtp" {
			t.Fatalf("%+v %v", s, err)
		}
		if _, err := e.svc.Settings(ctx, 999999); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unknown merchant: %v", err)
		}

		// Overrides: a bad one changes nothing.
		if _, err := e.svc.PutTemplate(ctx, id, mail.PaymentReceipt, mail.Source{Subject: "Paid {{.Amount}}"}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.PutTemplate(ctx, id, mail.PaymentReceipt, mail.Source{Subject: "Paid {{.Amount", HTML: "<p>x</p>"})
		if de, ok := domain.AsError(err); !ok || de.Code != "invalid_template" || de.Field != "subject" {
			t.Fatalf("bad override: %v", err)
		}
		v, err := e.svc.Template(ctx, id, mail.PaymentReceipt)
		if err != nil || v.Subject != "Paid {{.Amount}}" || strings.Join(v.Overridden, ",") != "subject" || !strings.Contains(v.HTML, "<!DOCTYPE html>") {
			t.Fatalf("after a refused override: %+v %v", v, err)
		}
		msg, err := e.svc.Preview(ctx, id, mail.PaymentReceipt, mail.Source{})
		if err != nil || msg.Subject != "Paid 49.95" {
			t.Fatalf("preview %+v %v", msg, err)
		}
		list, err := e.svc.ListTemplates(ctx, id)
		if err != nil || len(list) != len(mail.Names()) {
			t.Fatalf("list %d %v", len(list), err)
		}
		if err := e.svc.DeleteTemplate(ctx, id, mail.PaymentReceipt); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteTemplate(ctx, id, mail.PaymentReceipt); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := e.svc.Template(ctx, id, "nope"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unknown template: %v", err)
		}
	})
}
