package refunds_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/refunds"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk/provider"
)

func TestPartialThenFull(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		in, ledger := sandboxInstance(t)
		e := newEnv(t, st, in)
		id := e.paidSession(t, "O-1", "49.95")

		part := e.mustCreate(t, id, `{"amount":"10.00","reason":"duplicate","metadata":{"ticket":"T-7"}}`)
		if part.Amount != "10.00" || part.Currency != "USD" || part.Reason != domain.RefundDuplicate || part.Source != domain.RefundSourceAPI ||
			string(part.Metadata) != `{"ticket":"T-7"}` || part.ProviderReference != nil || part.SettledAt != nil {
			t.Errorf("created refund %+v", part)
		}
		// Reserved at once: the rest is what can still be refunded.
		if s := e.session(t, id); s.AmountRefundPending != 1000 || s.AmountRefunded != 0 || s.Status != domain.StatusPaid {
			t.Errorf("session after create: pending %d refunded %d %s", s.AmountRefundPending, s.AmountRefunded, s.Status)
		}
		e.run(t, part.RefundID)
		got := e.refund(t, part.RefundID)
		if got.Status != domain.RefundSucceeded || got.ProviderReference == nil || got.SettledAt == nil {
			t.Errorf("after the provider call: %+v", got)
		}
		if s := e.session(t, id); s.AmountRefunded != 1000 || s.AmountRefundPending != 0 || s.Status != domain.StatusPartiallyRefunded {
			t.Errorf("session after partial refund: refunded %d pending %d %s", s.AmountRefunded, s.AmountRefundPending, s.Status)
		}

		rest := e.mustCreate(t, id, ``) // no body: everything left
		if rest.Amount != "39.95" || rest.Reason != domain.RefundRequestedByCustomer {
			t.Errorf("refund of the rest: %+v", rest)
		}
		e.run(t, rest.RefundID)
		if s := e.session(t, id); s.AmountRefunded != 4995 || s.Status != domain.StatusRefunded {
			t.Errorf("session after full refund: refunded %d %s", s.AmountRefunded, s.Status)
		}
		if n := ledgerCount(t, ledger, sandbox.OpRefund); n != 2 {
			t.Errorf("the sandbox made %d refunds, want 2", n)
		}
		want := "session.created session.paid refund.created refund.succeeded session.partially_refunded " +
			"refund.created refund.succeeded session.refunded"
		if got := joined(e.eventTypes(t, id)); got != want {
			t.Errorf("events\n got %s\nwant %s", got, want)
		}
		list, err := e.Refunds.ListSession(ctxT(t), e.caller(), id, refunds.ListParams{})
		if err != nil || len(list.Data) != 2 || list.HasMore || list.Data[0].RefundID != rest.RefundID {
			t.Errorf("session refunds: %+v %v", list, err)
		}
		page, err := e.Refunds.ListSession(ctxT(t), e.caller(), id, refunds.ListParams{Limit: 1})
		if err != nil || len(page.Data) != 1 || !page.HasMore {
			t.Fatalf("first page: %+v %v", page, err)
		}
		page, err = e.Refunds.ListSession(ctxT(t), e.caller(), id, refunds.ListParams{Limit: 1, StartingAfter: page.Data[0].RefundID})
		if err != nil || len(page.Data) != 1 || page.HasMore || page.Data[0].RefundID != part.RefundID {
			t.Errorf("second page: %+v %v", page, err)
		}
	})
}

func TestRefusals(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		in, ledger := sandboxInstance(t)
		e := newEnv(t, st, in)
		paid := e.paidSession(t, "O-1", "49.95")
		open := e.openSession(t, "O-2", "10.00")
		c := e.caller()

		cases := []struct {
			name, session, body string
			kind                error
			code, field         string
		}{
			{"more than paid", paid, `{"amount":"49.96"}`, domain.ErrUnprocessable, "amount_exceeds_refundable", "amount"},
			{"too many decimals", paid, `{"amount":"1.001"}`, domain.ErrInvalid, "invalid_amount", "amount"},
			{"amount as a number", paid, `{"amount":1}`, domain.ErrInvalid, "invalid_amount", "amount"},
			{"zero", paid, `{"amount":"0"}`, domain.ErrInvalid, "invalid_amount", "amount"},
			{"unknown reason", paid, `{"reason":"changed_mind"}`, domain.ErrInvalid, "invalid_reason", "reason"},
			{"metadata key empty", paid, `{"metadata":{"":"x"}}`, domain.ErrInvalid, "invalid_metadata", "metadata"},
			{"nothing received", open, `{}`, domain.ErrConflict, "not_refundable", "session_id"},
			{"no such session", "cs_nope", `{}`, domain.ErrNotFound, "resource_missing", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := e.create(t, c, tc.session, tc.body, "")
				wantCode(t, err, tc.kind, tc.code, tc.field)
			})
		}

		// Another merchant, or the other mode of the same merchant, sees
		// no such session and no such refund.
		other := e.Merchant(t, domain.PlanFree, "other.test")
		_, op := e.Key(t, other.ID, domain.ModeTest)
		_, live := e.Key(t, e.p.Merchant.ID, domain.ModeLive)
		rf := e.mustCreate(t, paid, `{"amount":"1.00"}`)
		for _, stranger := range []refunds.Caller{refunds.Merchant(op.Merchant.ID, domain.ModeTest), refunds.Merchant(live.Merchant.ID, domain.ModeLive)} {
			_, _, err := e.create(t, stranger, paid, `{}`, "")
			wantCode(t, err, domain.ErrNotFound, "resource_missing", "")
			_, err = e.Refunds.Get(ctxT(t), stranger, rf.RefundID)
			wantCode(t, err, domain.ErrNotFound, "resource_missing", "")
			_, err = e.Refunds.ListSession(ctxT(t), stranger, paid, refunds.ListParams{})
			wantCode(t, err, domain.ErrNotFound, "resource_missing", "")
		}

		// Everything refunded, the pending refund included: nothing left.
		e.mustCreate(t, paid, `{}`)
		_, _, err := e.create(t, c, paid, `{"amount":"0.01"}`, "")
		wantCode(t, err, domain.ErrConflict, "already_refunded", "session_id")
		if n := ledgerCount(t, ledger, sandbox.OpRefund); n != 0 {
			t.Errorf("refusals made %d provider refunds", n)
		}
		if s := e.session(t, paid); s.AmountRefundPending != 4995 {
			t.Errorf("pending %d after refusals, want only the two accepted refunds (49.95)", s.AmountRefundPending)
		}
	})
}

// TestConcurrentRefundsNeverExceedThePayment sends 20 refunds of 5.00 at a
// 49.95 session at once: the database admits 9 (45.00) and refuses the
// rest; the provider then makes exactly those 9.
func TestConcurrentRefundsNeverExceedThePayment(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		in, ledger := sandboxInstance(t)
		e := newEnv(t, st, in)
		id := e.paidSession(t, "O-1", "49.95")

		var wg sync.WaitGroup
		var mu sync.Mutex
		var created []string
		refused := 0
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, v, err := e.create(t, e.caller(), id, `{"amount":"5.00"}`, "")
				mu.Lock()
				defer mu.Unlock()
				switch de, _ := domain.AsError(err); {
				case err == nil:
					created = append(created, v.RefundID)
				case de != nil && de.Code == "amount_exceeds_refundable":
					refused++
				default:
					t.Errorf("concurrent refund: %v", err)
				}
			}()
		}
		wg.Wait()
		if len(created) != 9 || refused != 11 {
			t.Fatalf("%d refunds created, %d refused; want 9 and 11", len(created), refused)
		}
		if s := e.session(t, id); s.AmountRefundPending != 4500 {
			t.Errorf("reserved %d, want 4500", s.AmountRefundPending)
		}
		for _, rid := range created {
			e.run(t, rid)
		}
		if s := e.session(t, id); s.AmountRefunded != 4500 || s.AmountRefundPending != 0 || s.Status != domain.StatusPartiallyRefunded {
			t.Errorf("session: refunded %d pending %d %s", s.AmountRefunded, s.AmountRefundPending, s.Status)
		}
		if n := ledgerCount(t, ledger, sandbox.OpRefund); n != 9 {
			t.Errorf("the sandbox made %d refunds, want 9", n)
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		in, _ := sandboxInstance(t)
		e := newEnv(t, st, in)
		id := e.paidSession(t, "O-1", "49.95")
		other := e.paidSession(t, "O-2", "20.00")
		c := e.caller()

		first, v, err := e.create(t, c, id, `{"amount":"5.00","reason":"other"}`, "refund-1")
		if err != nil || first.Status != http.StatusCreated || first.Replayed {
			t.Fatalf("first: %+v %v", first, err)
		}
		again, _, err := e.create(t, c, id, `{"reason": "other", "amount": "5.00"}`, "refund-1")
		if err != nil || !again.Replayed || string(again.Body) != string(first.Body) || again.Status != http.StatusCreated {
			t.Fatalf("replay: %+v %v", again, err)
		}
		_, _, err = e.create(t, c, id, `{"amount":"6.00","reason":"other"}`, "refund-1")
		wantCode(t, err, domain.ErrConflict, "idempotency_key_reused", "")
		_, _, err = e.create(t, c, other, `{"amount":"5.00","reason":"other"}`, "refund-1")
		wantCode(t, err, domain.ErrConflict, "idempotency_key_reused", "")
		_, _, err = e.create(t, c, id, `{}`, "bad key")
		wantCode(t, err, domain.ErrInvalid, "invalid_idempotency_key", "Idempotency-Key")

		// Concurrent requests with one key make one refund.
		var wg sync.WaitGroup
		ids := make(chan string, 10)
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, v, err := e.create(t, c, other, `{"amount":"1.00"}`, "refund-2")
				if err != nil {
					t.Errorf("concurrent create with one key: %v", err)
					return
				}
				ids <- v.RefundID
			}()
		}
		wg.Wait()
		close(ids)
		seen := map[string]bool{}
		for rid := range ids {
			seen[rid] = true
		}
		if len(seen) != 1 {
			t.Errorf("10 requests with one key made %d refunds", len(seen))
		}
		if s := e.session(t, other); s.AmountRefundPending != 100 {
			t.Errorf("reserved %d on the second session, want 100", s.AmountRefundPending)
		}
		if s := e.session(t, id); s.AmountRefundPending != 500 {
			t.Errorf("reserved %d on the first session, want 500 (%s)", s.AmountRefundPending, v.RefundID)
		}
	})
}

// TestCrashBetweenCommitAndProviderCall: the refund and its job were
// committed, then the process died (here: the service and the sandbox are
// built again, as after a restart). The job that runs afterwards makes
// exactly one provider refund. A crash after the provider call but before
// its outcome was recorded (the call is made again on retry) is one refund
// too: the key is the same.
func TestCrashBetweenCommitAndProviderCall(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		in, ledger := sandboxInstance(t)
		before := newEnv(t, st, in)
		id := before.paidSession(t, "O-1", "49.95")
		rf := before.mustCreate(t, id, `{"amount":"10.00"}`)
		second := before.mustCreate(t, id, `{"amount":"2.00"}`)

		// After the restart: a new sandbox process on the same ledger and new
		// services on the same database.
		after := &env{Env: paymentstest.New(t, st, paymentstest.Options{RealClock: true, Instances: []paymentstest.Instance{{
			ID: "sbx", Impl: sandbox.New(), Settings: in.Settings,
		}}}), providerID: "sbx", p: before.p}
		after.run(t, rf.RefundID)
		after.run(t, rf.RefundID) // a second run of the job (a rescued duplicate) changes nothing
		if got := after.refund(t, rf.RefundID); got.Status != domain.RefundSucceeded {
			t.Fatalf("refund after restart: %+v", got)
		}

		// The provider was called for the second refund, then the process
		// died before recording the answer: the retried job calls again
		// with the same key.
		att, err := st.GetAttempt(ctxT(t), mustRefundRow(t, st, second.RefundID).AttemptID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := after.Providers.Client("sbx").Refund(ctxT(t), provider.RefundRequest{
			ProviderRef: att.ProviderRef, SessionID: id, Amount: 200, Currency: "USD", IdempotencyKey: refunds.IdempotencyKey(second.RefundID),
		}); err != nil {
			t.Fatal(err)
		}
		after.run(t, second.RefundID)

		if n := ledgerCount(t, ledger, sandbox.OpRefund); n != 2 {
			t.Errorf("the sandbox made %d refunds for two refunds, want 2", n)
		}
		if s := after.session(t, id); s.AmountRefunded != 1200 || s.AmountRefundPending != 0 {
			t.Errorf("session: refunded %d pending %d, want 1200 and 0", s.AmountRefunded, s.AmountRefundPending)
		}
	})
}

func mustRefundRow(t *testing.T, st *store.Store, id string) *store.Refund {
	t.Helper()
	rf, err := st.GetRefund(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return rf
}

func TestProviderDeclineAndOutage(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		in, ledger := sandboxInstance(t)
		e := newEnv(t, st, in)
		id := e.paidSession(t, "O-1", "49.95")

		// 6.66 is declined by the sandbox: the refund fails with its
		// message and gives the amount back.
		declined := e.mustCreate(t, id, `{"amount":"6.66"}`)
		e.run(t, declined.RefundID)
		got := e.refund(t, declined.RefundID)
		if got.Status != domain.RefundFailed || got.FailureCode == nil || *got.FailureCode != "refund_declined" ||
			got.FailureMessage == nil || *got.FailureMessage == "" {
			t.Errorf("declined refund: %+v", got)
		}
		if s := e.session(t, id); s.AmountRefundPending != 0 || s.AmountRefunded != 0 || s.Status != domain.StatusPaid {
			t.Errorf("session after a declined refund: pending %d refunded %d %s", s.AmountRefundPending, s.AmountRefunded, s.Status)
		}

		// 7.77 meets a simulated outage: the job returns an error (River
		// retries it); the retry with the same key goes through once.
		outage := e.mustCreate(t, id, `{"amount":"7.77"}`)
		if err := e.Refunds.CallProvider(ctxT(t), outage.RefundID, false); err == nil {
			t.Fatal("a provider outage did not make the job retry")
		}
		if got := e.refund(t, outage.RefundID); got.Status != domain.RefundPending {
			t.Fatalf("refund after an outage: %+v, want pending", got)
		}
		e.run(t, outage.RefundID)
		if got := e.refund(t, outage.RefundID); got.Status != domain.RefundSucceeded {
			t.Errorf("refund after the retry: %+v", got)
		}

		// An outage on the last attempt fails the refund.
		last := e.mustCreate(t, id, `{"amount":"17.77"}`)
		if err := e.Refunds.CallProvider(ctxT(t), last.RefundID, true); err != nil {
			t.Fatalf("last attempt: %v", err)
		}
		if got := e.refund(t, last.RefundID); got.Status != domain.RefundFailed || *got.FailureCode != "provider_unavailable" {
			t.Errorf("refund after the last attempt: %+v", got)
		}

		if n := ledgerCount(t, ledger, sandbox.OpRefund); n != 1 {
			t.Errorf("the sandbox made %d refunds, want 1 (the 7.77)", n)
		}
		if s := e.session(t, id); s.AmountRefunded != 777 || s.AmountRefundPending != 0 {
			t.Errorf("session: refunded %d pending %d", s.AmountRefunded, s.AmountRefundPending)
		}
		want := "session.created session.paid refund.created refund.failed refund.created refund.succeeded session.partially_refunded refund.created refund.failed"
		if got := joined(e.eventTypes(t, id)); got != want {
			t.Errorf("events\n got %s\nwant %s", got, want)
		}
	})
}

// TestProviderCapabilities: a refund the payment's provider cannot make is
// refused at once with its own code (nothing reserved, no provider call):
// refunds_unsupported for a provider without provider.Refunder, and
// partial_refunds_unsupported on amount for one that refunds only whole
// payments, which still takes a whole refund.
func TestProviderCapabilities(t *testing.T) {
	// The sandbox behind interfaces that hide what it can do: the SDK
	// derives capabilities from the optional interfaces the plugin's value
	// implements.
	type noRefunds struct{ provider.Provider }
	type wholeOnly struct {
		provider.Provider
		provider.Refunder
	}
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		for _, tc := range []struct {
			name      string
			wrap      func(*sandbox.Provider) provider.Provider
			partial   string // code for a partial refund
			whole     string // code for a whole refund, "" if accepted
			wantCalls int
		}{
			{"no Refunder", func(p *sandbox.Provider) provider.Provider { return noRefunds{p} }, "refunds_unsupported", "refunds_unsupported", 0},
			{"Refunder without partial refunds", func(p *sandbox.Provider) provider.Provider { return wholeOnly{p, p} }, "partial_refunds_unsupported", "", 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in, ledger := sandboxInstance(t)
				in.Impl = tc.wrap(in.Impl.(*sandbox.Provider))
				e := newEnv(t, st, in)
				id := e.paidSession(t, "O-1", "49.95")

				_, _, err := e.create(t, e.caller(), id, `{"amount":"1.00"}`, "")
				field := ""
				if tc.partial == "partial_refunds_unsupported" {
					field = "amount"
				}
				wantCode(t, err, domain.ErrUnprocessable, tc.partial, field)
				if de, _ := domain.AsError(err); !strings.Contains(de.Message, "sandbox") {
					t.Errorf("refusal %q does not name the provider", de.Message)
				}
				if s := e.session(t, id); s.AmountRefundPending != 0 {
					t.Errorf("a refused refund reserved %d", s.AmountRefundPending)
				}

				_, whole, err := e.create(t, e.caller(), id, `{}`, "")
				if tc.whole != "" {
					wantCode(t, err, domain.ErrUnprocessable, tc.whole, "")
				} else {
					if err != nil {
						t.Fatalf("whole refund through a provider that refunds whole payments: %v", err)
					}
					e.run(t, whole.RefundID)
					if got := e.refund(t, whole.RefundID); got.Status != domain.RefundSucceeded {
						t.Errorf("whole refund: %+v", got)
					}
				}
				if n := ledgerCount(t, ledger, sandbox.OpRefund); n != tc.wantCalls {
					t.Errorf("the sandbox made %d refunds, want %d", n, tc.wantCalls)
				}
			})
		}
	})
}

func TestOperatorRefundsAnyMerchant(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		in, _ := sandboxInstance(t)
		e := newEnv(t, st, in)
		id := e.paidSession(t, "O-1", "49.95")
		_, v, err := e.create(t, refunds.Operator(), id, `{"amount":"1.00","reason":"fraudulent"}`, "")
		if err != nil || v.Source != domain.RefundSourceOperator {
			t.Fatalf("operator refund: %+v %v", v, err)
		}
		all, err := e.Refunds.List(ctxT(t), refunds.ListParams{MerchantID: e.p.Merchant.ID, Status: domain.RefundPending})
		if err != nil || len(all.Data) != 1 || all.Data[0].RefundID != v.RefundID {
			t.Errorf("operator list: %+v %v", all, err)
		}
		for _, bad := range []refunds.ListParams{{Limit: 101}, {Limit: -1}, {StartingAfter: "cs_1"}, {Status: "done"}} {
			if _, err := e.Refunds.List(ctxT(t), bad); err == nil {
				t.Errorf("list %+v accepted", bad)
			}
		}
	})
}

// TestReviewRefund: a payment of less than the session's amount is held
// for review (issue 11); the operator decides to send it back, which
// creates the refund of what arrived through the provider it came by. The
// job makes it; the session ends refunded and the review closed.
func TestReviewRefund(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		in, ledger := sandboxInstance(t)
		e := newEnv(t, st, in)
		id := e.openSession(t, "O-1", "49.95")
		if _, err := e.Service.StartPayment(ctxT(t), id, "card", ""); err != nil {
			t.Fatal(err)
		}
		atts, _ := st.SessionAttempts(ctxT(t), id)
		// The shopper paid 10.00 of 49.95.
		form := sandbox.SignCallback(sandboxSecret, sandbox.Callback{Choice: sandbox.ChoiceSucceed, Ref: atts[0].ProviderRef,
			SessionID: id, Amount: 1000, Currency: "USD", TS: time.Now()})
		if _, err := e.Service.ApplyWebhook(ctxT(t), "sbx", "sandbox", provider.WebhookRequest{Method: http.MethodPost,
			Path: "/hooks/sandbox/sbx", Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			Body: []byte(form.Encode()), RemoteAddr: "127.0.0.1:9"}); err != nil {
			t.Fatal(err)
		}
		if s := e.session(t, id); s.Status != domain.StatusRequiresReview {
			t.Fatalf("underpaid session: %s", s.Status)
		}
		// The merchant cannot take it over more than arrived.
		_, _, err := e.create(t, e.caller(), id, `{"amount":"10.01"}`, "")
		wantCode(t, err, domain.ErrUnprocessable, "amount_exceeds_refundable", "amount")

		reviews, err := e.Service.ListReviews(ctxT(t), payments.ReviewListRequest{})
		if err != nil || len(reviews) != 1 {
			t.Fatalf("reviews: %+v %v", reviews, err)
		}
		if _, err := e.Service.ResolveReview(ctxT(t), reviews[0].ID, payments.ResolveReviewRequest{Action: "refund", Operator: "ops"}); err != nil {
			t.Fatalf("resolve: %v", err)
		}
		list, err := e.Refunds.ListSession(ctxT(t), refunds.Operator(), id, refunds.ListParams{})
		if err != nil || len(list.Data) != 1 {
			t.Fatalf("refunds after the decision: %+v %v", list, err)
		}
		rf := list.Data[0]
		if rf.Amount != "10.00" || rf.Source != domain.RefundSourceOperator || rf.Status != domain.RefundPending ||
			!strings.Contains(string(rf.Metadata), reviews[0].ID) {
			t.Errorf("review refund: %+v", rf)
		}
		e.run(t, rf.RefundID)
		s := e.session(t, id)
		if s.Status != domain.StatusRefunded || s.AmountRefunded != 1000 || s.ReviewReason != "" {
			t.Errorf("session after the review refund: %s refunded %d review %q", s.Status, s.AmountRefunded, s.ReviewReason)
		}
		all, err := e.Service.ListReviews(ctxT(t), payments.ReviewListRequest{Status: "all"})
		if err != nil || len(all) != 1 || all[0].Status != domain.ReviewResolved || all[0].Resolution == nil || *all[0].Resolution != domain.ResolutionRefunded {
			t.Errorf("review after the refund: %+v %v", all, err)
		}
		if n := ledgerCount(t, ledger, sandbox.OpRefund); n != 1 {
			t.Errorf("the sandbox made %d refunds, want 1", n)
		}
		e.run(t, rf.RefundID) // a second run changes nothing
		if s := e.session(t, id); s.AmountRefunded != 1000 {
			t.Errorf("refunded %d after a second run", s.AmountRefunded)
		}
	})
}
