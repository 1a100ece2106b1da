package smtpmailer

import (
	"crypto/x509"
	"net"
	"net/mail"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/sdk"
)

// Setting keys. Values are strings because the host passes settings as a
// map; the password is never echoed in errors or logs.
const (
	// SettingHost is the SMTP server (hostname or IP; MXRoute:
	// heracles.mxrouting.net). Required.
	SettingHost = "host"
	// SettingPort is the server's port: 587 (submission, STARTTLS) unless
	// set; 465 means implicit TLS.
	SettingPort = "port"
	// SettingSecurity is "starttls" (the default on every port but 465:
	// the connection must be upgraded, or nothing is sent), "tls"
	// (implicit TLS, the default on 465), or "none" (plaintext; allowed
	// only without credentials, for a local relay).
	SettingSecurity = "security"
	// SettingUsername and SettingPassword are the AUTH credentials; give
	// both or neither.
	SettingUsername = "username"
	SettingPassword = "password"
	// SettingAuth is the AUTH mechanism: "auto" (the strongest the server
	// offers; the default), "plain", "login", "cram-md5" or
	// "scram-sha-256".
	SettingAuth = "auth"
	// SettingFrom is the sending mailbox (billing@yourdomain.com): the
	// envelope sender of every mail, so bounces and SPF follow the SMTP
	// account, and the From of mails that name none. Required.
	SettingFrom = "from"
	// SettingFromName is the display name for SettingFrom ("Your Company").
	SettingFromName = "from_name"
	// SettingTimeout bounds connecting and each SMTP command (a Go
	// duration, default 30s).
	SettingTimeout = "timeout"
	// SettingHELO is the name sent in EHLO; the machine's hostname by
	// default.
	SettingHELO = "helo"
	// SettingTLSCAPEM adds PEM certificates to the system roots, for a
	// server whose certificate a private CA issued (use a file: secret
	// reference to load it from disk). Verification is never turned off.
	SettingTLSCAPEM = "tls_ca_pem"
)

// Security modes.
const (
	SecuritySTARTTLS = "starttls"
	SecurityTLS      = "tls"
	SecurityNone     = "none"
)

// Defaults.
const (
	DefaultPort    = 587
	DefaultTimeout = 30 * time.Second
)

type settings struct {
	host     string
	port     int
	security string
	username string
	password string
	auth     string
	from     *mail.Address
	timeout  time.Duration
	helo     string
	roots    *x509.CertPool // nil: the system roots
}

var (
	hostName  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
	authMechs = []string{"auto", "plain", "login", "cram-md5", "scram-sha-256"}
)

func invalidSetting(key, format string, args ...any) error {
	return sdk.Invalid("setting "+key+": "+format, args...).WithField(key).WithCode("invalid_setting")
}

// parseSettings validates in; unknown keys are refused so a typo fails at
// start rather than silently falling back to a default.
func parseSettings(in map[string]string) (settings, error) {
	s := settings{timeout: DefaultTimeout, auth: "auto"}
	var fromAddr, fromName string
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := in[k]
		if k != SettingPassword && k != SettingTLSCAPEM {
			v = strings.TrimSpace(v)
		}
		switch k {
		case SettingHost:
			if ip := net.ParseIP(strings.Trim(v, "[]")); ip != nil {
				s.host = ip.String()
			} else if hostName.MatchString(v) && len(v) <= 253 {
				s.host = strings.ToLower(v)
			} else {
				return settings{}, invalidSetting(k, "want a hostname or IP address such as heracles.mxrouting.net, got %q", v)
			}
		case SettingPort:
			p, err := strconv.Atoi(v)
			if err != nil || p < 1 || p > 65535 {
				return settings{}, invalidSetting(k, "want a TCP port, got %q", v)
			}
			s.port = p
		case SettingSecurity:
			switch v {
			case SecuritySTARTTLS, SecurityTLS, SecurityNone:
				s.security = v
			default:
				return settings{}, invalidSetting(k, "want %q, %q or %q, got %q", SecuritySTARTTLS, SecurityTLS, SecurityNone, v)
			}
		case SettingUsername:
			s.username = v
		case SettingPassword:
			s.password = v
		case SettingAuth:
			v = strings.ToLower(v)
			if !slices.Contains(authMechs, v) {
				return settings{}, invalidSetting(k, "want one of %v, got %q", authMechs, v)
			}
			s.auth = v
		case SettingFrom:
			fromAddr = v
		case SettingFromName:
			if strings.ContainsAny(v, "\r\n") {
				return settings{}, invalidSetting(k, "must be one line")
			}
			fromName = v
		case SettingTimeout:
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Second || d > 5*time.Minute {
				return settings{}, invalidSetting(k, "want a duration between 1s and 5m, got %q", v)
			}
			s.timeout = d
		case SettingHELO:
			if !hostName.MatchString(v) {
				return settings{}, invalidSetting(k, "want a hostname, got %q", v)
			}
			s.helo = v
		case SettingTLSCAPEM:
			if strings.TrimSpace(v) == "" {
				continue
			}
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM([]byte(v)) {
				return settings{}, invalidSetting(k, "no PEM certificate found")
			}
			s.roots = pool
		default:
			return settings{}, sdk.Invalid("unknown setting %q", k).WithField(k).WithCode("unknown_setting")
		}
	}
	if s.host == "" {
		return settings{}, invalidSetting(SettingHost, "required")
	}
	if s.port == 0 {
		s.port = DefaultPort
	}
	if s.security == "" {
		s.security = SecuritySTARTTLS
		if s.port == 465 {
			s.security = SecurityTLS
		}
	}
	if (s.username == "") != (s.password == "") {
		return settings{}, invalidSetting(SettingPassword, "give both %s and %s, or neither", SettingUsername, SettingPassword)
	}
	if s.security == SecurityNone && s.username != "" {
		return settings{}, invalidSetting(SettingSecurity, "%q would send the password in clear; use starttls or tls", SecurityNone)
	}
	if fromAddr == "" {
		return settings{}, invalidSetting(SettingFrom, "required (the sending mailbox, e.g. billing@yourdomain.com)")
	}
	a, err := mail.ParseAddress(fromAddr)
	if err != nil || a.Name != "" {
		return settings{}, invalidSetting(SettingFrom, "want a bare address such as billing@yourdomain.com (the name goes in %s)", SettingFromName)
	}
	a.Name = fromName
	s.from = a
	return s, nil
}
