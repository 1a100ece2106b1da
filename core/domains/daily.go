package domains

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// DailyArgs is the periodic job that expires domains and mails renewal
// reminders.
type DailyArgs struct{}

// Kind implements river.JobArgs.
func (DailyArgs) Kind() string { return "domains_daily" }

type dailyWorker struct {
	river.WorkerDefaults[DailyArgs]
	svc *Service
}

func (w *dailyWorker) Timeout(*river.Job[DailyArgs]) time.Duration { return 30 * time.Minute }

func (w *dailyWorker) Work(ctx context.Context, _ *river.Job[DailyArgs]) error {
	_, err := w.svc.Daily(ctx)
	return err
}

// PeriodicJobs is the daily job, run once a day cluster-wide (and at
// start, so a server that was down at its hour catches up).
func (s *Service) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return DailyArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: "domains_daily"})}
}

// DailyReport says what one daily run did.
type DailyReport struct {
	Expired  []string `json:"expired"`
	Reminded []string `json:"reminded"`
	Skipped  []string `json:"skipped"`
}

// dailyBatch bounds the domains one run looks at.
const dailyBatch = 1000

// Daily emits domain.expired, once per expiry, for active domains past
// their expiry, and mails the registrant a reminder, once per expiry, for
// active domains expiring within the reminder window. A domain's expiry
// is read from the registrar first (it may have been renewed there, by
// auto-renew or an operator); one whose registrar cannot answer is
// skipped until the next run.
func (s *Service) Daily(ctx context.Context) (*DailyReport, error) {
	now := s.now()
	ds, err := s.store.DomainsExpiringBefore(ctx, now.Add(s.reminder), dailyBatch)
	if err != nil {
		return nil, err
	}
	rep := &DailyReport{Expired: []string{}, Reminded: []string{}, Skipped: []string{}}
	var errs []error
	for _, d := range ds {
		if d.Status != StatusActive {
			continue
		}
		if err := s.refreshExpiry(ctx, d); err != nil {
			rep.Skipped = append(rep.Skipped, d.Name)
			s.log.WarnContext(ctx, "domain expiry not checked", "domain", d.Name, "err", err)
			continue
		}
		switch {
		case d.ExpiresAt.Before(now):
			if err := s.expire(ctx, d); err != nil {
				errs = append(errs, err)
				continue
			}
			rep.Expired = append(rep.Expired, d.Name)
		case d.ExpiresAt.Before(now.Add(s.reminder)) && (d.RemindedFor == nil || !d.RemindedFor.Equal(*d.ExpiresAt)):
			sent, err := s.remind(ctx, d)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if sent {
				rep.Reminded = append(rep.Reminded, d.Name)
			}
		}
	}
	return rep, errors.Join(errs...)
}

// refreshExpiry reads the domain's expiry from its registrar and stores it.
func (s *Service) refreshExpiry(ctx context.Context, d *store.Domain) error {
	reg, err := s.registrar(d.RegistrarID)
	if err != nil {
		return err
	}
	callCtx, cancel := context.WithTimeout(ctx, callTimeout)
	got, err := reg.GetDomain(callCtx, registrar.GetDomainRequest{Domain: d.Name})
	cancel()
	if err != nil {
		return err
	}
	if got.ExpiresAt.IsZero() {
		return fmt.Errorf("the registrar reports no expiry for %s", d.Name)
	}
	return s.updateLocked(ctx, d, func(cur *store.Domain) { applyDetail(cur, &got) })
}

// updateLocked changes the domain under its session's lock (lockDomainTx)
// and leaves d as stored.
func (s *Service) updateLocked(ctx context.Context, d *store.Domain, change func(cur *store.Domain)) error {
	return s.store.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r := s.store.InTx(tx)
		cur, err := lockDomainTx(ctx, r, d)
		if err != nil {
			return err
		}
		change(cur)
		cur.UpdatedAt = s.now()
		if err := r.UpdateDomain(ctx, cur); err != nil {
			return err
		}
		*d = *cur
		return nil
	})
}

// expire marks a domain expired and emits domain.expired, once per expiry.
func (s *Service) expire(ctx context.Context, d *store.Domain) error {
	return s.store.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r := s.store.InTx(tx)
		cur, err := lockDomainTx(ctx, r, d)
		if err != nil {
			return err
		}
		if cur.ExpiredFor != nil && cur.ExpiresAt != nil && cur.ExpiredFor.Equal(*cur.ExpiresAt) {
			return nil
		}
		cur.Status, cur.ExpiredFor, cur.UpdatedAt = StatusExpired, cur.ExpiresAt, s.now()
		if err := r.UpdateDomain(ctx, cur); err != nil {
			return err
		}
		return s.emitTx(ctx, r, tx, cur, nil, domain.EventDomainExpired)
	})
}

// remind mails the registrant that the domain expires soon and records it.
// The mail goes out before the record, so a crash in between sends it
// again next day (with the same idempotency key) rather than never.
func (s *Service) remind(ctx context.Context, d *store.Domain) (bool, error) {
	if s.mailer == nil {
		s.log.WarnContext(ctx, "no renewal reminder sent: no mail service", "domain", d.Name)
		return false, nil
	}
	if d.ContactEmail == "" {
		return false, nil
	}
	if err := s.mailer.DomainRenewal(ctx, d.MerchantID, d.ContactEmail, d.ID, DisplayName(d.Name), *d.ExpiresAt); err != nil {
		return false, fmt.Errorf("renewal reminder for %s: %w", d.Name, err)
	}
	remindedFor := *d.ExpiresAt
	return true, s.updateLocked(ctx, d, func(cur *store.Domain) { cur.RemindedFor = &remindedFor })
}
