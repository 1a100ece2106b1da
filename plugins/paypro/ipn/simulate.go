package ipn

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Simulation describes one IPN to send the way PayPro's IPN simulator
// does: realistic defaults for Type, optionally answering a real checkout
// URL, with explicit field overrides applied last and the result signed.
type Simulation struct {
	Type Type
	// CheckoutURL, when set, makes the IPN describe an order placed through
	// that checkout redirect (see FromCheckout).
	CheckoutURL string
	// Fields override any default, in order ("ORDER_ID=1", …); an empty
	// value sends the field empty, and "KEY" alone removes it.
	Fields []string
	// Resent marks the IPN as a resend (IS_RESENT=1).
	Resent bool
	// Test marks a test order (TEST_MODE=1).
	Test bool
	Keys Keys
}

// Build returns the signed form fields.
func (s Simulation) Build() (url.Values, error) {
	if !s.Type.Valid() {
		return nil, fmt.Errorf("ipn: unknown IPN type %d", int(s.Type))
	}
	if s.Keys.ValidationKey == "" {
		return nil, fmt.Errorf("ipn: a validation key is required to sign the IPN")
	}
	v := Defaults(s.Type)
	if s.Test {
		v.Set(FieldTestMode, "1")
	}
	if s.CheckoutURL != "" {
		if err := FromCheckout(v, s.CheckoutURL); err != nil {
			return nil, err
		}
	}
	if s.Resent {
		v.Set(FieldIsResent, "1")
	}
	overridden := map[string]bool{}
	for _, f := range s.Fields {
		k, val, ok := strings.Cut(f, "=")
		k = strings.TrimSpace(k)
		if k == "" {
			return nil, fmt.Errorf("ipn: field %q is not KEY=VALUE", f)
		}
		overridden[k] = true
		if !ok {
			v.Del(k)
			continue
		}
		v.Set(k, val)
	}
	if overridden[FieldTypeID] && !overridden[FieldTypeName] {
		// Keep the name in step with an overridden id, as PayPro would.
		if t, err := ParseType(v.Get(FieldTypeID)); err == nil {
			v.Set(FieldTypeName, t.String())
		}
	}
	Sign(v, s.Keys)
	return v, nil
}

// Response is what the IPN endpoint answered.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// maxResponse bounds how much of an answer is read (a license key or an
// error page, never large).
const maxResponse = 1 << 20

// Post sends fields to target as PayPro does: an HTTP POST with an
// application/x-www-form-urlencoded body.
func Post(ctx context.Context, client *http.Client, target string, fields url.Values) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(fields.Encode()))
	if err != nil {
		return Response{}, fmt.Errorf("ipn: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "switchyard-paypro-ipn-simulator/1")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("ipn: post to %s: %w", req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return Response{}, fmt.Errorf("ipn: read answer: %w", err)
	}
	return Response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body}, nil
}
