package sdktest

import (
	"fmt"
	"testing"

	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// PayUpstreamFunc settles a payment the suite created, in full, as the
// upstream would once the shopper pays, and returns the PaymentData the
// host would then pass to Refund: the Data of the payment.succeeded event
// the plugin reported for it (nil when Refund needs none). It is given the
// host-side client so it can feed HandleWebhook; it fails t when it cannot
// settle the payment.
type PayUpstreamFunc func(t testing.TB, p provider.Client, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) map[string]string

// PayWithWebhook returns a PayUpstreamFunc for a provider that learns of a
// payment through its webhook (the sandbox; a plugin whose upstream double
// needs nothing else): it hands HandleWebhook the webhook sign builds (a
// ProviderConformanceConfig.SignedWebhook) and returns the Data of the
// payment.succeeded event it produces. A provider whose upstream must also
// be told (a stateful test double) wraps it and marks the payment paid
// there too.
func PayWithWebhook(sign func(t testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest) PayUpstreamFunc {
	return func(t testing.TB, p provider.Client, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) map[string]string {
		t.Helper()
		out, err := p.HandleWebhook(callCtx(t), sign(t, req, resp))
		if err != nil {
			t.Fatalf("PayWithWebhook: HandleWebhook(signed): %v (a correctly signed webhook must verify)", err)
		}
		for _, e := range out.Events {
			if e.Type == provider.PaymentSucceeded && e.ProviderRef == resp.ProviderRef {
				return e.Data
			}
		}
		t.Fatalf("PayWithWebhook: the signed webhook produced no payment.succeeded for %s: %+v", resp.ProviderRef, out.Events)
		return nil
	}
}

// Payment numbers of the refund checks' payments (paymentRequest's n),
// apart from the other checks' so each check refunds a payment of its own.
const (
	payRefundFull = 9001 + iota
	payRefundPartial
	payRefundOver
	payRefundIdempotent
)

// paidPayment is a payment the suite created and PayUpstream settled.
type paidPayment struct {
	createdPayment
	data map[string]string
}

// paid creates payment n and settles it through cfg.PayUpstream; it skips
// the check for a provider without provider.Refunder or without the hook.
func (s *providerSuite) paid(t *testing.T, n int) paidPayment {
	t.Helper()
	d := s.description(t)
	if !d.Has(provider.CapabilityRefunds) {
		t.Skip("the provider does not implement provider.Refunder (refund_unknown checks that Refund answers unimplemented)")
	}
	if s.cfg.PayUpstream == nil {
		t.Skip("ProviderConformanceConfig.PayUpstream is not set: give the suite a way to get a payment paid upstream " +
			"(sdktest.PayWithWebhook, or mark it paid in your test double) so it can check refunds")
	}
	s.configured(t)
	req := s.cfg.paymentRequest(d.Methods[0], n)
	resp, err := s.p.CreatePayment(callCtx(t), req)
	if err != nil {
		t.Fatalf("CreatePayment(%s): %v (a valid request must create a payment)", req.Method, err)
	}
	data := s.cfg.PayUpstream(t, s.p, req, resp)
	return paidPayment{createdPayment: createdPayment{req: req, resp: resp}, data: data}
}

// refund asks for amount (0: whatever is left) of pay under the key
// conformance_<key>_<session>.
func (s *providerSuite) refund(t *testing.T, pay paidPayment, key string, amount int64) (provider.RefundResult, error) {
	t.Helper()
	return s.p.Refund(callCtx(t), provider.RefundRequest{
		ProviderRef: pay.resp.ProviderRef, SessionID: pay.req.SessionID, Amount: amount, Currency: pay.req.Currency,
		IdempotencyKey: "conformance_" + key + "_" + pay.req.SessionID, Reason: "requested_by_customer", PaymentData: pay.data,
	})
}

// mustRefund is refund that fails the check on an error or a result that
// does not match amount (want is what that amount comes to).
func (s *providerSuite) mustRefund(t *testing.T, what string, pay paidPayment, key string, amount, want int64) provider.RefundResult {
	t.Helper()
	res, err := s.refund(t, pay, key, amount)
	if err != nil {
		t.Fatalf("%s: Refund(Amount %d) of a paid payment of %d: %v (a refund within what is left must be accepted)", what, amount, pay.req.Amount, err)
	}
	checkRefundResult(t, what, res, want)
	return res
}

func checkRefundResult(t *testing.T, what string, res provider.RefundResult, want int64) {
	t.Helper()
	if res.Status != provider.RefundSucceeded && res.Status != provider.RefundPending {
		t.Errorf("%s: Status %q for an accepted refund: answer succeeded, or pending when the upstream settles it later (and report a failure as an error)", what, res.Status)
	}
	if res.Amount != 0 && res.Amount != want {
		t.Errorf("%s: RefundResult.Amount %d, want %d: report what the upstream refunded (or 0 when it does not say)", what, res.Amount, want)
	}
}

// wantRefused fails unless err refuses the refund as the host expects:
// sdk.Invalid, or sdk.Declined when only the upstream can tell.
func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	wantCategory(t, what+" must be refused with sdk.Invalid (sdk.Declined when the upstream refuses it) and move no money",
		err, sdkerr.CategoryInvalidInput, sdkerr.CategoryDeclined)
}

// partOf is a quarter of amount, rounded down to a multiple of 10 minor
// units where that leaves something, so it is a valid amount in
// three-decimal currencies whose upstreams want the last digit 0.
func partOf(t *testing.T, amount int64) int64 {
	t.Helper()
	part := amount / 4
	if part >= 10 {
		part -= part % 10
	}
	if part == 0 {
		t.Skipf("a payment of %d minor units is too small to refund in parts: raise ProviderConformanceConfig.Amount", amount)
	}
	return part
}

func (s *providerSuite) partial(t *testing.T) bool {
	t.Helper()
	return s.description(t).Has(provider.CapabilityPartialRefunds)
}

// checkRefundFull: Amount 0 refunds the whole payment; afterwards nothing
// is left, so a second refund under another key is refused.
func (s *providerSuite) checkRefundFull(t *testing.T) {
	pay := s.paid(t, payRefundFull)
	s.mustRefund(t, "full refund (Amount 0)", pay, "full", 0, pay.req.Amount)
	_, err := s.refund(t, pay, "full_again", 0)
	wantRefused(t, "a second full refund of a refunded payment, under another IdempotencyKey,", err)
}

// checkRefundPartial: three parts that add up to the payment are each
// refunded as asked.
func (s *providerSuite) checkRefundPartial(t *testing.T) {
	if !s.partial(t) {
		t.Skip("the provider does not implement provider.PartialRefunder: the host sends it whole refunds only")
	}
	pay := s.paid(t, payRefundPartial)
	part := partOf(t, pay.req.Amount)
	for i, amount := range []int64{part, part, pay.req.Amount - 2*part} {
		s.mustRefund(t, fmt.Sprintf("partial refund %d of 3 (%d of %d)", i+1, amount, pay.req.Amount), pay, fmt.Sprint("partial_", i+1), amount, amount)
	}
}

// checkOverRefund: more than the payment, or more than is left after a
// partial refund, is refused and moves no money: refunding exactly what is
// left afterwards succeeds. A provider without partial refunds gets the
// whole-refund form: a full refund, then a second one.
func (s *providerSuite) checkOverRefund(t *testing.T) {
	pay := s.paid(t, payRefundOver)
	if !s.partial(t) {
		s.mustRefund(t, "full refund (Amount 0)", pay, "over_full", 0, pay.req.Amount)
		_, err := s.refund(t, pay, "over_again", 0)
		wantRefused(t, "a full refund of an already refunded payment", err)
		return
	}
	_, err := s.refund(t, pay, "over_whole", pay.req.Amount+1)
	wantRefused(t, fmt.Sprintf("a refund of %d, one more than the %d paid,", pay.req.Amount+1, pay.req.Amount), err)
	part := partOf(t, pay.req.Amount)
	s.mustRefund(t, "a partial refund", pay, "over_part", part, part)
	left := pay.req.Amount - part
	_, err = s.refund(t, pay, "over_rest", left+1)
	wantRefused(t, fmt.Sprintf("a refund of %d when %d is left", left+1, left), err)
	s.mustRefund(t, "refunding exactly what is left after refused over-refunds (a refused refund must move no money)", pay, "over_exact_rest", left, left)
}

// checkRefundIdempotent: the same key twice answers the first refund and
// moves money once — with partial refunds, what is left afterwards is the
// payment minus one part.
func (s *providerSuite) checkRefundIdempotent(t *testing.T) {
	pay := s.paid(t, payRefundIdempotent)
	amount, want := int64(0), pay.req.Amount
	if s.partial(t) {
		amount = partOf(t, pay.req.Amount)
		want = amount
	}
	first := s.mustRefund(t, "the first refund under a key", pay, "idem", amount, want)
	again, err := s.refund(t, pay, "idem", amount)
	if err != nil {
		t.Fatalf("Refund repeated with the same IdempotencyKey: %v (the host retries with the same key after a crash or a timeout: answer the first refund's result without refunding again)", err)
	}
	if again.RefundRef != first.RefundRef || again.Amount != first.Amount {
		t.Errorf("Refund repeated with the same IdempotencyKey returned %+v, the first call %+v: the same key must return the same refund and never move money twice", again, first)
	}
	if s.partial(t) {
		s.mustRefund(t, "refunding the rest after a replayed partial refund (money must have moved once)", pay, "idem_rest",
			pay.req.Amount-amount, pay.req.Amount-amount)
	}
	got, err := s.p.GetPayment(callCtx(t), provider.GetPaymentRequest{ProviderRef: pay.resp.ProviderRef, SessionID: pay.req.SessionID})
	if err == nil && got.AmountRefunded != 0 && got.AmountRefunded != pay.req.Amount {
		t.Errorf("GetPayment after the refunds: AmountRefunded %d, want %d (the whole payment, refunded once)", got.AmountRefunded, pay.req.Amount)
	}
}
