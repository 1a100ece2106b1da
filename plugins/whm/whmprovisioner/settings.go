package whmprovisioner

import (
	"encoding/hex"
	"net"
	"regexp"
	"sort"
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

// Defaults.
const (
	DefaultPort     = 2087
	DefaultUsername = "root"
	DefaultTimeout  = 90 * time.Second
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

var (
	hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
	// whmUser: root or a reseller's cPanel username.
	whmUser = regexp.MustCompile(`^[a-z][a-z0-9._-]{0,31}$`)
	// tokenChars: WHM tokens are 32 upper-case alphanumerics; allow any
	// printable non-space ASCII so a future format still configures, but
	// nothing that would break the Authorization header.
	tokenChars = regexp.MustCompile(`^[\x21-\x7e]{16,256}$`)
)

func invalidSetting(key, format string, args ...any) error {
	return sdk.Invalid("setting "+key+": "+format, args...).WithField(key).WithCode("invalid_setting")
}

// parseSettings validates in. Unknown keys are rejected so that a typo
// (tls_fingerprint for tls_fingerprint_sha256) fails loudly instead of
// silently leaving the pin out.
func parseSettings(in map[string]string) (settings, error) {
	s := settings{port: DefaultPort, username: DefaultUsername, timeout: DefaultTimeout}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(in[k])
		switch k {
		case SettingHost:
			if strings.Contains(v, "://") || strings.ContainsAny(v, "/?#@ ") {
				return settings{}, invalidSetting(k, "want a bare hostname or IP address such as whm.example.com, got %q", v)
			}
			if ip := net.ParseIP(strings.Trim(v, "[]")); ip != nil {
				s.host = ip.String()
			} else if hostName.MatchString(v) && len(v) <= 253 {
				s.host = strings.ToLower(v)
			} else {
				return settings{}, invalidSetting(k, "%q is not a hostname or IP address", v)
			}
		case SettingPort:
			p, err := strconv.Atoi(v)
			if err != nil || p < 1 || p > 65535 {
				return settings{}, invalidSetting(k, "want a TCP port, got %q", v)
			}
			s.port = p
		case SettingUsername:
			if !whmUser.MatchString(v) {
				return settings{}, invalidSetting(k, "%q is not a WHM username", v)
			}
			s.username = v
		case SettingAPIToken:
			if !tokenChars.MatchString(v) {
				return settings{}, invalidSetting(k, "must be the WHM API token (at least 16 printable characters, no spaces)")
			}
			s.token = v
		case SettingTLSFingerprint:
			if v == "" {
				continue
			}
			fp, err := hex.DecodeString(strings.ReplaceAll(v, ":", ""))
			if err != nil || len(fp) != 32 {
				return settings{}, invalidSetting(k, "want the certificate's SHA-256 fingerprint, 64 hex digits (colons allowed)")
			}
			s.fingerprint = fp
		case SettingTimeout:
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Second || d > 10*time.Minute {
				return settings{}, invalidSetting(k, "want a duration between 1s and 10m, got %q", v)
			}
			s.timeout = d
		default:
			return settings{}, sdk.Invalid("unknown setting %q", k).WithField(k).WithCode("unknown_setting")
		}
	}
	if s.host == "" {
		return settings{}, invalidSetting(SettingHost, "required")
	}
	if s.token == "" {
		return settings{}, invalidSetting(SettingAPIToken, "required")
	}
	return s, nil
}
