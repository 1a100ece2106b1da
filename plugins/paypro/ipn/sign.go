package ipn

import (
	"crypto/md5" //nolint:gosec // PayPro's HASH is MD5 by definition; SIGNATURE (SHA-256) carries the security.
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
)

// Verification failures. They never include key material.
var (
	ErrSignatureMissing  = errors.New("ipn: SIGNATURE is missing")
	ErrSignatureMismatch = errors.New("ipn: SIGNATURE does not match")
	ErrHashMissing       = errors.New("ipn: HASH is missing")
	ErrHashMismatch      = errors.New("ipn: HASH does not match")
	// ErrUnknownType: IPN_TYPE_ID is not one of the documented types
	// (FromValues). Such an IPN may still be genuine: PayPro adds types.
	ErrUnknownType = errors.New("ipn: unknown IPN type")
)

// Keys are the two secrets from PayPro's Store Settings → General settings
// → Integration tab.
type Keys struct {
	// ValidationKey signs SIGNATURE; always required.
	ValidationKey string
	// SecretKey signs HASH; HASH is checked only when it is set.
	SecretKey string
}

// SignatureInput is the string PayPro hashes for SIGNATURE: ORDER_ID,
// ORDER_STATUS, ORDER_TOTAL_AMOUNT, CUSTOMER_EMAIL, the validation key,
// TEST_MODE and IPN_TYPE_NAME concatenated with nothing between them, each
// exactly as sent (no trimming, no case folding, no re-formatting of the
// amount).
func SignatureInput(v url.Values, validationKey string) string {
	return v.Get(FieldOrderID) + v.Get(FieldOrderStatus) + v.Get(FieldTotalAmount) +
		v.Get(FieldCustomerEmail) + validationKey + v.Get(FieldTestMode) + v.Get(FieldTypeName)
}

// Signature computes SIGNATURE (lower-case hex SHA-256) for v.
func Signature(v url.Values, validationKey string) string {
	sum := sha256.Sum256([]byte(SignatureInput(v, validationKey)))
	return hex.EncodeToString(sum[:])
}

// Hash computes HASH (lower-case hex MD5): MD5("1") for a test order,
// MD5(ORDER_ID + secret key) otherwise.
func Hash(orderID, secretKey string, testOrder bool) string {
	in := orderID + secretKey
	if testOrder {
		in = "1"
	}
	sum := md5.Sum([]byte(in)) //nolint:gosec // see import
	return hex.EncodeToString(sum[:])
}

// Sign sets SIGNATURE on v, and HASH when a secret key is given (or, with no
// secret key, MD5("1") on a test order, as PayPro sends it). It is what
// PayPro does before posting; the simulator and tests use it.
func Sign(v url.Values, k Keys) {
	v.Set(FieldSignature, Signature(v, k.ValidationKey))
	test := v.Get(FieldTestMode) == "1"
	switch {
	case k.SecretKey != "" || test:
		v.Set(FieldHash, Hash(v.Get(FieldOrderID), k.SecretKey, test))
	default:
		v.Del(FieldHash)
	}
}

// Verify checks SIGNATURE against the validation key and, when k.SecretKey
// is set, HASH against the secret key. Digests are compared in constant
// time after hex decoding, so PayPro's lower-case hex and an upper-case
// rendering of the same digest both verify; any change to a signed field
// (amount, email, status, test flag, type name — including its case) does
// not. HASH alone never suffices: it covers only the order id.
func Verify(v url.Values, k Keys) error {
	if k.ValidationKey == "" {
		return errors.New("ipn: no validation key configured")
	}
	got := strings.TrimSpace(v.Get(FieldSignature))
	if got == "" {
		return ErrSignatureMissing
	}
	want := sha256.Sum256([]byte(SignatureInput(v, k.ValidationKey)))
	if !digestEqual(got, want[:]) {
		return ErrSignatureMismatch
	}
	if k.SecretKey == "" {
		return nil
	}
	gotHash := strings.TrimSpace(v.Get(FieldHash))
	if gotHash == "" {
		return ErrHashMissing
	}
	in := v.Get(FieldOrderID) + k.SecretKey
	if v.Get(FieldTestMode) == "1" {
		in = "1"
	}
	wantHash := md5.Sum([]byte(in)) //nolint:gosec // see import
	if !digestEqual(gotHash, wantHash[:]) {
		return ErrHashMismatch
	}
	return nil
}

// digestEqual compares a hex digest with raw bytes in constant time (the
// length of a digest is public).
func digestEqual(hexDigest string, want []byte) bool {
	got, err := hex.DecodeString(hexDigest)
	if err != nil || len(got) != len(want) {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}
