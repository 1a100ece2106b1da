package fulfillment_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/fulfillment/fulfillmenttest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// TestDisputePausesPendingAction: a dispute arrives while the create of a
// paid session's service is still pending (its job not run yet). The
// service is paused; the job, when it runs, makes no panel call and leaves
// the action paused; an operator's resume queues it again and it creates
// the account once.
func TestDisputePausesPendingAction(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := fulfillmenttest.New(t, st, []config.ProductConfig{fulfillmenttest.HostingProduct("host-basic", "basic")})
		ctx := context.Background()
		sessionID, svc := e.PaidService(t, "o-d", "ann@customer.test", `[{"sku":"host-basic","domain":"shop3.example","username":"shopthree"}]`)
		create := action(t, e, svc, domain.ActionCreate)
		if create.Status != domain.ActionPending {
			t.Fatalf("create before the dispute: %s", create.Status)
		}

		// The dispute as payments delivers it: session.disputed inserted in
		// the transaction that applies the provider's event.
		if err := st.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			sess, err := store.NewRepo(tx).LockSession(ctx, sessionID)
			if err != nil {
				return err
			}
			return e.Ful.EventsInserted(ctx, tx, sess, &store.Event{Type: string(domain.EventSessionDisputed), SessionID: sessionID})
		}); err != nil {
			t.Fatal(err)
		}
		d, err := e.Ful.GetService(ctx, svc)
		if err != nil || !d.Paused || action(t, e, svc, domain.ActionCreate).Status != domain.ActionPaused {
			t.Fatalf("after the dispute: paused %v, create %s (%v)", d.Paused, action(t, e, svc, domain.ActionCreate).Status, err)
		}
		// The create's job runs anyway (it was enqueued before): nothing happens.
		if err := e.Ful.RunAction(ctx, create.ID, false); err != nil {
			t.Fatal(err)
		}
		if n := len(e.WHM.Calls("createacct", "accountsummary")); n != 0 || e.WHM.Accounts() != 0 {
			t.Fatalf("a paused create reached WHM: %d calls, %d accounts", n, e.WHM.Accounts())
		}

		if _, err := e.Ful.Resume(ctx, svc, fulfillment.OperatorRequest{Operator: "test"}); err != nil {
			t.Fatal(err)
		}
		e.RunPending(t, svc, false)
		d, err = e.Ful.GetService(ctx, svc)
		if err != nil || d.Paused || d.Status != domain.ServiceActive || e.WHM.Accounts() != 1 || len(e.WHM.Calls("createacct")) != 1 {
			t.Fatalf("after resume: %+v %v; %d accounts", d.ServiceView, err, e.WHM.Accounts())
		}
		if _, err := e.Ful.Resume(ctx, svc, fulfillment.OperatorRequest{}); err == nil {
			t.Error("resuming a service that is not paused succeeded")
		}
	})
}

// action is the service's first action of kind a.
func action(t *testing.T, e *fulfillmenttest.Env, serviceID string, a domain.ServiceAction) fulfillment.ActionView {
	t.Helper()
	d, err := e.Ful.GetService(context.Background(), serviceID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range d.Actions {
		if v.Action == a {
			return v
		}
	}
	t.Fatalf("service %s has no %s action", serviceID, a)
	return fulfillment.ActionView{}
}
