package whmfake

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/plugins/whm/whmprovisioner"
)

// Version is what the fake's version function reports.
const Version = "11.126.0.10"

// cPanel's username rule (Cpanel::Validate::Username::Core) without
// leading digits, and its reserved prefixes.
var (
	validUser        = regexp.MustCompile(`^[a-z][-._a-z0-9]{0,15}$`)
	reservedPrefixes = []string{"test", "passwd.", "cpmydns", "cpanel", "mydns", "pg_toast", "pg_temp", "cpses", "cptkt", "cpbackup"}
	validDomain      = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// run executes one function against the state and returns the answer.
func (s *Server) run(function string, form url.Values) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch function {
	case "version":
		return envelope(function, 1, "OK", map[string]any{"version": Version})
	case "listpkgs":
		return s.listpkgs(form)
	case "accountsummary":
		return s.accountsummary(form)
	case "createacct":
		return s.createacct(form)
	case "suspendacct", "unsuspendacct":
		return s.suspension(function, form)
	case "removeacct":
		return s.removeacct(form)
	case "changepackage":
		return s.changepackage(form)
	case "passwd":
		return s.passwd(form)
	case "create_user_session":
		return s.createUserSession(form)
	}
	return envelope(function, 0, "unhandled", nil)
}

func (s *Server) listpkgs(form url.Values) map[string]any {
	if w := form.Get("want"); w != "" && !slices.Contains([]string{"all", "creatable", "editable", "viewable"}, w) {
		return envelope("listpkgs", 0, fmt.Sprintf("API failure: (XID %s) Invalid “want” value: %s", xid(), w), nil)
	}
	pkgs := make([]any, 0, len(s.packages))
	for _, name := range s.packages {
		pkgs = append(pkgs, map[string]any{
			"name": name, "QUOTA": "unlimited", "BWLIMIT": "unlimited", "FEATURELIST": "default", "CPMOD": "jupiter",
			"MAXADDON": "unlimited", "MAXFTP": "unlimited", "MAXSQL": "unlimited", "MAXPOP": "unlimited", "IP": "n", "CGI": "y",
			"HASSHELL": "n", "LANG": "en", "_PACKAGE_EXTENSIONS": "",
		})
	}
	return envelope("listpkgs", 1, "OK", map[string]any{"pkg": pkgs})
}

func (s *Server) summaryOf(a *Account) map[string]any {
	suspended, reason := 0, "not suspended"
	if a.Suspended {
		suspended, reason = 1, a.SuspendReason
	}
	return map[string]any{
		"user": a.User, "domain": a.Domain, "plan": a.Plan, "email": a.Email, "ip": a.IP, "owner": a.Owner,
		"suspended": suspended, "suspendreason": reason, "suspendtime": nil, "partition": "home", "theme": "jupiter",
		"disklimit": "unlimited", "diskused": "0M", "startdate": a.Created.Format("06 Jan 2 15:04"),
		"unix_startdate": a.Created.Unix(), "is_locked": 0, "shell": "/usr/local/cpanel/bin/noshell",
	}
}

func (s *Server) accountsummary(form url.Values) map[string]any {
	user, domain := form.Get("user"), form.Get("domain")
	if user == "" && domain == "" {
		return envelope("accountsummary", 0, fmt.Sprintf("API failure: (XID %s) You must specify a user or domain to get a summary of.", xid()), nil)
	}
	var found []any
	for _, a := range s.accounts {
		if (user != "" && a.User == user) || (user == "" && strings.EqualFold(a.Domain, domain)) {
			found = append(found, s.summaryOf(a))
		}
	}
	if len(found) == 0 {
		return envelope("accountsummary", 0, "Account does not exist.", map[string]any{"acct": []any{}})
	}
	return envelope("accountsummary", 1, "OK", map[string]any{"acct": found})
}

func (s *Server) weak(password string) bool {
	return whmprovisioner.PasswordStrength(password) < s.opts.MinPasswordStrength
}

func (s *Server) weakReason() string {
	if s.opts.MinPasswordStrength >= 100 {
		return "The given password is too weak. Please enter a password with a strength rating of 100."
	}
	return fmt.Sprintf("The given password is too weak. Please enter a password with a strength rating of %d or higher.", s.opts.MinPasswordStrength)
}

func (s *Server) createacct(form url.Values) map[string]any {
	const fn = "createacct"
	user := strings.ToLower(form.Get("username"))
	domain := strings.ToLower(form.Get("domain"))
	plan := form.Get("plan")
	if plan == "" {
		plan = "default"
	}
	switch {
	case !validUser.MatchString(user):
		return envelope(fn, 0, fmt.Sprintf("(XID %s) “%s” is not a valid username on this system.", xid(), user), nil)
	case slices.ContainsFunc(reservedPrefixes, func(p string) bool { return strings.HasPrefix(user, p) }):
		return envelope(fn, 0, fmt.Sprintf("(XID %s) The username “%s” is reserved.", xid(), user), nil)
	case !validDomain.MatchString(domain):
		return envelope(fn, 0, fmt.Sprintf("(XID %s) “%s” is not a valid domain.", xid(), domain), nil)
	case s.accounts[user] != nil:
		return envelope(fn, 0, fmt.Sprintf("(XID %s) An account with the username “%s” already exists.", xid(), user), nil)
	case s.domainOwner(domain) != "":
		return envelope(fn, 0, fmt.Sprintf("(XID %s) The domain “%s” already exists in the userdata.", xid(), domain), nil)
	case !slices.Contains(s.packages, plan):
		return envelope(fn, 0, fmt.Sprintf("(XID %s) The package “%s” does not exist.", xid(), plan), nil)
	}
	password := form.Get("password")
	if password == "" {
		password = randomToken() + "!a"
	} else if s.weak(password) {
		return envelope(fn, 0, s.weakReason(), nil)
	}
	s.accounts[user] = &Account{
		User: user, Domain: domain, Plan: plan, Email: form.Get("contactemail"), IP: "192.0.2.10",
		Password: password, Owner: s.opts.User, Created: time.Now(),
	}
	out := envelope(fn, 1, "Account Creation Ok", map[string]any{
		"ip": "192.0.2.10", "package": plan,
		"nameserver": "ns1.fake-whm.test", "nameserver2": "ns2.fake-whm.test", "nameserver3": nil, "nameserver4": nil,
		"nameservera": nil, "nameservera2": nil, "nameservera3": nil, "nameservera4": nil,
		"nameserverentry": nil, "nameserverentry2": nil, "nameserverentry3": nil, "nameserverentry4": nil,
	})
	out["metadata"].(map[string]any)["output"] = map[string]any{"raw": "WWWAcct (fake)\n| Domain: " + domain + "\n| UserName: " + user + "\n...Done\n"}
	return out
}

func (s *Server) domainOwner(domain string) string {
	for _, a := range s.accounts {
		if strings.EqualFold(a.Domain, domain) {
			return a.User
		}
	}
	return ""
}

func (s *Server) suspension(fn string, form url.Values) map[string]any {
	user := form.Get("user")
	a := s.accounts[user]
	if a == nil {
		return userNotFound(fn, user)
	}
	if fn == "suspendacct" {
		a.Suspended, a.SuspendReason = true, form.Get("reason")
		if a.SuspendReason == "" {
			a.SuspendReason = "No reason given"
		}
	} else {
		a.Suspended, a.SuspendReason = false, ""
	}
	out := envelope(fn, 1, "OK", nil)
	out["metadata"].(map[string]any)["output"] = map[string]any{"raw": user + "'s account has been " + strings.TrimSuffix(fn, "acct") + "ed\n"}
	return out
}

func (s *Server) removeacct(form url.Values) map[string]any {
	user := form.Get("username")
	if s.accounts[user] == nil {
		return userNotFound("removeacct", user)
	}
	if k := form.Get("keepdns"); k != "" && k != "0" && k != "1" {
		return envelope("removeacct", 0, "Invalid keepdns value", nil)
	}
	delete(s.accounts, user)
	out := envelope("removeacct", 1, user+" account removed", nil)
	out["metadata"].(map[string]any)["output"] = map[string]any{"raw": "Removing User & Group...Success...Done\n"}
	return out
}

func (s *Server) changepackage(form url.Values) map[string]any {
	user, pkg := form.Get("user"), form.Get("pkg")
	a := s.accounts[user]
	if a == nil {
		return userNotFound("changepackage", user)
	}
	if !slices.Contains(s.packages, pkg) {
		return envelope("changepackage", 0, fmt.Sprintf("Specified package “%s” does not exist.", pkg), nil)
	}
	a.Plan = pkg
	return envelope("changepackage", 1, "OK", nil)
}

func (s *Server) passwd(form url.Values) map[string]any {
	user, password := form.Get("user"), form.Get("password")
	a := s.accounts[user]
	if a == nil {
		return userNotFound("passwd", user)
	}
	if s.weak(password) {
		return envelope("passwd", 0, "API failure: (XID "+xid()+") "+s.weakReason(), nil)
	}
	a.Password = password
	return envelope("passwd", 1, "Password changed for user “"+user+"”.", map[string]any{"app": []string{"system", "ftp", "mail", "mysql"}})
}

func (s *Server) createUserSession(form url.Values) map[string]any {
	const fn = "create_user_session"
	user, service := form.Get("user"), form.Get("service")
	ports := map[string]string{"cpaneld": "2083", "webmaild": "2096", "whostmgrd": "2087"}
	port, ok := ports[service]
	if !ok {
		return envelope(fn, 0, "The “service” parameter is invalid. The only supported services for this API call are “cpaneld”, “webmaild”, and “whostmgrd”.", nil)
	}
	a := s.accounts[user]
	switch {
	case a == nil:
		return envelope(fn, 0, fmt.Sprintf("You cannot create a session for the user “%s” because they do not exist.", user), nil)
	case a.Suspended:
		return envelope(fn, 0, fmt.Sprintf("You cannot create a session for the user “%s” because they are currently suspended.", user), nil)
	}
	token := "/cpsess" + fmt.Sprintf("%010d", time.Now().UnixNano()%1e10)
	session := user + ":" + randomToken() + ":create_user_session," + xid() + xid()
	link := "https://fake-whm.test:" + port + token + "/login/?session=" + url.QueryEscape(session)
	s.sessions = append(s.sessions, link)
	expires := time.Now().Add(15 * time.Minute).Unix()
	return envelope(fn, 1, "Created session", map[string]any{
		"url": link, "session": session, "expires": expires, "cp_security_token": token, "service": service, "locale": "en",
	})
}
