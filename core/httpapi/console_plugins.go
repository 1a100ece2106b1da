package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/console"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/core/store"
)

// pluginsData is the plugins page, with a test report when the page is
// the answer to a test.
type pluginsData struct {
	Instances []pluginhost.InstanceInfo
	Report    *pluginhost.TestReport
}

func (h *consoleHandlers) plugins(c echo.Context) error {
	return h.render(c, http.StatusOK, "plugins", &console.Page{Title: "Plugins", Nav: "plugins",
		Data: pluginsData{Instances: h.svc.Plugins.Instances()}})
}

func (h *consoleHandlers) testPlugin(c echo.Context) error {
	packages := strings.Fields(strings.ReplaceAll(c.Request().PostFormValue("packages"), ",", " "))
	report, err := h.svc.Plugins.Test(c.Request().Context(), c.Param("id"), packages)
	if err != nil {
		return h.done(c, err, "", "/console/plugins")
	}
	rec := actionOf(c)
	if report.Error != nil {
		rec.entry.Outcome, rec.entry.Detail, rec.set = audit.Failed, "connection test failed: "+report.Error.Message, true
	} else {
		rec.ok("connection test passed (" + report.Method + ")")
	}
	return h.render(c, http.StatusOK, "plugins", &console.Page{Title: "Plugins", Nav: "plugins",
		Data: pluginsData{Instances: h.svc.Plugins.Instances(), Report: report}})
}

// auditData is the audit log page.
type auditData struct {
	Actor, Action, TargetType, TargetID string
	Entries                             []*store.AuditEntry
	NextURL                             string
}

// auditPage is how many entries one page lists.
const auditPage = 100

func (h *consoleHandlers) auditLog(c echo.Context) error {
	before, err := formInt(c.QueryParam("before"), "before")
	if err != nil {
		return h.fail(c, err)
	}
	d := auditData{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), TargetType: c.QueryParam("target_type"),
		TargetID: strings.TrimSpace(c.QueryParam("target_id"))}
	es, err := h.svc.Audit.List(c.Request().Context(), audit.Filter{Actor: d.Actor, Action: d.Action,
		TargetType: d.TargetType, TargetID: d.TargetID, BeforeID: before, Limit: auditPage + 1})
	if err != nil {
		return h.fail(c, err)
	}
	if len(es) > auditPage {
		es = es[:auditPage]
		d.NextURL = withQuery(c.Request().URL, "before", strconv.FormatInt(es[len(es)-1].ID, 10))
	}
	d.Entries = es
	return h.render(c, http.StatusOK, "audit", &console.Page{Title: "Audit log", Nav: "audit", Data: d})
}
