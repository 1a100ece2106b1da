package route53registrar

import (
	"net/url"
	"regexp"
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

// AWS access key ids are upper-case letters and digits (AKIA… for IAM
// users, ASIA… for temporary credentials).
var accessKeyIDPattern = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

// settings is the decoded, validated configuration of one instance
// (sdk.DecodeSettings rejects unknown keys, so a typo fails at start, not
// at the first paid registration).
type settings struct {
	AccessKeyID     string   `setting:"access_key_id,required"`
	SecretAccessKey string   `setting:"secret_access_key,required,secret"`
	SessionToken    string   `setting:"session_token,secret"`
	DomainsEndpoint *url.URL `setting:"domains_endpoint"`
	Route53Endpoint *url.URL `setting:"route53_endpoint"`
	MaxAttempts     int      `setting:"max_attempts" default:"3"`
}

func parseSettings(in map[string]string) (settings, error) {
	var s settings
	if err := sdk.DecodeSettings(in, &s); err != nil {
		return settings{}, err
	}
	if !accessKeyIDPattern.MatchString(s.AccessKeyID) {
		return settings{}, sdk.InvalidSetting(SettingAccessKeyID, "must be an AWS access key id (AKIA…, 16 to 128 upper-case letters and digits)")
	}
	if len(s.SecretAccessKey) < 16 || strings.ContainsAny(s.SecretAccessKey, " \t\r\n") {
		return settings{}, sdk.InvalidSetting(SettingSecretAccessKey, "must be an AWS secret access key (at least 16 characters, no spaces)")
	}
	for name, u := range map[string]*url.URL{SettingDomainsEndpoint: s.DomainsEndpoint, SettingRoute53Endpoint: s.Route53Endpoint} {
		if u != nil && (u.User != nil || u.RawQuery != "") {
			return settings{}, sdk.InvalidSetting(name, "must be a URL without credentials or query")
		}
	}
	if s.MaxAttempts < 1 || s.MaxAttempts > 10 {
		return settings{}, sdk.InvalidSetting(SettingMaxAttempts, "must be from 1 to 10, got %d", s.MaxAttempts)
	}
	return s, nil
}

// endpoint is the override as the AWS clients take it, nil for AWS's own.
func endpoint(u *url.URL) *string {
	if u == nil {
		return nil
	}
	s := strings.TrimRight(u.String(), "/")
	return &s
}
