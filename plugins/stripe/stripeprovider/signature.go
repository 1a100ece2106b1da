package stripeprovider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureTolerance is how far a Stripe-Signature timestamp may be from
// now, in either direction. Stripe's libraries check only the past; a
// timestamp far in the future is just as much a sign of a replayed or forged
// request (or a broken clock), so it is rejected too.
const SignatureTolerance = 300 * time.Second

// Signature failures. errMalformed means the header cannot be parsed (400);
// the others mean it parsed but does not prove the body came from Stripe.
var (
	errMalformedSignature = errors.New("malformed Stripe-Signature header")
	errNoMatch            = errors.New("no v1 signature matches any configured webhook secret")
	errTooOld             = errors.New("Stripe-Signature timestamp is older than the tolerance")
	errInFuture           = errors.New("Stripe-Signature timestamp is too far in the future")
)

type signatureHeader struct {
	timestamp int64
	v1        [][]byte
}

// parseSignatureHeader parses "t=…,v1=…,v1=…,v0=…". Unknown schemes (v0,
// future ones) are ignored as Stripe documents; a header without t or
// without any v1 is malformed.
func parseSignatureHeader(h string) (signatureHeader, error) {
	var out signatureHeader
	if strings.TrimSpace(h) == "" {
		return out, errors.Join(errMalformedSignature, errors.New("header missing"))
	}
	haveT := false
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return out, errors.Join(errMalformedSignature, errors.New("element without '='"))
		}
		switch k {
		case "t":
			if haveT {
				return out, errors.Join(errMalformedSignature, errors.New("timestamp given twice"))
			}
			ts, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ts <= 0 {
				return out, errors.Join(errMalformedSignature, errors.New("timestamp is not a positive integer"))
			}
			out.timestamp, haveT = ts, true
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				// One bad v1 among good ones is tolerated; all bad is caught
				// below as "no v1".
				continue
			}
			out.v1 = append(out.v1, sig)
		}
	}
	if !haveT {
		return out, errors.Join(errMalformedSignature, errors.New("no timestamp (t=)"))
	}
	if len(out.v1) == 0 {
		return out, errors.Join(errMalformedSignature, errors.New("no valid v1 signature"))
	}
	return out, nil
}

// verifySignature checks header against body for any of secrets. Every
// (secret, signature) pair is compared in constant time and all pairs are
// always compared, so timing reveals neither which secret nor which
// signature matched.
func verifySignature(header string, body []byte, secrets [][]byte, now time.Time) error {
	sh, err := parseSignatureHeader(header)
	if err != nil {
		return err
	}
	matched := 0
	for _, secret := range secrets {
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(strconv.FormatInt(sh.timestamp, 10)))
		mac.Write([]byte("."))
		mac.Write(body)
		want := mac.Sum(nil)
		for _, sig := range sh.v1 {
			matched |= boolInt(hmac.Equal(want, sig))
		}
	}
	if matched == 0 {
		return errNoMatch
	}
	// The timestamp is checked after the MAC so that an attacker cannot
	// learn anything about tolerance from unsigned requests; it is signed,
	// so it cannot be moved without breaking the MAC.
	ts := time.Unix(sh.timestamp, 0)
	switch {
	case now.Sub(ts) > SignatureTolerance:
		return errTooOld
	case ts.Sub(now) > SignatureTolerance:
		return errInFuture
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SignPayload computes the Stripe-Signature header value for body at t with
// secret, in Stripe's format. Tests and the docs' local-testing recipe use
// it to craft events; it is exported for third-party end-to-end tests.
func SignPayload(secret string, t time.Time, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(t.Unix(), 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + strconv.FormatInt(t.Unix(), 10) + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// deriveKey derives a purpose-bound key from a secret, so one secret can
// key several HMAC uses without one forging the other.
func deriveKey(secret []byte, purpose string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}
