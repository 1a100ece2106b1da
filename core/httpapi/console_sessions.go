package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/console"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/sdk/meta"
)

// overviewData is the overview page: today's payments per provider and
// method, and what needs attention.
type overviewData struct {
	Since            time.Time
	Volume           []*payments.VolumeRow
	FailingEndpoints []*webhooks.EndpointHealth
	UnhealthyPlugins []pluginhost.InstanceInfo
	Plugins          int
}

func (h *consoleHandlers) overview(c echo.Context) error {
	ctx := c.Request().Context()
	now := h.now().UTC()
	since := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	vol, err := h.svc.Sessions.AttemptVolume(ctx, since)
	if err != nil {
		return h.fail(c, err)
	}
	failing, err := h.svc.Webhooks.FailingEndpoints(ctx, since)
	if err != nil {
		return h.fail(c, err)
	}
	data := overviewData{Since: since, Volume: vol, FailingEndpoints: failing}
	for _, in := range h.svc.Plugins.Instances() {
		data.Plugins++
		if in.Health.State != pluginhost.StateHealthy && in.Health.State != pluginhost.StateDisabled {
			data.UnhealthyPlugins = append(data.UnhealthyPlugins, in)
		}
	}
	return h.render(c, http.StatusOK, "overview", &console.Page{Title: "Overview", Nav: "overview", Data: data})
}

// sessionFilter is the sessions page's filter form, as typed.
type sessionFilter struct {
	Merchant, Status, Provider, Method, Mode, From, To, Q string
}

// sessionsData is the sessions page.
type sessionsData struct {
	Filter    sessionFilter
	Statuses  []string
	Providers []string
	Methods   []string
	Sessions  []*payments.OperatorSession
	NextURL   string
	Error     string
}

func (h *consoleHandlers) sessions(c echo.Context) error {
	f := sessionFilter{Merchant: c.QueryParam("merchant"), Status: c.QueryParam("status"), Provider: c.QueryParam("provider"),
		Method: c.QueryParam("method"), Mode: c.QueryParam("mode"), From: c.QueryParam("from"), To: c.QueryParam("to"),
		Q: strings.TrimSpace(c.QueryParam("q"))}
	data := sessionsData{Filter: f}
	for _, st := range domain.SessionStatuses() {
		data.Statuses = append(data.Statuses, string(st))
	}
	data.Providers, data.Methods = h.providersAndMethods()

	q, err := f.query()
	if err == nil {
		q.Before = c.QueryParam("before")
		var page *payments.SessionPage
		if page, err = h.svc.Sessions.FindSessions(c.Request().Context(), q); err == nil {
			data.Sessions = page.Sessions
			if page.Next != "" {
				data.NextURL = withQuery(c.Request().URL, "before", page.Next)
			}
		}
	}
	status := http.StatusOK
	if err != nil {
		if statusFor(err) >= 500 {
			return h.fail(c, err)
		}
		status, data.Error = statusFor(err), publicMessage(err)
	}
	return h.render(c, status, "sessions", &console.Page{Title: "Sessions", Nav: "sessions", Data: data})
}

// query turns the typed filter into the service's query. Dates are whole
// UTC days; "to" includes its day.
func (f sessionFilter) query() (payments.SessionQuery, error) {
	q := payments.SessionQuery{Status: f.Status, ProviderID: f.Provider, Method: f.Method, Mode: f.Mode, Search: f.Q}
	var err error
	if q.MerchantID, err = formInt(f.Merchant, "merchant"); err != nil {
		return q, err
	}
	if q.From, err = formDate(f.From, "from"); err != nil {
		return q, err
	}
	if q.To, err = formDate(f.To, "to"); err != nil {
		return q, err
	}
	if !q.To.IsZero() {
		q.To = q.To.AddDate(0, 0, 1)
	}
	return q, nil
}

// providersAndMethods lists the configured provider instances and the
// methods they describe, for filter menus.
func (h *consoleHandlers) providersAndMethods() (providers, methods []string) {
	for _, in := range h.svc.Plugins.Instances() {
		if in.Kind != meta.KindProvider {
			continue
		}
		providers = append(providers, in.ID)
		for _, m := range in.Methods {
			if !slices.Contains(methods, m.Method) {
				methods = append(methods, m.Method)
			}
		}
	}
	sort.Strings(methods)
	return providers, methods
}

// timelineItem is one entry of a session's timeline, oldest first; exactly
// one of the pointers is set (none: the session was created).
type timelineItem struct {
	At            time.Time
	Attempt       *payments.AttemptRecord
	ProviderEvent *payments.ProviderEventView
	Event         *webhooks.EventDetail
}

// sessionData is a session's page.
type sessionData struct {
	Session  *payments.OperatorSession
	Merchant *store.Merchant
	Timeline []timelineItem
	Counts   struct{ Attempts, ProviderEvents, Events, Deliveries int }
}

func (h *consoleHandlers) session(c echo.Context) error {
	ctx := c.Request().Context()
	tl, err := h.svc.Sessions.SessionTimeline(ctx, c.Param("id"))
	if err != nil {
		return h.fail(c, err)
	}
	m, err := h.svc.Merchants.GetMerchant(ctx, tl.Session.MerchantID)
	if err != nil {
		return h.fail(c, err)
	}
	evs, err := h.svc.Webhooks.ListEvents(ctx, store.EventFilter{SessionID: tl.Session.SessionID, Limit: webhooks.MaxListLimit})
	if err != nil {
		return h.fail(c, err)
	}
	data := sessionData{Session: tl.Session, Merchant: m}
	created, _ := time.Parse(time.RFC3339, tl.Session.CreatedAt)
	data.Timeline = append(data.Timeline, timelineItem{At: created})
	for _, a := range tl.Attempts {
		data.Timeline = append(data.Timeline, timelineItem{At: a.CreatedAt, Attempt: a})
	}
	for _, pe := range tl.ProviderEvents {
		data.Timeline = append(data.Timeline, timelineItem{At: pe.ReceivedAt, ProviderEvent: pe})
	}
	for _, ev := range evs {
		detail, err := h.svc.Webhooks.GetEvent(ctx, ev.ID)
		if err != nil {
			return h.fail(c, err)
		}
		data.Timeline = append(data.Timeline, timelineItem{At: ev.CreatedAt, Event: detail})
		data.Counts.Deliveries += len(detail.Deliveries)
	}
	data.Counts.Attempts, data.Counts.ProviderEvents, data.Counts.Events = len(tl.Attempts), len(tl.ProviderEvents), len(evs)
	// Stable: an event made in the same transaction as what caused it
	// keeps its place after it.
	sort.SliceStable(data.Timeline, func(i, j int) bool { return data.Timeline[i].At.Before(data.Timeline[j].At) })
	return h.render(c, http.StatusOK, "session", &console.Page{Title: "Session " + tl.Session.OrderID, Nav: "sessions", Data: data})
}

// withQuery returns u's path and query with one parameter replaced.
func withQuery(u *url.URL, key, value string) string {
	q := u.Query()
	q.Set(key, value)
	return u.Path + "?" + q.Encode()
}

// formInt reads an optional positive integer field.
func formInt(v, field string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, domain.Invalid("invalid_"+field, field, "%s must be a positive whole number", field)
	}
	return n, nil
}

// formDate reads an optional YYYY-MM-DD field as the start of that UTC day.
func formDate(v, field string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, domain.Invalid("invalid_"+field, field, "%s must be a date such as 2026-12-05", field)
	}
	return t, nil
}

// formDateTime reads an optional datetime-local field ("2026-12-05T14:30")
// as UTC.
func formDateTime(v, field string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, domain.Invalid("invalid_"+field, field, "%s must be a date and time such as 2026-12-05T14:30 (UTC)", field)
}
