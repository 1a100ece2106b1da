package whmprovisioner

import (
	"context"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provisioner"
)

var (
	// cpanelUser is what this plugin creates: cPanel's own rule (at most
	// 16 characters, no leading digit) narrowed to lower-case letters and
	// digits, which every MySQL/PostgreSQL prefix setup accepts.
	cpanelUser = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)
	// anyUser is what may be acted on: accounts made elsewhere may use
	// cPanel's full character set.
	anyUser  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,15}$`)
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	// packageName: WHM package names may contain spaces and most
	// punctuation; refuse only what cannot be one.
	packageName = regexp.MustCompile(`^[^\x00-\x1f/\\]{1,128}$`)
)

// reservedPrefixes are cPanel's reserved username prefixes.
var reservedPrefixes = []string{"test", "passwd.", "cpmydns", "cpanel", "mydns", "pg_toast", "pg_temp", "cpses", "cptkt", "cpbackup"}

func validNewUser(user string) error {
	if !cpanelUser.MatchString(user) {
		return sdk.Invalid("username %q: want 1-16 lower-case letters and digits, starting with a letter", user).
			WithField("username").WithCode("invalid_username")
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(user, p) {
			return sdk.Invalid("username %q: cPanel reserves names starting with %q", user, p).
				WithField("username").WithCode("invalid_username")
		}
	}
	if strings.HasSuffix(user, "assword") {
		return sdk.Invalid("username %q: cPanel reserves names ending in \"assword\"", user).
			WithField("username").WithCode("invalid_username")
	}
	return nil
}

func validUser(user string) error {
	if !anyUser.MatchString(user) {
		return sdk.Invalid("username %q is not a cPanel username", user).WithField("username").WithCode("invalid_username")
	}
	return nil
}

// normalizeDomain lower-cases and checks a domain name (A-labels only: an
// internationalized name must arrive in its xn-- form).
func normalizeDomain(domain string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	labels := strings.Split(d, ".")
	ok := len(d) <= 253 && len(labels) >= 2
	for _, l := range labels {
		ok = ok && dnsLabel.MatchString(l)
	}
	if !ok {
		return "", sdk.Invalid("domain %q is not a domain name (internationalized names in xn-- form)", domain).
			WithField("domain").WithCode("invalid_domain")
	}
	return d, nil
}

func validPackage(pkg string) error {
	if !packageName.MatchString(pkg) {
		return sdk.Invalid("package %q is not a WHM package name", pkg).WithField("package").WithCode("invalid_package")
	}
	return nil
}

// CreateAccount implements provisioner.Provisioner. It is safe to retry:
// when the username already exists with the same domain (the first attempt
// reached WHM but its answer was lost) the account is adopted, and its
// password set to the one returned or requested, so the login details the
// host sends are right.
func (p *Provisioner) CreateAccount(ctx context.Context, req provisioner.CreateAccountRequest) (provisioner.Account, error) {
	if err := validNewUser(req.Username); err != nil {
		return provisioner.Account{}, err
	}
	domain, err := normalizeDomain(req.Domain)
	if err != nil {
		return provisioner.Account{}, err
	}
	if req.Package != "" {
		if err := validPackage(req.Package); err != nil {
			return provisioner.Account{}, err
		}
	}
	if req.ContactEmail != "" {
		if a, err := mail.ParseAddress(req.ContactEmail); err != nil || a.Name != "" {
			return provisioner.Account{}, sdk.Invalid("contact email %q is not an address", req.ContactEmail).
				WithField("contact_email").WithCode("invalid_email")
		}
	}
	if req.Server != "" && req.Server != p.serverName() {
		return provisioner.Account{}, sdk.Invalid("server %q: this instance manages only %s", req.Server, p.serverName()).
			WithField("server").WithCode("unknown_server")
	}
	c, err := p.api()
	if err != nil {
		return provisioner.Account{}, err
	}

	password, generated := req.Password, false
	if password == "" {
		if password, err = generatePassword(); err != nil {
			return provisioner.Account{}, sdk.Internal("generate password: %v", err)
		}
		generated = true
	}

	existing, err := p.summary(ctx, c, req.Username, "")
	switch sdk.CategoryOf(err) {
	case "":
		return p.adopt(ctx, c, existing, domain, password, generated)
	case sdk.CategoryNotFound:
	default:
		return provisioner.Account{}, err
	}

	params := url.Values{
		"username": {req.Username},
		"domain":   {domain},
		"password": {password},
	}
	if req.Package != "" {
		params.Set("plan", req.Package)
	}
	if req.ContactEmail != "" {
		params.Set("contactemail", req.ContactEmail)
	}
	var data createData
	if err := p.call(ctx, c, "createacct", params, &data); err != nil {
		return p.createFailed(ctx, c, req, domain, password, generated, err)
	}
	acct := provisioner.Account{
		Username: req.Username, Domain: domain, Package: data.Package, Status: provisioner.AccountActive,
		Server: c.s.host, IP: data.IP, Nameservers: data.nameservers(),
	}
	if acct.Package == "" {
		acct.Package = req.Package
	}
	if generated {
		acct.Password = password
	}
	p.log.Info("whm account created", "username", req.Username, "domain", domain, "package", acct.Package)
	return acct, nil
}

// createFailed finds out why createacct failed. An answer lost in transit
// is left to the host's retry (which adopts); otherwise the account may
// exist after all (a concurrent attempt), or the username, the domain or
// the package is the problem, whatever WHM's wording.
func (p *Provisioner) createFailed(ctx context.Context, c *client, req provisioner.CreateAccountRequest, domain, password string, generated bool, callErr error) (provisioner.Account, error) {
	switch sdk.CategoryOf(callErr) {
	case sdk.CategoryUnavailable, sdk.CategoryUnauthorized, sdk.CategoryRetryable:
		return provisioner.Account{}, callErr
	}
	if a, err := p.summary(ctx, c, req.Username, ""); err == nil {
		return p.adopt(ctx, c, a, domain, password, generated)
	}
	if a, err := p.summary(ctx, c, "", domain); err == nil && a.User != req.Username {
		return provisioner.Account{}, sdk.AlreadyExists("whm createacct: the domain %s belongs to another account", domain).
			WithField("domain").WithCode("domain_taken")
	}
	if req.Package != "" {
		if pkgs, err := p.ListPackages(ctx); err == nil && !provisioner.HasPackage(pkgs, req.Package) {
			return provisioner.Account{}, sdk.Invalid("whm createacct: package %q does not exist on %s (names are exact, reseller prefix included)", req.Package, c.s.host).
				WithField("package").WithCode("unknown_package")
		}
	}
	return provisioner.Account{}, callErr
}

// adopt takes over an existing account with the requested domain: it sets
// the password so the caller's login details are right. Another domain
// means the username belongs to someone else.
func (p *Provisioner) adopt(ctx context.Context, c *client, a whmAccount, domain, password string, generated bool) (provisioner.Account, error) {
	if !strings.EqualFold(strings.TrimSuffix(a.Domain, "."), domain) {
		return provisioner.Account{}, sdk.AlreadyExists("whm: the username %q already exists with another domain", a.User).
			WithField("username").WithCode("username_taken")
	}
	if err := p.setPassword(ctx, c, a.User, password); err != nil {
		return provisioner.Account{}, err
	}
	acct := c.accountFrom(a)
	if generated {
		acct.Password = password
	}
	p.log.Info("whm account adopted", "username", a.User, "domain", a.Domain)
	return acct, nil
}

// createData is createacct's data member.
type createData struct {
	IP          string  `json:"ip"`
	Package     string  `json:"package"`
	Nameserver  *string `json:"nameserver"`
	Nameserver2 *string `json:"nameserver2"`
	Nameserver3 *string `json:"nameserver3"`
	Nameserver4 *string `json:"nameserver4"`
}

func (d createData) nameservers() []string {
	var out []string
	for _, ns := range []*string{d.Nameserver, d.Nameserver2, d.Nameserver3, d.Nameserver4} {
		if ns != nil && *ns != "" {
			out = append(out, *ns)
		}
	}
	return out
}

func (p *Provisioner) serverName() string {
	c, err := p.api()
	if err != nil {
		return ""
	}
	return c.s.host
}

// Suspend implements provisioner.Provisioner; suspending a suspended
// account succeeds (and records the new reason).
func (p *Provisioner) Suspend(ctx context.Context, req provisioner.SuspendRequest) (provisioner.Account, error) {
	if err := validUser(req.Username); err != nil {
		return provisioner.Account{}, err
	}
	c, err := p.api()
	if err != nil {
		return provisioner.Account{}, err
	}
	params := url.Values{"user": {req.Username}}
	if r := strings.Join(strings.Fields(req.Reason), " "); r != "" {
		if len(r) > 255 {
			r = r[:255]
		}
		params.Set("reason", r)
	}
	if err := p.call(ctx, c, "suspendacct", params, nil); err != nil {
		if err = p.explain(ctx, c, req.Username, err); sdk.CategoryOf(err) == sdk.CategoryNotFound {
			return provisioner.Account{}, err
		}
		// Already suspended is success; anything else is the failure.
		if a, aerr := p.account(ctx, c, req.Username); aerr == nil && a.Status == provisioner.AccountSuspended {
			return a, nil
		}
		return provisioner.Account{}, err
	}
	return p.account(ctx, c, req.Username)
}

// Unsuspend implements provisioner.Provisioner; unsuspending an active
// account succeeds.
func (p *Provisioner) Unsuspend(ctx context.Context, req provisioner.UnsuspendRequest) (provisioner.Account, error) {
	if err := validUser(req.Username); err != nil {
		return provisioner.Account{}, err
	}
	c, err := p.api()
	if err != nil {
		return provisioner.Account{}, err
	}
	if err := p.call(ctx, c, "unsuspendacct", url.Values{"user": {req.Username}}, nil); err != nil {
		if err = p.explain(ctx, c, req.Username, err); sdk.CategoryOf(err) == sdk.CategoryNotFound {
			return provisioner.Account{}, err
		}
		if a, aerr := p.account(ctx, c, req.Username); aerr == nil && a.Status == provisioner.AccountActive {
			return a, nil
		}
		return provisioner.Account{}, err
	}
	return p.account(ctx, c, req.Username)
}

// Terminate implements provisioner.Provisioner. A missing account is
// sdk.CategoryNotFound, which callers may treat as done.
func (p *Provisioner) Terminate(ctx context.Context, req provisioner.TerminateRequest) error {
	if err := validUser(req.Username); err != nil {
		return err
	}
	c, err := p.api()
	if err != nil {
		return err
	}
	keep := "0"
	if req.KeepDNS {
		keep = "1"
	}
	if err := p.call(ctx, c, "removeacct", url.Values{"username": {req.Username}, "keepdns": {keep}}, nil); err != nil {
		return p.explain(ctx, c, req.Username, err)
	}
	p.log.Info("whm account removed", "username", req.Username)
	return nil
}

// ChangePackage implements provisioner.Provisioner. A package WHM does not
// list is sdk.CategoryInvalidInput on field package.
func (p *Provisioner) ChangePackage(ctx context.Context, req provisioner.ChangePackageRequest) (provisioner.Account, error) {
	if err := validUser(req.Username); err != nil {
		return provisioner.Account{}, err
	}
	if req.Package == "" {
		return provisioner.Account{}, sdk.Invalid("package is required").WithField("package").WithCode("invalid_package")
	}
	if err := validPackage(req.Package); err != nil {
		return provisioner.Account{}, err
	}
	c, err := p.api()
	if err != nil {
		return provisioner.Account{}, err
	}
	if err := p.call(ctx, c, "changepackage", url.Values{"user": {req.Username}, "pkg": {req.Package}}, nil); err != nil {
		if err = p.explain(ctx, c, req.Username, err); sdk.CategoryOf(err) == sdk.CategoryNotFound {
			return provisioner.Account{}, err
		}
		if pkgs, perr := p.ListPackages(ctx); perr == nil && !provisioner.HasPackage(pkgs, req.Package) {
			return provisioner.Account{}, sdk.Invalid("whm changepackage: package %q does not exist on %s", req.Package, c.s.host).
				WithField("package").WithCode("unknown_package")
		}
		if a, aerr := p.account(ctx, c, req.Username); aerr == nil && a.Package == req.Package {
			return a, nil
		}
		return provisioner.Account{}, err
	}
	return p.account(ctx, c, req.Username)
}

// ChangePassword implements provisioner.Provisioner.
func (p *Provisioner) ChangePassword(ctx context.Context, req provisioner.ChangePasswordRequest) error {
	if err := validUser(req.Username); err != nil {
		return err
	}
	if req.Password == "" {
		return sdk.Invalid("password is required").WithField("password").WithCode("invalid_password")
	}
	c, err := p.api()
	if err != nil {
		return err
	}
	return p.setPassword(ctx, c, req.Username, req.Password)
}

func (p *Provisioner) setPassword(ctx context.Context, c *client, user, password string) error {
	if err := p.call(ctx, c, "passwd", url.Values{"user": {user}, "password": {password}}, nil); err != nil {
		return p.explain(ctx, c, user, err)
	}
	return nil
}

// ListPackages implements provisioner.PackageLister with listpkgs, asking
// for the packages the token's user may create accounts with.
func (p *Provisioner) ListPackages(ctx context.Context) ([]provisioner.Package, error) {
	c, err := p.api()
	if err != nil {
		return nil, err
	}
	var data struct {
		Pkg []struct {
			Name string `json:"name"`
		} `json:"pkg"`
	}
	if err := p.call(ctx, c, "listpkgs", url.Values{"want": {"creatable"}}, &data); err != nil {
		return nil, err
	}
	out := make([]provisioner.Package, 0, len(data.Pkg))
	for _, pkg := range data.Pkg {
		if pkg.Name != "" {
			out = append(out, provisioner.Package{Name: pkg.Name})
		}
	}
	return out, nil
}

// LoginURL implements provisioner.LoginLinker with create_user_session.
// The link works once and expires (WHM reports when).
func (p *Provisioner) LoginURL(ctx context.Context, req provisioner.LoginURLRequest) (provisioner.LoginURL, error) {
	if err := validUser(req.Username); err != nil {
		return provisioner.LoginURL{}, err
	}
	service := "cpaneld"
	switch req.Service {
	case "", provisioner.LoginServicePanel:
	case provisioner.LoginServiceWebmail:
		service = "webmaild"
	default:
		return provisioner.LoginURL{}, sdk.Invalid("login service %q: want %q or %q", req.Service,
			provisioner.LoginServicePanel, provisioner.LoginServiceWebmail).WithField("service").WithCode("invalid_service")
	}
	c, err := p.api()
	if err != nil {
		return provisioner.LoginURL{}, err
	}
	var data struct {
		URL     string `json:"url"`
		Expires int64  `json:"expires"`
	}
	if err := p.call(ctx, c, "create_user_session", url.Values{"user": {req.Username}, "service": {service}}, &data); err != nil {
		return provisioner.LoginURL{}, p.explain(ctx, c, req.Username, err)
	}
	u, err := url.Parse(data.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return provisioner.LoginURL{}, sdk.Internal("whm create_user_session: no usable https url in the answer")
	}
	out := provisioner.LoginURL{URL: data.URL}
	if data.Expires > 0 {
		out.ExpiresAt = time.Unix(data.Expires, 0).UTC()
	}
	return out, nil
}
