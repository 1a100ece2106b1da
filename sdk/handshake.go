package sdk

import (
	"github.com/hashicorp/go-plugin"
)

// ProtocolVersion is the newest plugin protocol this SDK speaks. It changes
// only on an incompatible change to the sdk/proto services; host and plugin
// negotiate the highest version they share through go-plugin's
// VersionedPlugins, so an old plugin keeps working with a newer host for as
// long as the host still lists its version.
const ProtocolVersion = 1

// The magic cookie is not a security measure: it stops a user from running
// a plugin binary by hand and tells them what it is. It never changes.
const (
	MagicCookieKey   = "SWITCHYARD_PLUGIN"
	MagicCookieValue = "d3a1f0c2-switchyard-plugin-7b9e"
)

// Handshake returns the go-plugin handshake shared by host and plugins. It is
// a function rather than a variable so nobody can change it at run time.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   MagicCookieKey,
		MagicCookieValue: MagicCookieValue,
	}
}
