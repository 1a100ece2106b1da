package testprovider

import (
	"context"
	"strings"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
)

// Mailer is a test mailer served by the same binary, so the host's
// handles for a second kind run over a real process too.
type Mailer struct{}

var _ mailer.Mailer = Mailer{}

// Describe implements mailer.Mailer.
func (Mailer) Describe(context.Context) (meta.Info, error) {
	return meta.Info{Name: Name + "-mailer", Version: Version}, nil
}

// Configure implements mailer.Mailer.
func (Mailer) Configure(context.Context, map[string]string) error { return nil }

// CheckHealth implements mailer.Mailer.
func (Mailer) CheckHealth(context.Context) (meta.Health, error) {
	return meta.Health{Status: meta.HealthOK}, nil
}

// TestConnection implements mailer.Mailer.
func (Mailer) TestConnection(context.Context) (meta.TestResult, error) {
	return meta.TestResult{Message: "no server to reach"}, nil
}

// Send implements mailer.Mailer: it accepts any message with a recipient
// and names it after the first one.
func (Mailer) Send(_ context.Context, msg mailer.Message) (mailer.SendResult, error) {
	if len(msg.To) == 0 {
		return mailer.SendResult{}, sdk.Invalid("no recipient").WithField("to")
	}
	return mailer.SendResult{MessageID: "<" + strings.ReplaceAll(msg.To[0], "@", ".") + "@testprovider>"}, nil
}
