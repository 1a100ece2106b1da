package fulfillment_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/fulfillment/fulfillmenttest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// downMailer is a mail server that never answers: every send is a
// failure that may pass, so the mail action is retried.
type downMailer struct{ sends atomic.Int32 }

func (m *downMailer) ServiceReady(context.Context, fulfillment.ServiceMail) error {
	m.sends.Add(1)
	return fmt.Errorf("smtp: dial: %w", domain.ErrUnavailable)
}

func (m *downMailer) ServiceSuspended(context.Context, fulfillment.ServiceMail) error {
	m.sends.Add(1)
	return fmt.Errorf("smtp: dial: %w", domain.ErrUnavailable)
}

// TestPanelActionsDoNotWaitForMail: the service-ready mail of a new
// account keeps failing (its mail server is down); an operator's
// suspension queued after it reaches the panel at once instead of waiting
// behind the mail's retries; the mails stay pending, retried later.
func TestPanelActionsDoNotWaitForMail(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, []config.ProductConfig{fulfillmenttest.HostingProduct("host-basic", "basic")})
		mailer := &downMailer{}
		e.Ful.SetMailer(mailer)
		v, err := e.createSession(t, "o-mail", "10.00", `[{"sku":"host-basic","domain":"mail1.example","username":"mailone"}]`)
		if err != nil {
			t.Fatal(err)
		}
		e.Pay(t, v.SessionID, 1000)
		svc := e.services(t, v.SessionID)[0]
		pending := func() []fulfillment.ActionView {
			t.Helper()
			d, err := e.Ful.GetService(ctxT(t), svc.ID)
			if err != nil {
				t.Fatal(err)
			}
			var out []fulfillment.ActionView
			for _, a := range d.Actions {
				if a.Status == domain.ActionPending {
					out = append(out, a)
				}
			}
			return out
		}
		// The create runs; the ready mail is queued after it and fails.
		create := pending()
		if len(create) != 1 || create[0].Action != domain.ActionCreate {
			t.Fatalf("pending after paid: %+v", create)
		}
		if err := e.Ful.RunAction(ctxT(t), create[0].ID, false); err != nil {
			t.Fatalf("create: %v", err)
		}
		mail := pending()
		if len(mail) != 1 || mail[0].Action != domain.ActionMailReady {
			t.Fatalf("pending after the create: %+v", mail)
		}
		if err := e.Ful.RunAction(ctxT(t), mail[0].ID, false); !errors.Is(err, domain.ErrUnavailable) {
			t.Fatalf("ready mail with the server down: %v, want a retry", err)
		}

		if _, err := e.Ful.Suspend(ctxT(t), svc.ID, fulfillment.OperatorRequest{Reason: "abuse report", Operator: "api:alice"}); err != nil {
			t.Fatal(err)
		}
		acts := pending()
		idx := slices.IndexFunc(acts, func(a fulfillment.ActionView) bool { return a.Action == domain.ActionSuspend })
		if idx < 0 {
			t.Fatalf("no suspend queued: %+v", acts)
		}
		if err := e.Ful.RunAction(ctxT(t), acts[idx].ID, false); err != nil {
			t.Fatalf("suspend behind a failing mail: %v, want it run now", err)
		}
		if calls := e.WHM.Calls("suspendacct"); len(calls) != 1 {
			t.Fatalf("%d suspendacct calls, want 1", len(calls))
		}
		d, err := e.Ful.GetService(ctxT(t), svc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != domain.ServiceSuspended {
			t.Errorf("service %s, want suspended", d.Status)
		}
		// Left: the ready mail, still to retry, and the suspension's own mail.
		var left []domain.ServiceAction
		for _, a := range pending() {
			left = append(left, a.Action)
		}
		if !slices.Equal(left, []domain.ServiceAction{domain.ActionMailReady, domain.ActionMailSuspended}) {
			t.Errorf("pending after the suspension: %v, want the two mails", left)
		}
		if mailer.sends.Load() != 1 {
			t.Errorf("%d sends, want 1", mailer.sends.Load())
		}
	})
}
