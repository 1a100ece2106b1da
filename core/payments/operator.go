package payments

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// Operators' view of sessions (the console, and the admin API's listing):
// any merchant's sessions, searched and filtered, with everything that
// happened to each one.

// SessionQuery filters FindSessions. Zero fields match all.
type SessionQuery struct {
	MerchantID int64
	// Status, ProviderID, Method and Mode match exactly; ProviderID
	// matches sessions with an attempt routed to that instance, Method the
	// session's method or any attempt's.
	Status     string
	ProviderID string
	Method     string
	Mode       string
	// From (inclusive) and To (exclusive) bound the creation time.
	From, To time.Time
	// Search is a session id or an order id, matched exactly.
	Search string
	// Before is the cursor of the next page (SessionPage.Next).
	Before string
	Limit  int
}

// Session listing limits.
const (
	DefaultSessionPage = 50
	MaxSessionPage     = 200
)

// OperatorSession is a session in operators' listings: the merchant's
// view plus whose it is.
type OperatorSession struct {
	*SessionView
	MerchantID int64 `json:"merchant_id"`
}

// SessionPage is one page of FindSessions, newest first. Next, when not
// empty, is the Before of the following page.
type SessionPage struct {
	Sessions []*OperatorSession `json:"data"`
	Next     string             `json:"next,omitempty"`
}

// FindSessions lists any merchant's sessions for operators.
func (s *Service) FindSessions(ctx context.Context, q SessionQuery) (*SessionPage, error) {
	f := store.SessionFilter{MerchantID: q.MerchantID, ProviderID: q.ProviderID, Method: q.Method,
		From: q.From, To: q.To, Before: q.Before}
	if q.Status != "" {
		st, err := domain.ParseSessionStatus(q.Status)
		if err != nil {
			return nil, err
		}
		f.Status = st
	}
	if q.Mode != "" {
		m := domain.Mode(q.Mode)
		if !m.Valid() {
			return nil, domain.Invalid("invalid_mode", "mode", "mode must be test or live")
		}
		f.Mode = m
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return nil, domain.Invalid("invalid_range", "to", "the end of the date range must be after its start")
	}
	if search := strings.TrimSpace(q.Search); search != "" {
		if domain.ValidSessionID(search) {
			f.SessionID = search
		} else {
			f.OrderID = search
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultSessionPage
	}
	f.Limit = min(limit, MaxSessionPage) + 1 // one more says whether a next page exists
	rows, err := s.store.FindSessions(ctx, f)
	if err != nil {
		return nil, err
	}
	page := &SessionPage{Sessions: make([]*OperatorSession, 0, len(rows))}
	if len(rows) == f.Limit {
		rows = rows[:len(rows)-1]
		page.Next = rows[len(rows)-1].ID
	}
	for _, sess := range rows {
		page.Sessions = append(page.Sessions, s.operatorView(sess))
	}
	return page, nil
}

func (s *Service) operatorView(sess *store.Session) *OperatorSession {
	return &OperatorSession{SessionView: s.view(sess), MerchantID: sess.MerchantID}
}

// AttemptRecord is one payment attempt as operators see it: where routing sent the session and
// why, and how it ended.
type AttemptRecord struct {
	ID          string    `json:"id"`
	Seq         int64     `json:"seq"`
	ProviderID  string    `json:"provider_id"`
	Method      string    `json:"method"`
	Status      string    `json:"status"`
	ProviderRef string    `json:"provider_ref,omitempty"`
	Reason      string    `json:"reason"`
	Error       string    `json:"error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ProviderEventView is an event a provider sent about the session, with
// the stored request it came in (credentials redacted).
type ProviderEventView struct {
	ProviderID      string    `json:"provider_id"`
	ProviderEventID string    `json:"provider_event_id"`
	Type            string    `json:"type"`
	RawType         string    `json:"raw_type"`
	Outcome         string    `json:"outcome"`
	Reason          string    `json:"reason"`
	ReceivedAt      time.Time `json:"received_at"`
	// Payload is the normalized event as the plugin reported it.
	Payload string `json:"payload"`
	// Request is the inbound webhook the event came in, when it is still
	// stored (retention deletes old ones; reconciliation events have none).
	Request *RawRequestView `json:"request,omitempty"`
}

// RawRequestView is a stored inbound provider request, redacted.
type RawRequestView struct {
	ID             int64       `json:"id"`
	Method         string      `json:"method"`
	Path           string      `json:"path"`
	Query          string      `json:"query"`
	Headers        http.Header `json:"headers"`
	Body           string      `json:"body"`
	BodySize       int64       `json:"body_size"`
	Truncated      bool        `json:"truncated"`
	Verified       bool        `json:"verified"`
	ResponseStatus *int        `json:"response_status"`
	RemoteAddr     string      `json:"remote_addr"`
	ReceivedAt     time.Time   `json:"received_at"`
}

// attemptRecords lists a session's payment attempts in order.
func (s *Service) attemptRecords(ctx context.Context, sessionID string) ([]*AttemptRecord, error) {
	attempts, err := s.store.SessionAttempts(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	out := make([]*AttemptRecord, 0, len(attempts))
	for _, a := range attempts {
		out = append(out, &AttemptRecord{ID: a.ID, Seq: a.Seq, ProviderID: a.ProviderID, Method: a.Method,
			Status: string(a.Status), ProviderRef: a.ProviderRef, Reason: a.Reason, Error: a.Error,
			CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt})
	}
	return out, nil
}

// providerEventViews lists a session's provider events in arrival order,
// with their stored requests, redacted.
func (s *Service) providerEventViews(ctx context.Context, sessionID string) ([]*ProviderEventView, error) {
	events, err := s.store.SessionProviderEvents(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	out := make([]*ProviderEventView, 0, len(events))
	for _, e := range events {
		v := &ProviderEventView{ProviderID: e.ProviderID, ProviderEventID: e.ProviderEventID, Type: e.Type,
			RawType: e.RawType, Outcome: string(e.Outcome), Reason: e.Reason, ReceivedAt: e.ReceivedAt,
			Payload: RedactBody("application/json", []byte(e.Payload))}
		if e.WebhookRequestID != nil {
			if v.Request, err = s.rawRequest(ctx, *e.WebhookRequestID); err != nil {
				return nil, err
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// rawRequest loads a stored request for display; one deleted by retention
// is nil.
func (s *Service) rawRequest(ctx context.Context, id int64) (*RawRequestView, error) {
	w, err := s.store.GetWebhookRequest(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h http.Header
	if err := json.Unmarshal([]byte(w.Headers), &h); err != nil {
		h = http.Header{}
	}
	h = RedactHeaders(h)
	return &RawRequestView{ID: w.ID, Method: w.Method, Path: w.Path, Query: RedactQuery(w.Query), Headers: h,
		Body: RedactBody(h.Get("Content-Type"), w.Body), BodySize: w.BodySize, Truncated: w.Truncated,
		Verified: w.Verified, ResponseStatus: w.ResponseStatus, RemoteAddr: w.RemoteAddr, ReceivedAt: w.ReceivedAt}, nil
}

// VolumeRow is one provider instance and method's payment attempts since a
// time: how many, how they ended, and the money of the succeeded ones per
// currency ("USD 1234.50").
type VolumeRow struct {
	ProviderID string   `json:"provider_id"`
	Method     string   `json:"method"`
	Attempts   int64    `json:"attempts"`
	Succeeded  int64    `json:"succeeded"`
	Failed     int64    `json:"failed"`
	Pending    int64    `json:"pending"`
	Volume     []string `json:"volume"`
}

// AttemptVolume sums the payment attempts created at or after since per
// provider instance and method, by provider then method.
func (s *Service) AttemptVolume(ctx context.Context, since time.Time) ([]*VolumeRow, error) {
	stats, err := s.store.AttemptStats(ctx, since)
	if err != nil {
		return nil, err
	}
	type key struct{ provider, method string }
	rows := map[key]*VolumeRow{}
	money := map[key]map[string]int64{}
	for _, st := range stats {
		k := key{st.ProviderID, st.Method}
		r := rows[k]
		if r == nil {
			r = &VolumeRow{ProviderID: st.ProviderID, Method: st.Method}
			rows[k], money[k] = r, map[string]int64{}
		}
		r.Attempts += st.Count
		switch st.Status {
		case store.AttemptSucceeded:
			r.Succeeded += st.Count
			money[k][st.Currency] += st.Amount
		case store.AttemptFailed:
			r.Failed += st.Count
		default:
			r.Pending += st.Count
		}
	}
	out := make([]*VolumeRow, 0, len(rows))
	for k, r := range rows {
		for cur, amount := range money[k] {
			r.Volume = append(r.Volume, cur+" "+domain.FormatAmount(amount, domain.Currency(cur)))
		}
		sort.Strings(r.Volume)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ProviderID != out[j].ProviderID {
			return out[i].ProviderID < out[j].ProviderID
		}
		return out[i].Method < out[j].Method
	})
	return out, nil
}
