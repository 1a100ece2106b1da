package sdktest

import (
	"context"
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
}

// common is what every kind's implementation shares.
type common interface {
	Configure(ctx context.Context, settings map[string]string) error
	CheckHealth(ctx context.Context) (meta.Health, error)
	TestConnection(ctx context.Context) (meta.TestResult, error)
}

func runCommon(t *testing.T, describe func(context.Context) (meta.Info, error), kind meta.Kind, c common, cfg ConformanceConfig) {
	t.Helper()
	t.Run("describe", func(t *testing.T) {
		info, err := describe(callCtx(t))
		if err != nil {
			t.Fatalf("Describe: %v", err)
		}
		checkInfo(t, info, kind)
	})
	t.Run("configure", func(t *testing.T) { checkConfigure(t, c.Configure, cfg.Settings, cfg.RequiredSettings) })
	t.Run("health", func(t *testing.T) { checkHealthy(t, c.CheckHealth) })
	t.Run("test_connection", func(t *testing.T) {
		if _, err := c.TestConnection(callCtx(t)); err != nil {
			t.Fatalf("TestConnection: %v", err)
		}
	})
	t.Run("cancelled_context", func(t *testing.T) {
		checkCancelled(t, func(ctx context.Context) error {
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
}

// RunRegistrarConformance checks the registrar contract: metadata,
// configuration, health, TestConnection, and error categories for bad
// domains and unknown operations.
func RunRegistrarConformance(t *testing.T, r registrar.Registrar, cfg ConformanceConfig) {
	t.Helper()
	runCommon(t, r.Describe, meta.KindRegistrar, r, cfg)
	t.Run("availability_invalid_domain", func(t *testing.T) {
		_, err := r.CheckAvailability(callCtx(t), registrar.AvailabilityRequest{Domains: []string{"not a domain!"}})
		wantCategory(t, "CheckAvailability(invalid domain)", err, sdkerr.CategoryInvalidInput)
	})
	t.Run("get_operation_unknown", func(t *testing.T) {
		_, err := r.GetOperation(callCtx(t), registrar.GetOperationRequest{OperationID: "conformance-no-such-operation"})
		wantCategory(t, "GetOperation(unknown id)", err, sdkerr.CategoryNotFound)
	})
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
