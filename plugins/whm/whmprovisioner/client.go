package whmprovisioner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/switchyard/switchyard/sdk"
)

// maxBody bounds what is read of a WHM answer; listpkgs on a large reseller
// is the biggest and stays far below it.
const maxBody = 8 << 20

// client calls WHM API 1 (json-api with api.version=1) over HTTPS.
type client struct {
	s    settings
	http *http.Client
}

func newClient(s settings) *client {
	tr := &http.Transport{
		Proxy:               nil, // the plugin has no environment; never a proxy by accident
		TLSClientConfig:     tlsConfig(s),
		TLSHandshakeTimeout: 15 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	return &client{s: s, http: &http.Client{
		Transport: tr,
		Timeout:   s.timeout,
		// WHM answers API calls directly; a redirect means the address is
		// not WHM's API (a login page, a proxy), and following it would
		// send the token elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// tlsConfig verifies the server normally, or only by the pinned
// fingerprint when one is configured.
func tlsConfig(s settings) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.fingerprint == nil {
		return cfg
	}
	pin := s.fingerprint
	// Chain and name checks are replaced, not dropped: VerifyConnection
	// runs on every handshake and accepts exactly the pinned certificate.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("server sent no certificate")
		}
		got := sha256.Sum256(cs.PeerCertificates[0].Raw)
		if !bytes.Equal(got[:], pin) {
			return &pinMismatchError{got: hex.EncodeToString(got[:])}
		}
		return nil
	}
	return cfg
}

type pinMismatchError struct{ got string }

func (e *pinMismatchError) Error() string {
	return "certificate fingerprint " + e.got + " does not match the pinned " + SettingTLSFingerprint
}

// envelope is WHM API 1's answer: metadata plus the function's data.
type envelope struct {
	Metadata *struct {
		Command string          `json:"command"`
		Result  json.RawMessage `json:"result"`
		Reason  string          `json:"reason"`
		Version json.RawMessage `json:"version"`
	} `json:"metadata"`
	Data json.RawMessage `json:"data"`
	// cpanelresult is what cpsrvd sends instead when it refuses the
	// request before any API function runs (a bad token).
	CpanelResult *struct {
		Error string `json:"error"`
	} `json:"cpanelresult"`
}

// call runs one WHM API 1 function. Parameters go in a POST body, never
// the URL, so passwords stay out of cpsrvd's access log. out, when not nil,
// receives the data member. Errors are categorized *sdk.Error values.
func (c *client) call(ctx context.Context, command string, params url.Values, out any) error {
	form := url.Values{"api.version": {"1"}}
	for k, v := range params {
		form[k] = v
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.s.baseURL()+"/json-api/"+command, strings.NewReader(form.Encode()))
	if err != nil {
		return sdk.Internal("whm %s: build request: %v", command, err)
	}
	req.Header.Set("Authorization", "whm "+c.s.username+":"+c.s.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(ctx, command, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return transportError(ctx, command, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return sdk.Unauthorized("whm %s: WHM refused the API token of user %q (HTTP %d)", command, c.s.username, resp.StatusCode).
			WithCode("access_denied")
	case resp.StatusCode == http.StatusTooManyRequests:
		return sdk.Retryable("whm %s: rate limited (HTTP 429)", command).WithCode("rate_limited")
	case resp.StatusCode >= 500:
		return sdk.Unavailable("whm %s: HTTP %d from %s", command, resp.StatusCode, c.s.host).WithCode("upstream_error")
	case resp.StatusCode != http.StatusOK:
		return sdk.Unavailable("whm %s: unexpected HTTP %d from %s:%d (is this WHM's API port?)", command, resp.StatusCode, c.s.host, c.s.port).
			WithCode("unexpected_response")
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return sdk.Unavailable("whm %s: the answer is not WHM API 1 JSON (is %s:%d WHM?)", command, c.s.host, c.s.port).
			WithCode("unexpected_response")
	}
	if env.Metadata == nil {
		if env.CpanelResult != nil && strings.EqualFold(env.CpanelResult.Error, "Access denied") {
			return sdk.Unauthorized("whm %s: WHM refused the API token of user %q", command, c.s.username).WithCode("access_denied")
		}
		return sdk.Unavailable("whm %s: the answer has no API 1 metadata", command).WithCode("unexpected_response")
	}
	if strings.Trim(string(env.Metadata.Result), `"`) != "1" {
		return classify(command, env.Metadata.Reason)
	}
	if out != nil && len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return sdk.Internal("whm %s: unexpected data: %v", command, err)
		}
	}
	return nil
}

// transportError categorizes a failure to get an answer at all.
func transportError(ctx context.Context, command string, err error) error {
	if ctx.Err() != nil {
		return sdk.Unavailable("whm %s: %w", command, ctx.Err())
	}
	var pin *pinMismatchError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &pin):
		return sdk.Unavailable("whm %s: refusing the server: %v", command, pin).WithCode("tls_untrusted")
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return sdk.Unavailable("whm %s: the server's TLS certificate does not verify (%v); for a self-signed panel pin it with %s",
			command, err, SettingTLSFingerprint).WithCode("tls_untrusted")
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return sdk.Unavailable("whm %s: no answer in time: %v", command, err).WithCode("timeout")
	}
	return sdk.Unavailable("whm %s: %v", command, err).WithCode("unreachable")
}

// Reason patterns. WHM's wording varies between versions and functions,
// so callers settle "does it exist" questions with accountsummary and
// listpkgs where they can; these only categorize what is left.
var (
	reasonDenied    = regexp.MustCompile(`(?i)access denied|permission denied|do not have (the )?(permission|privilege|access)`)
	reasonWeak      = regexp.MustCompile(`(?i)too weak|strength rating`)
	reasonExists    = regexp.MustCompile(`(?i)already exists|already in use|already taken|is taken|already owns`)
	reasonMissing   = regexp.MustCompile(`(?i)does not exist|do not have a user named|no such (user|account)|not found|cannot find|could not find`)
	reasonTransient = regexp.MustCompile(`(?i)try again later|temporarily unavailable|is locked|another process`)
)

// whmReason keeps the WHM reason readable in one line for operators.
func whmReason(reason string) string {
	reason = strings.Join(strings.Fields(reason), " ")
	if len(reason) > 500 {
		reason = reason[:500] + "…"
	}
	if reason == "" {
		reason = "no reason given"
	}
	return reason
}

// classify turns metadata.result 0 into an SDK error.
func classify(command, reason string) error {
	msg := fmt.Sprintf("whm %s: %s", command, whmReason(reason))
	switch {
	case reasonDenied.MatchString(reason):
		return sdk.Unauthorized("%s (the API token's ACL must allow %s; see docs/fulfillment.md)", msg, command).WithCode("permission_denied")
	case reasonWeak.MatchString(reason):
		return sdk.Invalid("%s", msg).WithCode("weak_password").WithField("password")
	case reasonExists.MatchString(reason):
		return sdk.AlreadyExists("%s", msg).WithCode("already_exists")
	case reasonMissing.MatchString(reason):
		return sdk.NotFound("%s", msg).WithCode("not_found")
	case reasonTransient.MatchString(reason):
		return sdk.Retryable("%s", msg).WithCode("busy")
	}
	return sdk.Invalid("%s", msg).WithCode("whm_rejected")
}
