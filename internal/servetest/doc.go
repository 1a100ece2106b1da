// Package servetest runs the real switchyard binary with the real plugin
// binaries for end-to-end tests: the example configuration with its store,
// listeners and plugin directory overridden, its CLI, `serve` with the
// listener addresses it prints, and a shopper paying on the sandbox's page.
package servetest
