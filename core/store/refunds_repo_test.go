package store_test

import (
	"fmt"
	"testing"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// TestReserveRefundFollowsTheDomain keeps ReserveRefund's SQL (what may be
// refunded, and when) equal to domain.CheckRefund over
// SessionState.RefundBase: for every case the largest amount the domain
// allows is reserved, and one minor unit more is refused.
func TestReserveRefundFollowsTheDomain(t *testing.T) {
	type tc struct {
		status            domain.SessionStatus
		dispute           domain.DisputeState
		received          int64
		receivedCurrency  string
		refunded, pending int64
	}
	var cases []tc
	for _, st := range []domain.SessionStatus{domain.StatusOpen, domain.StatusPaid, domain.StatusPartiallyRefunded,
		domain.StatusRefunded, domain.StatusRequiresReview, domain.StatusDisputed, domain.StatusExpired} {
		for _, rc := range []struct {
			amount int64
			cur    string
		}{{0, ""}, {4995, "USD"}, {1000, "USD"}, {5995, "USD"}, {1000, "EUR"}} {
			for _, rp := range [][2]int64{{0, 0}, {500, 0}, {0, 700}, {400, 500}, {4995, 0}} {
				cases = append(cases, tc{status: st, received: rc.amount, receivedCurrency: rc.cur, refunded: rp[0], pending: rp[1]})
			}
		}
	}
	cases = append(cases, tc{status: domain.StatusPaid, dispute: domain.DisputeWon, received: 4995, receivedCurrency: "USD"},
		tc{status: domain.StatusDisputed, dispute: domain.DisputeOpen, received: 4995, receivedCurrency: "USD"},
		tc{status: domain.StatusDisputed, dispute: domain.DisputeLost, received: 4995, receivedCurrency: "USD"})

	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "R", Plan: store.PlanFree, Domains: []string{"shop.test"}})
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cases {
			sess := newTestSession(m.ID, fmt.Sprintf("R-%d", i), c.status)
			sess.Dispute, sess.AmountReceived, sess.CurrencyReceived = c.dispute, c.received, c.receivedCurrency
			sess.AmountRefunded, sess.AmountRefundPending = c.refunded, c.pending
			if err := s.InsertSession(ctx, sess); err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			st := domain.RefundState{Status: c.status, Dispute: c.dispute, Currency: "USD", ReceivedCurrency: domain.Currency(c.receivedCurrency),
				Base: sess.State().RefundBase(), Refunded: c.refunded, Pending: c.pending}
			left, _, err := domain.CheckRefund(st, 0)
			if err != nil {
				left = 0
			}
			if left > 0 {
				ok, err := s.ReserveRefund(ctx, sess.ID, left+1, sess.UpdatedAt)
				if err != nil || ok {
					t.Errorf("case %+v: reserved %d, one more than the domain allows (%v)", c, left+1, err)
				}
				ok, err = s.ReserveRefund(ctx, sess.ID, left, sess.UpdatedAt)
				if err != nil || !ok {
					t.Errorf("case %+v: could not reserve the %d the domain allows (%v)", c, left, err)
				}
			} else if ok, err := s.ReserveRefund(ctx, sess.ID, 1, sess.UpdatedAt); err != nil || ok {
				t.Errorf("case %+v: reserved 1 where the domain allows nothing (%v)", c, err)
			}
		}
	})
}
