package config

import "time"

// DomainsConfig sets the domain lifecycle (docs/domains.md): renewal
// reminders, how registrar operations are polled and the mail records.
type DomainsConfig struct {
	// ReminderDays is how many days before expiry the renewal reminder
	// (core/mail's domain_renewal_reminder, sent like every customer mail)
	// goes out.
	ReminderDays int `koanf:"reminder_days"`
	// PollInterval is the first wait between two polls of a registrar
	// operation; it doubles up to PollMax.
	PollInterval time.Duration `koanf:"poll_interval"`
	PollMax      time.Duration `koanf:"poll_max"`
	MailDNS      MailDNSConfig `koanf:"mail_dns"`
}

// MailDNSConfig is what the mail records contain.
type MailDNSConfig struct {
	// SPFInclude is merged into the apex SPF record.
	SPFInclude string `koanf:"spf_include"`
	// DKIM is the mail._domainkey TXT value; empty leaves DKIM out.
	DKIM string `koanf:"dkim"`
	// DMARCPolicy is the DMARC p= value: none, quarantine or reject.
	DMARCPolicy string `koanf:"dmarc_policy"`
}

func defaultDomains() DomainsConfig {
	return DomainsConfig{ReminderDays: 30, PollInterval: 15 * time.Second, PollMax: time.Hour,
		MailDNS: MailDNSConfig{SPFInclude: "mxlogin.com", DMARCPolicy: "quarantine"}}
}

func (v *validator) domains(c DomainsConfig) {
	if c.ReminderDays < 1 || c.ReminderDays > 365 {
		v.add("domains.reminder_days", "must be between 1 and 365")
	}
	v.positive("domains.poll_interval", c.PollInterval)
	if c.PollMax < c.PollInterval {
		v.add("domains.poll_max", "must be at least domains.poll_interval")
	}
	v.oneOf("domains.mail_dns.dmarc_policy", c.MailDNS.DMARCPolicy, []string{"none", "quarantine", "reject"})
	if c.MailDNS.SPFInclude == "" {
		v.add("domains.mail_dns.spf_include", "is required (the domain SPF includes, e.g. mxlogin.com)")
	}
}
