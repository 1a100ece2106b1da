package sdktest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/registrar"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// configurable is the shared half of the in-memory fakes below: a required
// "token" setting and health that follows it.
type configurable struct {
	mu    sync.Mutex
	token string
}

func (c *configurable) Configure(_ context.Context, s map[string]string) error {
	var cfg struct {
		Token string `setting:"token,required,secret"`
	}
	if err := sdk.DecodeSettings(s, &cfg); err != nil {
		return err
	}
	c.mu.Lock()
	c.token = cfg.Token
	c.mu.Unlock()
	return nil
}

func (c *configurable) CheckHealth(context.Context) (meta.Health, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == "" {
		return meta.Health{Status: meta.HealthDown, Message: "not configured"}, nil
	}
	return meta.Health{Status: meta.HealthOK}, nil
}

func (c *configurable) TestConnection(ctx context.Context) (meta.TestResult, error) {
	if err := ctx.Err(); err != nil {
		return meta.TestResult{}, err
	}
	if h, _ := c.CheckHealth(ctx); h.Status != meta.HealthOK {
		return meta.TestResult{}, sdk.Unauthorized("no token")
	}
	return meta.TestResult{Message: "reached fake"}, nil
}

type fakePanel struct {
	configurable
	accounts sync.Map
}

func (f *fakePanel) Describe(context.Context) (meta.Info, error) {
	return meta.Info{Name: "fakepanel", Version: "0.1.0"}, nil
}

func (f *fakePanel) CreateAccount(_ context.Context, r provisioner.CreateAccountRequest) (provisioner.Account, error) {
	if r.Domain == "" || r.Username == "" {
		return provisioner.Account{}, sdk.Invalid("domain and username are required")
	}
	a := provisioner.Account{Username: r.Username, Domain: r.Domain, Package: r.Package, Status: provisioner.AccountActive}
	f.accounts.Store(r.Username, a)
	return a, nil
}

func (f *fakePanel) find(user string) (provisioner.Account, error) {
	a, ok := f.accounts.Load(user)
	if !ok {
		return provisioner.Account{}, sdk.NotFound("no account %s", user)
	}
	return a.(provisioner.Account), nil
}

func (f *fakePanel) Suspend(_ context.Context, r provisioner.SuspendRequest) (provisioner.Account, error) {
	return f.find(r.Username)
}

func (f *fakePanel) Unsuspend(_ context.Context, r provisioner.UnsuspendRequest) (provisioner.Account, error) {
	return f.find(r.Username)
}

func (f *fakePanel) Terminate(_ context.Context, r provisioner.TerminateRequest) error {
	_, err := f.find(r.Username)
	return err
}

func (f *fakePanel) ChangePackage(_ context.Context, r provisioner.ChangePackageRequest) (provisioner.Account, error) {
	return f.find(r.Username)
}

func (f *fakePanel) ChangePassword(_ context.Context, r provisioner.ChangePasswordRequest) error {
	_, err := f.find(r.Username)
	return err
}

type fakeRegistrar struct {
	configurable
}

// fakeRegistrar implements RecordLister (and says so) but not
// RecordChanger, so the conformance suite sees both sides of the optional
// capabilities.
var _ registrar.RecordLister = (*fakeRegistrar)(nil)

func (f *fakeRegistrar) Describe(context.Context) (meta.Info, error) {
	return meta.Info{Name: "fakeregistrar", Version: "0.1.0", Capabilities: []string{registrar.CapabilityListRecords}}, nil
}

func checkDomain(d string) error {
	if strings.ContainsAny(d, " !") || !strings.Contains(d, ".") {
		return sdk.Invalid("%q is not a domain name", d).WithField("domain")
	}
	return nil
}

func (f *fakeRegistrar) CheckAvailability(_ context.Context, r registrar.AvailabilityRequest) ([]registrar.Availability, error) {
	if len(r.Domains) == 0 {
		return nil, sdk.Invalid("no domains").WithField("domains")
	}
	var out []registrar.Availability
	for _, d := range r.Domains {
		if err := checkDomain(d); err != nil {
			return nil, err
		}
		if strings.HasPrefix(d, "taken.") {
			out = append(out, registrar.Availability{Domain: d, Reason: registrar.ReasonTaken})
			continue
		}
		out = append(out, registrar.Availability{Domain: d, Available: true})
	}
	return out, nil
}

func (f *fakeRegistrar) ListRecords(_ context.Context, r registrar.ListRecordsRequest) ([]registrar.Record, error) {
	if err := checkDomain(r.Domain); err != nil {
		return nil, err
	}
	return []registrar.Record{{Name: "@", Type: "TXT", TTL: 300, Values: []string{"v=spf1 -all"}}}, nil
}

func (f *fakeRegistrar) op(kind, domain string) (registrar.Operation, error) {
	now := time.Now()
	return registrar.Operation{ID: "op-" + kind, Type: kind, Domain: domain, Status: registrar.OperationPending, SubmittedAt: now, UpdatedAt: now}, nil
}

func (f *fakeRegistrar) Register(_ context.Context, r registrar.RegisterRequest) (registrar.Operation, error) {
	if err := checkDomain(r.Domain); err != nil {
		return registrar.Operation{}, err
	}
	if r.Years < 1 || r.Registrant.Email == "" {
		return registrar.Operation{}, sdk.Invalid("years and a registrant are required")
	}
	return f.op("register", r.Domain)
}

func (f *fakeRegistrar) Transfer(_ context.Context, r registrar.TransferRequest) (registrar.Operation, error) {
	if r.AuthCode == "" {
		return registrar.Operation{}, sdk.Invalid("auth code required").WithField("auth_code")
	}
	return f.op("transfer", r.Domain)
}

func (f *fakeRegistrar) Renew(_ context.Context, r registrar.RenewRequest) (registrar.Operation, error) {
	if r.Years < 1 {
		return registrar.Operation{}, sdk.Invalid("years must be positive").WithField("years")
	}
	return f.op("renew", r.Domain)
}

func (f *fakeRegistrar) GetDomain(_ context.Context, r registrar.GetDomainRequest) (registrar.Domain, error) {
	return registrar.Domain{Name: r.Domain, ExpiresAt: time.Now().AddDate(1, 0, 0)}, nil
}

func (f *fakeRegistrar) SetNameservers(_ context.Context, r registrar.SetNameserversRequest) (registrar.Operation, error) {
	if len(r.Nameservers) == 0 {
		return registrar.Operation{}, sdk.Invalid("nameservers required").WithField("nameservers")
	}
	return f.op("set_nameservers", r.Domain)
}

func (f *fakeRegistrar) UpsertRecords(_ context.Context, r registrar.UpsertRecordsRequest) (registrar.Operation, error) {
	for _, rec := range r.Records {
		if rec.Type == "BOGUS" {
			return registrar.Operation{}, sdk.Invalid("record type %s", rec.Type).WithField("type")
		}
	}
	return f.op("upsert_records", r.Domain)
}

func (f *fakeRegistrar) GetAuthCode(context.Context, registrar.GetAuthCodeRequest) (registrar.AuthCode, error) {
	return registrar.AuthCode{Code: "x"}, nil
}

func (f *fakeRegistrar) SetLock(_ context.Context, r registrar.SetLockRequest) (registrar.Operation, error) {
	return f.op("set_lock", r.Domain)
}

func (f *fakeRegistrar) GetOperation(_ context.Context, r registrar.GetOperationRequest) (registrar.Operation, error) {
	if !strings.HasPrefix(r.OperationID, "op-") {
		return registrar.Operation{}, sdk.NotFound("no operation %s", r.OperationID)
	}
	return f.op(strings.TrimPrefix(r.OperationID, "op-"), "")
}

type fakeMailer struct {
	configurable
}

func (f *fakeMailer) Describe(context.Context) (meta.Info, error) {
	return meta.Info{Name: "fakemailer", Version: "0.1.0"}, nil
}

func (f *fakeMailer) Send(_ context.Context, m mailer.Message) (mailer.SendResult, error) {
	if len(m.To)+len(m.Cc)+len(m.Bcc) == 0 {
		return mailer.SendResult{}, sdk.Invalid("no recipients").WithField("to")
	}
	return mailer.SendResult{MessageID: "<1@fake>"}, nil
}

var conformance = sdktest.ConformanceConfig{
	Settings:         map[string]string{"token": "t0k3n"},
	RequiredSettings: []string{"token"},
}

func TestProvisionerConformance(t *testing.T) {
	sdktest.RunProvisionerConformance(t, sdktest.ProvisionerClient(t, &fakePanel{}), conformance)
}

func TestRegistrarConformance(t *testing.T) {
	cfg := conformance
	cfg.Registrar = sdktest.RegistrarFixtures{AvailableDomain: "free.test", TakenDomain: "taken.test", OwnedDomain: "mine.test"}
	sdktest.RunRegistrarConformance(t, sdktest.RegistrarClient(t, &fakeRegistrar{}), cfg)
}

func TestMailerConformance(t *testing.T) {
	sdktest.RunMailerConformance(t, sdktest.MailerClient(t, &fakeMailer{}), conformance)
}

// TestKindsRoundTrip checks that the non-provider adapters carry their
// values across the wire.
func TestKindsRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg := sdktest.RegistrarClient(t, &fakeRegistrar{})
	op, err := reg.Register(ctx, registrar.RegisterRequest{Domain: "example.com", Years: 1, Registrant: registrar.Contact{Email: "a@b.test"}})
	if err != nil || op.ID != "op-register" || op.Domain != "example.com" || op.Status != registrar.OperationPending || op.SubmittedAt.IsZero() {
		t.Errorf("Register: %+v %v", op, err)
	}
	avail, err := reg.CheckAvailability(ctx, registrar.AvailabilityRequest{Domains: []string{"a.test", "b.test"}})
	if err != nil || len(avail) != 2 || !avail[1].Available || avail[1].Domain != "b.test" {
		t.Errorf("CheckAvailability: %+v %v", avail, err)
	}
	recs, err := reg.(registrar.RecordLister).ListRecords(ctx, registrar.ListRecordsRequest{Domain: "a.test"})
	if err != nil || len(recs) != 1 || recs[0].Type != "TXT" || recs[0].TTL != 300 || recs[0].Values[0] != "v=spf1 -all" {
		t.Errorf("ListRecords: %+v %v", recs, err)
	}

	panel := sdktest.ProvisionerClient(t, &fakePanel{})
	acct, err := panel.CreateAccount(ctx, provisioner.CreateAccountRequest{Domain: "shop.test", Username: "shop", Package: "basic"})
	if err != nil || acct.Username != "shop" || acct.Domain != "shop.test" || acct.Package != "basic" || acct.Status != provisioner.AccountActive {
		t.Errorf("CreateAccount: %+v %v", acct, err)
	}
	if err := panel.Terminate(ctx, provisioner.TerminateRequest{Username: "shop"}); err != nil {
		t.Errorf("Terminate: %v", err)
	}

	m := sdktest.MailerClient(t, &fakeMailer{})
	res, err := m.Send(ctx, mailer.Message{From: "a@b.test", To: []string{"c@d.test"}, Subject: "hi", Text: "x"})
	if err != nil || res.MessageID != "<1@fake>" {
		t.Errorf("Send: %+v %v", res, err)
	}
}

// linkingPanel adds the optional provisioner interfaces to fakePanel.
type linkingPanel struct {
	fakePanel
}

func (f *linkingPanel) Describe(context.Context) (meta.Info, error) {
	return meta.Info{Name: "linkingpanel", Version: "0.1.0",
		Capabilities: []string{provisioner.CapabilityPackages, provisioner.CapabilityLoginURL}}, nil
}

func (f *linkingPanel) ListPackages(context.Context) ([]provisioner.Package, error) {
	return []provisioner.Package{{Name: "basic"}, {Name: "reseller_gold"}}, nil
}

func (f *linkingPanel) LoginURL(_ context.Context, r provisioner.LoginURLRequest) (provisioner.LoginURL, error) {
	if _, err := f.find(r.Username); err != nil {
		return provisioner.LoginURL{}, err
	}
	return provisioner.LoginURL{URL: "https://panel.test:2083/login?session=" + r.Username + "&svc=" + r.Service,
		ExpiresAt: time.Unix(1700000000, 0)}, nil
}

func TestProvisionerOptionalInterfaces(t *testing.T) {
	ctx := context.Background()
	linking := sdktest.ProvisionerClient(t, &linkingPanel{})
	sdktest.RunProvisionerConformance(t, linking, conformance)

	pkgs, err := linking.(provisioner.PackageLister).ListPackages(ctx)
	if err != nil || !provisioner.HasPackage(pkgs, "reseller_gold") || provisioner.HasPackage(pkgs, "Reseller_Gold") || len(pkgs) != 2 {
		t.Errorf("ListPackages = %+v, %v", pkgs, err)
	}
	if _, err := linking.CreateAccount(ctx, provisioner.CreateAccountRequest{Domain: "shop.test", Username: "shop"}); err != nil {
		t.Fatal(err)
	}
	link, err := linking.(provisioner.LoginLinker).LoginURL(ctx, provisioner.LoginURLRequest{Username: "shop", Service: provisioner.LoginServiceWebmail})
	if err != nil || link.URL != "https://panel.test:2083/login?session=shop&svc=webmail" || !link.ExpiresAt.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("LoginURL = %+v, %v", link, err)
	}

	// A plugin without the optional interfaces answers unimplemented.
	plain := sdktest.ProvisionerClient(t, &fakePanel{})
	if _, err := plain.(provisioner.PackageLister).ListPackages(ctx); sdk.CategoryOf(err) != sdk.CategoryUnimplemented {
		t.Errorf("ListPackages on a plain panel: %v", err)
	}
	if _, err := plain.(provisioner.LoginLinker).LoginURL(ctx, provisioner.LoginURLRequest{Username: "x"}); sdk.CategoryOf(err) != sdk.CategoryUnimplemented {
		t.Errorf("LoginURL on a plain panel: %v", err)
	}
}

// TestAlreadyExistsCrossesTheWire: the category added for panels survives
// the process boundary.
func TestAlreadyExistsCrossesTheWire(t *testing.T) {
	p := sdktest.ProvisionerClient(t, &existsPanel{})
	_, err := p.CreateAccount(context.Background(), provisioner.CreateAccountRequest{Domain: "a.test", Username: "a"})
	if sdk.CategoryOf(err) != sdk.CategoryAlreadyExists {
		t.Fatalf("CreateAccount: %v, want already_exists", err)
	}
	if e, _ := sdk.AsError(err); e.Code != "username_taken" || e.Field != "username" {
		t.Errorf("details lost: %+v", e)
	}
}

type existsPanel struct{ fakePanel }

func (f *existsPanel) CreateAccount(context.Context, provisioner.CreateAccountRequest) (provisioner.Account, error) {
	return provisioner.Account{}, sdk.AlreadyExists("username a belongs to b.test").WithCode("username_taken").WithField("username")
}
