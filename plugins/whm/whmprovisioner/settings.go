package whmprovisioner

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/sdk"
)

// Setting keys. Values are strings because the host passes settings as a
// map; the token is never echoed in errors or logs.
const (
	// SettingHost is the WHM server's hostname or IP address (no scheme,
	// no path). TLS is verified against it unless a fingerprint is pinned.
	SettingHost = "host"
	// SettingPort is WHM's HTTPS port; 2087 unless set.
	SettingPort = "port"
	// SettingUsername is the WHM user that owns the API token: root or a
	// reseller. Default root.
	SettingUsername = "username"
	// SettingAPIToken is the WHM API token (WHM » Development » Manage API
	// Tokens). Required; give it a least-privilege ACL (docs/fulfillment.md).
	SettingAPIToken = "api_token"
	// SettingTLSFingerprint pins the server certificate by its SHA-256
	// fingerprint (64 hex digits, colons allowed), for panels with a
	// self-signed certificate. When set, a certificate with that exact
	// fingerprint is accepted whatever its issuer or name, and any other is
	// refused. There is no setting that turns verification off.
	SettingTLSFingerprint = "tls_fingerprint_sha256"
	// SettingTimeout bounds one WHM call (a Go duration, default 90s):
	// createacct can take tens of seconds on a busy server. The host's
	// plugins.call_timeout applies as well; the shorter wins.
	SettingTimeout = "timeout"
)

// settings is the parsed, validated configuration of one instance.
type settings struct {
	host        string
	port        int
	username    string
	token       string
	fingerprint []byte // nil: verify the chain and the name
	timeout     time.Duration
}

// baseURL is where json-api calls go.
func (s settings) baseURL() string {
	return "https://" + net.JoinHostPort(s.host, strconv.Itoa(s.port))
}

// rawSettings is what sdk.DecodeSettings fills; parseSettings checks the
// values further.
type rawSettings struct {
	Host        string        `setting:"host,required"`
	Port        int           `setting:"port" default:"2087"`
	Username    string        `setting:"username" default:"root"`
	APIToken    string        `setting:"api_token,required,secret"`
	Fingerprint string        `setting:"tls_fingerprint_sha256"`
	Timeout     time.Duration `setting:"timeout" default:"90s"`
}

var (
	hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
	// whmUser: root or a reseller's cPanel username.
	whmUser = regexp.MustCompile(`^[a-z][a-z0-9._-]{0,31}$`)
	// tokenChars: WHM tokens are 32 upper-case alphanumerics; allow any
	// printable non-space ASCII so a future format still configures, but
	// nothing that would break the Authorization header.
	tokenChars = regexp.MustCompile(`^[\x21-\x7e]{16,256}$`)
)

// parseSettings validates in. Unknown keys are rejected (by
// sdk.DecodeSettings) so that a typo (tls_fingerprint for
// tls_fingerprint_sha256) fails loudly instead of silently leaving the pin
// out.
func parseSettings(in map[string]string) (settings, error) {
	var raw rawSettings
	if err := sdk.DecodeSettings(in, &raw); err != nil {
		return settings{}, err
	}
	s := settings{port: raw.Port, username: raw.Username, token: raw.APIToken, timeout: raw.Timeout}
	switch h := raw.Host; {
	case strings.Contains(h, "://") || strings.ContainsAny(h, "/?#@ "):
		return settings{}, sdk.InvalidSetting(SettingHost, "want a bare hostname or IP address such as whm.example.com, got %q", h)
	case net.ParseIP(strings.Trim(h, "[]")) != nil:
		s.host = net.ParseIP(strings.Trim(h, "[]")).String()
	case hostName.MatchString(h) && len(h) <= 253:
		s.host = strings.ToLower(h)
	default:
		return settings{}, sdk.InvalidSetting(SettingHost, "%q is not a hostname or IP address", h)
	}
	if s.port < 1 || s.port > 65535 {
		return settings{}, sdk.InvalidSetting(SettingPort, "want a TCP port, got %d", s.port)
	}
	if !whmUser.MatchString(s.username) {
		return settings{}, sdk.InvalidSetting(SettingUsername, "%q is not a WHM username", s.username)
	}
	if !tokenChars.MatchString(s.token) {
		return settings{}, sdk.InvalidSetting(SettingAPIToken, "must be the WHM API token (at least 16 printable characters, no spaces)")
	}
	if raw.Fingerprint != "" {
		fp, err := hex.DecodeString(strings.ReplaceAll(raw.Fingerprint, ":", ""))
		if err != nil || len(fp) != sha256.Size {
			return settings{}, sdk.InvalidSetting(SettingTLSFingerprint, "want the certificate's SHA-256 fingerprint, 64 hex digits (colons allowed)")
		}
		s.fingerprint = fp
	}
	if s.timeout < time.Second || s.timeout > 10*time.Minute {
		return settings{}, sdk.InvalidSetting(SettingTimeout, "want a duration between 1s and 10m, got %s", s.timeout)
	}
	return s, nil
}
