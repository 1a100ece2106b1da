package httpapi

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/console"
	"github.com/switchyard/switchyard/core/domain"
)

// loginData is the login page's content.
type loginData struct {
	// FormToken ties the form to the browser's login cookie (login CSRF).
	FormToken string
	Next      string
	Notice    string
	Error     string
}

// loginCookieAge bounds how long a login form stays usable.
const loginCookieAge = 3600

func (h *consoleHandlers) loginForm(c echo.Context) error {
	secret := cookieValue(c, h.cookieName(c, sessionCookie, secureSessionCookie))
	if _, err := h.auth.Resume(c.Request().Context(), secret); err == nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	data := loginData{Next: safeNext(c.QueryParam("next"))}
	switch {
	case c.QueryParam("expired") == "1":
		data.Notice = "Your session ended (signed out, idle too long, or the token changed). Sign in again."
	case c.QueryParam("signed_out") == "1":
		data.Notice = "You have signed out."
	}
	return h.renderLogin(c, http.StatusOK, data)
}

// renderLogin shows the login form with a fresh form token, also set as a
// SameSite=Strict cookie: a login posted from another site carries neither.
func (h *consoleHandlers) renderLogin(c echo.Context, status int, data loginData) error {
	tok, err := console.NewToken()
	if err != nil {
		return h.fail(c, err)
	}
	data.FormToken = tok
	h.setCookie(c, h.cookieName(c, loginCookie, secureLoginCookie), tok, loginCookieAge)
	noStore(c)
	return h.render(c, status, "login", &console.Page{Title: "Sign in", Data: data})
}

func (h *consoleHandlers) login(c echo.Context) error {
	ctx := c.Request().Context()
	addr := clientAddr(c)
	entry := audit.Entry{Via: audit.ViaConsole, Action: "login", RemoteAddr: addr}
	next := safeNext(c.Request().PostFormValue("next"))

	d, err := h.limiter.Allow(ctx, "console-login:"+addr)
	if err != nil {
		return h.fail(c, err)
	}
	if !d.Allowed {
		secs := int((d.RetryAfter.Seconds()) + 1)
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		entry.Outcome, entry.Detail = audit.Denied, "too many login attempts from this address"
		h.record(c, &actionRecord{entry: entry})
		return h.renderLogin(c, http.StatusTooManyRequests, loginData{Next: next,
			Error: "Too many sign-in attempts from your address. Wait " + strconv.Itoa(secs) + " seconds and try again."})
	}

	want := cookieValue(c, h.cookieName(c, loginCookie, secureLoginCookie))
	got := c.Request().PostFormValue("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 || !h.sameOrigin(c) {
		entry.Outcome, entry.Detail = audit.Denied, "the login form's CSRF token or origin was wrong"
		h.record(c, &actionRecord{entry: entry})
		return h.renderLogin(c, http.StatusForbidden, loginData{Next: next,
			Error: "The sign-in form expired or did not come from this console. Try again."})
	}

	sess, secret, err := h.auth.Login(ctx, c.Request().PostFormValue("token"),
		console.Client{RemoteAddr: addr, UserAgent: c.Request().UserAgent()})
	if errors.Is(err, domain.ErrUnauthorized) {
		entry.Outcome, entry.Detail = audit.Denied, "a token that is not an operator token"
		h.record(c, &actionRecord{entry: entry})
		return h.renderLogin(c, http.StatusUnauthorized, loginData{Next: next, Error: "That token is not valid."})
	}
	if err != nil {
		return h.fail(c, err)
	}
	entry.Actor, entry.Role, entry.Outcome = sess.Operator.Name, sess.Operator.Role, audit.OK
	h.record(c, &actionRecord{entry: entry})
	h.setCookie(c, h.cookieName(c, loginCookie, secureLoginCookie), "", -1)
	h.setCookie(c, h.cookieName(c, sessionCookie, secureSessionCookie), secret, 0)
	return c.Redirect(http.StatusSeeOther, next)
}

func (h *consoleHandlers) logout(c echo.Context) error {
	secret := cookieValue(c, h.cookieName(c, sessionCookie, secureSessionCookie))
	if err := h.auth.Logout(c.Request().Context(), secret); err != nil {
		actionOf(c).failed(err)
		return h.fail(c, err)
	}
	h.setCookie(c, h.cookieName(c, sessionCookie, secureSessionCookie), "", -1)
	return c.Redirect(http.StatusSeeOther, "/console/login?signed_out=1")
}

// safeNext keeps a post-login redirect inside the console: a path under
// /console/, never another host ("//evil", "/\evil").
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "//") {
		return "/console/"
	}
	return next
}
