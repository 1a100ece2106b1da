package app

import (
	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/core/payments"
)

// buildDomains builds the domain lifecycle service: registrar calls
// through the plugin host, events in the payments service's session
// sequences, renewal reminders through the mail service.
func (a *App) buildDomains(pay *payments.Service) (*domains.Service, error) {
	cfg := a.Config.Domains
	return domains.New(domains.Deps{
		Store:        a.Store,
		Jobs:         a.enq,
		Registrars:   a.Plugins,
		Events:       pay,
		Keyring:      a.Keyring,
		Mailer:       a.Mail,
		MailDNS:      domains.MailDNS{SPFInclude: cfg.MailDNS.SPFInclude, DKIM: cfg.MailDNS.DKIM, DMARCPolicy: cfg.MailDNS.DMARCPolicy},
		ReminderDays: cfg.ReminderDays,
		PollBase:     cfg.PollInterval,
		PollMax:      cfg.PollMax,
		Logger:       a.Logger,
	})
}
