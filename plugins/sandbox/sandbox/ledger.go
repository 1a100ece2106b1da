package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/switchyard/switchyard/sdk/provider"
)

// Ledger record operations. Each line of a ledger file is one JSON record.
const (
	// OpPayment: CreatePayment made a payment (Ref, SessionID, Amount,
	// Currency, Method, Key = the create idempotency key).
	OpPayment = "payment"
	// OpStatus: a verified callback settled the payment (Ref, Status).
	OpStatus = "status"
	// OpRefund: money went back (Ref, RefundRef, Amount, Key = the refund
	// idempotency key). Exactly one per refund the sandbox executed: count
	// these to know how many provider refunds happened.
	OpRefund = "refund"
	// OpRefundDeclined: a refund was refused on its merits (the magic
	// amount); nothing moved.
	OpRefundDeclined = "refund_declined"
	// OpRefundUnavailable: a refund call failed as if the upstream were
	// down (the magic amount, first call per key); nothing moved.
	OpRefundUnavailable = "refund_unavailable"
)

// LedgerRecord is one line of the sandbox ledger.
type LedgerRecord struct {
	Op        string    `json:"op"`
	Ref       string    `json:"ref"`
	SessionID string    `json:"session_id,omitempty"`
	Amount    int64     `json:"amount,omitempty"`
	Currency  string    `json:"currency,omitempty"`
	Method    string    `json:"method,omitempty"`
	Status    string    `json:"status,omitempty"`
	RefundRef string    `json:"refund_ref,omitempty"`
	Key       string    `json:"key,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
}

// ReadLedger reads every record of a ledger file, in order. Tests use it
// to count the refunds the sandbox executed (records with Op OpRefund),
// across plugin restarts and processes.
func ReadLedger(path string) ([]LedgerRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, _, err := readRecords(f)
	return recs, err
}

// ledger is the sandbox's optional durable state: an append-only JSON
// lines file, shared safely by every sandbox process configured with the
// same path (each operation holds an exclusive lock on the file while it
// reads what others appended and appends its own record). Without it the
// sandbox forgets its payments when the plugin restarts.
type ledger struct {
	path   string
	f      *os.File
	offset int64 // bytes of the file already applied to memory
}

func openLedger(path string) (*ledger, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &ledger{path: path, f: f}, nil
}

// update runs fn with the file locked, after feeding apply every record
// appended since the last call. The records fn returns are appended and
// synced before the lock is released, then applied, even when fn also
// returns an error (a declined refund is recorded and reported).
func (l *ledger) update(apply func(LedgerRecord), fn func() ([]LedgerRecord, error)) error {
	if err := lockFile(l.f); err != nil {
		return fmt.Errorf("lock sandbox ledger: %w", err)
	}
	defer func() { _ = unlockFile(l.f) }()
	if err := l.catchUp(apply); err != nil {
		return err
	}
	recs, ferr := fn()
	if len(recs) == 0 {
		return ferr
	}
	var buf bytes.Buffer
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode sandbox ledger record: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	// Drop an interrupted write's partial line before appending.
	if err := l.f.Truncate(l.offset); err != nil {
		return fmt.Errorf("append to sandbox ledger: %w", err)
	}
	if _, err := l.f.WriteAt(buf.Bytes(), l.offset); err != nil {
		return fmt.Errorf("append to sandbox ledger: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync sandbox ledger: %w", err)
	}
	l.offset += int64(buf.Len())
	for _, r := range recs {
		apply(r)
	}
	return ferr
}

// catchUp applies the complete records after l.offset. A partial last
// line (a process died mid-write) is left for the next writer to
// overwrite: appends start at the end of the last complete record.
func (l *ledger) catchUp(apply func(LedgerRecord)) error {
	if _, err := l.f.Seek(l.offset, io.SeekStart); err != nil {
		return fmt.Errorf("read sandbox ledger: %w", err)
	}
	recs, n, err := readRecords(l.f)
	if err != nil {
		return err
	}
	for _, r := range recs {
		apply(r)
	}
	l.offset += n
	return nil
}

// readRecords decodes complete lines and reports how many bytes they
// span.
func readRecords(r io.Reader) ([]LedgerRecord, int64, error) {
	var out []LedgerRecord
	var n int64
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return out, n, nil // an unterminated tail is an interrupted write
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read sandbox ledger: %w", err)
		}
		n += int64(len(line))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec LedgerRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, 0, fmt.Errorf("sandbox ledger: bad record at byte %d: %w", n-int64(len(line)), err)
		}
		out = append(out, rec)
	}
}

func (l *ledger) close() error { return l.f.Close() }

// applyRecord folds one ledger record into the in-memory state. Called
// with p.mu held.
func (p *Provider) applyRecord(r LedgerRecord) {
	switch r.Op {
	case OpPayment:
		if _, ok := p.payments[r.Ref]; ok {
			return
		}
		p.payments[r.Ref] = &payment{
			req: provider.CreatePaymentRequest{SessionID: r.SessionID, Amount: r.Amount, Currency: r.Currency, Method: r.Method, IdempotencyKey: r.Key},
			ref: r.Ref, status: provider.StatusPending,
		}
		if r.Key != "" {
			p.byIdem[r.Key] = r.Ref
		}
	case OpStatus:
		if pay, ok := p.payments[r.Ref]; ok && pay.status != provider.StatusSucceeded {
			pay.status = provider.PaymentStatus(r.Status)
		}
	case OpRefund:
		if pay, ok := p.payments[r.Ref]; ok {
			pay.refunded += r.Amount
		}
		if r.Key != "" {
			p.refundsByIdem[r.Key] = refundEntry{ref: r.Ref, res: provider.RefundResult{RefundRef: r.RefundRef, Status: provider.RefundSucceeded, Amount: r.Amount}}
		}
	case OpRefundUnavailable:
		p.outages[r.Key] = true
	}
}
