package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/plugins/whm/whmfake"
	"github.com/switchyard/switchyard/plugins/whm/whmprovisioner"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// TestBinary builds the real plugin binary and runs it as the host will:
// launched by go-plugin, spoken to over gRPC, against the WHM fake.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "whm")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fake := whmfake.New(t, whmfake.Options{MinPasswordStrength: 100})
	p := sdktest.LaunchProvisioner(t, bin, host.Options{})
	sdktest.RunProvisionerConformance(t, p, sdktest.ConformanceConfig{
		Settings:         fake.Settings(),
		RequiredSettings: []string{whmprovisioner.SettingHost, whmprovisioner.SettingAPIToken},
		Lifecycle: &sdktest.ProvisionerLifecycle{
			Account:      provisioner.CreateAccountRequest{IdempotencyKey: "svc_bin", Username: "binshop", Domain: "bin-shop.example", Package: "basic"},
			OtherPackage: "reseller_gold",
		},
	})

	// The optional interfaces and the new error category cross the real
	// process boundary.
	ctx := context.Background()
	pkgs, err := p.(provisioner.PackageLister).ListPackages(ctx)
	if err != nil || !provisioner.HasPackage(pkgs, "reseller_gold") {
		t.Errorf("ListPackages = %v, %v", pkgs, err)
	}
	fake.AddAccount(whmfake.Account{User: "other", Domain: "other.example", Plan: "basic"})
	_, err = p.CreateAccount(ctx, provisioner.CreateAccountRequest{Username: "other", Domain: "mine.example", Package: "basic"})
	if sdk.CategoryOf(err) != sdk.CategoryAlreadyExists {
		t.Errorf("CreateAccount of a taken username: %v, want already_exists", err)
	}
	link, err := p.(provisioner.LoginLinker).LoginURL(ctx, provisioner.LoginURLRequest{Username: "other"})
	if err != nil || link.URL == "" || link.ExpiresAt.IsZero() {
		t.Errorf("LoginURL = %+v, %v", link, err)
	}
}
