package whmprovisioner_test

import (
	"context"
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/whm/whmfake"
	"github.com/switchyard/switchyard/plugins/whm/whmprovisioner"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// client configures a provisioner against fake and returns it as the host
// sees it: through the real gRPC adapters.
func client(t *testing.T, fake *whmfake.Server, override map[string]string) provisioner.Provisioner {
	t.Helper()
	settings := fake.Settings()
	maps.Copy(settings, override)
	for k, v := range override {
		if v == "" {
			delete(settings, k)
		}
	}
	p := sdktest.ProvisionerClient(t, whmprovisioner.New())
	if err := p.Configure(context.Background(), settings); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return p
}

func wantErr(t *testing.T, what string, err error, cat sdk.Category, code string) *sdk.Error {
	t.Helper()
	if sdk.CategoryOf(err) != cat {
		t.Fatalf("%s: %v, want category %s", what, err, cat)
	}
	e, _ := sdk.AsError(err)
	if code != "" && e.Code != code {
		t.Fatalf("%s: code %q (%v), want %q", what, e.Code, err, code)
	}
	return e
}

func newAccount(user, domain string) provisioner.CreateAccountRequest {
	return provisioner.CreateAccountRequest{
		IdempotencyKey: "svc_" + user, Username: user, Domain: domain, Package: "basic", ContactEmail: "owner@" + domain,
	}
}

func TestConformance(t *testing.T) {
	fake := whmfake.New(t, whmfake.Options{MinPasswordStrength: 100})
	p := sdktest.ProvisionerClient(t, whmprovisioner.New())
	sdktest.RunProvisionerConformance(t, p, sdktest.ConformanceConfig{
		Settings:         fake.Settings(),
		RequiredSettings: []string{whmprovisioner.SettingHost, whmprovisioner.SettingAPIToken},
		Lifecycle: &sdktest.ProvisionerLifecycle{
			Account:      newAccount("cnfshop", "cnf-shop.example"),
			OtherPackage: "reseller_gold",
		},
	})
	if fake.Accounts() != 0 {
		t.Errorf("the lifecycle left %d accounts", fake.Accounts())
	}
}

// TestRequestsFollowWHMAPI1 checks the wire: the token header (the fake
// refuses anything else), api.version=1, POST bodies with no parameter in
// the URL, and the exact parameters of each function.
func TestRequestsFollowWHMAPI1(t *testing.T) {
	fake := whmfake.New(t, whmfake.Options{})
	p := client(t, fake, nil)
	ctx := context.Background()
	if _, err := p.CreateAccount(ctx, newAccount("wireshop", "wire-shop.example")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Suspend(ctx, provisioner.SuspendRequest{Username: "wireshop", Reason: "Refunded:\n order 42"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Terminate(ctx, provisioner.TerminateRequest{Username: "wireshop", KeepDNS: true}); err != nil {
		t.Fatal(err)
	}
	calls := fake.Calls()
	if len(calls) == 0 {
		t.Fatal("no calls reached the fake")
	}
	for _, c := range calls {
		if c.Method != "POST" || len(c.Query) != 0 || c.Params.Get("api.version") != "1" {
			t.Errorf("%s: method %s, query %v, api.version %q", c.Function, c.Method, c.Query, c.Params.Get("api.version"))
		}
	}
	create := fake.Calls("createacct")
	if len(create) != 1 {
		t.Fatalf("createacct calls: %d", len(create))
	}
	want := url.Values{"api.version": {"1"}, "username": {"wireshop"}, "domain": {"wire-shop.example"},
		"plan": {"basic"}, "contactemail": {"owner@wire-shop.example"}}
	got := create[0].Params
	pw := got.Get("password")
	got.Del("password")
	if !maps.EqualFunc(got, want, func(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }) {
		t.Errorf("createacct params %v, want %v + password", got, want)
	}
	if whmprovisioner.PasswordStrength(pw) != 100 {
		t.Errorf("generated password rates %d", whmprovisioner.PasswordStrength(pw))
	}
	susp := fake.Calls("suspendacct")[0].Params
	if susp.Get("user") != "wireshop" || susp.Get("reason") != "Refunded: order 42" {
		t.Errorf("suspendacct params %v", susp)
	}
	rm := fake.Calls("removeacct")[0].Params
	if rm.Get("username") != "wireshop" || rm.Get("keepdns") != "1" {
		t.Errorf("removeacct params %v", rm)
	}
}

func TestTLS(t *testing.T) {
	fake := whmfake.New(t, whmfake.Options{})
	ctx := context.Background()

	// No pin: the fake's self-signed certificate is refused.
	p := client(t, fake, map[string]string{whmprovisioner.SettingTLSFingerprint: ""})
	_, err := p.TestConnection(ctx)
	e := wantErr(t, "unpinned self-signed server", err, sdk.CategoryUnavailable, "tls_untrusted")
	if !strings.Contains(e.Message, whmprovisioner.SettingTLSFingerprint) {
		t.Errorf("the error does not say how to pin: %s", e.Message)
	}

	// A wrong pin is refused, naming the certificate actually presented.
	p = client(t, fake, map[string]string{whmprovisioner.SettingTLSFingerprint: strings.Repeat("ab:", 31) + "ab"})
	_, err = p.TestConnection(ctx)
	e = wantErr(t, "wrong pin", err, sdk.CategoryUnavailable, "tls_untrusted")
	if !strings.Contains(e.Message, fake.Fingerprint()) {
		t.Errorf("the error does not name the presented fingerprint: %s", e.Message)
	}

	// The right pin, written with colons and in upper case, works.
	colons := strings.ToUpper(fake.Fingerprint())
	var b strings.Builder
	for i := 0; i < len(colons); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(colons[i : i+2])
	}
	p = client(t, fake, map[string]string{whmprovisioner.SettingTLSFingerprint: b.String()})
	res, err := p.TestConnection(ctx)
	if err != nil || res.Details["whm_version"] != whmfake.Version {
		t.Fatalf("TestConnection with the pin = %+v, %v", res, err)
	}
	if n := len(fake.Calls()); n != 1 {
		t.Errorf("%d calls reached the fake; refused handshakes must send nothing", n)
	}
}

func TestCredentials(t *testing.T) {
	ctx := context.Background()
	fake := whmfake.New(t, whmfake.Options{})

	p := client(t, fake, map[string]string{whmprovisioner.SettingAPIToken: "WRONGTOKEN0123456789ABCDEFGHIJKL"})
	_, err := p.TestConnection(ctx)
	e := wantErr(t, "wrong token", err, sdk.CategoryUnauthorized, "access_denied")
	if strings.Contains(e.Message, "WRONGTOKEN") || strings.Contains(e.Message, fake.Token()) {
		t.Errorf("the error echoes a token: %s", e.Message)
	}
	_, err = p.CreateAccount(ctx, newAccount("denied", "denied.example"))
	wantErr(t, "create with a wrong token", err, sdk.CategoryUnauthorized, "access_denied")
	if h, _ := p.CheckHealth(ctx); h.Status != meta.HealthDegraded || !strings.Contains(h.Message, "refused the API token") {
		t.Errorf("health after a refused token = %+v", h)
	}
	if fake.Accounts() != 0 {
		t.Error("an account was created with a wrong token")
	}

	p = client(t, fake, map[string]string{whmprovisioner.SettingUsername: "reseller"})
	_, err = p.TestConnection(ctx)
	wantErr(t, "token of another user", err, sdk.CategoryUnauthorized, "access_denied")
}

// TestLeastPrivilegeACL: the documented ACL is enough for every call, and a
// token without one of its privileges is refused with a message naming
// the function.
func TestLeastPrivilegeACL(t *testing.T) {
	ctx := context.Background()
	acl := []string{"create-acct", "suspend-acct", "kill-acct", "upgrade-account", "passwd",
		"acct-summary", "list-pkgs", "create-user-session", "basic-system-info"}
	fake := whmfake.New(t, whmfake.Options{ACL: acl})
	p := client(t, fake, nil)
	if _, err := p.TestConnection(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreateAccount(ctx, newAccount("aclshop", "acl-shop.example")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.(provisioner.LoginLinker).LoginURL(ctx, provisioner.LoginURLRequest{Username: "aclshop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ChangePackage(ctx, provisioner.ChangePackageRequest{Username: "aclshop", Package: "reseller_gold"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Suspend(ctx, provisioner.SuspendRequest{Username: "aclshop", Reason: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Terminate(ctx, provisioner.TerminateRequest{Username: "aclshop"}); err != nil {
		t.Fatal(err)
	}

	limited := whmfake.New(t, whmfake.Options{ACL: []string{"acct-summary", "list-pkgs", "basic-system-info"}})
	p = client(t, limited, nil)
	_, err := p.CreateAccount(ctx, newAccount("aclshop", "acl-shop.example"))
	e := wantErr(t, "create without create-acct", err, sdk.CategoryUnauthorized, "permission_denied")
	if !strings.Contains(e.Message, "createacct") {
		t.Errorf("message does not name the function: %s", e.Message)
	}
}

// TestCreateIsIdempotent covers a create whose answer is lost after WHM
// made the account: the retry adopts it (one account, one createacct) and
// sets the password it reports, so the login details are right.
func TestCreateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	fake := whmfake.New(t, whmfake.Options{MinPasswordStrength: 100})
	p := client(t, fake, nil)
	req := newAccount("dropshop", "drop-shop.example")

	fake.Inject("createacct", whmfake.Fault{Kind: whmfake.DropAfterApply})
	_, err := p.CreateAccount(ctx, req)
	wantErr(t, "create with the answer lost", err, sdk.CategoryUnavailable, "")
	if _, ok := fake.Account("dropshop"); !ok {
		t.Fatal("the fake did not apply the create")
	}

	acct, err := p.CreateAccount(ctx, req)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if acct.Username != "dropshop" || acct.Domain != "drop-shop.example" || acct.Package != "basic" || acct.Status != provisioner.AccountActive {
		t.Errorf("adopted account = %+v", acct)
	}
	onServer, _ := fake.Account("dropshop")
	if acct.Password == "" || onServer.Password != acct.Password {
		t.Error("the adopted account's password is not the one returned")
	}
	if n := len(fake.Calls("createacct")); n != 1 || fake.Accounts() != 1 {
		t.Errorf("createacct called %d times, %d accounts", n, fake.Accounts())
	}

	// A caller-chosen password is kept on adoption too.
	req.Password = "Kx7!mQ2#vR9$wT4%zL"
	acct, err = p.CreateAccount(ctx, req)
	onServer, _ = fake.Account("dropshop")
	if err != nil || acct.Password != "" || onServer.Password != req.Password {
		t.Errorf("adopt with a given password: %+v %v (server has the requested password: %v)", acct, err, onServer.Password == req.Password)
	}
}

func TestCreateOutageThenSuccess(t *testing.T) {
	ctx := context.Background()
	fake := whmfake.New(t, whmfake.Options{})
	p := client(t, fake, nil)
	req := newAccount("outshop", "out-shop.example")

	fake.Inject("accountsummary", whmfake.Fault{Kind: whmfake.Outage})
	_, err := p.CreateAccount(ctx, req)
	wantErr(t, "create during an outage", err, sdk.CategoryUnavailable, "upstream_error")
	if h, _ := p.CheckHealth(ctx); h.Status != meta.HealthDegraded {
		t.Errorf("health during the outage = %+v", h)
	}
	fake.Inject("createacct", whmfake.Fault{Kind: whmfake.Outage})
	_, err = p.CreateAccount(ctx, req)
	wantErr(t, "createacct during an outage", err, sdk.CategoryUnavailable, "upstream_error")
	if fake.Accounts() != 0 {
		t.Fatal("an outage created an account")
	}
	acct, err := p.CreateAccount(ctx, req)
	if err != nil || acct.IP != "192.0.2.10" || len(acct.Nameservers) != 2 || acct.Password == "" {
		t.Fatalf("create after the outage = %+v, %v", acct, err)
	}
	if h, _ := p.CheckHealth(ctx); h.Status != meta.HealthOK {
		t.Errorf("health after recovery = %+v", h)
	}
	if fake.Accounts() != 1 {
		t.Errorf("%d accounts", fake.Accounts())
	}
}

func TestCreateConflicts(t *testing.T) {
	ctx := context.Background()
	fake := whmfake.New(t, whmfake.Options{})
	p := client(t, fake, nil)
	fake.AddAccount(whmfake.Account{User: "taken", Domain: "someone-else.example", Plan: "basic"})
	fake.AddAccount(whmfake.Account{User: "owner2", Domain: "claimed.example", Plan: "basic"})
	fake.AddAccount(whmfake.Account{User: "mine", Domain: "mine.example", Plan: "basic", Password: "old"})

	_, err := p.CreateAccount(ctx, newAccount("taken", "new-shop.example"))
	wantErr(t, "username of another domain", err, sdk.CategoryAlreadyExists, "username_taken")

	_, err = p.CreateAccount(ctx, newAccount("fresh", "claimed.example"))
	e := wantErr(t, "domain of another account", err, sdk.CategoryAlreadyExists, "domain_taken")
	if e.Field != "domain" {
		t.Errorf("field %q", e.Field)
	}

	// Same username and domain: an account WHM already has is adopted
	// without a second createacct.
	before := len(fake.Calls("createacct"))
	acct, err := p.CreateAccount(ctx, newAccount("mine", "MINE.example"))
	if err != nil || acct.Username != "mine" || acct.Password == "" {
		t.Fatalf("adopt = %+v, %v", acct, err)
	}
	if len(fake.Calls("createacct")) != before {
		t.Error("createacct was called for an account that exists")
	}

	// WHM refusing with "already exists" while the account is there (a
	// concurrent attempt won the race) is adopted as well.
	fake.Inject("accountsummary", whmfake.Fault{Kind: whmfake.Reason, Reason: "Account does not exist."})
	fake.AddAccount(whmfake.Account{User: "racer", Domain: "race.example", Plan: "basic"})
	acct, err = p.CreateAccount(ctx, newAccount("racer", "race.example"))
	if err != nil || acct.Username != "racer" {
		t.Fatalf("adopt after 'already exists' = %+v, %v", acct, err)
	}
	if n := len(fake.Calls("createacct")); n != before+1 {
		t.Errorf("createacct calls %d, want %d", n, before+1)
	}
}

func TestCreateRejections(t *testing.T) {
	ctx := context.Background()
	fake := whmfake.New(t, whmfake.Options{MinPasswordStrength: 80})
	p := client(t, fake, nil)
	cases := []struct {
		name        string
		mutate      func(*provisioner.CreateAccountRequest)
		code, field string
		reachesWHM  bool
	}{
		{"no username", func(r *provisioner.CreateAccountRequest) { r.Username = "" }, "invalid_username", "username", false},
		{"upper case", func(r *provisioner.CreateAccountRequest) { r.Username = "Shop" }, "invalid_username", "username", false},
		{"leading digit", func(r *provisioner.CreateAccountRequest) { r.Username = "1shop" }, "invalid_username", "username", false},
		{"too long", func(r *provisioner.CreateAccountRequest) { r.Username = "abcdefghijklmnopq" }, "invalid_username", "username", false},
		{"reserved prefix", func(r *provisioner.CreateAccountRequest) { r.Username = "testshop" }, "invalid_username", "username", false},
		{"no domain", func(r *provisioner.CreateAccountRequest) { r.Domain = "" }, "invalid_domain", "domain", false},
		{"bad domain", func(r *provisioner.CreateAccountRequest) { r.Domain = "shop..example" }, "invalid_domain", "domain", false},
		{"bad email", func(r *provisioner.CreateAccountRequest) { r.ContactEmail = "not an address" }, "invalid_email", "contact_email", false},
		{"other server", func(r *provisioner.CreateAccountRequest) { r.Server = "whm2.example" }, "unknown_server", "server", false},
		{"unknown package", func(r *provisioner.CreateAccountRequest) { r.Package = "Reseller_Gold" }, "unknown_package", "package", true},
		{"weak password", func(r *provisioner.CreateAccountRequest) { r.Password = "luggage12" }, "weak_password", "password", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := newAccount("rejshop", "rej-shop.example")
			tc.mutate(&req)
			before := len(fake.Calls("createacct"))
			_, err := p.CreateAccount(ctx, req)
			e := wantErr(t, tc.name, err, sdk.CategoryInvalidInput, tc.code)
			if e.Field != tc.field {
				t.Errorf("field %q, want %q", e.Field, tc.field)
			}
			if reached := len(fake.Calls("createacct")) > before; reached != tc.reachesWHM {
				t.Errorf("createacct called: %v, want %v", reached, tc.reachesWHM)
			}
			if fake.Accounts() != 0 {
				t.Error("an account was created")
			}
		})
	}
}

func TestLifecycleDetails(t *testing.T) {
	ctx := context.Background()
	fake := whmfake.New(t, whmfake.Options{})
	p := client(t, fake, nil)
	if _, err := p.CreateAccount(ctx, newAccount("lifeshop", "life-shop.example")); err != nil {
		t.Fatal(err)
	}

	a, err := p.Suspend(ctx, provisioner.SuspendRequest{Username: "lifeshop", Reason: "Refund re_123"})
	if err != nil || a.Status != provisioner.AccountSuspended {
		t.Fatalf("Suspend = %+v, %v", a, err)
	}
	if got, _ := fake.Account("lifeshop"); got.SuspendReason != "Refund re_123" {
		t.Errorf("reason on the server %q", got.SuspendReason)
	}
	_, err = p.(provisioner.LoginLinker).LoginURL(ctx, provisioner.LoginURLRequest{Username: "lifeshop"})
	wantErr(t, "login link while suspended", err, sdk.CategoryInvalidInput, "whm_rejected")
	if a, err = p.Unsuspend(ctx, provisioner.UnsuspendRequest{Username: "lifeshop"}); err != nil || a.Status != provisioner.AccountActive {
		t.Fatalf("Unsuspend = %+v, %v", a, err)
	}

	// Package names are exact: the reseller-prefixed one works, another
	// case does not.
	pkgs, err := p.(provisioner.PackageLister).ListPackages(ctx)
	if err != nil || !provisioner.HasPackage(pkgs, "reseller_gold") || len(pkgs) != 4 {
		t.Fatalf("ListPackages = %v, %v", pkgs, err)
	}
	if fake.Calls("listpkgs")[0].Params.Get("want") != "creatable" {
		t.Error("listpkgs without want=creatable")
	}
	if a, err = p.ChangePackage(ctx, provisioner.ChangePackageRequest{Username: "lifeshop", Package: "reseller_gold"}); err != nil || a.Package != "reseller_gold" {
		t.Fatalf("ChangePackage = %+v, %v", a, err)
	}
	_, err = p.ChangePackage(ctx, provisioner.ChangePackageRequest{Username: "lifeshop", Package: "RESELLER_GOLD"})
	wantErr(t, "package in another case", err, sdk.CategoryInvalidInput, "unknown_package")
	_, err = p.ChangePackage(ctx, provisioner.ChangePackageRequest{Username: "nosuch", Package: "basic"})
	wantErr(t, "change package of a missing account", err, sdk.CategoryNotFound, "account_not_found")

	if err := p.ChangePassword(ctx, provisioner.ChangePasswordRequest{Username: "lifeshop", Password: "Tr0ub4dor&3-Horse!Battery"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.Account("lifeshop"); got.Password != "Tr0ub4dor&3-Horse!Battery" {
		t.Error("password not changed on the server")
	}
	err = p.ChangePassword(ctx, provisioner.ChangePasswordRequest{Username: "lifeshop", Password: "abcabc"})
	wantErr(t, "weak new password", err, sdk.CategoryInvalidInput, "weak_password")

	link, err := p.(provisioner.LoginLinker).LoginURL(ctx, provisioner.LoginURLRequest{Username: "lifeshop", Service: provisioner.LoginServiceWebmail})
	if err != nil || !strings.HasPrefix(link.URL, "https://fake-whm.test:2096/cpsess") || time.Until(link.ExpiresAt) < 10*time.Minute {
		t.Fatalf("LoginURL = %+v, %v", link, err)
	}
	if s := fake.Calls("create_user_session"); s[len(s)-1].Params.Get("service") != "webmaild" {
		t.Error("webmail link not asked for webmaild")
	}

	if err := p.Terminate(ctx, provisioner.TerminateRequest{Username: "lifeshop"}); err != nil {
		t.Fatal(err)
	}
	err = p.Terminate(ctx, provisioner.TerminateRequest{Username: "lifeshop"})
	wantErr(t, "terminate twice", err, sdk.CategoryNotFound, "account_not_found")
	_, err = p.Unsuspend(ctx, provisioner.UnsuspendRequest{Username: "lifeshop"})
	wantErr(t, "unsuspend a removed account", err, sdk.CategoryNotFound, "account_not_found")
}

func TestSettings(t *testing.T) {
	good := map[string]string{whmprovisioner.SettingHost: "whm.example.com", whmprovisioner.SettingAPIToken: "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"}
	cases := []struct {
		name, key, value, field string
	}{
		{"url instead of host", whmprovisioner.SettingHost, "https://whm.example.com:2087", whmprovisioner.SettingHost},
		{"host with path", whmprovisioner.SettingHost, "whm.example.com/json-api", whmprovisioner.SettingHost},
		{"port", whmprovisioner.SettingPort, "99999", whmprovisioner.SettingPort},
		{"short token", whmprovisioner.SettingAPIToken, "abc", whmprovisioner.SettingAPIToken},
		{"fingerprint length", whmprovisioner.SettingTLSFingerprint, "abcd", whmprovisioner.SettingTLSFingerprint},
		{"fingerprint hex", whmprovisioner.SettingTLSFingerprint, strings.Repeat("zz", 32), whmprovisioner.SettingTLSFingerprint},
		{"timeout", whmprovisioner.SettingTimeout, "forever", whmprovisioner.SettingTimeout},
		{"typo", "tls_fingerprint", strings.Repeat("ab", 32), "tls_fingerprint"},
		{"insecure switch", "insecure_skip_verify", "true", "insecure_skip_verify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := maps.Clone(good)
			s[tc.key] = tc.value
			err := whmprovisioner.New().Configure(context.Background(), s)
			e := wantErr(t, tc.name, err, sdk.CategoryInvalidInput, "")
			if e.Field != tc.field {
				t.Errorf("field %q, want %q", e.Field, tc.field)
			}
			if strings.Contains(e.Message, good[whmprovisioner.SettingAPIToken]) {
				t.Error("the token is echoed")
			}
		})
	}
	p := whmprovisioner.New()
	if h, _ := p.CheckHealth(context.Background()); h.Status != meta.HealthDown {
		t.Errorf("unconfigured health %+v", h)
	}
	full := maps.Clone(good)
	full[whmprovisioner.SettingHost] = "192.0.2.7"
	full[whmprovisioner.SettingPort] = "2087"
	full[whmprovisioner.SettingUsername] = "reseller1"
	full[whmprovisioner.SettingTimeout] = "2m"
	if err := p.Configure(context.Background(), full); err != nil {
		t.Fatal(err)
	}
	if h, _ := p.CheckHealth(context.Background()); h.Status != meta.HealthOK {
		t.Errorf("configured health %+v", h)
	}
}
