package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/console"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/webhook"
)

// deliveryPage is how many deliveries one page lists.
const deliveryPage = 50

// deliveryFilter is the deliveries page's filter form, as typed.
type deliveryFilter struct {
	Status, Endpoint, EventType, Merchant, From, To string
}

// deliveriesData is the webhook deliveries page.
type deliveriesData struct {
	Filter       deliveryFilter
	Statuses     []string
	EventTypes   []string
	Endpoints    []*webhooks.Endpoint
	Deliveries   []*webhooks.Delivery
	NextURL      string
	Error        string
	RecoverSince string
	// Back is this page's address, where its actions return.
	Back string
}

// eventTypes are the outbound event types an operator can filter by.
func eventTypes() []string {
	out := []string{}
	for _, e := range domain.DomainEvents() {
		out = append(out, string(e))
	}
	return out
}

func (h *consoleHandlers) deliveries(c echo.Context) error {
	ctx := c.Request().Context()
	f := deliveryFilter{Status: c.QueryParam("status"), Endpoint: c.QueryParam("endpoint"), EventType: c.QueryParam("event_type"),
		Merchant: c.QueryParam("merchant"), From: c.QueryParam("from"), To: c.QueryParam("to")}
	data := deliveriesData{Filter: f, EventTypes: eventTypes(),
		Statuses:     []string{store.DeliverySucceeded, store.DeliveryFailed, store.DeliveryPending, store.DeliveryDisabled},
		RecoverSince: h.now().UTC().Add(-24 * time.Hour).Format("2006-01-02T15:04"), Back: c.Request().URL.RequestURI()}
	eps, err := h.svc.Webhooks.ListEndpoints(ctx, 0)
	if err != nil {
		return h.fail(c, err)
	}
	data.Endpoints = eps

	df, err := f.filter(data.Statuses)
	if err == nil {
		df.Before, df.Limit = c.QueryParam("before"), deliveryPage+1
		var ds []*webhooks.Delivery
		if ds, err = h.svc.Webhooks.ListDeliveries(ctx, df); err == nil {
			if len(ds) > deliveryPage {
				ds = ds[:deliveryPage]
				data.NextURL = withQuery(c.Request().URL, "before", ds[len(ds)-1].ID)
			}
			data.Deliveries = ds
		}
	}
	status := http.StatusOK
	if err != nil {
		if statusFor(err) >= 500 {
			return h.fail(c, err)
		}
		status, data.Error = statusFor(err), publicMessage(err)
	}
	return h.render(c, status, "deliveries", &console.Page{Title: "Webhook deliveries", Nav: "deliveries", Data: data})
}

func (f deliveryFilter) filter(statuses []string) (store.DeliveryFilter, error) {
	df := store.DeliveryFilter{EndpointID: f.Endpoint, EventType: f.EventType}
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		return df, domain.Invalid("invalid_status", "status", "status must be one of %s", strings.Join(statuses, ", "))
	}
	df.Status = f.Status
	var err error
	if df.MerchantID, err = formInt(f.Merchant, "merchant"); err != nil {
		return df, err
	}
	if df.Since, err = formDate(f.From, "from"); err != nil {
		return df, err
	}
	if df.Until, err = formDate(f.To, "to"); err != nil {
		return df, err
	}
	if !df.Until.IsZero() {
		df.Until = df.Until.AddDate(0, 0, 1)
		if !df.Since.IsZero() && !df.Since.Before(df.Until) {
			return df, domain.Invalid("invalid_range", "to", "the end of the date range must not be before its start")
		}
	}
	return df, nil
}

// deliveryData is one delivery's page.
type deliveryData struct {
	Delivery *webhooks.Delivery
	Event    *webhooks.Event
}

func (h *consoleHandlers) delivery(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := h.svc.Webhooks.GetDelivery(ctx, c.Param("id"))
	if err != nil {
		return h.fail(c, err)
	}
	ev, err := h.svc.Webhooks.GetEvent(ctx, d.EventID)
	if err != nil {
		return h.fail(c, err)
	}
	return h.render(c, http.StatusOK, "delivery", &console.Page{Title: "Delivery " + d.ID, Nav: "deliveries",
		Data: deliveryData{Delivery: d, Event: ev.Event}})
}

func (h *consoleHandlers) resendDelivery(c echo.Context) error {
	id := c.Param("id")
	_, err := h.svc.Webhooks.Resend(c.Request().Context(), id)
	return h.done(c, err, "Delivery "+id+" is scheduled to be sent again now.", h.backTo(c, "/console/deliveries/"+id))
}

// maxSelection bounds one bulk resend.
const maxSelection = 200

func (h *consoleHandlers) resendSelected(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return h.fail(c, domain.Invalid("invalid_form", "", "the form could not be read"))
	}
	ids := form["id"]
	back := h.backTo(c, "/console/deliveries")
	switch {
	case len(ids) == 0:
		return h.done(c, domain.Invalid("nothing_selected", "id", "select at least one delivery to resend"), "", back)
	case len(ids) > maxSelection:
		return h.done(c, domain.Invalid("too_many", "id", "select at most %d deliveries at once; use recover for more", maxSelection), "", back)
	}
	rec := actionOf(c)
	var resent int
	var skipped []string
	for _, id := range ids {
		_, err := h.svc.Webhooks.Resend(c.Request().Context(), id)
		rec.item(id, err, "resent as part of a selection")
		if err != nil {
			if statusFor(err) >= 500 && statusFor(err) != http.StatusServiceUnavailable {
				return h.done(c, err, "", back)
			}
			skipped = append(skipped, id+": "+publicMessage(err))
			continue
		}
		resent++
	}
	msg := fmt.Sprintf("%d of %d selected deliveries scheduled to be sent again.", resent, len(ids))
	if len(skipped) > 0 {
		msg += " Skipped: " + strings.Join(skipped, "; ")
	}
	if err := h.auth.SetFlash(c.Request().Context(), sessionOf(c), console.Flash{Error: resent == 0, Message: msg}); err != nil {
		return h.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, back)
}

func (h *consoleHandlers) recoverDeliveries(c echo.Context) error {
	form := c.Request()
	back := h.backTo(c, "/console/deliveries")
	since, err := formDateTime(form.PostFormValue("since"), "since")
	if err == nil && since.IsZero() {
		err = domain.Invalid("invalid_since", "since", "give the time to recover failed deliveries from")
	}
	req := webhooks.RecoverRequest{Since: since, EndpointID: strings.TrimSpace(form.PostFormValue("endpoint"))}
	if err == nil {
		req.MerchantID, err = formInt(form.PostFormValue("merchant"), "merchant")
	}
	if err != nil {
		return h.done(c, err, "", back)
	}
	res, err := h.svc.Webhooks.Recover(c.Request().Context(), req)
	if err != nil {
		return h.done(c, err, "", back)
	}
	msg := fmt.Sprintf("Recovery since %s: %d deliveries scheduled again (%d failed, %d recorded while their endpoint was disabled), %d skipped.",
		since.Format(console.TimeFormat), res.Resent, res.ResentFailed, res.ResentDisabled, res.Skipped)
	if len(res.Errors) > 0 {
		msg += " " + strings.Join(res.Errors, "; ")
	}
	actionOf(c).target(req.EndpointID)
	return h.done(c, nil, msg, back)
}

// backTo is where an action returns: the page the form says it came from
// when that is a console page, else fallback.
func (h *consoleHandlers) backTo(c echo.Context, fallback string) string {
	if back := c.Request().PostFormValue("back"); back != "" && safeNext(back) == back {
		return back
	}
	return fallback
}

// endpointsData is the endpoints page.
type endpointsData struct {
	Merchant  string
	Endpoints []*webhooks.Endpoint
}

func (h *consoleHandlers) endpoints(c echo.Context) error {
	mid, err := formInt(c.QueryParam("merchant"), "merchant")
	if err != nil {
		return h.fail(c, err)
	}
	eps, err := h.svc.Webhooks.ListEndpoints(c.Request().Context(), mid)
	if err != nil {
		return h.fail(c, err)
	}
	return h.render(c, http.StatusOK, "endpoints", &console.Page{Title: "Endpoints", Nav: "endpoints",
		Data: endpointsData{Merchant: c.QueryParam("merchant"), Endpoints: eps}})
}

// endpointForm is the new endpoint form, as typed, with what it offers.
type endpointForm struct {
	Merchant, URL, Description, Site, Mode, Profile, Schedule string
	EventTypes                                                []string
	IPN                                                       bool

	Profiles, Schedules, AllEventTypes []string
	Error, Field                       string
}

func newEndpointForm() endpointForm {
	return endpointForm{Profile: webhook.ProfileStandard, Schedule: webhooks.ScheduleSvix, Profiles: webhook.Profiles(),
		Schedules: []string{webhooks.ScheduleSvix, webhooks.SchedulePayPro}, AllEventTypes: eventTypes()}
}

func (h *consoleHandlers) newEndpoint(c echo.Context) error {
	f := newEndpointForm()
	f.Merchant = c.QueryParam("merchant")
	return h.render(c, http.StatusOK, "endpoint_new", &console.Page{Title: "Add an endpoint", Nav: "endpoints", Data: f})
}

// endpointSecretData is the page that shows a new secret once.
type endpointSecretData struct {
	Endpoint *webhooks.Endpoint
	Secret   string
	Rotated  bool
}

func (h *consoleHandlers) createEndpoint(c echo.Context) error {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return h.fail(c, domain.Invalid("invalid_form", "", "the form could not be read"))
	}
	f := newEndpointForm()
	f.Merchant, f.URL, f.Description = r.PostFormValue("merchant"), strings.TrimSpace(r.PostFormValue("url")), r.PostFormValue("description")
	f.Site, f.Mode, f.Profile, f.Schedule = r.PostFormValue("site"), r.PostFormValue("mode"), r.PostFormValue("profile"), r.PostFormValue("schedule")
	f.EventTypes, f.IPN = r.PostForm["event_types"], r.PostFormValue("ipn") == "on"
	in := webhooks.NewEndpoint{URL: f.URL, Description: f.Description, Site: f.Site, Mode: f.Mode,
		Profile: f.Profile, Schedule: f.Schedule, EventTypes: f.EventTypes, IPN: f.IPN}
	if f.IPN {
		in.URL = ""
	}
	mid, err := formInt(f.Merchant, "merchant")
	if err == nil && mid == 0 {
		err = domain.Invalid("invalid_merchant", "merchant", "choose the merchant the endpoint belongs to")
	}
	var ep *webhooks.EndpointWithSecret
	if err == nil {
		in.MerchantID = mid
		ep, err = h.svc.Webhooks.CreateEndpoint(r.Context(), in)
	}
	if err != nil {
		if statusFor(err) >= 500 {
			actionOf(c).failed(err)
			return h.fail(c, err)
		}
		actionOf(c).failed(err)
		f.Error = publicMessage(err)
		if de, ok := domain.AsError(err); ok {
			f.Field = de.Field
		}
		return h.render(c, statusFor(err), "endpoint_new", &console.Page{Title: "Add an endpoint", Nav: "endpoints", Data: f})
	}
	rec := actionOf(c)
	rec.target(ep.ID)
	rec.ok(fmt.Sprintf("endpoint for merchant %d: %s", ep.MerchantID, ep.URL))
	noStore(c)
	return h.render(c, http.StatusCreated, "endpoint_secret", &console.Page{Title: "Endpoint added", Nav: "endpoints",
		Data: endpointSecretData{Endpoint: ep.Endpoint, Secret: ep.Secret}})
}

// endpointData is one endpoint's page.
type endpointData struct {
	Endpoint   *webhooks.Endpoint
	Deliveries []*webhooks.Delivery
	Test       *webhooks.TestResult
}

func (h *consoleHandlers) endpoint(c echo.Context) error {
	ctx := c.Request().Context()
	ep, err := h.svc.Webhooks.GetEndpoint(ctx, c.Param("id"))
	if err != nil {
		return h.fail(c, err)
	}
	ds, err := h.svc.Webhooks.ListDeliveries(ctx, store.DeliveryFilter{EndpointID: ep.ID, Limit: 20})
	if err != nil {
		return h.fail(c, err)
	}
	return h.render(c, http.StatusOK, "endpoint", &console.Page{Title: "Endpoint " + ep.ID, Nav: "endpoints",
		Data: endpointData{Endpoint: ep, Deliveries: ds}})
}

func (h *consoleHandlers) disableEndpoint(c echo.Context) error {
	id := c.Param("id")
	reason := strings.TrimSpace(c.Request().PostFormValue("reason"))
	if reason == "" {
		reason = "disabled by " + sessionOf(c).Operator.Name + " in the console"
	}
	_, err := h.svc.Webhooks.SetEnabled(c.Request().Context(), id, false, reason)
	return h.done(c, err, "Endpoint disabled: "+reason+". New events are recorded as disabled and can be recovered once it is enabled again.", "/console/endpoints/"+id)
}

func (h *consoleHandlers) enableEndpoint(c echo.Context) error {
	id := c.Param("id")
	_, err := h.svc.Webhooks.SetEnabled(c.Request().Context(), id, true, "")
	return h.done(c, err, "Endpoint enabled. Use recover on the deliveries page to send what it missed.", "/console/endpoints/"+id)
}

// rotateOverlaps are the choices for how long the old secret keeps
// signing alongside the new one.
var rotateOverlaps = map[string]time.Duration{"": 0, "24h": 24 * time.Hour, "1h": time.Hour, "none": -1}

func (h *consoleHandlers) rotateSecret(c echo.Context) error {
	id := c.Param("id")
	overlap, ok := rotateOverlaps[c.Request().PostFormValue("overlap")]
	if !ok {
		return h.done(c, domain.Invalid("invalid_overlap", "overlap", "overlap must be 24h, 1h or none"), "", "/console/endpoints/"+id)
	}
	ep, err := h.svc.Webhooks.RotateSecret(c.Request().Context(), id, overlap)
	if err != nil {
		return h.done(c, err, "", "/console/endpoints/"+id)
	}
	actionOf(c).ok("secret rotated")
	noStore(c)
	return h.render(c, http.StatusOK, "endpoint_secret", &console.Page{Title: "Secret rotated", Nav: "endpoints",
		Data: endpointSecretData{Endpoint: ep.Endpoint, Secret: ep.Secret, Rotated: true}})
}

func (h *consoleHandlers) testEndpoint(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	res, err := h.svc.Webhooks.TestEndpoint(ctx, id)
	if err != nil {
		return h.done(c, err, "", "/console/endpoints/"+id)
	}
	ep, err := h.svc.Webhooks.GetEndpoint(ctx, id)
	if err != nil {
		return h.fail(c, err)
	}
	ds, err := h.svc.Webhooks.ListDeliveries(ctx, store.DeliveryFilter{EndpointID: id, Limit: 20})
	if err != nil {
		return h.fail(c, err)
	}
	detail := fmt.Sprintf("test event %s: status %d", res.EventID, res.StatusCode)
	if !res.Succeeded {
		detail = fmt.Sprintf("test event %s failed: status %d %s", res.EventID, res.StatusCode, res.Error)
	}
	actionOf(c).ok(detail)
	return h.render(c, http.StatusOK, "endpoint", &console.Page{Title: "Endpoint " + ep.ID, Nav: "endpoints",
		Data: endpointData{Endpoint: ep, Deliveries: ds, Test: res}})
}
