package sdktest

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/sdk/provider"
)

func cloneWebhook(w provider.WebhookRequest) provider.WebhookRequest {
	w.Headers = w.Headers.Clone()
	w.Body = bytes.Clone(w.Body)
	return w
}

// amountForms are the ways a webhook body may spell amount minor units:
// as is (Stripe's 1999) or with two decimals (PayPro's 19.99).
func amountForms(amount int64) []string {
	return []string{strconv.FormatInt(amount, 10), fmt.Sprintf("%d.%02d", amount/100, amount%100)}
}

// tamperAmount raises every spelling of amount in body by one minor unit,
// as an attacker replaying a signed webhook for more would: whichever field
// the provider reads the amount from, and however many carry it, all now
// disagree with the signature.
func tamperAmount(body []byte, amount int64) ([]byte, bool) {
	raised := amountForms(amount + 1)
	out, found := body, false
	for i, form := range amountForms(amount) {
		for at := indexNumber(out, form); at >= 0; at = indexNumber(out, form) {
			found = true
			out = append(append(bytes.Clone(out[:at]), raised[i]...), out[at+len(form):]...)
		}
	}
	return out, found
}

// indexNumber finds form in body where it is a whole number, not part of a
// longer one (1999 inside 19990 or 21999).
func indexNumber(body []byte, form string) int {
	digit := func(b byte) bool { return b >= '0' && b <= '9' || b == '.' }
	for off := 0; ; {
		i := bytes.Index(body[off:], []byte(form))
		if i < 0 {
			return -1
		}
		at := off + i
		end := at + len(form)
		if (at == 0 || !digit(body[at-1])) && (end == len(body) || !digit(body[end])) {
			return at
		}
		off = at + 1
	}
}

// tamperSignature alters the value of the first header or form field whose
// name says it carries a signature.
func tamperSignature(w provider.WebhookRequest) (provider.WebhookRequest, bool) {
	for _, name := range sortedKeys(w.Headers) {
		if looksLikeSignature(name) && len(w.Headers[name]) > 0 && w.Headers[name][0] != "" {
			w.Headers[name] = []string{alter(w.Headers[name][0])}
			return w, true
		}
	}
	if strings.HasPrefix(w.Headers.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(w.Body))
		if err == nil {
			for _, name := range sortedKeys(form) {
				if looksLikeSignature(name) && form.Get(name) != "" {
					form.Set(name, alter(form.Get(name)))
					w.Body = []byte(form.Encode())
					return w, true
				}
			}
		}
	}
	return w, false
}

func looksLikeSignature(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "signature") || n == "sig" || strings.HasSuffix(n, "-sig") || strings.HasSuffix(n, "_sig") ||
		n == "hash" || strings.HasSuffix(n, "hmac")
}

// alter changes the last hex digit or letter of v, keeping its format.
func alter(v string) string {
	b := []byte(v)
	for i := len(b) - 1; i >= 0; i-- {
		switch c := b[i]; {
		case c >= '0' && c <= '8', c >= 'a' && c <= 'e', c >= 'A' && c <= 'E':
			b[i] = c + 1
			return string(b)
		case c == '9', c == 'f', c == 'F':
			b[i] = c - 1
			return string(b)
		}
	}
	return v + "0"
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	return slices.Sorted(maps.Keys(m))
}

// routeOf turns an absolute redirect below base into the HTTPRequest the
// host would pass to HandleHTTP for it.
func routeOf(redirect, base string) (provider.HTTPRequest, bool) {
	u, err := url.Parse(redirect)
	b, berr := url.Parse(base)
	if err != nil || berr != nil || u.Scheme != b.Scheme || u.Host != b.Host {
		return provider.HTTPRequest{}, false
	}
	rest, ok := strings.CutPrefix(u.Path, strings.TrimSuffix(b.Path, "/"))
	if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
		return provider.HTTPRequest{}, false
	}
	if rest == "" {
		rest = "/"
	}
	return provider.HTTPRequest{
		Method: http.MethodGet, Path: rest, Query: u.RawQuery, BaseURL: base,
		Headers: http.Header{"Accept": {"text/html"}}, RemoteAddr: "203.0.113.9:41000",
	}, true
}
