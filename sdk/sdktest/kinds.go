package sdktest

import (
	"context"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/registrar"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// ConformanceConfig tunes the provisioner, registrar and mailer suites.
type ConformanceConfig struct {
	// Settings are passed to Configure before anything else; point them at
	// a test server (a WHM test instance, a local SMTP server …).
	Settings map[string]string
	// RequiredSettings are keys without which Configure must fail with
	// sdk.CategoryInvalidInput.
	RequiredSettings []string
	// Registrar holds upstream fixtures for RunRegistrarConformance; the
	// checks that need one are skipped while it is empty.
	Registrar RegistrarFixtures
	// Lifecycle, for provisioners, runs a whole account lifecycle against
	// the configured panel: create, create again (must adopt, not fail),
	// suspend (twice), unsuspend, change package, terminate, and terminate
	// again (not_found). Use a test server: it really creates an account.
	Lifecycle *ProvisionerLifecycle
}

// RegistrarFixtures name domains whose state the registrar's upstream (a
// test double, usually) is known to have.
type RegistrarFixtures struct {
	// AvailableDomain must be answered available.
	AvailableDomain string
	// TakenDomain must be answered unavailable, with a reason.
	TakenDomain string
	// OwnedDomain is registered in the configured account: GetDomain must
	// return it with an expiry, and GetAuthCode a code.
	OwnedDomain string
}

// ProvisionerLifecycle describes the account RunProvisionerConformance
// creates and destroys.
type ProvisionerLifecycle struct {
	// Account is created; leave Password empty to check that the plugin
	// generates one.
	Account provisioner.CreateAccountRequest
	// OtherPackage is an existing package to move the account to.
	OtherPackage string
}

// common is what every kind's implementation shares.
type common interface {
	Configure(ctx context.Context, settings map[string]string) error
	CheckHealth(ctx context.Context) (meta.Health, error)
	TestConnection(ctx context.Context) (meta.TestResult, error)
}

func runCommon(t *testing.T, describe func(context.Context) (meta.Info, error), kind meta.Kind, c common, cfg ConformanceConfig) {
	t.Helper()
	// Configured here, outside the subtests, so that any one of them can
	// run alone (go test -run 'TestConformance/health'); the subtests that
	// reconfigure put cfg.Settings back.
	if err := c.Configure(callCtx(t), cfg.Settings); err != nil {
		t.Fatalf("Configure(ConformanceConfig.Settings): %v (these settings must be accepted; nothing else can be checked)", err)
	}
	t.Run("describe", func(t *testing.T) {
		info, err := describe(callCtx(t))
		if err != nil {
			t.Fatalf("Describe: %v (it must work before Configure and without I/O)", err)
		}
		checkInfo(t, info, kind)
	})
	t.Run("configure", func(t *testing.T) { checkConfigure(t, c.Configure, cfg.Settings, cfg.RequiredSettings) })
	t.Run("configure_unknown_setting", func(t *testing.T) { checkUnknownSetting(t, c.Configure, cfg.Settings) })
	t.Run("health", func(t *testing.T) { checkHealthy(t, c.CheckHealth) })
	t.Run("test_connection", func(t *testing.T) {
		if _, err := c.TestConnection(callCtx(t)); err != nil {
			t.Fatalf("TestConnection: %v (with the given settings the connection test must pass)", err)
		}
	})
	t.Run("cancelled_context", func(t *testing.T) {
		checkCancelledInPlugin(t, "TestConnection", func(ctx context.Context) error {
			_, err := c.TestConnection(ctx)
			return err
		})
	})
}

// RunProvisionerConformance checks the provisioner contract: metadata,
// configuration, health, TestConnection, and that bad input and unknown
// accounts come back with their categories.
func RunProvisionerConformance(t *testing.T, p provisioner.Provisioner, cfg ConformanceConfig) {
	t.Helper()
	runCommon(t, p.Describe, meta.KindProvisioner, p, cfg)
	t.Run("create_account_invalid_input", func(t *testing.T) {
		_, err := p.CreateAccount(callCtx(t), provisioner.CreateAccountRequest{IdempotencyKey: "conformance_invalid"})
		wantCategory(t, "CreateAccount without domain", err, sdkerr.CategoryInvalidInput)
	})
	t.Run("suspend_unknown", func(t *testing.T) {
		_, err := p.Suspend(callCtx(t), provisioner.SuspendRequest{Username: "cnfnosuchuser", Reason: "conformance"})
		wantCategory(t, "Suspend(unknown account)", err, sdkerr.CategoryNotFound)
	})
	info, err := p.Describe(callCtx(t))
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if info.Has(provisioner.CapabilityPackages) {
		t.Run("list_packages", func(t *testing.T) { checkPackages(t, p) })
	}
	if info.Has(provisioner.CapabilityLoginURL) {
		t.Run("login_url_unknown", func(t *testing.T) {
			l, ok := p.(provisioner.LoginLinker)
			if !ok {
				t.Fatalf("advertises %q but %T has no LoginURL", provisioner.CapabilityLoginURL, p)
			}
			_, err := l.LoginURL(callCtx(t), provisioner.LoginURLRequest{Username: "cnfnosuchuser"})
			wantCategory(t, "LoginURL(unknown account)", err, sdkerr.CategoryNotFound)
		})
	}
	if cfg.Lifecycle != nil {
		t.Run("lifecycle", func(t *testing.T) { checkLifecycle(t, p, *cfg.Lifecycle) })
	}
}

func checkPackages(t *testing.T, p provisioner.Provisioner) {
	t.Helper()
	l, ok := p.(provisioner.PackageLister)
	if !ok {
		t.Fatalf("advertises %q but %T has no ListPackages", provisioner.CapabilityPackages, p)
	}
	pkgs, err := l.ListPackages(callCtx(t))
	if err != nil {
		t.Fatalf("ListPackages: %v", err)
	}
	seen := map[string]bool{}
	for _, pkg := range pkgs {
		if pkg.Name == "" || seen[pkg.Name] {
			t.Errorf("ListPackages: empty or duplicate name %q in %v", pkg.Name, pkgs)
		}
		seen[pkg.Name] = true
	}
}

func checkLifecycle(t *testing.T, p provisioner.Provisioner, lc ProvisionerLifecycle) {
	t.Helper()
	req := lc.Account
	user := req.Username
	acct, err := p.CreateAccount(callCtx(t), req)
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if acct.Username != user || !strings.EqualFold(acct.Domain, req.Domain) || acct.Status != provisioner.AccountActive {
		t.Errorf("CreateAccount = %+v, want %s/%s active", acct, user, req.Domain)
	}
	if req.Password == "" && acct.Password == "" {
		t.Error("CreateAccount without a password returned no generated password")
	}
	again, err := p.CreateAccount(callCtx(t), req)
	if err != nil {
		t.Fatalf("CreateAccount retried: %v (a retry must adopt the existing account)", err)
	}
	if again.Username != user {
		t.Errorf("CreateAccount retried = %+v", again)
	}
	for i := range 2 {
		a, err := p.Suspend(callCtx(t), provisioner.SuspendRequest{Username: user, Reason: "conformance"})
		if err != nil {
			t.Fatalf("Suspend #%d: %v", i+1, err)
		}
		if a.Status != provisioner.AccountSuspended {
			t.Errorf("Suspend #%d: status %q", i+1, a.Status)
		}
	}
	if a, err := p.Unsuspend(callCtx(t), provisioner.UnsuspendRequest{Username: user}); err != nil || a.Status != provisioner.AccountActive {
		t.Fatalf("Unsuspend = %+v, %v", a, err)
	}
	if lc.OtherPackage != "" {
		a, err := p.ChangePackage(callCtx(t), provisioner.ChangePackageRequest{Username: user, Package: lc.OtherPackage})
		if err != nil || a.Package != lc.OtherPackage {
			t.Fatalf("ChangePackage = %+v, %v", a, err)
		}
		_, err = p.ChangePackage(callCtx(t), provisioner.ChangePackageRequest{Username: user, Package: "cnf-no-such-package"})
		wantCategory(t, "ChangePackage(unknown package)", err, sdkerr.CategoryInvalidInput)
	}
	if err := p.Terminate(callCtx(t), provisioner.TerminateRequest{Username: user}); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	err = p.Terminate(callCtx(t), provisioner.TerminateRequest{Username: user})
	wantCategory(t, "Terminate(terminated account)", err, sdkerr.CategoryNotFound)
}

// RunRegistrarConformance checks the registrar contract: metadata,
// configuration, health, TestConnection, input validation on every mutating
// call (before anything reaches the upstream), error categories for unknown
// operations, that the optional record capabilities match what the plugin
// implements and, with cfg.Registrar fixtures, availability and domain
// lookups.
func RunRegistrarConformance(t *testing.T, r registrar.Registrar, cfg ConformanceConfig) {
	t.Helper()
	runCommon(t, r.Describe, meta.KindRegistrar, r, cfg)
	contact := registrar.Contact{
		FirstName: "Conformance", LastName: "Test", Email: "conformance@example.com", Phone: "+1.5555550100",
		Address1: "1 Test Street", City: "Testville", State: "CA", PostalCode: "94000", CountryCode: "US",
	}
	t.Run("availability_invalid_domain", func(t *testing.T) {
		_, err := r.CheckAvailability(callCtx(t), registrar.AvailabilityRequest{Domains: []string{"not a domain!"}})
		wantCategory(t, "CheckAvailability(invalid domain)", err, sdkerr.CategoryInvalidInput)
	})
	t.Run("availability_no_domains", func(t *testing.T) {
		_, err := r.CheckAvailability(callCtx(t), registrar.AvailabilityRequest{})
		wantCategory(t, "CheckAvailability(no domains)", err, sdkerr.CategoryInvalidInput)
	})
	t.Run("register_invalid_input", func(t *testing.T) {
		for name, req := range map[string]registrar.RegisterRequest{
			"without domain":     {IdempotencyKey: "cnf-1", Years: 1, Registrant: contact},
			"with zero years":    {IdempotencyKey: "cnf-2", Domain: "conformance-example.com", Registrant: contact},
			"without registrant": {IdempotencyKey: "cnf-3", Domain: "conformance-example.com", Years: 1},
			"with a bad domain":  {IdempotencyKey: "cnf-4", Domain: "bad domain!.com", Years: 1, Registrant: contact},
		} {
			_, err := r.Register(callCtx(t), req)
			wantCategory(t, "Register "+name, err, sdkerr.CategoryInvalidInput)
		}
	})
	t.Run("transfer_without_auth_code", func(t *testing.T) {
		_, err := r.Transfer(callCtx(t), registrar.TransferRequest{IdempotencyKey: "cnf-5", Domain: "conformance-example.com", Years: 1, Registrant: contact})
		wantCategory(t, "Transfer without AuthCode", err, sdkerr.CategoryInvalidInput)
	})
	t.Run("renew_invalid_input", func(t *testing.T) {
		_, err := r.Renew(callCtx(t), registrar.RenewRequest{IdempotencyKey: "cnf-6", Domain: "conformance-example.com"})
		wantCategory(t, "Renew with zero years", err, sdkerr.CategoryInvalidInput)
	})
	t.Run("set_nameservers_invalid_input", func(t *testing.T) {
		_, err := r.SetNameservers(callCtx(t), registrar.SetNameserversRequest{Domain: "conformance-example.com"})
		wantCategory(t, "SetNameservers without nameservers", err, sdkerr.CategoryInvalidInput)
	})
	t.Run("upsert_records_invalid_input", func(t *testing.T) {
		_, err := r.UpsertRecords(callCtx(t), registrar.UpsertRecordsRequest{
			Domain: "conformance-example.com", Records: []registrar.Record{{Name: "@", Type: "BOGUS", TTL: 300, Values: []string{"x"}}},
		})
		wantCategory(t, "UpsertRecords with record type BOGUS", err, sdkerr.CategoryInvalidInput)
	})
	t.Run("get_operation_unknown", func(t *testing.T) {
		_, err := r.GetOperation(callCtx(t), registrar.GetOperationRequest{OperationID: "conformance-no-such-operation"})
		wantCategory(t, "GetOperation(unknown id)", err, sdkerr.CategoryNotFound)
	})
	t.Run("optional_record_capabilities", func(t *testing.T) { checkRecordCapabilities(t, r) })
	if d := cfg.Registrar.AvailableDomain; d != "" {
		t.Run("availability_available", func(t *testing.T) {
			a := availabilityOf(t, r, d)
			if !a.Available || a.Reason != "" {
				t.Errorf("CheckAvailability(%s) = %+v, want available without a reason", d, a)
			}
		})
	}
	if d := cfg.Registrar.TakenDomain; d != "" {
		t.Run("availability_taken", func(t *testing.T) {
			a := availabilityOf(t, r, d)
			if a.Available || a.Reason == "" {
				t.Errorf("CheckAvailability(%s) = %+v, want unavailable with a reason", d, a)
			}
		})
	}
	if d := cfg.Registrar.OwnedDomain; d != "" {
		t.Run("get_domain", func(t *testing.T) {
			got, err := r.GetDomain(callCtx(t), registrar.GetDomainRequest{Domain: d})
			if err != nil {
				t.Fatalf("GetDomain(%s): %v", d, err)
			}
			if got.Name != d || got.ExpiresAt.IsZero() {
				t.Errorf("GetDomain(%s) = %+v, want the name and an expiry", d, got)
			}
		})
		t.Run("get_auth_code", func(t *testing.T) {
			code, err := r.GetAuthCode(callCtx(t), registrar.GetAuthCodeRequest{Domain: d})
			if err != nil || code.Code == "" {
				t.Errorf("GetAuthCode(%s) = %v, want a code", d, err)
			}
		})
	}
}

func availabilityOf(t *testing.T, r registrar.Registrar, domain string) registrar.Availability {
	t.Helper()
	as, err := r.CheckAvailability(callCtx(t), registrar.AvailabilityRequest{Domains: []string{domain}})
	if err != nil {
		t.Fatalf("CheckAvailability(%s): %v", domain, err)
	}
	if len(as) != 1 || as[0].Domain != domain {
		t.Fatalf("CheckAvailability(%s) = %+v, want one answer for that domain", domain, as)
	}
	return as[0]
}

// checkRecordCapabilities: a registrar that reports a record capability
// must implement it (bad input is invalid_input, not unimplemented), and
// one that does not report it must answer unimplemented, so the host can
// trust Describe.
func checkRecordCapabilities(t *testing.T, r registrar.Registrar) {
	t.Helper()
	info, err := r.Describe(callCtx(t))
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	has := func(c string) bool {
		for _, got := range info.Capabilities {
			if got == c {
				return true
			}
		}
		return false
	}
	expect := func(what string, capability string, err error) {
		t.Helper()
		if has(capability) {
			wantCategory(t, what+" (capability "+capability+")", err, sdkerr.CategoryInvalidInput)
		} else {
			wantCategory(t, what+" (without capability "+capability+")", err, sdkerr.CategoryUnimplemented)
		}
	}
	if rc, ok := r.(registrar.RecordChanger); ok {
		_, err := rc.ChangeRecords(callCtx(t), registrar.ChangeRecordsRequest{
			Domain:  "conformance-example.com",
			Changes: []registrar.RecordChange{{Action: "bogus", Record: registrar.Record{Name: "@", Type: "TXT", Values: []string{"x"}}}},
		})
		expect("ChangeRecords with action bogus", registrar.CapabilityRecordChanges, err)
	}
	if rl, ok := r.(registrar.RecordLister); ok {
		_, err := rl.ListRecords(callCtx(t), registrar.ListRecordsRequest{Domain: "not a domain!"})
		expect("ListRecords(invalid domain)", registrar.CapabilityListRecords, err)
	}
}

// RunMailerConformance checks the mailer contract: metadata, configuration,
// health, TestConnection, and that a message without recipients is
// invalid input. It sends no mail.
func RunMailerConformance(t *testing.T, m mailer.Mailer, cfg ConformanceConfig) {
	t.Helper()
	runCommon(t, m.Describe, meta.KindMailer, m, cfg)
	t.Run("send_invalid_input", func(t *testing.T) {
		_, err := m.Send(callCtx(t), mailer.Message{From: "shop@example.com", Subject: "no recipients", Text: "x"})
		wantCategory(t, "Send without recipients", err, sdkerr.CategoryInvalidInput)
	})
}
