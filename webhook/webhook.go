package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signing profile names, as stored on an endpoint.
const (
	ProfileStandard  = "standard"
	ProfilePROE      = "proe"
	ProfilePGApp     = "pgapp"
	ProfileEcomtrade = "ecomtrade"
)

// Header names the profiles use. HTTP header names are case-insensitive;
// these are the spellings Switchyard sends.
const (
	HeaderID        = "Webhook-Id"
	HeaderTimestamp = "Webhook-Timestamp"
	HeaderSignature = "Webhook-Signature"

	HeaderPROESignature = "X-PROE-Signature"

	HeaderPGAppTimestamp = "X-Signature-Timestamp"
	HeaderPGAppSignature = "X-Signature-Hmac-Sha256"

	HeaderEcomtradeSignature = "X-Signature"
)

// ecomtradeAliases are the other header names the ecomtrade seed accepts.
var ecomtradeAliases = [...]string{HeaderEcomtradeSignature, "X-Ecomtrade24-Signature", "X-Webhook-Signature"}

// SecretPrefix starts every secret Switchyard generates.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a signed timestamp may be from the
// receiver's clock, either way, when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Errors Verify returns; match them with errors.Is.
var (
	ErrUnknownProfile   = errors.New("webhook: unknown signing profile")
	ErrMissingHeader    = errors.New("webhook: missing signature header")
	ErrInvalidSignature = errors.New("webhook: no signature matches")
	ErrTimestamp        = errors.New("webhook: timestamp outside tolerance")
	ErrNoSecret         = errors.New("webhook: no usable secret")
)

// Event is the JSON envelope of every webhook, whatever the profile.
// Sequence numbers a session's events from 1 upward: apply an event only
// if its sequence is higher than the last one you applied for that
// session, since deliveries can arrive out of order.
type Event struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	CreatedAt time.Time       `json:"created_at"`
	TenantID  int64           `json:"tenant_id"`
	Sequence  int64           `json:"sequence"`
	Data      json.RawMessage `json:"data"`
}

// Profiles lists the signing profiles, the default first.
func Profiles() []string {
	return []string{ProfileStandard, ProfilePROE, ProfilePGApp, ProfileEcomtrade}
}

// ValidProfile reports whether name is a known profile.
func ValidProfile(name string) bool {
	for _, p := range Profiles() {
		if p == name {
			return true
		}
	}
	return false
}

// NewSecret returns a fresh "whsec_" + base64 of 32 random bytes.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// standardKey is the HMAC key of a standard-profile secret: the base64 after
// the optional whsec_ prefix, as the Standard Webhooks libraries decode it.
func standardKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("%w: standard profile needs a whsec_ base64 secret", ErrNoSecret)
	}
	return key, nil
}

func mac(key []byte, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

var dot = []byte{'.'}

// standardSig is the one definition of a Standard Webhooks signature.
func standardSig(key []byte, id, ts string, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, []byte(id), dot, []byte(ts), dot, body))
}

// bodySig is the hex HMAC of the raw body (proe, ecomtrade).
func bodySig(secret string, body []byte) string {
	return hex.EncodeToString(mac([]byte(secret), body))
}

// pgappSig is the hex HMAC of "timestamp.body".
func pgappSig(secret, ts string, body []byte) string {
	return hex.EncodeToString(mac([]byte(secret), []byte(ts), dot, body))
}

// Sign returns the headers that sign body for profile. The standard profile
// signs with every secret given (rotation overlap: "v1,<a> v1,<b>"); the
// other profiles carry one signature and use secrets[0]. Every profile also
// gets webhook-id and webhook-timestamp, so receivers of any profile can
// de-duplicate on the id.
func Sign(profile string, secrets []string, msgID string, at time.Time, body []byte) (http.Header, error) {
	if len(secrets) == 0 || secrets[0] == "" {
		return nil, ErrNoSecret
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, ts)
	switch profile {
	case ProfileStandard:
		sigs := make([]string, 0, len(secrets))
		for _, s := range secrets {
			key, err := standardKey(s)
			if err != nil {
				return nil, err
			}
			sigs = append(sigs, standardSig(key, msgID, ts, body))
		}
		h.Set(HeaderSignature, strings.Join(sigs, " "))
	case ProfilePROE:
		h.Set(HeaderPROESignature, bodySig(secrets[0], body))
	case ProfilePGApp:
		h.Set(HeaderPGAppTimestamp, ts)
		h.Set(HeaderPGAppSignature, pgappSig(secrets[0], ts, body))
	case ProfileEcomtrade:
		h.Set(HeaderEcomtradeSignature, "sha256="+bodySig(secrets[0], body))
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownProfile, profile)
	}
	return h, nil
}

// Verify checks that headers and the raw body were signed for profile by
// one of secrets (pass the old and the new secret while rotating).
// tolerance bounds the clock skew for profiles that sign a timestamp;
// zero or less means DefaultTolerance.
func Verify(profile string, secrets []string, headers http.Header, body []byte, tolerance time.Duration) error {
	return VerifyAt(time.Now(), profile, secrets, headers, body, tolerance)
}

// VerifyAt is Verify with the receiver's clock given, for tests and for
// replaying stored requests.
func VerifyAt(now time.Time, profile string, secrets []string, headers http.Header, body []byte, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	usable := secrets[:0:0]
	for _, s := range secrets {
		if s != "" {
			usable = append(usable, s)
		}
	}
	if len(usable) == 0 {
		return ErrNoSecret
	}
	switch profile {
	case ProfileStandard:
		return verifyStandard(now, usable, headers, body, tolerance)
	case ProfilePROE:
		got := headers.Get(HeaderPROESignature)
		if got == "" {
			return fmt.Errorf("%w %s", ErrMissingHeader, HeaderPROESignature)
		}
		return matchAny(got, usable, func(s string) string { return bodySig(s, body) })
	case ProfilePGApp:
		ts, got := headers.Get(HeaderPGAppTimestamp), headers.Get(HeaderPGAppSignature)
		if ts == "" || got == "" {
			return fmt.Errorf("%w %s and %s", ErrMissingHeader, HeaderPGAppTimestamp, HeaderPGAppSignature)
		}
		if err := checkTimestamp(now, ts, tolerance); err != nil {
			return err
		}
		return matchAny(got, usable, func(s string) string { return pgappSig(s, ts, body) })
	case ProfileEcomtrade:
		var got string
		for _, name := range ecomtradeAliases {
			if got = headers.Get(name); got != "" {
				break
			}
		}
		if got == "" {
			return fmt.Errorf("%w %s", ErrMissingHeader, HeaderEcomtradeSignature)
		}
		got = strings.TrimPrefix(got, "sha256=")
		return matchAny(got, usable, func(s string) string { return bodySig(s, body) })
	default:
		return fmt.Errorf("%w %q", ErrUnknownProfile, profile)
	}
}

func verifyStandard(now time.Time, secrets []string, headers http.Header, body []byte, tolerance time.Duration) error {
	id, ts, sigs := headers.Get(HeaderID), headers.Get(HeaderTimestamp), headers.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("%w webhook-id, webhook-timestamp and webhook-signature", ErrMissingHeader)
	}
	if err := checkTimestamp(now, ts, tolerance); err != nil {
		return err
	}
	var keys [][]byte
	for _, s := range secrets {
		if key, err := standardKey(s); err == nil {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return ErrNoSecret
	}
	for _, key := range keys {
		want := standardSig(key, id, ts, body)
		for _, got := range strings.Fields(sigs) {
			// Signatures of other versions (v1a, v2 …) are skipped, as the
			// spec asks.
			if strings.HasPrefix(got, "v1,") && hmac.Equal([]byte(got), []byte(want)) {
				return nil
			}
		}
	}
	return ErrInvalidSignature
}

func matchAny(got string, secrets []string, sig func(secret string) string) error {
	got = strings.ToLower(strings.TrimSpace(got))
	for _, s := range secrets {
		if hmac.Equal([]byte(got), []byte(sig(s))) {
			return nil
		}
	}
	return ErrInvalidSignature
}

func checkTimestamp(now time.Time, ts string, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not Unix seconds", ErrTimestamp, ts)
	}
	skew := now.Sub(time.Unix(sec, 0))
	if skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w (%s off)", ErrTimestamp, skew.Round(time.Second))
	}
	return nil
}
