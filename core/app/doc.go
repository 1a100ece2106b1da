// Package app is Switchyard's composition root: it builds every component
// from a Config (telemetry, store, keyring, job runner, plugin host,
// services, HTTP listeners), starts them in order and stops them in reverse.
// No other package constructs its own dependencies or reads global state.
package app
