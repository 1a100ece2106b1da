package fulfillment_test

import (
	"context"
	"testing"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/fulfillment/fulfillmenttest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// failingMailer fails every mail with err.
type failingMailer struct{ err error }

func (m failingMailer) ServiceReady(context.Context, fulfillment.ServiceMail) error     { return m.err }
func (m failingMailer) ServiceSuspended(context.Context, fulfillment.ServiceMail) error { return m.err }

// TestMailProblemsHoldNoPanelAction: a service-ready mail whose mail
// server is down stays pending for its retries, and an operator's suspend
// queued after it still runs at once; a mail Switchyard cannot send at all
// (no mailer configured) fails only that mail, without retries, and the
// service stays active.
func TestMailProblemsHoldNoPanelAction(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		mailAfter domain.ActionStatus
	}{
		{"mail server down", &domain.Error{Kind: domain.ErrUnavailable, Code: "mailer_unavailable", Message: "smtp: connection refused"}, domain.ActionPending},
		{"no mailer", &domain.Error{Kind: domain.ErrUnprocessable, Code: "mail_not_configured", Message: "no mailer is configured"}, domain.ActionFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
				e := fulfillmenttest.New(t, st, []config.ProductConfig{fulfillmenttest.HostingProduct("host-basic", "basic")})
				e.Ful.SetMailer(failingMailer{tc.err})
				ctx := context.Background()
				_, svc := e.PaidService(t, "o-m", "ann@customer.test", `[{"sku":"host-basic","domain":"shop4.example","username":"shopfour"}]`)
				if err := e.Ful.RunAction(ctx, action(t, e, svc, domain.ActionCreate).ID, false); err != nil {
					t.Fatal(err)
				}
				err := e.Ful.RunAction(ctx, action(t, e, svc, domain.ActionMailReady).ID, false)
				if got := action(t, e, svc, domain.ActionMailReady).Status; got != tc.mailAfter || (err != nil) != (tc.mailAfter == domain.ActionPending) {
					t.Fatalf("mail after a failed send: %s (job error %v), want %s", got, err, tc.mailAfter)
				}
				if _, err := e.Ful.Suspend(ctx, svc, fulfillment.OperatorRequest{Reason: "abuse", Operator: "test"}); err != nil {
					t.Fatal(err)
				}
				if err := e.Ful.RunAction(ctx, action(t, e, svc, domain.ActionSuspend).ID, false); err != nil {
					t.Fatal(err)
				}
				d, err := e.Ful.GetService(ctx, svc)
				if err != nil || d.Status != domain.ServiceSuspended || len(e.WHM.Calls("suspendacct")) != 1 {
					t.Fatalf("the suspend waited behind the mail: service %s, %d suspendacct (%v)", d.Status, len(e.WHM.Calls("suspendacct")), err)
				}
			})
		})
	}
}
