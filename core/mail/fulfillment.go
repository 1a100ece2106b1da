package mail

import (
	"context"
	"strconv"
)

// ServiceReady mails a customer the login details of their new hosting
// account, from the merchant (its mail settings, else mail.mailer). It
// sends at once: the mail carries the password, which must not be written
// to a job, an event or a log, so the fulfillment job that holds it calls
// this and retries on error. Merchant in data is filled in here;
// Customer.Email defaults to to. The idempotency key is the service id,
// so a retried mail keeps its Message-ID.
func (s *Service) ServiceReady(ctx context.Context, merchantID int64, to string, data ServiceReadyData) error {
	env, m, err := s.customerMail(ctx, merchantID)
	if err != nil {
		return err
	}
	data.Merchant = m
	if data.Customer.Email == "" {
		data.Customer.Email = to
	}
	return s.send(ctx, outgoing{merchantID: merchantID, name: ServiceReady, to: to, data: data, env: env,
		key: "service_ready_" + data.ServiceID})
}

// ServiceSuspended mails a customer that their hosting account was
// suspended. The idempotency key is the service id and the suspension
// time, so each suspension is one message however often it is retried.
func (s *Service) ServiceSuspended(ctx context.Context, merchantID int64, to string, data ServiceSuspendedData) error {
	env, m, err := s.customerMail(ctx, merchantID)
	if err != nil {
		return err
	}
	data.Merchant = m
	if data.Customer.Email == "" {
		data.Customer.Email = to
	}
	if data.SuspendedAt.IsZero() {
		data.SuspendedAt = s.clock().UTC()
	}
	return s.send(ctx, outgoing{merchantID: merchantID, name: ServiceSuspended, to: to, data: data, env: env,
		key: "service_suspended_" + data.ServiceID + "_" + strconv.FormatInt(data.SuspendedAt.Unix(), 10)})
}

// customerMail is how merchantID's customer mail is sent, and the
// merchant as templates see it.
func (s *Service) customerMail(ctx context.Context, merchantID int64) (envelope, Merchant, error) {
	m, err := s.merchant(ctx, s.store.Repo, merchantID)
	if err != nil {
		return envelope{}, Merchant{}, err
	}
	ms, _, err := s.store.MailSettings(ctx, merchantID)
	if err != nil {
		return envelope{}, Merchant{}, err
	}
	env, err := s.customerEnvelope(ms)
	return env, m, err
}
