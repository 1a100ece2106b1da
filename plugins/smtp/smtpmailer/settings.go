package smtpmailer

import (
	"crypto/x509"
	"net"
	"net/mail"
	"regexp"
	"slices"
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

// rawSettings is what sdk.DecodeSettings fills; parseSettings checks the
// values further.
type rawSettings struct {
	Host     string        `setting:"host,required"`
	Port     int           `setting:"port" default:"587"`
	Security string        `setting:"security"`
	Username string        `setting:"username"`
	Password string        `setting:"password,secret"`
	Auth     string        `setting:"auth" default:"auto"`
	From     string        `setting:"from,required"`
	FromName string        `setting:"from_name"`
	Timeout  time.Duration `setting:"timeout" default:"30s"`
	HELO     string        `setting:"helo"`
	TLSCAPEM string        `setting:"tls_ca_pem"`
}

var (
	hostName  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
	authMechs = []string{"auto", "plain", "login", "cram-md5", "scram-sha-256"}
)

// parseSettings validates in; unknown keys are refused (by
// sdk.DecodeSettings) so a typo fails at start rather than silently falling
// back to a default.
func parseSettings(in map[string]string) (settings, error) {
	var raw rawSettings
	if err := sdk.DecodeSettings(in, &raw); err != nil {
		return settings{}, err
	}
	s := settings{port: raw.Port, security: raw.Security, username: raw.Username, auth: strings.ToLower(raw.Auth), timeout: raw.Timeout}
	// DecodeSettings trims values; a password is used exactly as given.
	if raw.Password != "" {
		s.password = in[SettingPassword]
	}
	if ip := net.ParseIP(strings.Trim(raw.Host, "[]")); ip != nil {
		s.host = ip.String()
	} else if hostName.MatchString(raw.Host) && len(raw.Host) <= 253 {
		s.host = strings.ToLower(raw.Host)
	} else {
		return settings{}, sdk.InvalidSetting(SettingHost, "want a hostname or IP address such as heracles.mxrouting.net, got %q", raw.Host)
	}
	if s.port < 1 || s.port > 65535 {
		return settings{}, sdk.InvalidSetting(SettingPort, "want a TCP port, got %d", s.port)
	}
	switch s.security {
	case "":
		s.security = SecuritySTARTTLS
		if s.port == 465 {
			s.security = SecurityTLS
		}
	case SecuritySTARTTLS, SecurityTLS, SecurityNone:
	default:
		return settings{}, sdk.InvalidSetting(SettingSecurity, "want %q, %q or %q, got %q", SecuritySTARTTLS, SecurityTLS, SecurityNone, s.security)
	}
	if !slices.Contains(authMechs, s.auth) {
		return settings{}, sdk.InvalidSetting(SettingAuth, "want one of %v, got %q", authMechs, raw.Auth)
	}
	if (s.username == "") != (s.password == "") {
		return settings{}, sdk.InvalidSetting(SettingPassword, "give both %s and %s, or neither", SettingUsername, SettingPassword)
	}
	if s.security == SecurityNone && s.username != "" {
		return settings{}, sdk.InvalidSetting(SettingSecurity, "%q would send the password in clear; use starttls or tls", SecurityNone)
	}
	a, err := mail.ParseAddress(raw.From)
	if err != nil || a.Name != "" {
		return settings{}, sdk.InvalidSetting(SettingFrom, "want a bare address such as billing@yourdomain.com (the name goes in %s)", SettingFromName)
	}
	if strings.ContainsAny(raw.FromName, "\r\n") {
		return settings{}, sdk.InvalidSetting(SettingFromName, "must be one line")
	}
	a.Name = raw.FromName
	s.from = a
	if s.timeout < time.Second || s.timeout > 5*time.Minute {
		return settings{}, sdk.InvalidSetting(SettingTimeout, "want a duration between 1s and 5m, got %s", s.timeout)
	}
	if raw.HELO != "" {
		if !hostName.MatchString(raw.HELO) {
			return settings{}, sdk.InvalidSetting(SettingHELO, "want a hostname, got %q", raw.HELO)
		}
		s.helo = raw.HELO
	}
	if raw.TLSCAPEM != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(raw.TLSCAPEM)) {
			return settings{}, sdk.InvalidSetting(SettingTLSCAPEM, "no PEM certificate found")
		}
		s.roots = pool
	}
	return s, nil
}
