package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/store"
)

// PaymentReceiptArgs is the durable job that mails a paid session's
// receipt, enqueued with the session.paid event.
type PaymentReceiptArgs struct {
	SessionID string `json:"session_id"`
}

// Kind implements river.JobArgs.
func (PaymentReceiptArgs) Kind() string { return "mail_payment_receipt" }

// RefundReceiptArgs is the durable job that mails a refund's receipt,
// enqueued with the refund.succeeded event.
type RefundReceiptArgs struct {
	RefundID string `json:"refund_id"`
}

// Kind implements river.JobArgs.
func (RefundReceiptArgs) Kind() string { return "mail_refund_receipt" }

// SendPolicy is the receipts' retry policy: 12 attempts, waits doubling
// from 30 s to an hour (about 7 hours in all), for a mail server that is
// down or greylisting.
func SendPolicy() jobs.RetryPolicy {
	return jobs.Exponential(12, 30*time.Second, time.Hour, 0.2)
}

// EventsInserted implements payments.EventSink: inside the transaction
// that inserted session.paid or refund.succeeded, it enqueues the receipt
// job when the merchant enabled receipts and the session has a customer
// email. Other events are ignored.
func (s *Service) EventsInserted(ctx context.Context, tx bun.Tx, sess *store.Session, events ...*store.Event) error {
	if sess.CustomerEmail == "" || s.jobs == nil {
		return nil
	}
	var enabled *bool
	r := s.store.InTx(tx)
	for _, ev := range events {
		var (
			args river.JobArgs
			key  string
		)
		switch domain.DomainEvent(ev.Type) {
		case domain.EventSessionPaid:
			args, key = PaymentReceiptArgs{SessionID: sess.ID}, "payment_receipt:"+sess.ID
		case domain.EventRefundSucceeded:
			var data struct {
				RefundID string `json:"refund_id"`
			}
			if err := json.Unmarshal([]byte(ev.Data), &data); err != nil || data.RefundID == "" {
				return fmt.Errorf("mail: refund.succeeded event %s carries no refund_id", ev.ID)
			}
			args, key = RefundReceiptArgs{RefundID: data.RefundID}, "refund_receipt:"+data.RefundID
		default:
			continue
		}
		if enabled == nil {
			ms, _, err := r.MailSettings(ctx, sess.MerchantID)
			if err != nil {
				return err
			}
			enabled = &ms.ReceiptsEnabled
		}
		if !*enabled {
			return nil
		}
		// Once per session and per refund, ever (a session paid again
		// after a dispute gets no second receipt).
		first, err := r.ClaimMailReceipt(ctx, key, sess.MerchantID)
		if err != nil {
			return err
		}
		if !first {
			continue
		}
		if _, err := s.jobs.EnqueueTx(ctx, tx, args, nil); err != nil {
			return fmt.Errorf("mail: enqueue %s: %w", args.Kind(), err)
		}
	}
	return nil
}

// RegisterJobs adds the receipt workers to a job registry.
func (s *Service) RegisterJobs(reg *jobs.Registry) error {
	if err := jobs.Register(reg, &paymentReceiptWorker{svc: s}, SendPolicy()); err != nil {
		return err
	}
	return jobs.Register(reg, &refundReceiptWorker{svc: s}, SendPolicy())
}

type paymentReceiptWorker struct {
	river.WorkerDefaults[PaymentReceiptArgs]
	svc *Service
}

func (w *paymentReceiptWorker) Work(ctx context.Context, job *river.Job[PaymentReceiptArgs]) error {
	return jobResult(w.svc.SendPaymentReceipt(ctx, job.Args.SessionID))
}

type refundReceiptWorker struct {
	river.WorkerDefaults[RefundReceiptArgs]
	svc *Service
}

func (w *refundReceiptWorker) Work(ctx context.Context, job *river.Job[RefundReceiptArgs]) error {
	return jobResult(w.svc.SendRefundReceipt(ctx, job.Args.RefundID))
}

// jobResult cancels a job whose error retrying cannot fix (a refused
// recipient, no mailer configured) and retries the others.
func jobResult(err error) error {
	if err != nil && Permanent(err) {
		return river.JobCancel(err)
	}
	return err
}

// errSkipped is a receipt that is not to be sent (receipts were turned off
// after it was enqueued).
var errSkipped = errors.New("receipts are off")

// SendPaymentReceipt mails the receipt of a paid session to its customer.
// It is what the receipt job runs; its idempotency key is the session id.
func (s *Service) SendPaymentReceipt(ctx context.Context, sessionID string) error {
	sess, err := s.store.GetSession(ctx, sessionID)
	if err != nil {
		return err
	}
	env, m, err := s.receiptEnvelope(ctx, sess)
	if errors.Is(err, errSkipped) {
		return nil
	}
	if err != nil {
		return err
	}
	amount, currency := received(sess)
	data := PaymentReceiptData{Merchant: m, Customer: Customer{Email: sess.CustomerEmail}, SessionID: sess.ID,
		OrderID: sess.OrderID, Site: sess.Domain, Amount: domain.FormatAmount(amount, domain.Currency(currency)),
		Currency: currency, Method: sess.Method, Test: sess.Mode == store.ModeTest}
	if sess.PaidAt != nil {
		data.PaidAt = *sess.PaidAt
	}
	return s.send(ctx, outgoing{merchantID: sess.MerchantID, name: PaymentReceipt, to: sess.CustomerEmail, data: data,
		env: env, key: "payment_receipt_" + sess.ID})
}

// SendRefundReceipt mails the receipt of a succeeded refund to the
// session's customer; its idempotency key is the refund id.
func (s *Service) SendRefundReceipt(ctx context.Context, refundID string) error {
	rf, err := s.store.GetRefund(ctx, refundID)
	if err != nil {
		return err
	}
	if rf.Status != domain.RefundSucceeded {
		return domain.Unprocessable("refund_not_succeeded", "", "refund %s is %s, not succeeded", rf.ID, rf.Status)
	}
	sess, err := s.store.GetSession(ctx, rf.SessionID)
	if err != nil {
		return err
	}
	env, m, err := s.receiptEnvelope(ctx, sess)
	if errors.Is(err, errSkipped) {
		return nil
	}
	if err != nil {
		return err
	}
	paid, paidCurrency := received(sess)
	data := RefundReceiptData{Merchant: m, Customer: Customer{Email: sess.CustomerEmail}, SessionID: sess.ID,
		OrderID: sess.OrderID, Site: sess.Domain, RefundID: rf.ID, Amount: domain.FormatAmount(rf.Amount, domain.Currency(rf.Currency)),
		Currency: rf.Currency, PaidAmount: domain.FormatAmount(paid, domain.Currency(paidCurrency)), Full: rf.FullRefund,
		Reason: string(rf.Reason), Test: sess.Mode == store.ModeTest, RefundedAt: rf.UpdatedAt}
	if rf.SettledAt != nil {
		data.RefundedAt = *rf.SettledAt
	}
	return s.send(ctx, outgoing{merchantID: sess.MerchantID, name: RefundReceipt, to: sess.CustomerEmail, data: data,
		env: env, key: "refund_receipt_" + rf.ID})
}

// receiptEnvelope is how a session's receipt is sent, or errSkipped when
// the merchant has turned receipts off since the job was enqueued.
func (s *Service) receiptEnvelope(ctx context.Context, sess *store.Session) (envelope, Merchant, error) {
	ms, _, err := s.store.MailSettings(ctx, sess.MerchantID)
	if err != nil {
		return envelope{}, Merchant{}, err
	}
	if !ms.ReceiptsEnabled {
		s.log.InfoContext(ctx, "mail: receipts were turned off; receipt not sent", "merchant_id", sess.MerchantID, "session_id", sess.ID)
		return envelope{}, Merchant{}, errSkipped
	}
	m, err := s.merchant(ctx, s.store.Repo, sess.MerchantID)
	if err != nil {
		return envelope{}, Merchant{}, err
	}
	env, err := s.customerEnvelope(ms)
	return env, m, err
}

// received is what the provider confirmed the customer paid (the
// session's amount until a provider confirmed one).
func received(sess *store.Session) (int64, string) {
	if sess.CurrencyReceived != "" {
		return sess.AmountReceived, sess.CurrencyReceived
	}
	return sess.Amount, sess.Currency
}
