package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/console"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
)

// merchantPage is how many merchants one page lists.
const merchantPage = 50

// merchantForm is the new merchant form, as typed.
type merchantForm struct {
	Name, Plan, ContactEmail, Domains string
	Plans                             []string
	Error, Field                      string
}

// merchantsData is the merchants page.
type merchantsData struct {
	Merchants []*store.Merchant
	NextURL   string
	Form      merchantForm
}

func newMerchantForm() merchantForm {
	f := merchantForm{Plan: string(domain.PlanFree)}
	for _, p := range domain.Plans() {
		f.Plans = append(f.Plans, string(p))
	}
	return f
}

func (h *consoleHandlers) merchants(c echo.Context) error {
	return h.merchantList(c, http.StatusOK, newMerchantForm())
}

func (h *consoleHandlers) merchantList(c echo.Context, status int, form merchantForm) error {
	after, err := formInt(c.QueryParam("after"), "after")
	if err != nil {
		return h.fail(c, err)
	}
	ms, err := h.svc.Merchants.ListMerchants(c.Request().Context(), store.Page{AfterID: after, Limit: merchantPage + 1})
	if err != nil {
		return h.fail(c, err)
	}
	data := merchantsData{Form: form}
	if len(ms) > merchantPage {
		ms = ms[:merchantPage]
		data.NextURL = "/console/merchants?after=" + strconv.FormatInt(ms[len(ms)-1].ID, 10)
	}
	data.Merchants = ms
	return h.render(c, status, "merchants", &console.Page{Title: "Merchants", Nav: "merchants", Data: data})
}

func (h *consoleHandlers) createMerchant(c echo.Context) error {
	r := c.Request()
	f := newMerchantForm()
	f.Name, f.Plan, f.ContactEmail, f.Domains = r.PostFormValue("name"), r.PostFormValue("plan"), r.PostFormValue("contact_email"), r.PostFormValue("domains")
	m, err := h.svc.Merchants.CreateMerchant(r.Context(), merchants.NewMerchant{Name: f.Name, Plan: f.Plan,
		ContactEmail: f.ContactEmail, Domains: strings.Fields(strings.ReplaceAll(f.Domains, ",", " "))})
	if err != nil {
		actionOf(c).failed(err)
		if statusFor(err) >= 500 {
			return h.fail(c, err)
		}
		f.Error = publicMessage(err)
		if de, ok := domain.AsError(err); ok {
			f.Field = de.Field
		}
		return h.merchantList(c, statusFor(err), f)
	}
	rec := actionOf(c)
	rec.target(strconv.FormatInt(m.ID, 10))
	return h.done(c, nil, fmt.Sprintf("Merchant %d (%s) created on plan %s.", m.ID, m.Name, m.Plan), "/console/merchants/"+strconv.FormatInt(m.ID, 10))
}

// merchantData is one merchant's page.
type merchantData struct {
	Merchant  *store.Merchant
	Keys      []*store.APIKey
	Endpoints []*webhooks.Endpoint
	Scopes    []string
	// NewKey is set on the page that shows a key once.
	NewKey *merchants.CreatedKey
}

func (h *consoleHandlers) merchantData(c echo.Context, id int64) (*merchantData, error) {
	ctx := c.Request().Context()
	m, err := h.svc.Merchants.GetMerchant(ctx, id)
	if err != nil {
		return nil, err
	}
	keys, err := h.svc.Merchants.ListKeys(ctx, id)
	if err != nil {
		return nil, err
	}
	eps, err := h.svc.Webhooks.ListEndpoints(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &merchantData{Merchant: m, Keys: keys, Endpoints: eps}
	for _, sc := range domain.DefaultScopes() {
		d.Scopes = append(d.Scopes, string(sc))
	}
	return d, nil
}

func (h *consoleHandlers) merchant(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return h.fail(c, domain.NotFound("merchant"))
	}
	d, err := h.merchantData(c, id)
	if err != nil {
		return h.fail(c, err)
	}
	return h.render(c, http.StatusOK, "merchant", &console.Page{Title: d.Merchant.Name, Nav: "merchants", Data: d})
}

func (h *consoleHandlers) suspendMerchant(c echo.Context) error {
	return h.setMerchantStatus(c, store.MerchantSuspended, "Merchant suspended: its API keys are refused until it is reactivated.")
}

func (h *consoleHandlers) reactivateMerchant(c echo.Context) error {
	return h.setMerchantStatus(c, store.MerchantActive, "Merchant reactivated.")
}

func (h *consoleHandlers) setMerchantStatus(c echo.Context, status store.MerchantStatus, msg string) error {
	id, err := pathID(c, "id")
	if err == nil {
		_, err = h.svc.Merchants.SetMerchantStatus(c.Request().Context(), id, status)
	}
	return h.done(c, err, msg, "/console/merchants/"+c.Param("id"))
}

func (h *consoleHandlers) addSite(c echo.Context) error {
	domainName := strings.TrimSpace(c.Request().PostFormValue("domain"))
	id, err := pathID(c, "id")
	if err == nil {
		_, err = h.svc.Merchants.AddSite(c.Request().Context(), id, domainName)
	}
	if err == nil {
		actionOf(c).ok("site " + domainName)
	}
	return h.done(c, err, "Site "+domainName+" added.", "/console/merchants/"+c.Param("id"))
}

func (h *consoleHandlers) createKey(c echo.Context) error {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return h.fail(c, domain.Invalid("invalid_form", "", "the form could not be read"))
	}
	back := "/console/merchants/" + c.Param("id")
	id, err := pathID(c, "id")
	if err != nil {
		return h.done(c, err, "", back)
	}
	k, err := h.svc.Merchants.CreateKey(r.Context(), merchants.NewKey{MerchantID: id, Mode: r.PostFormValue("mode"),
		Scopes: r.PostForm["scopes"], Name: strings.TrimSpace(r.PostFormValue("name"))})
	if err != nil {
		return h.done(c, err, "", back)
	}
	actionOf(c).ok(fmt.Sprintf("key %d (%s, %s) created", k.ID, k.Prefix, k.Mode))
	d, err := h.merchantData(c, id)
	if err != nil {
		return h.fail(c, err)
	}
	d.NewKey = k
	noStore(c)
	return h.render(c, http.StatusCreated, "merchant", &console.Page{Title: d.Merchant.Name, Nav: "merchants", Data: d})
}

func (h *consoleHandlers) revokeKey(c echo.Context) error {
	id, err := pathID(c, "id")
	var k *store.APIKey
	if err == nil {
		k, err = h.svc.Merchants.RevokeKey(c.Request().Context(), id)
	}
	back := "/console/merchants"
	if k != nil {
		back = "/console/merchants/" + strconv.FormatInt(k.MerchantID, 10)
		actionOf(c).ok(fmt.Sprintf("key %s of merchant %d revoked", k.Prefix, k.MerchantID))
	}
	return h.done(c, err, "Key revoked: it authenticates nothing from now on.", h.backTo(c, back))
}
