package whmfake

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/whm/whmprovisioner"
)

// Options configure a fake server.
type Options struct {
	// User and Token are the credentials the fake accepts (default "root"
	// and a random 32-character token).
	User, Token string
	// Packages exist on the server, named exactly (default "default",
	// "basic", "root_premium" and the reseller-prefixed "reseller_gold").
	Packages []string
	// MinPasswordStrength is the server's createacct/passwd minimum
	// (cPanel's 0–100 rating); default 65.
	MinPasswordStrength int
	// ACL, when not nil, are the privileges of the token (create-acct,
	// kill-acct, suspend-acct, upgrade-account, passwd, acct-summary,
	// list-pkgs, create-user-session, basic-system-info); other functions
	// are refused. Nil means root: everything.
	ACL []string
}

// Account is one cPanel account on the fake.
type Account struct {
	User, Domain, Plan, Email, IP string
	Password                      string
	Suspended                     bool
	SuspendReason                 string
	Owner                         string
	Created                       time.Time
}

// Call is one request the fake received, parameters decoded (passwords
// included: the fake is test-only).
type Call struct {
	Function string
	Method   string
	// Params are all parameters (URL query and form body).
	Params url.Values
	// Query is the URL query alone; a careful client keeps passwords out
	// of it (cpsrvd logs URLs).
	Query url.Values
}

// FaultKind says how an injected fault fails a call.
type FaultKind int

// Faults.
const (
	// Outage answers HTTP 503 without running the function.
	Outage FaultKind = iota + 1
	// DropAfterApply runs the function, then closes the connection
	// without an answer: the change happened but the client never hears.
	DropAfterApply
	// Reason answers metadata result 0 with Fault.Reason, running nothing.
	Reason
)

// Fault is an injected failure for the next call of a function.
type Fault struct {
	Kind   FaultKind
	Reason string
}

// Server is the fake. Build it with New.
type Server struct {
	t    testing.TB
	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	accounts map[string]*Account
	packages []string
	calls    []Call
	faults   map[string][]Fault
	sessions []string
}

// functionACL is the privilege each function needs (WHM's ACL names).
var functionACL = map[string]string{
	"createacct":          "create-acct",
	"removeacct":          "kill-acct",
	"suspendacct":         "suspend-acct",
	"unsuspendacct":       "suspend-acct",
	"changepackage":       "upgrade-account",
	"passwd":              "passwd",
	"accountsummary":      "acct-summary",
	"listpkgs":            "list-pkgs",
	"create_user_session": "create-user-session",
	"version":             "basic-system-info",
}

// params lists each function's required and optional parameters (from
// WHM API 1's documentation; a subset of the optional ones).
var params = map[string]struct{ required, optional []string }{
	"version":        {},
	"listpkgs":       {optional: []string{"want"}},
	"accountsummary": {optional: []string{"user", "domain"}},
	"createacct": {required: []string{"username", "domain"}, optional: []string{
		"plan", "password", "contactemail", "pkgname", "savepkg", "featurelist", "quota", "ip", "cgi",
		"hasshell", "cpmod", "maxftp", "maxsql", "maxpop", "maxlst", "maxsub", "maxpark", "maxaddon",
		"bwlimit", "language", "useregns", "hasuseregns", "reseller", "forcedns", "mxcheck", "owner",
		"max_email_per_hour", "max_defer_fail_percentage", "mailbox_format", "dkim", "spf", "customip"}},
	"suspendacct":         {required: []string{"user"}, optional: []string{"reason", "disallowun", "leave-ftp-accts-enabled"}},
	"unsuspendacct":       {required: []string{"user"}, optional: []string{"retain-service-proxies"}},
	"removeacct":          {required: []string{"username"}, optional: []string{"keepdns"}},
	"changepackage":       {required: []string{"user", "pkg"}},
	"passwd":              {required: []string{"user", "password"}, optional: []string{"enabledigest", "digestauth", "db_pass_update"}},
	"create_user_session": {required: []string{"user", "service"}, optional: []string{"app", "locale", "preferred_domain"}},
}

// New starts a fake for the duration of t.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.User == "" {
		opts.User = "root"
	}
	if opts.Token == "" {
		opts.Token = randomToken()
	}
	if opts.Packages == nil {
		opts.Packages = []string{"default", "basic", "root_premium", "reseller_gold"}
	}
	if opts.MinPasswordStrength == 0 {
		opts.MinPasswordStrength = 65
	}
	s := &Server{t: t, opts: opts, accounts: map[string]*Account{}, packages: slices.Clone(opts.Packages), faults: map[string][]Fault{}}
	s.srv = httptest.NewUnstartedServer(s)
	// Refused handshakes are what TLS tests are about; keep them out of
	// the test log.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

func randomToken() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Host is the address the fake listens on (an IP).
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.srv.Listener.Addr().String())
	return h
}

// Port is the fake's TCP port.
func (s *Server) Port() string {
	_, p, _ := net.SplitHostPort(s.srv.Listener.Addr().String())
	return p
}

// Token is the API token the fake accepts.
func (s *Server) Token() string { return s.opts.Token }

// Fingerprint is the SHA-256 of the fake's (self-signed) certificate, hex.
func (s *Server) Fingerprint() string {
	sum := sha256.Sum256(s.srv.Certificate().Raw)
	return hex.EncodeToString(sum[:])
}

// Settings are whm plugin settings that reach this fake: host, port,
// username, token and the pinned certificate.
func (s *Server) Settings() map[string]string {
	return map[string]string{
		whmprovisioner.SettingHost:           s.Host(),
		whmprovisioner.SettingPort:           s.Port(),
		whmprovisioner.SettingUsername:       s.opts.User,
		whmprovisioner.SettingAPIToken:       s.opts.Token,
		whmprovisioner.SettingTLSFingerprint: s.Fingerprint(),
	}
}

// Inject queues a fault for the next call of function.
func (s *Server) Inject(function string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[function] = append(s.faults[function], f)
}

// AddAccount puts an account on the server (as if made elsewhere).
func (s *Server) AddAccount(a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.Owner == "" {
		a.Owner = s.opts.User
	}
	s.accounts[a.User] = &a
}

// Account returns a copy of an account.
func (s *Server) Account(user string) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[user]
	if !ok {
		return Account{}, false
	}
	return *a, true
}

// Accounts counts the accounts on the server.
func (s *Server) Accounts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accounts)
}

// SetPackages replaces the server's packages.
func (s *Server) SetPackages(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.packages = slices.Clone(names)
}

// Calls returns every request so far, in order; with functions given,
// only those.
func (s *Server) Calls(functions ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(functions) == 0 || slices.Contains(functions, c.Function) {
			out = append(out, c)
		}
	}
	return out
}

// Sessions returns the login URLs create_user_session handed out.
func (s *Server) Sessions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sessions)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	function, ok := strings.CutPrefix(r.URL.Path, "/json-api/")
	if !ok || function == "" || strings.Contains(function, "/") {
		http.NotFound(w, r)
		return
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		// cpsrvd answers an unauthenticated API request with its login page.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, "<html><head><title>WHM Login</title></head><body>Login</body></html>")
		return
	}
	if auth != "whm "+s.opts.User+":"+s.opts.Token {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"cpanelresult":{"apiversion":"2","error":"Access denied","data":{"reason":"Access denied","result":"0"},"type":"text"}}`)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.t.Errorf("whmfake: %s %s: WHM API 1 takes GET or POST", r.Method, r.URL.Path)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.t.Errorf("whmfake: %s: unreadable parameters: %v", function, err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	form := r.Form
	for k, v := range form {
		if len(v) > 1 {
			s.t.Errorf("whmfake: %s: parameter %q given %d times", function, k, len(v))
		}
	}

	s.mu.Lock()
	s.calls = append(s.calls, Call{Function: function, Method: r.Method, Params: cloneValues(form), Query: r.URL.Query()})
	var fault *Fault
	if q := s.faults[function]; len(q) > 0 {
		fault = &q[0]
		s.faults[function] = q[1:]
	}
	s.mu.Unlock()

	if form.Get("api.version") != "1" {
		s.t.Errorf("whmfake: %s called without api.version=1 (that is API 0, another format)", function)
		writeJSON(w, map[string]any{"result": []any{map[string]any{"status": 0, "statusmsg": "API 0 is not served by whmfake"}}})
		return
	}
	spec, known := params[function]
	if !known {
		writeJSON(w, envelope(function, 0, fmt.Sprintf("Unknown app (“%s”) requested for this version (1) of the API.", function), nil))
		return
	}
	if reason := s.checkParams(function, spec.required, spec.optional, form); reason != "" {
		writeJSON(w, envelope(function, 0, reason, nil))
		return
	}
	if s.opts.ACL != nil && !slices.Contains(s.opts.ACL, functionACL[function]) {
		writeJSON(w, envelope(function, 0, "Access denied", nil))
		return
	}
	if fault != nil {
		switch fault.Kind {
		case Outage:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "<html><body>cpsrvd is restarting</body></html>")
			return
		case Reason:
			writeJSON(w, envelope(function, 0, fault.Reason, nil))
			return
		case DropAfterApply:
			s.run(function, form)
			hj, ok := w.(http.Hijacker)
			if !ok {
				s.t.Fatalf("whmfake: cannot drop the connection")
			}
			conn, _, err := hj.Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
	}
	writeJSON(w, s.run(function, form))
}

func (s *Server) checkParams(function string, required, optional []string, form url.Values) string {
	for k := range form {
		if k == "api.version" || slices.Contains(required, k) || slices.Contains(optional, k) {
			continue
		}
		s.t.Errorf("whmfake: %s: parameter %q is not one of WHM's", function, k)
		return fmt.Sprintf("whmfake: unexpected parameter “%s”", k)
	}
	for _, k := range required {
		if strings.TrimSpace(form.Get(k)) == "" {
			s.t.Errorf("whmfake: %s: required parameter %q missing", function, k)
			return fmt.Sprintf("API failure: (XID %s) The parameter “%s” is required.", xid(), k)
		}
	}
	return ""
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func envelope(function string, result int, reason string, data any) map[string]any {
	out := map[string]any{"metadata": map[string]any{
		"command": function, "result": result, "reason": reason, "version": 1,
	}}
	if data != nil {
		out["data"] = data
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// xid is cPanel's error id, shown in exception texts.
func xid() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func userNotFound(function, user string) map[string]any {
	return envelope(function, 0, fmt.Sprintf("API failure: (XID %s) You do not have a user named “%s”.", xid(), user), nil)
}
