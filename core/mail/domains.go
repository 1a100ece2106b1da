package mail

import (
	"context"
	"strconv"
	"time"
)

// DomainRenewalReminder is the template of a domain's renewal reminder.
const DomainRenewalReminder Name = "domain_renewal_reminder"

// DomainRenewalData is DomainRenewalReminder's data.
type DomainRenewalData struct {
	Merchant  Merchant
	Customer  Customer
	DomainID  string    `mail:"the domain id (dom_…)"`
	Domain    string    `mail:"the domain, in its Unicode form"`
	ExpiresAt time.Time `mail:"when the registration expires"`
}

func sampleDomainRenewal(full bool) DomainRenewalData {
	return DomainRenewalData{Merchant: sampleMerchant(full), Customer: sampleCustomer(full), DomainID: "dom_01JEXAMPLE",
		Domain: "ann.example", ExpiresAt: sampleTime.AddDate(0, 1, 0)}
}

// DomainRenewal mails the registrant of a domain that it expires soon,
// from the merchant (its mail settings, else mail.mailer); core/domains'
// daily job calls it once per expiry date. The idempotency key is the
// domain and its expiry.
func (s *Service) DomainRenewal(ctx context.Context, merchantID int64, to, domainID, name string, expiresAt time.Time) error {
	env, m, err := s.customerMail(ctx, merchantID)
	if err != nil {
		return err
	}
	data := DomainRenewalData{Merchant: m, Customer: Customer{Email: to}, DomainID: domainID, Domain: name, ExpiresAt: expiresAt}
	return s.send(ctx, outgoing{merchantID: merchantID, name: DomainRenewalReminder, to: to, data: data, env: env,
		key: "domain_renewal_" + domainID + "_" + strconv.FormatInt(expiresAt.Unix(), 10)})
}
