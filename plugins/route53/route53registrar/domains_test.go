package route53registrar_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/route53/awsfake"
	"github.com/switchyard/switchyard/plugins/route53/route53registrar"
	"github.com/switchyard/switchyard/sdk/registrar"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

func TestCheckAvailability(t *testing.T) {
	fake, r := setup(t)
	fake.SetAvailability("taken.com", "UNAVAILABLE")
	fake.SetAvailability("fancy.com", "UNAVAILABLE_PREMIUM")
	fake.SetAvailability("later.com", "DONT_KNOW")
	got, err := r.CheckAvailability(context.Background(), registrar.AvailabilityRequest{
		Domains: []string{"free.com", "Taken.COM.", "fancy.com", "later.com", "shop.xyz", "bücher.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []registrar.Availability{
		{Domain: "free.com", Available: true},
		{Domain: "taken.com", Reason: registrar.ReasonTaken},
		{Domain: "fancy.com", Premium: true, Reason: registrar.ReasonPremium},
		{Domain: "later.com", Reason: registrar.ReasonUnknown},
		{Domain: "shop.xyz", Reason: registrar.ReasonUnsupportedTLD},
		{Domain: "xn--bcher-kva.com", Available: true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("CheckAvailability:\n got %+v\nwant %+v", got, want)
	}
	var body map[string]string
	if err := json.Unmarshal(fake.LastBody("route53domains.CheckDomainAvailability"), &body); err != nil || body["DomainName"] != "xn--bcher-kva.com" {
		t.Errorf("IDN sent as %v (%v), want punycode", body, err)
	}

	for _, bad := range []string{"not a domain!", "com", "-bad-.com", "a..com", "x.123"} {
		_, err := r.CheckAvailability(context.Background(), registrar.AvailabilityRequest{Domains: []string{"ok.com", bad}})
		wantErr(t, "CheckAvailability("+bad+")", err, sdkerr.CategoryInvalidInput, "")
	}
	if n := fake.Count("route53domains.CheckDomainAvailability"); n != 6 {
		t.Errorf("%d availability calls, want 6 (invalid names must be refused before any call)", n)
	}
}

func TestRegisterMovesToSuccessful(t *testing.T) {
	fake, r := setup(t)
	ctx := context.Background()
	org := contact()
	org.Organization = "Analytical Engines Ltd"
	op, err := r.Register(ctx, registrar.RegisterRequest{
		IdempotencyKey: "item_1", Domain: "engines.com", Years: 2, Registrant: contact(), Admin: &org,
		Privacy: true, AutoRenew: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if op.ID == "" || op.Type != registrar.OperationTypeRegister || op.Domain != "engines.com" || op.Status != registrar.OperationPending {
		t.Fatalf("Register = %+v", op)
	}
	final, seen := follow(t, r, op.ID)
	if !slices.Equal(seen, []registrar.OperationStatus{registrar.OperationInProgress, registrar.OperationSucceeded}) {
		t.Errorf("statuses %v, want in_progress then succeeded", seen)
	}
	if final.Type != registrar.OperationTypeRegister || final.Domain != "engines.com" || final.SubmittedAt.IsZero() {
		t.Errorf("final operation %+v", final)
	}

	var sent struct {
		DomainName                      string
		DurationInYears                 int
		AutoRenew                       bool
		PrivacyProtectRegistrantContact bool
		PrivacyProtectAdminContact      bool
		PrivacyProtectTechContact       bool
		RegistrantContact, AdminContact map[string]any
		TechContact                     map[string]any
	}
	if err := json.Unmarshal(fake.LastBody("route53domains.RegisterDomain"), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.DomainName != "engines.com" || sent.DurationInYears != 2 || !sent.AutoRenew ||
		!sent.PrivacyProtectRegistrantContact || !sent.PrivacyProtectAdminContact || !sent.PrivacyProtectTechContact {
		t.Errorf("RegisterDomain body %+v", sent)
	}
	if sent.RegistrantContact["ContactType"] != "PERSON" || sent.RegistrantContact["PhoneNumber"] != "+44.2071234567" ||
		sent.RegistrantContact["ZipCode"] != "SW1Y 4JH" || sent.RegistrantContact["CountryCode"] != "GB" {
		t.Errorf("registrant contact %v", sent.RegistrantContact)
	}
	if sent.AdminContact["ContactType"] != "COMPANY" || sent.AdminContact["OrganizationName"] != "Analytical Engines Ltd" {
		t.Errorf("admin contact %v", sent.AdminContact)
	}
	if sent.TechContact["Email"] != "ada@example.org" {
		t.Errorf("tech contact should default to the registrant: %v", sent.TechContact)
	}

	d, err := r.GetDomain(ctx, registrar.GetDomainRequest{Domain: "engines.com"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "engines.com" || !d.Locked || !d.AutoRenew || !d.Privacy || len(d.Nameservers) != 4 ||
		d.ExpiresAt.Year() != time.Now().UTC().AddDate(2, 0, 0).Year() {
		t.Errorf("GetDomain = %+v", d)
	}
	if !strings.HasPrefix(d.Nameservers[0], "ns-") || strings.HasSuffix(d.Nameservers[0], ".") {
		t.Errorf("nameservers %v, want the hosted zone's, without trailing dots", d.Nameservers)
	}
}

func TestRegisterFailedOperation(t *testing.T) {
	fake, r := setup(t)
	fake.FailNext("rejected.com", "The registry rejected the registrant contact.")
	op, err := r.Register(context.Background(), registrar.RegisterRequest{Domain: "rejected.com", Years: 1, Registrant: contact()})
	if err != nil {
		t.Fatal(err)
	}
	final, _ := follow(t, r, op.ID)
	if final.Status != registrar.OperationFailed || !strings.Contains(final.Message, "registrant contact") {
		t.Errorf("final = %+v, want failed with the registry's message", final)
	}
	if _, ok := fake.Domain("rejected.com"); ok {
		t.Error("a failed registration left the domain in the account")
	}
}

func TestRegisterRefusals(t *testing.T) {
	fake, r := setup(t)
	ctx := context.Background()
	fake.SetAvailability("someone-elses.com", "UNAVAILABLE")
	fake.AddDomain(awsfake.Domain{Name: "mine.com", Expires: time.Now().AddDate(1, 0, 0)})

	_, err := r.Register(ctx, registrar.RegisterRequest{Domain: "someone-elses.com", Years: 1, Registrant: contact()})
	wantErr(t, "Register(taken)", err, sdkerr.CategoryDeclined, registrar.CodeDomainUnavailable)

	_, err = r.Register(ctx, registrar.RegisterRequest{Domain: "mine.com", Years: 1, Registrant: contact()})
	wantErr(t, "Register(already ours)", err, sdkerr.CategoryAlreadyExists, registrar.CodeAlreadyInAccount)

	_, err = r.Register(ctx, registrar.RegisterRequest{Domain: "shop.xyz", Years: 1, Registrant: contact()})
	wantErr(t, "Register(unsupported TLD)", err, sdkerr.CategoryInvalidInput, registrar.CodeUnsupportedTLD)

	// A second Register while the first is still in progress — a retry
	// whose first call went through — must not buy again.
	first, err := r.Register(ctx, registrar.RegisterRequest{Domain: "twice.com", Years: 1, Registrant: contact()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Register(ctx, registrar.RegisterRequest{Domain: "twice.com", Years: 1, Registrant: contact()})
	wantErr(t, "Register(in progress)", err, sdkerr.CategoryRetryable, registrar.CodeOperationInProgress)
	if e, _ := sdkerr.As(err); !strings.Contains(e.Message, first.ID) {
		t.Errorf("the in-progress error should name operation %s: %v", first.ID, err)
	}
	follow(t, r, first.ID)
	_, err = r.Register(ctx, registrar.RegisterRequest{Domain: "twice.com", Years: 1, Registrant: contact()})
	wantErr(t, "Register(after success)", err, sdkerr.CategoryAlreadyExists, registrar.CodeAlreadyInAccount)
	if n := fake.Count("route53domains.RegisterDomain"); n != 1 {
		t.Errorf("RegisterDomain called %d times, want 1", n)
	}

	bad := contact()
	bad.Phone = "020 7123 4567"
	_, err = r.Register(ctx, registrar.RegisterRequest{Domain: "ok.com", Years: 1, Registrant: bad})
	wantErr(t, "Register(bad phone)", err, sdkerr.CategoryInvalidInput, "")
	_, err = r.Register(ctx, registrar.RegisterRequest{Domain: "ok.com", Years: 1, Registrant: contact(), Nameservers: []string{"ns1.host.com"}})
	wantErr(t, "Register(with nameservers)", err, sdkerr.CategoryInvalidInput, "")
}

func TestThrottlingIsRetriedBySDK(t *testing.T) {
	fake, r := setup(t)
	ctx := context.Background()
	fake.Throttle(2)
	got, err := r.CheckAvailability(ctx, registrar.AvailabilityRequest{Domains: []string{"calm.com"}})
	if err != nil || len(got) != 1 || !got[0].Available {
		t.Fatalf("CheckAvailability after 2 throttles = %+v, %v", got, err)
	}
	if n := fake.Count("route53domains.CheckDomainAvailability"); n != 3 {
		t.Errorf("%d attempts, want 3 (two throttled, one answered)", n)
	}

	fake.Throttle(100)
	_, err = r.CheckAvailability(ctx, registrar.AvailabilityRequest{Domains: []string{"calm.com"}})
	wantErr(t, "CheckAvailability while throttled", err, sdkerr.CategoryRetryable, registrar.CodeThrottled)
	fake.Throttle(0)
}

func TestSpendingCallRetriedOnlyWhenThrottled(t *testing.T) {
	fake, r := setup(t)
	ctx := context.Background()
	// Throttled: AWS did nothing, so the SDK's retryer sends it again.
	fake.FailCall("route53domains.RegisterDomain", 1, 400, "ThrottlingException", "Rate exceeded")
	op, err := r.Register(ctx, registrar.RegisterRequest{Domain: "buy.com", Years: 1, Registrant: contact()})
	if err != nil {
		t.Fatal(err)
	}
	if n := fake.Count("route53domains.RegisterDomain"); n != 2 {
		t.Errorf("RegisterDomain sent %d times, want 2 (throttled, then accepted)", n)
	}
	if o, ok := fake.Operation(op.ID); !ok || o.Domain != "buy.com" {
		t.Errorf("operation %s not in the fake", op.ID)
	}

	// A 500 may come after AWS acted: never sent twice, reported as
	// unavailable for the host to sort out.
	fake.FailCall("route53domains.RegisterDomain", 1, 500, "InternalFailure", "We encountered an internal error.")
	_, err = r.Register(ctx, registrar.RegisterRequest{Domain: "ambiguous.com", Years: 1, Registrant: contact()})
	wantErr(t, "Register after a 500", err, sdkerr.CategoryUnavailable, "")
	if n := fake.Count("route53domains.RegisterDomain"); n != 3 {
		t.Errorf("RegisterDomain sent %d times in all, want 3 (no retry after the 500)", n)
	}
	// A read is retried after the same failure.
	fake.FailCall("route53domains.GetDomainDetail", 1, 500, "InternalFailure", "We encountered an internal error.")
	fake.AddDomain(awsfake.Domain{Name: "read.com", Expires: time.Now().AddDate(1, 0, 0)})
	if _, err := r.GetDomain(ctx, registrar.GetDomainRequest{Domain: "read.com"}); err != nil {
		t.Errorf("GetDomain after one 500: %v", err)
	}
}

func TestTransfer(t *testing.T) {
	fake, r := setup(t)
	ctx := context.Background()
	_, err := r.Transfer(ctx, registrar.TransferRequest{Domain: "moving.com", Years: 1, Registrant: contact()})
	wantErr(t, "Transfer without auth code", err, sdkerr.CategoryInvalidInput, "")

	op, err := r.Transfer(ctx, registrar.TransferRequest{
		Domain: "moving.com", AuthCode: "Ep#p-c0de/secret", Years: 1, Registrant: contact(),
		Nameservers: []string{"ns1.hosting.example.net", "ns2.hosting.example.net"}, Privacy: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if op.Type != registrar.OperationTypeTransfer {
		t.Errorf("Transfer = %+v", op)
	}
	var sent map[string]any
	_ = json.Unmarshal(fake.LastBody("route53domains.TransferDomain"), &sent)
	if sent["AuthCode"] != "Ep#p-c0de/secret" {
		t.Errorf("auth code sent as %v", sent["AuthCode"])
	}
	if final, _ := follow(t, r, op.ID); final.Status != registrar.OperationSucceeded || final.Type != registrar.OperationTypeTransfer {
		t.Errorf("final = %+v", final)
	}
	d, err := r.GetDomain(ctx, registrar.GetDomainRequest{Domain: "moving.com"})
	if err != nil || !slices.Equal(d.Nameservers, []string{"ns1.hosting.example.net", "ns2.hosting.example.net"}) {
		t.Errorf("GetDomain after transfer = %+v, %v", d, err)
	}

	fake.FailNext("refused.com", "The auth code is not valid.")
	op, err = r.Transfer(ctx, registrar.TransferRequest{Domain: "refused.com", AuthCode: "wrong", Years: 1, Registrant: contact()})
	if err != nil {
		t.Fatal(err)
	}
	if final, _ := follow(t, r, op.ID); final.Status != registrar.OperationFailed {
		t.Errorf("final = %+v, want failed", final)
	}
	_, err = r.Transfer(ctx, registrar.TransferRequest{Domain: "moving.com", AuthCode: "x", Years: 1, Registrant: contact()})
	wantErr(t, "Transfer(already ours)", err, sdkerr.CategoryAlreadyExists, registrar.CodeAlreadyInAccount)
}

func TestRenew(t *testing.T) {
	fake, r := setup(t)
	ctx := context.Background()
	expiry := time.Date(2027, 3, 14, 0, 0, 0, 0, time.UTC)
	fake.AddDomain(awsfake.Domain{Name: "renewme.com", Expires: expiry})

	_, err := r.Renew(ctx, registrar.RenewRequest{Domain: "renewme.com", Years: 1, CurrentExpiry: expiry.AddDate(-1, 0, 0)})
	wantErr(t, "Renew(stale expiry)", err, sdkerr.CategoryInvalidInput, registrar.CodeExpiryMismatch)
	if n := fake.Count("route53domains.RenewDomain"); n != 0 {
		t.Fatalf("RenewDomain called %d times for a stale expiry", n)
	}

	op, err := r.Renew(ctx, registrar.RenewRequest{IdempotencyKey: "renew_1", Domain: "renewme.com", Years: 2, CurrentExpiry: expiry})
	if err != nil {
		t.Fatal(err)
	}
	var sent map[string]any
	_ = json.Unmarshal(fake.LastBody("route53domains.RenewDomain"), &sent)
	if sent["CurrentExpiryYear"] != float64(2027) || sent["DurationInYears"] != float64(2) {
		t.Errorf("RenewDomain body %v", sent)
	}
	if final, _ := follow(t, r, op.ID); final.Status != registrar.OperationSucceeded || final.Type != registrar.OperationTypeRenew {
		t.Errorf("final = %+v", final)
	}
	d, _ := r.GetDomain(ctx, registrar.GetDomainRequest{Domain: "renewme.com"})
	if d.ExpiresAt.Year() != 2029 {
		t.Errorf("expiry after renewal = %v, want 2029", d.ExpiresAt)
	}
	// Without CurrentExpiry the year comes from GetDomainDetail.
	op, err = r.Renew(ctx, registrar.RenewRequest{Domain: "renewme.com", Years: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(fake.LastBody("route53domains.RenewDomain"), &sent)
	if sent["CurrentExpiryYear"] != float64(2029) {
		t.Errorf("RenewDomain body %v", sent)
	}
	follow(t, r, op.ID)

	_, err = r.Renew(ctx, registrar.RenewRequest{Domain: "not-mine.com", Years: 1})
	wantErr(t, "Renew(not in account)", err, sdkerr.CategoryNotFound, "")
}

func TestNameserversLockAndAuthCode(t *testing.T) {
	fake, r := setup(t)
	ctx := context.Background()
	fake.AddDomain(awsfake.Domain{Name: "managed.com", Expires: time.Now().AddDate(1, 0, 0), Locked: true, AuthCode: "Auth-Code-123"})
	fake.AddDomain(awsfake.Domain{Name: "nolock.io", Expires: time.Now().AddDate(1, 0, 0)})

	op, err := r.SetNameservers(ctx, registrar.SetNameserversRequest{Domain: "managed.com", Nameservers: []string{"NS1.Hosting.Example.net.", "ns2.hosting.example.net"}})
	if err != nil || op.Type != registrar.OperationTypeSetNameservers {
		t.Fatalf("SetNameservers = %+v, %v", op, err)
	}
	follow(t, r, op.ID)
	d, _ := r.GetDomain(ctx, registrar.GetDomainRequest{Domain: "managed.com"})
	if !slices.Equal(d.Nameservers, []string{"ns1.hosting.example.net", "ns2.hosting.example.net"}) {
		t.Errorf("nameservers = %v", d.Nameservers)
	}
	_, err = r.SetNameservers(ctx, registrar.SetNameserversRequest{Domain: "managed.com", Nameservers: []string{"ns1.a.com", "ns1.a.com"}})
	wantErr(t, "SetNameservers(duplicate)", err, sdkerr.CategoryInvalidInput, "")

	if !d.Locked {
		t.Fatal("domain should start locked")
	}
	op, err = r.SetLock(ctx, registrar.SetLockRequest{Domain: "managed.com", Locked: false})
	if err != nil || op.Type != registrar.OperationTypeSetLock {
		t.Fatalf("SetLock = %+v, %v", op, err)
	}
	follow(t, r, op.ID)
	if d, _ := r.GetDomain(ctx, registrar.GetDomainRequest{Domain: "managed.com"}); d.Locked {
		t.Error("still locked after SetLock(false)")
	}
	op, _ = r.SetLock(ctx, registrar.SetLockRequest{Domain: "managed.com", Locked: true})
	follow(t, r, op.ID)
	if d, _ := r.GetDomain(ctx, registrar.GetDomainRequest{Domain: "managed.com"}); !d.Locked {
		t.Error("not locked after SetLock(true)")
	}
	_, err = r.SetLock(ctx, registrar.SetLockRequest{Domain: "nolock.io", Locked: true})
	wantErr(t, "SetLock(.io)", err, sdkerr.CategoryInvalidInput, registrar.CodeTLDRules)

	code, err := r.GetAuthCode(ctx, registrar.GetAuthCodeRequest{Domain: "managed.com"})
	if err != nil || code.Code != "Auth-Code-123" {
		t.Errorf("GetAuthCode = %+v, %v", code, err)
	}
	_, err = r.GetAuthCode(ctx, registrar.GetAuthCodeRequest{Domain: "stranger.com"})
	wantErr(t, "GetAuthCode(not ours)", err, sdkerr.CategoryNotFound, "")
}

func TestUnknownOperation(t *testing.T) {
	_, r := setup(t)
	_, err := r.GetOperation(context.Background(), registrar.GetOperationRequest{OperationID: "0b0c9a9e-8d3f-4d8e-9f8e-0a1b2c3d4e5f"})
	wantErr(t, "GetOperation(unknown uuid)", err, sdkerr.CategoryNotFound, "")
	_, err = r.GetOperation(context.Background(), registrar.GetOperationRequest{OperationID: "change:C0000NOPE:example.com"})
	wantErr(t, "GetOperation(unknown change)", err, sdkerr.CategoryNotFound, "")
}

func TestCredentialsComeFromSettingsOnly(t *testing.T) {
	// Everything the SDK's default chain would read points elsewhere; none
	// of it may be used.
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENTKEY00")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "environment-secret-0123456789")
	t.Setenv("AWS_SESSION_TOKEN", "environment-token")
	t.Setenv("AWS_PROFILE", "elsewhere")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_DEFAULT_REGION", "eu-west-1")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1")
	fake, r := setup(t)
	res, err := r.TestConnection(context.Background())
	if err != nil {
		t.Fatalf("TestConnection: %v", err)
	}
	if res.Message == "" || len(fake.Calls()) != 2 {
		t.Errorf("TestConnection = %+v after calls %v", res, fake.Calls())
	}
}

func TestRejectedCredentials(t *testing.T) {
	fake := awsfake.New(t, testKeyID, testSecret)
	ctx := context.Background()
	for name, s := range map[string]map[string]string{
		"wrong secret": {route53registrar.SettingSecretAccessKey: "wrongSecretKey/0123456789abcdefghijkl"},
		"unknown key":  {route53registrar.SettingAccessKeyID: "AKIAUNKNOWNKEY000000"},
	} {
		in := settings(fake)
		for k, v := range s {
			in[k] = v
		}
		r := route53registrar.New(route53registrar.WithRetryBackoff(shortBackoff))
		if err := r.Configure(ctx, in); err != nil {
			t.Fatal(err)
		}
		_, err := r.TestConnection(ctx)
		wantErr(t, name, err, sdkerr.CategoryUnauthorized, "")
		if e, _ := sdkerr.As(err); strings.Contains(e.Message, "wrongSecret") {
			t.Errorf("%s: the secret leaked into the error: %v", name, err)
		}
	}
	if len(fake.AuthFailures()) != 2 {
		t.Errorf("fake refused %v", fake.AuthFailures())
	}
}

func TestSettings(t *testing.T) {
	fake := awsfake.New(t, testKeyID, testSecret)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		change map[string]string
		field  string
	}{
		"unknown key":       {map[string]string{"region": "eu-west-1"}, "region"},
		"bad key id":        {map[string]string{route53registrar.SettingAccessKeyID: "not-a-key"}, route53registrar.SettingAccessKeyID},
		"short secret":      {map[string]string{route53registrar.SettingSecretAccessKey: "short"}, route53registrar.SettingSecretAccessKey},
		"bad endpoint":      {map[string]string{route53registrar.SettingDomainsEndpoint: "ftp://x"}, route53registrar.SettingDomainsEndpoint},
		"zero max attempts": {map[string]string{route53registrar.SettingMaxAttempts: "0"}, route53registrar.SettingMaxAttempts},
	} {
		in := settings(fake)
		for k, v := range tc.change {
			in[k] = v
		}
		err := route53registrar.New().Configure(ctx, in)
		e, ok := sdkerr.As(err)
		if !ok || e.Category != sdkerr.CategoryInvalidInput || e.Field != tc.field {
			t.Errorf("%s: %v, want invalid_input on field %s", name, err, tc.field)
		}
		if ok && strings.Contains(e.Message, testSecret) {
			t.Errorf("%s: error echoes the secret", name)
		}
	}
}
