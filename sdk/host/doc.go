// Package host is the host side of the plugin protocol: the go-plugin client
// configuration a host launches plugin binaries with, and accessors that turn
// a connected plugin into the plain Go interfaces of the kind packages
// (provider.Client …). Switchyard's core/pluginhost builds on it; any other
// program can use it to drive Switchyard plugins.
//
// The returned clients hold no locks: each call is one gRPC request on the
// plugin's connection, which multiplexes concurrent calls.
package host
