package payments

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Redaction for operators: stored provider requests and event payloads are
// shown in the console with anything that looks like a credential replaced.
// Signatures (Stripe-Signature, PayPro's SIGNATURE and HASH) stay: they
// prove nothing to whoever reads them later and are what an operator needs
// to debug a verification failure.

// redactedValue replaces a credential.
const redactedValue = "[redacted]"

// credentialName matches field, parameter and header names that carry
// credentials, once lowercased with separators removed.
var credentialName = regexp.MustCompile(`password|passwd|secret|token|apikey|accesskey|authorization|credential|privatekey|cookie|cvc|cvv|cardnumber`)

func isCredentialName(name string) bool {
	n := strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.', ' ':
			return -1
		}
		return r
	}, strings.ToLower(name))
	return credentialName.MatchString(n)
}

// RedactHeaders returns a copy of h with credential headers replaced.
func RedactHeaders(h http.Header) http.Header {
	out := redactHeaders(h)
	for k := range out {
		if isCredentialName(k) {
			out[k] = []string{redactedValue}
		}
	}
	return out
}

// RedactQuery returns a URL query string with credential parameters
// replaced; an unparsable one is replaced whole.
func RedactQuery(q string) string {
	if q == "" {
		return ""
	}
	v, err := url.ParseQuery(q)
	if err != nil {
		return redactedValue
	}
	changed := false
	for k := range v {
		if isCredentialName(k) {
			v[k] = []string{redactedValue}
			changed = true
		}
	}
	if !changed {
		return q
	}
	return v.Encode()
}

// RedactBody returns a body for display: JSON with credential members
// replaced at any depth, form-encoded bodies with credential fields
// replaced, anything else as it is.
func RedactBody(contentType string, body []byte) string {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		var v any
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if dec.Decode(&v) == nil {
			b, err := json.Marshal(redactJSON(v))
			if err == nil {
				return string(b)
			}
		}
	}
	if strings.HasPrefix(strings.ToLower(contentType), "application/x-www-form-urlencoded") {
		return RedactQuery(string(body))
	}
	return string(body)
}

func redactJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if isCredentialName(k) {
				t[k] = redactedValue
				continue
			}
			t[k] = redactJSON(val)
		}
	case []any:
		for i := range t {
			t[i] = redactJSON(t[i])
		}
	}
	return v
}
