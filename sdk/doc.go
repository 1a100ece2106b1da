// Package sdk is the public SDK for Switchyard plugins. A plugin is a
// separate binary that the Switchyard host launches and talks to over gRPC
// (hashicorp/go-plugin); its main function is one call:
//
//	func main() {
//		if err := sdk.Serve(sdk.ServeOpts{Provider: mygateway.New()}); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//	}
//
// Authors implement a plain Go interface from one of the kind packages —
// provider.Provider, provisioner.Provisioner, registrar.Registrar,
// mailer.Mailer — with SDK-owned types; the protobuf messages under
// sdk/proto are an implementation detail (and the contract for plugins in
// other languages).
//
// Errors returned by a plugin keep their Category across the process
// boundary: build them with Invalid, Declined, Unauthorized, NotFound,
// Unavailable, Retryable, Unimplemented or Internal, and read them on the
// host with CategoryOf.
//
// Settings arrive in Configure and decode with DecodeSettings; optional
// features are optional interfaces (provider.Refunder, provider.HTTPHandler
// …) that the SDK turns into capabilities; inside every call Logger(ctx) is
// the plugin's logger. Set DebugEnv to run a plugin under a debugger and
// attach a running host to it (ServeDebug).
//
// The SDK is its own module, github.com/switchyard/switchyard/sdk, released
// as sdk/vX.Y.Z tags. It never imports Switchyard's core: third parties
// depend on it alone. Hosts use package sdk/host; tests use sdk/sdktest.
package sdk
