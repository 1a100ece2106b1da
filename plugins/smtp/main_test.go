package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/plugins/smtp/smtpmailer"
	"github.com/switchyard/switchyard/plugins/smtp/smtptest"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// TestBinary builds the real plugin binary and runs it as the host will,
// against a real SMTP server with STARTTLS and AUTH PLAIN.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "smtp")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	srv := smtptest.New(t, smtptest.Options{})
	m := sdktest.LaunchMailer(t, bin, host.Options{})
	sdktest.RunMailerConformance(t, m, sdktest.ConformanceConfig{
		Settings:         srv.Settings("Shop"),
		RequiredSettings: []string{smtpmailer.SettingHost, smtpmailer.SettingFrom},
	})

	ctx := context.Background()
	res, err := m.Send(ctx, mailer.Message{To: []string{"kunde@kunde.example"}, Subject: "Dienst bereit ✓", Text: "Hallo", HTML: "<p>Hallo</p>"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Data), "Message-ID: "+res.MessageID) || !msgs[0].TLS {
		t.Fatalf("arrived: %d messages", len(msgs))
	}

	bad := sdktest.LaunchMailer(t, bin, host.Options{})
	settings := srv.Settings("Shop")
	settings[smtpmailer.SettingPassword] = "not-the-password"
	if err := bad.Configure(ctx, settings); err != nil {
		t.Fatal(err)
	}
	if _, err := bad.TestConnection(ctx); sdk.CategoryOf(err) != sdk.CategoryUnauthorized {
		t.Errorf("TestConnection with a wrong password through the binary: %v, want unauthorized", err)
	}
}
