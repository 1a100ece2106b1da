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
	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/core/fulfillment"
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
	Reviews          []*payments.ReviewView
	MoreReviews      bool
	FailingEndpoints []*webhooks.EndpointHealth
	UnhealthyPlugins []pluginhost.InstanceInfo
	Plugins          int
}

// overviewReviews is how many pending reviews the overview lists.
const overviewReviews = 10

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
	reviews, err := h.svc.Sessions.ListReviews(ctx, payments.ReviewListRequest{Status: "pending", Limit: overviewReviews + 1})
	if err != nil {
		return h.fail(c, err)
	}
	data := overviewData{Since: since, Volume: vol, FailingEndpoints: failing, Reviews: reviews}
	if len(reviews) > overviewReviews {
		data.Reviews, data.MoreReviews = reviews[:overviewReviews], true
	}
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
	Review        *payments.ReviewView
	Event         *webhooks.EventDetail
}

// sessionData is a session's page.
type sessionData struct {
	Session  *payments.SessionView
	Merchant *store.Merchant
	Reviews  []*payments.ReviewView
	Refunds  sessionRefunds
	// Services and Domains are what the session's items made (the first
	// page of each; the lists filtered by session show them all).
	Services                  []*fulfillment.ServiceView
	Domains                   []domains.View
	MoreServices, MoreDomains bool
	Timeline                  []timelineItem
	Counts                    struct{ Attempts, ProviderEvents, Events, Deliveries int }
}

func (h *consoleHandlers) session(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := h.svc.Sessions.AdminSession(ctx, c.Param("id"))
	if err != nil {
		return h.fail(c, err)
	}
	m, err := h.svc.Merchants.GetMerchant(ctx, d.MerchantID)
	if err != nil {
		return h.fail(c, err)
	}
	evs, err := h.svc.Webhooks.ListEvents(ctx, store.EventFilter{SessionID: d.Session.SessionID, Limit: webhooks.MaxListLimit})
	if err != nil {
		return h.fail(c, err)
	}
	rfs, err := h.loadSessionRefunds(c, d.Session.SessionID, d.Session.Status)
	if err != nil {
		return h.fail(c, err)
	}
	data := sessionData{Session: d.Session, Merchant: m, Reviews: d.Reviews, Refunds: rfs}
	if err := h.loadSessionItems(c, &data); err != nil {
		return h.fail(c, err)
	}
	created, _ := time.Parse(time.RFC3339, d.Session.CreatedAt)
	data.Timeline = append(data.Timeline, timelineItem{At: created})
	for _, a := range d.Attempts {
		data.Timeline = append(data.Timeline, timelineItem{At: a.CreatedAt, Attempt: a})
	}
	for _, pe := range d.ProviderEvents {
		data.Timeline = append(data.Timeline, timelineItem{At: pe.ReceivedAt, ProviderEvent: pe})
	}
	for _, rv := range d.Reviews {
		at, _ := time.Parse(time.RFC3339, rv.CreatedAt)
		data.Timeline = append(data.Timeline, timelineItem{At: at, Review: rv})
	}
	for _, ev := range evs {
		detail, err := h.svc.Webhooks.GetEvent(ctx, ev.ID)
		if err != nil {
			return h.fail(c, err)
		}
		data.Timeline = append(data.Timeline, timelineItem{At: ev.CreatedAt, Event: detail})
		data.Counts.Deliveries += len(detail.Deliveries)
	}
	data.Counts.Attempts, data.Counts.ProviderEvents, data.Counts.Events = len(d.Attempts), len(d.ProviderEvents), len(evs)
	// Stable: an event made in the same transaction as what caused it
	// keeps its place after it.
	sort.SliceStable(data.Timeline, func(i, j int) bool { return data.Timeline[i].At.Before(data.Timeline[j].At) })
	return h.render(c, http.StatusOK, "session", &console.Page{Title: "Session " + d.Session.OrderID, Nav: "sessions", Data: data})
}

// loadSessionItems adds the services and domains the session's items
// made, through the same services as the Services and Domains pages.
func (h *consoleHandlers) loadSessionItems(c echo.Context, d *sessionData) error {
	ctx, id := c.Request().Context(), d.Session.SessionID
	svcs, err := h.svc.Services.ListServices(ctx, fulfillment.ServiceListRequest{SessionID: id, Limit: servicePage + 1})
	if err != nil {
		return err
	}
	doms, err := h.svc.Domains.List(ctx, domains.ListParams{SessionID: id, Limit: domainPage + 1})
	if err != nil {
		return err
	}
	if d.MoreServices = len(svcs) > servicePage; d.MoreServices {
		svcs = svcs[:servicePage]
	}
	if d.MoreDomains = len(doms) > domainPage; d.MoreDomains {
		doms = doms[:domainPage]
	}
	d.Services, d.Domains = svcs, doms
	return nil
}

// reviewsData is the reviews page.
type reviewsData struct {
	Status, Merchant string
	Statuses         []string
	Reviews          []*payments.ReviewView
	NextURL          string
	Error            string
}

// reviewPage is how many reviews one page lists.
const reviewPage = 50

func (h *consoleHandlers) reviews(c echo.Context) error {
	d := reviewsData{Status: c.QueryParam("status"), Merchant: c.QueryParam("merchant"),
		Statuses: []string{"pending", string(domain.ReviewOpen), string(domain.ReviewRefundPending), string(domain.ReviewResolved), "all"}}
	mid, err := formInt(d.Merchant, "merchant")
	if err == nil {
		var rvs []*payments.ReviewView
		rvs, err = h.svc.Sessions.ListReviews(c.Request().Context(), payments.ReviewListRequest{Status: d.Status, MerchantID: mid,
			After: c.QueryParam("after"), Limit: reviewPage + 1})
		if err == nil {
			if len(rvs) > reviewPage {
				rvs = rvs[:reviewPage]
				d.NextURL = withQuery(c.Request().URL, "after", rvs[len(rvs)-1].ID)
			}
			d.Reviews = rvs
		}
	}
	status := http.StatusOK
	if err != nil {
		if statusFor(err) >= 500 {
			return h.fail(c, err)
		}
		status, d.Error = statusFor(err), publicMessage(err)
	}
	return h.render(c, status, "reviews", &console.Page{Title: "Reviews", Nav: "reviews", Data: d})
}

func (h *consoleHandlers) resolveReview(c echo.Context) error {
	r := c.Request()
	rv, err := h.svc.Sessions.ResolveReview(r.Context(), c.Param("id"), payments.ResolveReviewRequest{
		Action: r.PostFormValue("action"), Note: strings.TrimSpace(r.PostFormValue("note")),
		Operator: consoleOperator(c)})
	back := h.backTo(c, "/console/reviews")
	if err != nil {
		return h.done(c, err, "", back)
	}
	msg := "Review resolved: the money is accepted."
	if rv.Status == domain.ReviewRefundPending {
		msg = "Refund decided: the review stays open as refund_pending until the provider reports the refund."
		if rv.RefundAmount != nil && rv.RefundCurrency != nil {
			msg = "Refund of " + *rv.RefundCurrency + " " + *rv.RefundAmount + " decided: the review stays refund_pending until the provider reports the refund."
		}
	}
	actionOf(c).ok(r.PostFormValue("action") + " on session " + rv.SessionID)
	return h.done(c, nil, msg, back)
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
