package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// withLedger returns a configured sandbox (through the real gRPC adapters)
// whose state lives in path; two calls with one path behave like two
// plugin processes, or one process before and after a restart.
func withLedger(t *testing.T, path string) provider.Client {
	t.Helper()
	p := sdktest.ProviderClient(t, sandbox.New())
	s := settings()
	s[sandbox.SettingLedgerPath] = path
	if err := p.Configure(context.Background(), s); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return p
}

// paid creates a payment on p and settles it with a signed Succeed callback.
func paid(t *testing.T, p provider.Client, session string, amount int64) string {
	t.Helper()
	req := paymentRequest(session)
	req.Amount = amount
	created, err := p.CreatePayment(context.Background(), req)
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	post(t, p, sandbox.SignCallback(secret, sandbox.Callback{
		Choice: sandbox.ChoiceSucceed, Ref: created.ProviderRef, SessionID: session,
		Amount: amount, Currency: "USD", ReturnURL: req.ReturnURL, TS: time.Now(),
	}))
	return created.ProviderRef
}

func countOps(t *testing.T, path, op string) int {
	t.Helper()
	recs, err := sandbox.ReadLedger(path)
	if err != nil {
		t.Fatalf("ReadLedger: %v", err)
	}
	n := 0
	for _, r := range recs {
		if r.Op == op {
			n++
		}
	}
	return n
}

func TestLedgerSurvivesRestartAndIsShared(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	a := withLedger(t, path)
	ref := paid(t, a, "cs_ledger", 4995)

	// Another process on the same ledger knows the paid payment.
	b := withLedger(t, path)
	first, err := b.Refund(ctx, provider.RefundRequest{ProviderRef: ref, Amount: 1000, Currency: "USD", IdempotencyKey: "re_1"})
	if err != nil || first.Amount != 1000 || first.Status != provider.RefundSucceeded {
		t.Fatalf("refund on the second process: %+v, %v", first, err)
	}
	// The first process replays the key from the shared ledger: same
	// refund, no money moved again.
	again, err := a.Refund(ctx, provider.RefundRequest{ProviderRef: ref, Amount: 1000, Currency: "USD", IdempotencyKey: "re_1"})
	if err != nil || again.RefundRef != first.RefundRef {
		t.Fatalf("replay on the first process: %+v, %v (first %s)", again, err, first.RefundRef)
	}
	if _, err := a.Refund(ctx, provider.RefundRequest{ProviderRef: ref, Amount: 2000, IdempotencyKey: "re_1"}); sdk.CategoryOf(err) != sdk.CategoryInvalidInput {
		t.Errorf("key reused for another amount: %v, want invalid input", err)
	}

	// A restart (a fresh provider on the same file) still knows it all.
	c := withLedger(t, path)
	got, err := c.GetPayment(ctx, provider.GetPaymentRequest{ProviderRef: ref})
	if err != nil || got.Status != provider.StatusSucceeded || got.AmountRefunded != 1000 {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	rest, err := c.Refund(ctx, provider.RefundRequest{ProviderRef: ref, IdempotencyKey: "re_2"})
	if err != nil || rest.Amount != 3995 {
		t.Fatalf("refund of the rest after restart: %+v, %v", rest, err)
	}
	if n := countOps(t, path, sandbox.OpRefund); n != 2 {
		t.Errorf("ledger holds %d refunds, want 2", n)
	}
}

func TestLedgerConcurrentRefundsNeverExceedThePayment(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	procs := []provider.Client{withLedger(t, path), withLedger(t, path)}
	ref := paid(t, procs[0], "cs_race", 10000)

	// 20 refunds of 7.00 against 100.00, half through each process: 14 fit.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok, refused int
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := procs[i%2].Refund(ctx, provider.RefundRequest{ProviderRef: ref, Amount: 700, IdempotencyKey: fmt.Sprintf("re_%02d", i)})
			mu.Lock()
			defer mu.Unlock()
			switch sdk.CategoryOf(err) {
			case "":
				ok++
			case sdk.CategoryInvalidInput:
				refused++
			default:
				t.Errorf("refund %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if ok != 14 || refused != 6 {
		t.Errorf("%d refunds succeeded and %d were refused, want 14 and 6", ok, refused)
	}
	if n := countOps(t, path, sandbox.OpRefund); n != 14 {
		t.Errorf("ledger holds %d refunds, want 14", n)
	}
}

func TestMagicRefundAmounts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	p := withLedger(t, path)
	ref := paid(t, p, "cs_magic", 10000)

	for range 2 {
		_, err := p.Refund(ctx, provider.RefundRequest{ProviderRef: ref, Amount: 666, IdempotencyKey: "re_decline"})
		e, _ := sdk.AsError(err)
		if sdk.CategoryOf(err) != sdk.CategoryDeclined || e.Code != "refund_declined" {
			t.Fatalf("refund of 6.66: %v, want declined (refund_declined)", err)
		}
	}

	_, err := p.Refund(ctx, provider.RefundRequest{ProviderRef: ref, Amount: 1777, IdempotencyKey: "re_outage"})
	if sdk.CategoryOf(err) != sdk.CategoryUnavailable {
		t.Fatalf("first refund of 17.77: %v, want unavailable", err)
	}
	// A restarted process remembers the outage happened: the retry goes through.
	res, err := withLedger(t, path).Refund(ctx, provider.RefundRequest{ProviderRef: ref, Amount: 1777, IdempotencyKey: "re_outage"})
	if err != nil || res.Amount != 1777 {
		t.Fatalf("retry of 17.77: %+v, %v", res, err)
	}

	got, err := p.GetPayment(ctx, provider.GetPaymentRequest{ProviderRef: ref})
	if err != nil || got.AmountRefunded != 1777 {
		t.Errorf("refunded %d (%v), want only the 17.77 that went through", got.AmountRefunded, err)
	}
	for op, want := range map[string]int{sandbox.OpRefund: 1, sandbox.OpRefundDeclined: 2, sandbox.OpRefundUnavailable: 1} {
		if n := countOps(t, path, op); n != want {
			t.Errorf("ledger holds %d %s records, want %d", n, op, want)
		}
	}
}

func TestLedgerIgnoresAnInterruptedWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	ref := paid(t, withLedger(t, path), "cs_torn", 5000)

	// A process died halfway through appending a record.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"op":"refund","ref":"` + ref + `","amount":5000,"ke`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	p := withLedger(t, path)
	res, err := p.Refund(ctx, provider.RefundRequest{ProviderRef: ref, Amount: 100, IdempotencyKey: "re_after"})
	if err != nil || res.Amount != 100 {
		t.Fatalf("refund after a torn write: %+v, %v", res, err)
	}
	recs, err := sandbox.ReadLedger(path)
	if err != nil {
		t.Fatalf("ledger unreadable after the torn write was replaced: %v", err)
	}
	if last := recs[len(recs)-1]; last.Op != sandbox.OpRefund || last.Amount != 100 {
		t.Errorf("last record %+v, want the 1.00 refund", last)
	}
}

func TestLedgerPathMustBeWritable(t *testing.T) {
	p := sdktest.ProviderClient(t, sandbox.New())
	s := settings()
	s[sandbox.SettingLedgerPath] = filepath.Join(t.TempDir(), "missing", "ledger.jsonl")
	err := p.Configure(context.Background(), s)
	if e, ok := sdk.AsError(err); !ok || e.Category != sdk.CategoryInvalidInput || e.Field != sandbox.SettingLedgerPath {
		t.Errorf("Configure with an unusable ledger path: %v, want invalid input on %s", err, sandbox.SettingLedgerPath)
	}
}
