package app_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoInConsole is what `make run` promises: after `switchyard demo`,
// an operator signs in to the console at the admin address with the token
// the demo printed, finds the demo session, reads its timeline and resends
// its webhook, which the demo inbox receives again. Plain HTTP with a
// cookie jar, like a browser without JavaScript.
func TestDemoInConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin, pluginDir := switchyardBinaries(t)
	sy := startSwitchyardWith(t, bin, pluginDir, serveOptions{
		AdminTokens: `[{name: demo-operator, role: operator, token: dev-admin-token-change-me}, {name: demo-viewer, role: viewer, token: env:VIEWER_TOKEN_NOT_PRINTED}]`,
		AdminExtra:  "  demo_inbox: true",
		Env:         []string{"VIEWER_TOKEN_NOT_PRINTED=viewer-secret-0123456789"},
	})
	// switchyard serve ran migrate; the demo makes the merchant, key,
	// endpoint and session as make run does.
	out := string(sy.run(t, "demo"))
	for _, want := range []string{"Operator console: " + sy.admin + "/console/", "demo-operator", "development token dev-admin-token-change-me", "demo-viewer"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "viewer-secret-0123456789") {
		t.Fatalf("the demo printed a token given by reference:\n%s", out)
	}
	m := regexp.MustCompile(`Demo session (cs_\S+) \(order (DEMO-\S+)\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no demo session in:\n%s", out)
	}
	sessionID, order := m[1], m[2]

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(path string) string {
		t.Helper()
		resp, err := c.Get(sy.admin + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	post := func(path string, form url.Values) string {
		t.Helper()
		resp, err := c.PostForm(sy.admin+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d\n%s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)

	login := get("/console/login")
	home := post("/console/login", url.Values{"csrf": {csrf.FindStringSubmatch(login)[1]}, "token": {"dev-admin-token-change-me"}})
	if !strings.Contains(home, "Signed in as <strong>demo-operator</strong>") {
		t.Fatalf("not signed in:\n%s", home)
	}
	list := get("/console/sessions?q=" + url.QueryEscape(order))
	if !strings.Contains(list, "/console/sessions/"+sessionID) {
		t.Fatalf("the demo session is not found by its order id:\n%s", list)
	}
	// The session.created webhook reaches the inbox once serve runs it.
	delivery := regexp.MustCompile(`href="/console/deliveries/(whd_[A-Z0-9]+)"`)
	var page, whd string
	waitFor(t, "the demo session's session.created delivery", func() bool {
		page = get("/console/sessions/" + sessionID)
		if d := delivery.FindStringSubmatch(page); d != nil && strings.Contains(page, ">succeeded<") {
			whd = d[1]
			return true
		}
		return false
	})
	for _, want := range []string{"Timeline", "Session created", "Merchant event session.created", "/demo/inbox"} {
		if !strings.Contains(page, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	after := post("/console/deliveries/"+whd+"/resend", url.Values{"csrf": {csrf.FindStringSubmatch(page)[1]},
		"back": {"/console/sessions/" + sessionID}})
	if !strings.Contains(after, "is scheduled to be sent again now") {
		t.Fatalf("resend notice missing:\n%s", after)
	}
	waitFor(t, "the resent delivery", func() bool {
		d := get("/console/deliveries/" + whd)
		return strings.Count(d, ">succeeded<") >= 3 && strings.Contains(d, "<td>resend</td>") // badge + two attempts
	})
	if n := strings.Count(sy.logs.String(), `msg="demo inbox received a webhook"`); n < 2 {
		t.Errorf("the demo inbox logged %d webhooks, want the delivery and its resend", n)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s", what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
