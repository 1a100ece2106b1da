package app

import (
	"context"

	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/mail"
	"github.com/switchyard/switchyard/core/payments"
)

var (
	_ payments.EventSink     = (*fulfillment.Service)(nil)
	_ payments.Items         = (*fulfillment.Service)(nil)
	_ payments.Subscriptions = (*fulfillment.Service)(nil)
	_ fulfillment.Mailer     = serviceMailer{}
)

// serviceMailer sends fulfillment's service mails through the mail
// package's templates and the merchant's mail settings.
type serviceMailer struct{ m *mail.Service }

func (s serviceMailer) ServiceReady(ctx context.Context, sm fulfillment.ServiceMail) error {
	d := mail.ServiceReadyData{Customer: mail.Customer{Email: sm.To, Name: sm.CustomerName}, ServiceID: sm.ServiceID,
		Product: sm.Product, Domain: sm.Domain, Username: sm.Username, Password: sm.Password, LoginURL: sm.LoginURL, OrderID: sm.OrderID}
	if sm.Server != "" {
		// cPanel's own port on the account's server.
		d.PanelURL = "https://" + sm.Server + ":2083"
	}
	return s.m.ServiceReady(ctx, sm.MerchantID, sm.To, d)
}

func (s serviceMailer) ServiceSuspended(ctx context.Context, sm fulfillment.ServiceMail) error {
	return s.m.ServiceSuspended(ctx, sm.MerchantID, sm.To, mail.ServiceSuspendedData{
		Customer: mail.Customer{Email: sm.To, Name: sm.CustomerName}, ServiceID: sm.ServiceID, Product: sm.Product,
		Domain: sm.Domain, Username: sm.Username, Reason: sm.Reason, SuspendedAt: sm.SuspendedAt})
}

// buildFulfillment builds the fulfillment service once (products of the
// file, the provisioner plugins, the keyring for secrets at rest).
func (a *App) buildFulfillment() error {
	if a.Fulfillment != nil {
		return nil
	}
	kinds := make(map[string]string, len(a.Config.Plugins.Instances))
	for _, in := range a.Config.Plugins.Instances {
		kinds[in.ID] = in.Kind
	}
	ful, err := fulfillment.New(fulfillment.Deps{
		Store:        a.Store,
		Jobs:         a.enq,
		Provisioners: a.Plugins,
		Keyring:      a.Keyring,
		Products:     a.Config.Products,
		Config:       a.Config.Fulfillment,
		InstanceKind: func(id string) string { return kinds[id] },
		Logger:       a.Logger,
	})
	if err != nil {
		return err
	}
	if a.Mail != nil {
		ful.SetMailer(serviceMailer{a.Mail})
	}
	a.Fulfillment = ful
	return nil
}
