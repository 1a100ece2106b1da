package route53registrar

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/sdk"
)

// Setting keys. Values are strings because the host passes settings as a
// map; secret values are never echoed in errors.
const (
	SettingAccessKeyID     = "access_key_id"
	SettingSecretAccessKey = "secret_access_key"
	// SettingSessionToken is optional, for temporary credentials.
	SettingSessionToken = "session_token"
	// SettingDomainsEndpoint overrides the Route 53 Domains endpoint
	// (https://route53domains.us-east-1.amazonaws.com), for tests.
	SettingDomainsEndpoint = "domains_endpoint"
	// SettingRoute53Endpoint overrides the Route 53 endpoint
	// (https://route53.amazonaws.com), for tests.
	SettingRoute53Endpoint = "route53_endpoint"
	// SettingMaxAttempts bounds the SDK's attempts per call (default 3).
	SettingMaxAttempts = "max_attempts"
)

// Region is the only region Route 53 Domains is served in; Route 53 itself
// is global and signed for it too.
const Region = "us-east-1"

const defaultMaxAttempts = 3

// AWS access key ids are upper-case letters and digits (AKIA… for IAM
// users, ASIA… for temporary credentials).
var accessKeyIDPattern = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

// settings is the parsed, validated configuration of one instance.
type settings struct {
	accessKeyID     string
	secretAccessKey string
	sessionToken    string
	domainsEndpoint string
	route53Endpoint string
	maxAttempts     int
}

func invalidSetting(key, format string, args ...any) error {
	return sdk.Invalid("setting "+key+": "+format, args...).WithField(key).WithCode("invalid_setting")
}

// parseSettings validates in. Unknown keys are rejected so a typo fails at
// start, not at the first paid registration.
func parseSettings(in map[string]string) (settings, error) {
	s := settings{maxAttempts: defaultMaxAttempts}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(in[k])
		switch k {
		case SettingAccessKeyID:
			if !accessKeyIDPattern.MatchString(v) {
				return settings{}, invalidSetting(k, "must be an AWS access key id (AKIA…, 16 to 128 upper-case letters and digits)")
			}
			s.accessKeyID = v
		case SettingSecretAccessKey:
			if len(v) < 16 || strings.ContainsAny(v, " \t\r\n") {
				return settings{}, invalidSetting(k, "must be an AWS secret access key (at least 16 characters, no spaces)")
			}
			s.secretAccessKey = v
		case SettingSessionToken:
			s.sessionToken = v
		case SettingDomainsEndpoint, SettingRoute53Endpoint:
			if v == "" {
				continue
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.User != nil {
				return settings{}, invalidSetting(k, "must be an absolute http(s) URL without credentials or query")
			}
			v = strings.TrimRight(v, "/")
			if k == SettingDomainsEndpoint {
				s.domainsEndpoint = v
			} else {
				s.route53Endpoint = v
			}
		case SettingMaxAttempts:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 10 {
				return settings{}, invalidSetting(k, "must be a whole number from 1 to 10, got %q", v)
			}
			s.maxAttempts = n
		default:
			return settings{}, sdk.Invalid("unknown setting %q", k).WithField(k).WithCode("invalid_setting")
		}
	}
	if s.accessKeyID == "" {
		return settings{}, invalidSetting(SettingAccessKeyID, "is required")
	}
	if s.secretAccessKey == "" {
		return settings{}, invalidSetting(SettingSecretAccessKey, "is required")
	}
	return s, nil
}
