package domain

import (
	"strings"
	"testing"
)

const (
	testTotal = 1000
	// testHeld is what an underpaid session held for review received.
	testHeld = 400
)

// representative state for each status, as the payments service would load it
func stateFor(st SessionStatus) SessionState {
	s := SessionState{Status: st, Amount: testTotal, Currency: "USD"}
	if st.MoneyReceived() {
		s.Received, s.ReceivedCurrency = testTotal, "USD"
	}
	switch st {
	case StatusRequiresReview:
		s.Received, s.ReceivedCurrency = testHeld, "USD"
	case StatusPartiallyRefunded:
		s.RefundedAmount = 300
	case StatusRefunded:
		s.RefundedAmount = testTotal
	case StatusDisputed:
		s.Dispute = DisputeOpen
	}
	return s
}

// the event each kind is tested with: a success confirming exactly the
// session's amount, a full refund without amount, a partial refund of 200,
// the rest without amounts
func eventFor(k PaymentEventKind) PaymentEvent {
	switch k {
	case PaymentSucceeded:
		return PaymentEvent{Kind: k, Amount: testTotal, Currency: "USD"}
	case PaymentPartiallyRefunded:
		return PaymentEvent{Kind: k, Amount: 200}
	}
	return PaymentEvent{Kind: k}
}

type want struct {
	next     SessionStatus
	apply    bool
	event    DomainEvent
	refunded int64
}

// The full (status × provider event) table. Reading a row tells the whole
// policy for a status; the comments say why where it is not obvious.
var transitionTable = map[SessionStatus]map[PaymentEventKind]want{
	StatusOpen: {
		PaymentSucceeded:         {StatusPaid, true, EventSessionPaid, 0},
		PaymentFailed:            {StatusOpen, true, EventSessionFailed, 0},
		PaymentProcessing:        {StatusProcessing, true, EventSessionProcessing, 0},
		PaymentRefunded:          {StatusRefunded, true, EventSessionRefunded, testTotal}, // implies payment
		PaymentPartiallyRefunded: {StatusPartiallyRefunded, true, EventSessionPartiallyRefunded, 200},
		PaymentDisputed:          {StatusDisputed, true, EventSessionDisputed, 0},
		PaymentDisputeWon:        {StatusProcessing, true, EventSessionDisputeWon, 0}, // implies a payment whose amount is unconfirmed: not paid
		PaymentDisputeLost:       {StatusDisputed, true, EventSessionDisputeLost, 0},
	},
	StatusProcessing: {
		PaymentSucceeded:         {StatusPaid, true, EventSessionPaid, 0},
		PaymentFailed:            {StatusOpen, true, EventSessionFailed, 0}, // shopper may retry
		PaymentProcessing:        {StatusProcessing, false, "", 0},
		PaymentRefunded:          {StatusRefunded, true, EventSessionRefunded, testTotal},
		PaymentPartiallyRefunded: {StatusPartiallyRefunded, true, EventSessionPartiallyRefunded, 200},
		PaymentDisputed:          {StatusDisputed, true, EventSessionDisputed, 0},
		PaymentDisputeWon:        {StatusProcessing, true, EventSessionDisputeWon, 0}, // implies a payment whose amount is unconfirmed: not paid
		PaymentDisputeLost:       {StatusDisputed, true, EventSessionDisputeLost, 0},
	},
	StatusPaid: {
		PaymentSucceeded:         {StatusPaid, false, "", 0},
		PaymentFailed:            {StatusPaid, false, "", 0}, // never backwards
		PaymentProcessing:        {StatusPaid, false, "", 0},
		PaymentRefunded:          {StatusRefunded, true, EventSessionRefunded, testTotal},
		PaymentPartiallyRefunded: {StatusPartiallyRefunded, true, EventSessionPartiallyRefunded, 200},
		PaymentDisputed:          {StatusDisputed, true, EventSessionDisputed, 0},
		PaymentDisputeWon:        {StatusPaid, true, EventSessionDisputeWon, 0}, // won arrived before disputed
		PaymentDisputeLost:       {StatusDisputed, true, EventSessionDisputeLost, 0},
	},
	StatusExpired: {
		PaymentSucceeded:         {StatusPaid, true, EventSessionPaid, 0}, // late payment is never dropped
		PaymentFailed:            {StatusExpired, false, "", 0},
		PaymentProcessing:        {StatusExpired, false, "", 0}, // not revived for money that may not come
		PaymentRefunded:          {StatusRefunded, true, EventSessionRefunded, testTotal},
		PaymentPartiallyRefunded: {StatusPartiallyRefunded, true, EventSessionPartiallyRefunded, 200},
		PaymentDisputed:          {StatusDisputed, true, EventSessionDisputed, 0},
		PaymentDisputeWon:        {StatusExpired, true, EventSessionDisputeWon, 0}, // implies a payment whose amount is unconfirmed: not paid
		PaymentDisputeLost:       {StatusDisputed, true, EventSessionDisputeLost, 0},
	},
	StatusCanceled: {
		PaymentSucceeded:         {StatusPaid, true, EventSessionPaid, 0},
		PaymentFailed:            {StatusCanceled, false, "", 0},
		PaymentProcessing:        {StatusCanceled, false, "", 0},
		PaymentRefunded:          {StatusRefunded, true, EventSessionRefunded, testTotal},
		PaymentPartiallyRefunded: {StatusPartiallyRefunded, true, EventSessionPartiallyRefunded, 200},
		PaymentDisputed:          {StatusDisputed, true, EventSessionDisputed, 0},
		PaymentDisputeWon:        {StatusCanceled, true, EventSessionDisputeWon, 0}, // implies a payment whose amount is unconfirmed: not paid
		PaymentDisputeLost:       {StatusDisputed, true, EventSessionDisputeLost, 0},
	},
	StatusPartiallyRefunded: { // 300 of 1000 already refunded
		PaymentSucceeded:         {StatusPartiallyRefunded, false, "", 300},
		PaymentFailed:            {StatusPartiallyRefunded, false, "", 300},
		PaymentProcessing:        {StatusPartiallyRefunded, false, "", 300},
		PaymentRefunded:          {StatusRefunded, true, EventSessionRefunded, testTotal}, // the remainder
		PaymentPartiallyRefunded: {StatusPartiallyRefunded, true, EventSessionPartiallyRefunded, 500},
		PaymentDisputed:          {StatusDisputed, true, EventSessionDisputed, 300},
		PaymentDisputeWon:        {StatusPartiallyRefunded, true, EventSessionDisputeWon, 300},
		PaymentDisputeLost:       {StatusDisputed, true, EventSessionDisputeLost, 300},
	},
	StatusRefunded: {
		PaymentSucceeded:         {StatusRefunded, false, "", testTotal},
		PaymentFailed:            {StatusRefunded, false, "", testTotal},
		PaymentProcessing:        {StatusRefunded, false, "", testTotal},
		PaymentRefunded:          {StatusRefunded, false, "", testTotal},
		PaymentPartiallyRefunded: {StatusRefunded, false, "", testTotal},
		PaymentDisputed:          {StatusDisputed, true, EventSessionDisputed, testTotal}, // shoppers dispute refunded charges too
		PaymentDisputeWon:        {StatusRefunded, true, EventSessionDisputeWon, testTotal},
		PaymentDisputeLost:       {StatusDisputed, true, EventSessionDisputeLost, testTotal},
	},
	StatusDisputed: { // dispute open, nothing refunded
		PaymentSucceeded:         {StatusDisputed, false, "", 0},
		PaymentFailed:            {StatusDisputed, false, "", 0},
		PaymentProcessing:        {StatusDisputed, false, "", 0},
		PaymentRefunded:          {StatusDisputed, true, EventSessionRefunded, testTotal}, // counted; status stays
		PaymentPartiallyRefunded: {StatusDisputed, true, EventSessionPartiallyRefunded, 200},
		PaymentDisputed:          {StatusDisputed, false, "", 0},
		PaymentDisputeWon:        {StatusPaid, true, EventSessionDisputeWon, 0},
		PaymentDisputeLost:       {StatusDisputed, true, EventSessionDisputeLost, 0},
	},
	StatusRequiresReview: { // 400 of 1000 received; held for an operator
		PaymentSucceeded:         {StatusRequiresReview, false, "", 0}, // recorded for the operator
		PaymentFailed:            {StatusRequiresReview, false, "", 0},
		PaymentProcessing:        {StatusRequiresReview, false, "", 0},
		PaymentRefunded:          {StatusRefunded, true, EventSessionRefunded, testHeld}, // all received went back: nothing left to hold
		PaymentPartiallyRefunded: {StatusRequiresReview, true, EventSessionPartiallyRefunded, 200},
		PaymentDisputed:          {StatusRequiresReview, true, EventSessionDisputed, 0},
		PaymentDisputeWon:        {StatusRequiresReview, true, EventSessionDisputeWon, 0},
		PaymentDisputeLost:       {StatusRequiresReview, true, EventSessionDisputeLost, 0},
	},
}

func TestApplyEventTable(t *testing.T) {
	for _, st := range SessionStatuses() {
		row, ok := transitionTable[st]
		if !ok {
			t.Fatalf("table misses status %s", st)
		}
		for _, k := range PaymentEventKinds() {
			w, ok := row[k]
			if !ok {
				t.Fatalf("table misses %s × %s", st, k)
			}
			t.Run(string(st)+"/"+string(k), func(t *testing.T) {
				cur := stateFor(st)
				tr := ApplyEvent(cur, eventFor(k))
				if tr.Next.Status != w.next || tr.Apply != w.apply || tr.DomainEvent != w.event || tr.Next.RefundedAmount != w.refunded {
					t.Fatalf("got next=%s apply=%v event=%q refunded=%d (%s); want next=%s apply=%v event=%q refunded=%d",
						tr.Next.Status, tr.Apply, tr.DomainEvent, tr.Next.RefundedAmount, tr.Reason,
						w.next, w.apply, w.event, w.refunded)
				}
				if tr.Reason == "" {
					t.Fatal("every transition must carry a reason")
				}
				if !tr.Apply && tr.Next != cur {
					t.Fatalf("ignored event changed state: %+v -> %+v", cur, tr.Next)
				}
				if tr.Next.Amount != cur.Amount {
					t.Fatal("session amount changed")
				}
			})
		}
	}
}

// Invariants that must hold for every cell, independent of the table.
func TestApplyEventInvariants(t *testing.T) {
	for _, st := range SessionStatuses() {
		for _, k := range PaymentEventKinds() {
			cur := stateFor(st)
			tr := ApplyEvent(cur, eventFor(k))
			received := cur.Status.MoneyReceived() || cur.Status == StatusRequiresReview
			if received && !tr.Next.Status.MoneyReceived() && tr.Next.Status != StatusRequiresReview {
				t.Errorf("%s × %s moved backwards to %s", st, k, tr.Next.Status)
			}
			// On a held session a further success is recorded for the
			// operator (it is the same payment reported again, e.g. Stripe's
			// checkout.session.completed and payment_intent.succeeded).
			if k.MovesMoney() && !received && !tr.Apply {
				t.Errorf("%s × %s: money-moving event dropped (%s)", st, k, tr.Reason)
			}
			if tr.Next.Status == StatusPaid && (tr.Next.Received != cur.Amount || tr.Next.ReceivedCurrency != cur.Currency) &&
				cur.Status != StatusPaid && tr.Review == nil {
				t.Errorf("%s × %s: paid without the confirmed amount and no review: %+v", st, k, tr.Next)
			}
			if tr.Next.RefundedAmount < cur.RefundedAmount || tr.Next.RefundedAmount > cur.Amount {
				t.Errorf("%s × %s: refunded %d -> %d out of range", st, k, cur.RefundedAmount, tr.Next.RefundedAmount)
			}
		}
	}
}

func TestReasons(t *testing.T) {
	tr := ApplyEvent(stateFor(StatusExpired), PaymentEvent{Kind: PaymentSucceeded, Amount: testTotal, Currency: "USD"})
	if !strings.Contains(tr.Reason, "late payment on expired session") {
		t.Errorf("reason %q", tr.Reason)
	}
	tr = ApplyEvent(stateFor(StatusOpen), PaymentEvent{Kind: PaymentSucceeded, Amount: 999, Currency: "USD"})
	if !tr.Apply || tr.Next.Status != StatusRequiresReview || !strings.Contains(tr.Reason, "9.99 USD") || !strings.Contains(tr.Reason, "10.00 USD") {
		t.Errorf("an underpayment must be held and explained: %+v", tr)
	}
	tr = ApplyEvent(stateFor(StatusPaid), PaymentEvent{Kind: PaymentFailed})
	if !strings.Contains(tr.Reason, "stale") {
		t.Errorf("reason %q", tr.Reason)
	}
}

func TestRefundSequences(t *testing.T) {
	s := stateFor(StatusPaid)
	steps := []struct {
		ev       PaymentEvent
		status   SessionStatus
		refunded int64
		event    DomainEvent
		apply    bool
	}{
		{PaymentEvent{Kind: PaymentPartiallyRefunded, Amount: 400}, StatusPartiallyRefunded, 400, EventSessionPartiallyRefunded, true},
		{PaymentEvent{Kind: PaymentPartiallyRefunded, Amount: 600}, StatusRefunded, 1000, EventSessionRefunded, true}, // sums to total
		{PaymentEvent{Kind: PaymentRefunded}, StatusRefunded, 1000, "", false},
	}
	for i, st := range steps {
		tr := ApplyEvent(s, st.ev)
		if tr.Next.Status != st.status || tr.Next.RefundedAmount != st.refunded || tr.DomainEvent != st.event || tr.Apply != st.apply {
			t.Fatalf("step %d: got %+v", i, tr)
		}
		s = tr.Next
	}

	// An over-refund applies what is left and flags the excess.
	tr := ApplyEvent(SessionState{Status: StatusPartiallyRefunded, Amount: 1000, Currency: "USD", RefundedAmount: 900},
		PaymentEvent{Kind: PaymentPartiallyRefunded, Amount: 500})
	if tr.Next.RefundedAmount != 1000 || tr.Next.Status != StatusRefunded || tr.Review == nil ||
		tr.Review.Reason != ReviewRefundExceedsPayment || tr.Review.Got != 500 || tr.Review.Expected != 100 ||
		!strings.Contains(tr.Reason, "flagged") {
		t.Fatalf("over-refund: %+v %+v", tr, tr.Review)
	}
	// A full refund larger than what was left is flagged too.
	tr = ApplyEvent(stateFor(StatusPaid), PaymentEvent{Kind: PaymentRefunded, Amount: 1500, Currency: "USD"})
	if tr.Next.Status != StatusRefunded || tr.Next.RefundedAmount != testTotal || tr.Review == nil || tr.Review.Reason != ReviewRefundExceedsPayment {
		t.Fatalf("full over-refund: %+v", tr)
	}
	// A partial refund in another currency is not counted, and flagged.
	tr = ApplyEvent(stateFor(StatusPaid), PaymentEvent{Kind: PaymentPartiallyRefunded, Amount: 100, Currency: "EUR"})
	if tr.Apply || tr.Review == nil || tr.Review.Reason != ReviewCurrencyMismatch {
		t.Fatalf("refund in another currency: %+v", tr)
	}
	// Refunds of an accepted underpayment count against what was received.
	held := SessionState{Status: StatusPaid, Amount: 1000, Currency: "USD", Received: 400, ReceivedCurrency: "USD"}
	tr = ApplyEvent(held, PaymentEvent{Kind: PaymentPartiallyRefunded, Amount: 400})
	if tr.Next.Status != StatusRefunded || tr.Next.RefundedAmount != 400 || tr.Review != nil {
		t.Fatalf("refund of an accepted underpayment: %+v", tr)
	}
	tr = ApplyEvent(held, PaymentEvent{Kind: PaymentPartiallyRefunded, Amount: 500})
	if tr.Next.RefundedAmount != 400 || tr.Review == nil || tr.Review.Reason != ReviewRefundExceedsPayment {
		t.Fatalf("refund beyond an accepted underpayment: %+v", tr)
	}
	// payment.refunded means fully refunded: a smaller amount reveals a lost
	// partial refund, and the end state still is refunded.
	tr = ApplyEvent(stateFor(StatusPaid), PaymentEvent{Kind: PaymentRefunded, Amount: 100})
	if tr.Next.Status != StatusRefunded || tr.Next.RefundedAmount != testTotal || !strings.Contains(tr.Reason, "remaining 1000") {
		t.Fatalf("refunded with amount: %+v", tr)
	}
	// A partial refund without an amount still records that money moved.
	tr = ApplyEvent(stateFor(StatusPaid), PaymentEvent{Kind: PaymentPartiallyRefunded})
	if !tr.Apply || tr.Next.Status != StatusPartiallyRefunded || tr.Next.RefundedAmount != 0 {
		t.Fatalf("amount-less partial refund: %+v", tr)
	}
	tr = ApplyEvent(stateFor(StatusPaid), PaymentEvent{Kind: PaymentRefunded, Amount: -5})
	if tr.Apply {
		t.Fatalf("negative refund applied: %+v", tr)
	}
}

func TestDisputeSequences(t *testing.T) {
	tests := []struct {
		name   string
		start  SessionState
		events []PaymentEventKind
		status SessionStatus
		state  DisputeState
	}{
		{"won restores paid", stateFor(StatusPaid), []PaymentEventKind{PaymentDisputed, PaymentDisputeWon}, StatusPaid, DisputeWon},
		{"won restores partial refund", stateFor(StatusPartiallyRefunded), []PaymentEventKind{PaymentDisputed, PaymentDisputeWon}, StatusPartiallyRefunded, DisputeWon},
		{"lost stays disputed", stateFor(StatusPaid), []PaymentEventKind{PaymentDisputed, PaymentDisputeLost}, StatusDisputed, DisputeLost},
		{"won after lost ignored", stateFor(StatusPaid), []PaymentEventKind{PaymentDisputed, PaymentDisputeLost, PaymentDisputeWon}, StatusDisputed, DisputeLost},
		{"late disputed after won ignored", stateFor(StatusPaid), []PaymentEventKind{PaymentDisputeWon, PaymentDisputed}, StatusPaid, DisputeWon},
		{"refund during dispute then won", stateFor(StatusPaid), []PaymentEventKind{PaymentDisputed, PaymentPartiallyRefunded, PaymentDisputeWon}, StatusPartiallyRefunded, DisputeWon},
		{"succeeded after dispute on expired ignored", stateFor(StatusExpired), []PaymentEventKind{PaymentDisputed, PaymentSucceeded}, StatusDisputed, DisputeOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.start
			for _, k := range tt.events {
				s = ApplyEvent(s, eventFor(k)).Next
			}
			if s.Status != tt.status || s.Dispute != tt.state {
				t.Fatalf("got %s/%q, want %s/%q", s.Status, s.Dispute, tt.status, tt.state)
			}
		})
	}
}

func TestExpireAndCancel(t *testing.T) {
	for _, st := range SessionStatuses() {
		cur := stateFor(st)
		exp, can := Expire(cur), Cancel(cur)
		if st == StatusOpen {
			if !exp.Apply || exp.Next.Status != StatusExpired || exp.DomainEvent != EventSessionExpired {
				t.Errorf("Expire(open) = %+v", exp)
			}
			if !can.Apply || can.Next.Status != StatusCanceled || can.DomainEvent != EventSessionCanceled {
				t.Errorf("Cancel(open) = %+v", can)
			}
			continue
		}
		// processing included: money may be in flight.
		if exp.Apply || exp.Next != cur || can.Apply || can.Next != cur {
			t.Errorf("%s: expire/cancel must not apply: %+v %+v", st, exp, can)
		}
	}
}

func TestParseSessionStatus(t *testing.T) {
	for _, st := range SessionStatuses() {
		if got, err := ParseSessionStatus(string(st)); err != nil || got != st {
			t.Errorf("ParseSessionStatus(%q) = %q, %v", st, got, err)
		}
	}
	_, err := ParseSessionStatus("failed") // deliberately not a session status
	assertDomainError(t, err, "invalid_status", "status")
}

func TestUnknownEventIgnored(t *testing.T) {
	cur := stateFor(StatusOpen)
	tr := ApplyEvent(cur, PaymentEvent{Kind: "payment.teleported"})
	if tr.Apply || tr.Next != cur || tr.Reason == "" {
		t.Fatalf("unknown event: %+v", tr)
	}
}

// The confirmed amount and currency decide: equal is paid, less or another
// currency is held for review, more is paid and flagged, none is not settled.
func TestConfirmedAmount(t *testing.T) {
	tests := []struct {
		name     string
		start    SessionStatus
		ev       PaymentEvent
		status   SessionStatus
		apply    bool
		event    DomainEvent
		review   ReviewReason
		received int64
	}{
		{"exact", StatusOpen, PaymentEvent{Kind: PaymentSucceeded, Amount: 1000, Currency: "USD"}, StatusPaid, true, EventSessionPaid, "", 1000},
		{"exact after processing", StatusProcessing, PaymentEvent{Kind: PaymentSucceeded, Amount: 1000, Currency: "USD"}, StatusPaid, true, EventSessionPaid, "", 1000},
		{"underpaid", StatusOpen, PaymentEvent{Kind: PaymentSucceeded, Amount: 50, Currency: "USD"}, StatusRequiresReview, true, EventSessionAmountMismatch, ReviewAmountMismatch, 50},
		{"underpaid by one minor unit", StatusProcessing, PaymentEvent{Kind: PaymentSucceeded, Amount: 999, Currency: "USD"}, StatusRequiresReview, true, EventSessionAmountMismatch, ReviewAmountMismatch, 999},
		{"other currency, same number", StatusOpen, PaymentEvent{Kind: PaymentSucceeded, Amount: 1000, Currency: "EUR"}, StatusRequiresReview, true, EventSessionAmountMismatch, ReviewCurrencyMismatch, 1000},
		{"overpaid", StatusOpen, PaymentEvent{Kind: PaymentSucceeded, Amount: 1500, Currency: "USD"}, StatusPaid, true, EventSessionPaid, ReviewAmountMismatch, 1500},
		{"late underpayment on expired", StatusExpired, PaymentEvent{Kind: PaymentSucceeded, Amount: 10, Currency: "USD"}, StatusRequiresReview, true, EventSessionAmountMismatch, ReviewAmountMismatch, 10},
		{"no amount on open", StatusOpen, PaymentEvent{Kind: PaymentSucceeded}, StatusProcessing, true, EventSessionProcessing, "", 0},
		{"amount without currency", StatusOpen, PaymentEvent{Kind: PaymentSucceeded, Amount: 1000}, StatusProcessing, true, EventSessionProcessing, "", 0},
		{"no amount on processing", StatusProcessing, PaymentEvent{Kind: PaymentSucceeded}, StatusProcessing, false, "", "", 0},
		{"no amount on expired", StatusExpired, PaymentEvent{Kind: PaymentSucceeded, Currency: "USD"}, StatusExpired, false, "", "", 0},
		{"disputed for more than paid", StatusPaid, PaymentEvent{Kind: PaymentDisputed, Amount: 2000, Currency: "USD"}, StatusDisputed, true, EventSessionDisputed, ReviewDisputeExceedsPayment, testTotal},
		{"disputed in full", StatusPaid, PaymentEvent{Kind: PaymentDisputed, Amount: 1000, Currency: "USD"}, StatusDisputed, true, EventSessionDisputed, "", testTotal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := ApplyEvent(stateFor(tt.start), tt.ev)
			gotReview := ReviewReason("")
			if tr.Review != nil {
				gotReview = tr.Review.Reason
				if tr.Review.Detail == "" || tr.Review.Event != tt.ev.Kind {
					t.Fatalf("review without detail or event: %+v", tr.Review)
				}
			}
			if tr.Next.Status != tt.status || tr.Apply != tt.apply || tr.DomainEvent != tt.event || gotReview != tt.review || tr.Next.Received != tt.received {
				t.Fatalf("got %s apply=%v event=%q review=%q received=%d (%s)", tr.Next.Status, tr.Apply, tr.DomainEvent, gotReview, tr.Next.Received, tr.Reason)
			}
			if unconfirmed := tt.ev.Kind == PaymentSucceeded && !tt.ev.Confirmed(); tr.Unconfirmed != unconfirmed {
				t.Fatalf("Unconfirmed = %v", tr.Unconfirmed)
			}
		})
	}
}

func TestAcceptHeldAndRefundDue(t *testing.T) {
	held := stateFor(StatusRequiresReview)
	tr := AcceptHeld(held)
	if !tr.Apply || tr.Next.Status != StatusPaid || tr.DomainEvent != EventSessionPaid || tr.Next.Received != testHeld {
		t.Fatalf("accept: %+v", tr)
	}
	if tr := AcceptHeld(stateFor(StatusPaid)); tr.Apply {
		t.Fatalf("accept on paid applied: %+v", tr)
	}
	under := ReviewFinding{Reason: ReviewAmountMismatch, Event: PaymentSucceeded, Expected: 1000, ExpectedCurrency: "USD", Got: 400, GotCurrency: "USD"}
	if m, ok := RefundDue(under, true); !ok || m != (Money{Amount: 400, Currency: "USD"}) {
		t.Fatalf("underpaid refund due = %v %v", m, ok)
	}
	over := ReviewFinding{Reason: ReviewAmountMismatch, Event: PaymentSucceeded, Expected: 1000, ExpectedCurrency: "USD", Got: 1500, GotCurrency: "USD"}
	if m, ok := RefundDue(over, false); !ok || m != (Money{Amount: 500, Currency: "USD"}) {
		t.Fatalf("overpaid refund due = %v %v", m, ok)
	}
	other := ReviewFinding{Reason: ReviewCurrencyMismatch, Event: PaymentSucceeded, Expected: 1000, ExpectedCurrency: "USD", Got: 900, GotCurrency: "EUR"}
	if m, ok := RefundDue(other, true); !ok || m != (Money{Amount: 900, Currency: "EUR"}) {
		t.Fatalf("currency refund due = %v %v", m, ok)
	}
	excess := ReviewFinding{Reason: ReviewRefundExceedsPayment, Event: PaymentPartiallyRefunded, Got: 500, Expected: 100}
	if _, ok := RefundDue(excess, false); ok {
		t.Fatal("a refund finding has nothing to refund")
	}
}
