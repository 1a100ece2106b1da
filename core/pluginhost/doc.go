// Package pluginhost launches, verifies, supervises and calls Switchyard's
// out-of-process plugins (providers, provisioners, registrars, mailers).
//
// Every configured instance is one hashicorp/go-plugin child process
// speaking gRPC. Before launch the binary must resolve, symlinks followed,
// inside the plugin directory, and must match its pinned sha256 when one is
// configured; the child gets none of the host's environment, talks over
// AutoMTLS, and must finish the handshake within the start timeout. After
// the handshake the host checks that the plugin is of the configured kind and
// hands it its settings (Describe, then Configure).
//
// A supervisor goroutine per instance notices a dead or hung plugin,
// restarts it with capped exponential backoff and jitter, and publishes
// health. Callers hold stable handles (Host.Provider and friends): while the
// plugin is down a call fails at once with an "unavailable" error rather than
// waiting for its deadline, and the handle picks up the restarted process
// without the caller doing anything. The call path takes no lock: the
// current connection is an atomic pointer.
package pluginhost
