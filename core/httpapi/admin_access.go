package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/domain"
)

// IdentifyFunc names the operator an admin token belongs to and their role
// (config.RoleViewer or config.RoleOperator); ok is false for any other
// token. *console.Auth's Identify is one.
type IdentifyFunc func(token string) (name, role string, ok bool)

// AdminAccess enforces roles on the admin API and audits what it changes.
// It runs on the whole admin listener (mount it before the API groups):
//
//   - a viewer token may only read (GET, HEAD); anything else is 403
//     read_only_token, recorded as denied;
//   - every other request of an identified operator that is not a read is
//     recorded with its route, parameters and HTTP status.
//
// Unidentified tokens pass through to AdminAuth, which refuses them.
func AdminAccess(identify IdentifyFunc, log AuditLog) Mount {
	mw := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if !strings.HasPrefix(req.URL.Path, "/admin/") || req.Method == http.MethodGet || req.Method == http.MethodHead {
				return next(c)
			}
			tok, ok := bearerToken(req)
			if !ok {
				return next(c)
			}
			name, role, ok := identify(tok)
			if !ok {
				return next(c)
			}
			c.Set(apiOperatorKey, name)
			entry := audit.Entry{Actor: name, Role: role, Via: audit.ViaAPI, Action: req.Method + " " + c.Path(),
				TargetID: pathParams(c), RemoteAddr: clientAddr(c)}
			if role != config.RoleOperator {
				entry.Outcome, entry.Detail = audit.Denied, "a viewer token may only read"
				recordAPI(c, log, entry)
				return &domain.Error{Kind: domain.ErrForbidden, Code: "read_only_token",
					Message: "this admin token has the viewer role, which may only read (GET)"}
			}
			err := next(c)
			status := c.Response().Status
			if err != nil {
				status = statusFor(err)
				if he, ok := err.(*echo.HTTPError); ok {
					status = he.Code
				}
			}
			entry.Outcome, entry.Detail = audit.OK, http.StatusText(status)
			if status >= 400 {
				entry.Outcome = audit.Failed
				if err != nil {
					entry.Detail = publicMessage(err)
				}
			}
			recordAPI(c, log, entry)
			return err
		}
	}
	return func(e *echo.Echo) { e.Use(mw) }
}

func recordAPI(c echo.Context, log AuditLog, e audit.Entry) {
	// The audit log logs a failure to store the entry itself.
	_ = log.Record(c.Request().Context(), e)
}

// pathParams renders a route's parameters ("id=42 provider_id=stripe").
func pathParams(c echo.Context) string {
	names, values := c.ParamNames(), c.ParamValues()
	parts := make([]string, 0, len(names))
	for i, n := range names {
		if i < len(values) {
			parts = append(parts, n+"="+values[i])
		}
	}
	return strings.Join(parts, " ")
}

const apiOperatorKey = "admin.operator"

// apiOperator names who is calling the admin API, for records kept by the
// services ("api:alice").
func apiOperator(c echo.Context) string {
	if name, ok := c.Get(apiOperatorKey).(string); ok && name != "" {
		return "api:" + name
	}
	return AdminOperator
}
