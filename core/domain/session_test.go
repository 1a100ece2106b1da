package domain

import (
	"strings"
	"testing"
)

const testTotal = 1000

// representative state for each status, as the payments service would load it
func stateFor(st SessionStatus) SessionState {
	s := SessionState{Status: st, Amount: testTotal}
	switch st {
	case StatusPartiallyRefunded:
		s.RefundedAmount = 300
	case StatusRefunded:
		s.RefundedAmount = testTotal
	case StatusDisputed:
		s.Dispute = DisputeOpen
	}
	return s
}

// the event each kind is tested with: a full refund without amount, a
// partial refund of 200, the rest without amounts
func eventFor(k PaymentEventKind) PaymentEvent {
	if k == PaymentPartiallyRefunded {
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
		PaymentDisputeWon:        {StatusPaid, true, EventSessionDisputeWon, 0},
		PaymentDisputeLost:       {StatusDisputed, true, EventSessionDisputeLost, 0},
	},
	StatusProcessing: {
		PaymentSucceeded:         {StatusPaid, true, EventSessionPaid, 0},
		PaymentFailed:            {StatusOpen, true, EventSessionFailed, 0}, // shopper may retry
		PaymentProcessing:        {StatusProcessing, false, "", 0},
		PaymentRefunded:          {StatusRefunded, true, EventSessionRefunded, testTotal},
		PaymentPartiallyRefunded: {StatusPartiallyRefunded, true, EventSessionPartiallyRefunded, 200},
		PaymentDisputed:          {StatusDisputed, true, EventSessionDisputed, 0},
		PaymentDisputeWon:        {StatusPaid, true, EventSessionDisputeWon, 0},
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
		PaymentDisputeWon:        {StatusPaid, true, EventSessionDisputeWon, 0},
		PaymentDisputeLost:       {StatusDisputed, true, EventSessionDisputeLost, 0},
	},
	StatusCanceled: {
		PaymentSucceeded:         {StatusPaid, true, EventSessionPaid, 0},
		PaymentFailed:            {StatusCanceled, false, "", 0},
		PaymentProcessing:        {StatusCanceled, false, "", 0},
		PaymentRefunded:          {StatusRefunded, true, EventSessionRefunded, testTotal},
		PaymentPartiallyRefunded: {StatusPartiallyRefunded, true, EventSessionPartiallyRefunded, 200},
		PaymentDisputed:          {StatusDisputed, true, EventSessionDisputed, 0},
		PaymentDisputeWon:        {StatusPaid, true, EventSessionDisputeWon, 0},
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
			if cur.Status.MoneyReceived() && !tr.Next.Status.MoneyReceived() {
				t.Errorf("%s × %s moved backwards to %s", st, k, tr.Next.Status)
			}
			if k.MovesMoney() && !cur.Status.MoneyReceived() && !tr.Apply {
				t.Errorf("%s × %s: money-moving event dropped (%s)", st, k, tr.Reason)
			}
			if tr.Next.RefundedAmount < cur.RefundedAmount || tr.Next.RefundedAmount > cur.Amount {
				t.Errorf("%s × %s: refunded %d -> %d out of range", st, k, cur.RefundedAmount, tr.Next.RefundedAmount)
			}
		}
	}
}

func TestReasons(t *testing.T) {
	tr := ApplyEvent(stateFor(StatusExpired), PaymentEvent{Kind: PaymentSucceeded})
	if !strings.Contains(tr.Reason, "late payment on expired session") {
		t.Errorf("reason %q", tr.Reason)
	}
	tr = ApplyEvent(stateFor(StatusOpen), PaymentEvent{Kind: PaymentSucceeded, Amount: 999})
	if !tr.Apply || !strings.Contains(tr.Reason, "999") {
		t.Errorf("amount mismatch must apply and be noted: %+v", tr)
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

	// An over-refund is capped at the total, and the cap is explained.
	tr := ApplyEvent(SessionState{Status: StatusPartiallyRefunded, Amount: 1000, RefundedAmount: 900},
		PaymentEvent{Kind: PaymentPartiallyRefunded, Amount: 500})
	if tr.Next.RefundedAmount != 1000 || tr.Next.Status != StatusRefunded || !strings.Contains(tr.Reason, "capped") {
		t.Fatalf("over-refund: %+v", tr)
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
