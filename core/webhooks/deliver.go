package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/webhook"
)

// UserAgent identifies Switchyard's webhook requests.
const UserAgent = "Switchyard-Webhooks/1"

// Register adds the delivery worker to reg. River retries a job only when
// the worker could not record its attempt (database trouble); the
// receiver's failures are recorded and retried on the endpoint's schedule
// by new attempts, never by River.
func (s *Service) Register(reg *jobs.Registry) error {
	return jobs.Register[DeliverArgs](reg, &deliverWorker{s: s}, jobs.Exponential(deliverJobAttempts, time.Second, 5*time.Minute, 0.1))
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service
}

var _ river.Worker[DeliverArgs] = (*deliverWorker)(nil)

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.s.RunAttempt(ctx, job.Args.AttemptID)
}

// Timeout leaves room for the POST and for recording its outcome.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.s.timeout + 30*time.Second
}

// outcome is what one POST did.
type outcome struct {
	state      string // store.AttemptOK / AttemptError / AttemptCanceled
	code       int
	latency    time.Duration
	body       string
	err        string
	retryAfter time.Duration
	at         time.Time
}

// errRecorded: another run already recorded this attempt.
var errRecorded = errors.New("attempt already recorded")

// RunAttempt performs a scheduled attempt: sign, POST, record, and
// schedule the next attempt or settle the delivery. An attempt that is no
// longer scheduled (a duplicate run) does nothing.
func (s *Service) RunAttempt(ctx context.Context, attemptID int64) error {
	a, err := s.store.GetWebhookAttempt(ctx, attemptID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.State != store.AttemptScheduled {
		return nil
	}
	d, err := s.store.GetWebhookDelivery(ctx, a.DeliveryID)
	if err != nil {
		return err
	}
	ev, err := s.store.GetEventByID(ctx, d.EventID)
	if err != nil {
		return err
	}
	var ep *store.WebhookEndpoint
	if d.EndpointID != nil {
		ep, err = s.store.GetWebhookEndpoint(ctx, *d.EndpointID)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return err
		}
	}

	var out outcome
	switch {
	case ep == nil:
		out = outcome{state: store.AttemptCanceled, err: "endpoint was deleted", at: s.now()}
	case !ep.Enabled:
		out = outcome{state: store.AttemptCanceled, err: disabledReason(ep), at: s.now()}
	default:
		out, err = s.send(ctx, ev, ep, d, a)
		if err != nil {
			return err
		}
	}
	return s.record(ctx, a, ep, out)
}

// send signs and POSTs the event. Only a failure to build the request is
// an error; everything the network or receiver does is an outcome.
func (s *Service) send(ctx context.Context, ev *store.Event, ep *store.WebhookEndpoint, d *store.WebhookDelivery, a *store.WebhookAttempt) (outcome, error) {
	body, err := Envelope(ev)
	if err != nil {
		return outcome{}, err
	}
	now := s.now()
	secrets, err := s.signingSecrets(ep, now)
	if err != nil {
		return outcome{}, err
	}
	hdr, err := webhook.Sign(ep.Profile, secrets, ev.ID, now, body)
	if err != nil {
		return outcome{}, err
	}
	hdr.Set("X-Switchyard-Attempt", strconv.Itoa(a.N))
	if a.Cause != store.CauseAuto {
		hdr.Set("X-Switchyard-Resent", "1")
	}
	return s.post(ctx, d.URL, hdr, body), nil
}

// post sends one request and describes what happened.
func (s *Service) post(ctx context.Context, url string, hdr http.Header, body []byte) outcome {
	out := outcome{state: store.AttemptError, at: s.now()}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		out.err = "invalid url: " + err.Error()
		return out
	}
	req.Header = hdr
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	start := time.Now()
	resp, err := s.client.Do(req)
	out.latency = time.Since(start)
	if err != nil {
		out.err = describeSendError(err, s.timeout)
		return out
	}
	defer resp.Body.Close()
	buf, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	// Drain a little more so the connection can be reused; give up on
	// receivers that stream megabytes.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	out.code = resp.StatusCode
	out.body = cleanText(buf)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		out.state = store.AttemptOK
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		out.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), out.at)
		out.err = fmt.Sprintf("receiver answered %d", resp.StatusCode)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		out.err = fmt.Sprintf("receiver answered %d (redirects are not followed)", resp.StatusCode)
	default:
		out.err = fmt.Sprintf("receiver answered %d", resp.StatusCode)
	}
	return out
}

func describeSendError(err error, timeout time.Duration) string {
	switch {
	case errors.Is(err, ErrBlockedTarget):
		var msg string
		for e := err; e != nil; e = errors.Unwrap(e) {
			msg = e.Error()
			if strings.HasPrefix(msg, ErrBlockedTarget.Error()) {
				break
			}
		}
		return msg
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("timeout: no response within %s", timeout)
	default:
		return err.Error()
	}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// cleanText keeps a response body storable as TEXT on both dialects:
// valid UTF-8, no NUL bytes, at most MaxResponseBody bytes.
func cleanText(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	for len(s) > MaxResponseBody {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or
// unusable, capped at MaxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		d = time.Duration(min(secs, int64(MaxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}

// nextDelay is the wait before automatic attempt n+1 after attempt n
// failed, or ok=false when n was the schedule's last attempt.
func (s *Service) nextDelay(schedule string, n int, retryAfter time.Duration) (time.Duration, bool) {
	sch, ok := s.schedules[schedule]
	if !ok {
		sch = s.schedules[ScheduleSvix]
	}
	if n >= len(sch) {
		return 0, false
	}
	d := sch[n]
	if s.jitter > 0 && d > 0 {
		d += time.Duration(float64(d) * s.jitter * (2*rand.Float64() - 1))
	}
	// Retry-After can only postpone: a receiver asking for less than the
	// schedule still gets the schedule's pause.
	return max(d, retryAfter), true
}

// notice is what to tell the merchant once the transaction committed.
type notice struct {
	kind NoticeKind
	ep   *store.WebhookEndpoint
	d    *store.WebhookDelivery
}

// record stores an attempt's outcome exactly once and moves its delivery
// on: succeeded; another attempt scheduled; failed; or disabled (410 or a
// disabled endpoint). 410 Gone also disables the endpoint.
func (s *Service) record(ctx context.Context, a *store.WebhookAttempt, ep *store.WebhookEndpoint, out outcome) error {
	var notices []notice
	// The recording statements are prepared on the pool (SQLite) before
	// the transaction takes the writer connection.
	if err := s.store.PrepareHot(ctx); err != nil {
		return err
	}
	// Concurrent workers' recordings share one transaction and one commit
	// (group commit): a commit per attempt, an fsync on SQLite and a
	// round trip and WAL flush on PostgreSQL, bounded the drain. fn only
	// writes through tx and may run again (it resets what it sets).
	err := s.store.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		notices = nil
		r := s.store.InTx(tx)
		a.State, a.AttemptedAt, a.ResponseBody, a.Error = out.state, &out.at, out.body, out.err
		if out.state != store.AttemptCanceled {
			code, ms := out.code, out.latency.Milliseconds()
			if code != 0 {
				a.StatusCode = &code
			}
			a.LatencyMS = &ms
		}
		ok, err := r.CompleteWebhookAttempt(ctx, a)
		if err != nil {
			return err
		}
		if !ok {
			return errRecorded
		}
		d, err := r.GetWebhookDelivery(ctx, a.DeliveryID)
		if err != nil {
			return err
		}
		d.UpdatedAt, d.NextAttemptAt = out.at, nil
		if out.state != store.AttemptCanceled {
			d.Attempts++
			d.LastStatusCode = a.StatusCode
		}
		d.LastError = out.err
		switch {
		case out.state == store.AttemptOK:
			d.Status = store.DeliverySucceeded
		case out.state == store.AttemptCanceled:
			d.Status = store.DeliveryDisabled
		case out.code == http.StatusGone:
			d.Status = store.DeliveryDisabled
			ep.Enabled = false
			ep.DisabledReason = fmt.Sprintf("receiver answered 410 Gone at %s (delivery %s)", out.at.Format(time.RFC3339), d.ID)
			ep.UpdatedAt = out.at
			if err := r.UpdateWebhookEndpoint(ctx, ep, "enabled", "disabled_reason"); err != nil && !errors.Is(err, domain.ErrNotFound) {
				return err
			}
			notices = append(notices, notice{NoticeEndpointDisabled, ep, d})
		default:
			delay, more := s.nextDelay(ep.Schedule, a.N, out.retryAfter)
			if a.Cause == store.CauseAuto && more {
				next := out.at.Add(delay)
				d.Status, d.NextAttemptAt = store.DeliveryPending, &next
				if err := s.scheduleAttempt(ctx, r, tx, d, a.N+1, store.CauseAuto, next); err != nil {
					return err
				}
			} else {
				d.Status = store.DeliveryFailed
				if a.Cause == store.CauseAuto {
					notices = append(notices, notice{NoticeDeliveryFailed, ep, d})
				}
			}
		}
		if a.Cause != store.CauseAuto && d.Status != store.DeliverySucceeded {
			// A manual attempt (resend, recover) that did not get through
			// stays in the history, but a delivery that already reached
			// its receiver stays succeeded: flipping it to failed would
			// make the next recover send the event again.
			delivered, err := r.WebhookDelivered(ctx, d.ID)
			if err != nil {
				return err
			}
			if delivered {
				d.Status = store.DeliverySucceeded
			}
		}
		return r.UpdateWebhookDelivery(ctx, d)
	})
	if errors.Is(err, errRecorded) {
		return nil
	}
	if err != nil {
		return err
	}
	s.metrics.attempts.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", out.state), attribute.String("cause", a.Cause)))
	for _, n := range notices {
		s.notify(ctx, n)
	}
	return nil
}
