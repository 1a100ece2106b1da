package route53registrar_test

import (
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/route53/awsfake"
	"github.com/switchyard/switchyard/plugins/route53/route53registrar"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// TestConformance runs the SDK's registrar suite through the real gRPC
// adapters, in process, against the AWS fake.
func TestConformance(t *testing.T) {
	fake := awsfake.New(t, testKeyID, testSecret)
	fake.SetAvailability("taken-conformance.com", "UNAVAILABLE")
	fake.AddDomain(awsfake.Domain{Name: "owned-conformance.com", Expires: time.Now().AddDate(1, 0, 0)})
	r := sdktest.RegistrarClient(t, route53registrar.New(route53registrar.WithRetryBackoff(shortBackoff)))
	sdktest.RunRegistrarConformance(t, r, sdktest.ConformanceConfig{
		Settings:         settings(fake),
		RequiredSettings: []string{route53registrar.SettingAccessKeyID, route53registrar.SettingSecretAccessKey},
		Registrar: sdktest.RegistrarFixtures{
			AvailableDomain: "free-conformance.com", TakenDomain: "taken-conformance.com", OwnedDomain: "owned-conformance.com",
		},
	})
	if f := fake.AuthFailures(); len(f) > 0 {
		t.Errorf("the fake refused signatures: %v", f)
	}
}
