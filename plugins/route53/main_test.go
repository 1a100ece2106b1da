package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/route53/awsfake"
	"github.com/switchyard/switchyard/plugins/route53/route53registrar"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/registrar"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

const (
	keyID  = "AKIABINARYROUTE53TST"
	secret = "binarySecretKey/0123456789abcdefghijklm"
)

func buildPlugin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "route53")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func settings(fake *awsfake.Server) map[string]string {
	return map[string]string{
		route53registrar.SettingAccessKeyID:     keyID,
		route53registrar.SettingSecretAccessKey: secret,
		route53registrar.SettingDomainsEndpoint: fake.URL(),
		route53registrar.SettingRoute53Endpoint: fake.URL(),
	}
}

// TestBinary builds the real plugin binary and runs it as the host will:
// launched by go-plugin, spoken to over gRPC, calling the AWS fake with
// the real aws-sdk-go-v2 clients.
func TestBinary(t *testing.T) {
	bin := buildPlugin(t)
	t.Run("conformance", func(t *testing.T) {
		fake := awsfake.New(t, keyID, secret)
		fake.SetAvailability("taken-binary.com", "UNAVAILABLE")
		fake.AddDomain(awsfake.Domain{Name: "owned-binary.com", Expires: time.Now().AddDate(1, 0, 0)})
		r := sdktest.LaunchRegistrar(t, bin, host.Options{})
		sdktest.RunRegistrarConformance(t, r, sdktest.ConformanceConfig{
			Settings:         settings(fake),
			RequiredSettings: []string{route53registrar.SettingAccessKeyID, route53registrar.SettingSecretAccessKey},
			Registrar: sdktest.RegistrarFixtures{
				AvailableDomain: "free-binary.com", TakenDomain: "taken-binary.com", OwnedDomain: "owned-binary.com",
			},
		})
		if f := fake.AuthFailures(); len(f) > 0 {
			t.Errorf("the fake refused signatures: %v", f)
		}
	})
	t.Run("register_then_mail_records", func(t *testing.T) { registerThenMailRecords(t, bin) })
}

// registerThenMailRecords is the flow the domains core drives: register,
// follow the operation, then merge the mail records into the new zone and
// follow the change until INSYNC.
func registerThenMailRecords(t *testing.T, bin string) {
	fake := awsfake.New(t, keyID, secret)
	r := sdktest.LaunchRegistrar(t, bin, host.Options{})
	ctx := context.Background()
	if err := r.Configure(ctx, settings(fake)); err != nil {
		t.Fatal(err)
	}
	op, err := r.Register(ctx, registrar.RegisterRequest{
		IdempotencyKey: "item_binary", Domain: "binary-shop.com", Years: 1, Privacy: true,
		Registrant: registrar.Contact{
			FirstName: "Grace", LastName: "Hopper", Email: "grace@example.org", Phone: "+1.2025550100",
			Address1: "1 Navy Way", City: "Arlington", State: "VA", PostalCode: "22201", CountryCode: "US",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFinal(t, r, op.ID, registrar.OperationSucceeded)
	d, err := r.GetDomain(ctx, registrar.GetDomainRequest{Domain: "binary-shop.com"})
	if err != nil || d.ExpiresAt.IsZero() || len(d.Nameservers) == 0 {
		t.Fatalf("GetDomain = %+v, %v", d, err)
	}

	changer, ok := r.(registrar.RecordChanger)
	if !ok {
		t.Fatal("the host's registrar client lacks ChangeRecords")
	}
	op, err = changer.ChangeRecords(ctx, registrar.ChangeRecordsRequest{Domain: "binary-shop.com", Changes: []registrar.RecordChange{
		{Action: registrar.RecordMerge, Record: registrar.Record{Name: "@", Type: "TXT", Values: []string{"v=spf1 include:mxlogin.com ~all"}}},
		{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "mail._domainkey", Type: "TXT", Values: []string{"v=DKIM1; k=rsa; p=MIIBIjANBgkq"}}},
		{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "_dmarc", Type: "TXT", Values: []string{"v=DMARC1; p=quarantine; rua=mailto:dmarc@binary-shop.com"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	waitFinal(t, r, op.ID, registrar.OperationSucceeded)
	recs, err := r.(registrar.RecordLister).ListRecords(ctx, registrar.ListRecordsRequest{Domain: "binary-shop.com", Name: "@", Type: "TXT"})
	if err != nil || len(recs) != 1 || len(recs[0].Values) != 1 || recs[0].Values[0] != "v=spf1 include:mxlogin.com ~all" {
		t.Errorf("apex TXT = %+v, %v", recs, err)
	}
}

func waitFinal(t *testing.T, r registrar.Registrar, id string, want registrar.OperationStatus) {
	t.Helper()
	for range 10 {
		op, err := r.GetOperation(context.Background(), registrar.GetOperationRequest{OperationID: id})
		if err != nil {
			t.Fatalf("GetOperation(%s): %v", id, err)
		}
		if op.Status.Final() {
			if op.Status != want {
				t.Fatalf("operation %s ended %s (%s), want %s", id, op.Status, op.Message, want)
			}
			return
		}
	}
	t.Fatalf("operation %s not final after 10 polls", id)
}
