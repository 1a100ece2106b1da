// Package sdktest lets plugin authors test a plugin the way the host will run
// it. The harness (ProviderClient, ProvisionerClient, RegistrarClient,
// MailerClient, Serve) serves an implementation in-process through the same
// go-plugin server configuration sdk.Serve uses and returns the host-side
// client, so every call crosses the real gRPC adapters: protobuf
// conversion, error categories, deadlines and trace propagation included.
//
// The conformance suites (RunProviderConformance and friends) check the
// contract every plugin of a kind must meet. Every in-tree plugin runs its
// suite in its own tests; third parties should too:
//
//	func TestConformance(t *testing.T) {
//		p := sdktest.ProviderClient(t, mygateway.New())
//		sdktest.RunProviderConformance(t, p, sdktest.ProviderConformanceConfig{
//			Settings: map[string]string{"api_key": "test"},
//		})
//	}
package sdktest
