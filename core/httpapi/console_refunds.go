package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/refunds"
)

// sessionRefunds is the refunds part of a session's page: the session's
// refunds (newest first) and the refund form.
type sessionRefunds struct {
	List    []*refunds.RefundView
	HasMore bool
	// CanRefund: the session received money (or holds it for review), so
	// the form is shown; the service still decides what is left.
	CanRefund bool
	Reasons   []domain.RefundReason
	// IdempotencyKey is fresh for each rendering of the form: posting the
	// same form twice (a double click, a resubmit from history) replays
	// the first refund instead of making a second one.
	IdempotencyKey string
}

// loadSessionRefunds lists a session's refunds for its page.
func (h *consoleHandlers) loadSessionRefunds(c echo.Context, sessionID string, status domain.SessionStatus) (sessionRefunds, error) {
	out := sessionRefunds{Reasons: domain.RefundReasons(),
		CanRefund: status.MoneyReceived() || status == domain.StatusRequiresReview}
	list, err := h.svc.Refunds.ListSession(c.Request().Context(), refunds.Operator(), sessionID,
		refunds.ListParams{Limit: refunds.MaxListLimit})
	if err != nil {
		return out, err
	}
	out.List, out.HasMore = list.Data, list.HasMore
	key, err := consoleIdempotencyKey()
	if err != nil {
		return out, err
	}
	out.IdempotencyKey = key
	return out, nil
}

// consoleIdempotencyKey is a random Idempotency-Key for one refund form.
func consoleIdempotencyKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("console: idempotency key: %w", err)
	}
	return "console_" + hex.EncodeToString(b), nil
}

// createRefund refunds a session through the refunds service, as the admin
// API's POST /admin/v1/sessions/:id/refunds does (source operator): an
// empty amount refunds everything left.
func (h *consoleHandlers) createRefund(c echo.Context) error {
	r := c.Request()
	id := c.Param("id")
	back := "/console/sessions/" + id
	req := &refunds.CreateRequest{Reason: r.PostFormValue("reason")}
	if amount := strings.TrimSpace(r.PostFormValue("amount")); amount != "" {
		raw, err := json.Marshal(amount)
		if err != nil {
			return h.done(c, err, "", back)
		}
		req.Amount = raw
	}
	resp, err := h.svc.Refunds.Create(r.Context(), refunds.Operator(), id, req, r.PostFormValue("idempotency_key"))
	if err != nil {
		return h.done(c, err, "", back)
	}
	var rf refunds.RefundView
	if err := json.Unmarshal(resp.Body, &rf); err != nil {
		return h.done(c, fmt.Errorf("console: read refund: %w", err), "", back)
	}
	what := fmt.Sprintf("refund %s of %s %s (%s)", rf.RefundID, rf.Currency, rf.Amount, rf.Reason)
	msg := "Refund " + rf.RefundID + " of " + rf.Currency + " " + rf.Amount + " created: it is " + string(rf.Status) +
		" until the provider settles it."
	if resp.Replayed {
		what += ", replayed"
		msg = "This form was already sent: refund " + rf.RefundID + " of " + rf.Currency + " " + rf.Amount + " is " + string(rf.Status) + "."
	}
	actionOf(c).ok(what)
	return h.done(c, nil, msg, back)
}
