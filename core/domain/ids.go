package domain

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Public id prefixes. Ids are the prefix followed by an upper-case ULID, so
// they sort by creation time (to the millisecond) as plain strings, which
// keeps B-tree inserts append-mostly and cursor pagination trivial.
const (
	SessionIDPrefix  = "cs_"
	EventIDPrefix    = "evt_"
	DeliveryIDPrefix = "whd_"
	AttemptIDPrefix  = "pa_"
	ReviewIDPrefix   = "rev_"
)

// ulidLen is the length of a canonical ULID string.
const ulidLen = 26

// sessionSecretLen is the number of extra random characters appended to a
// session id (16 Crockford base32 characters = 80 bits).
//
// Why: a checkout session id is a bearer capability. Whoever knows it can
// open the hosted checkout page and see the merchant and amount. A ULID
// carries only 80 random bits next to a timestamp an attacker can guess to
// the millisecond; adding 80 more gives 160 bits, beyond any online
// guessing, while the ULID prefix keeps ids sortable.
const sessionSecretLen = 16

// SessionIDLen is the exact length of a session id, for column sizing.
const SessionIDLen = len(SessionIDPrefix) + ulidLen + sessionSecretLen

// crockfordAlphabet is the ULID alphabet (Crockford base32, no I L O U).
const crockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newULID draws 80 random bits from crypto/rand for every id. There is no
// shared monotonic entropy source: ids made within the same millisecond are
// not ordered among themselves, which nothing relies on, and no lock is
// contended on the hot path.
func newULID(t time.Time) ulid.ULID {
	return ulid.MustNew(ulid.Timestamp(t), rand.Reader)
}

func newID(prefix string, t time.Time) string {
	return prefix + newULID(t).String()
}

// NewSessionID returns "cs_" + ULID + 16 random characters (see SessionIDLen).
func NewSessionID() string { return newSessionID(time.Now()) }

func newSessionID(t time.Time) string {
	var secret [sessionSecretLen * 5 / 8]byte
	_, _ = rand.Read(secret[:]) // crypto/rand.Read never fails; it crashes the program instead
	enc := base32.NewEncoding(crockfordAlphabet).WithPadding(base32.NoPadding)
	return SessionIDPrefix + newULID(t).String() + enc.EncodeToString(secret[:])
}

// NewEventID returns an outbound event id such as "evt_01HX4R…".
func NewEventID() string { return newID(EventIDPrefix, time.Now()) }

// NewDeliveryID returns a webhook delivery id "whd_…".
func NewDeliveryID() string { return newID(DeliveryIDPrefix, time.Now()) }

// NewAttemptID returns a payment attempt id "pa_…".
func NewAttemptID() string { return newID(AttemptIDPrefix, time.Now()) }

// NewReviewID returns a money review id "rev_…".
func NewReviewID() string { return newID(ReviewIDPrefix, time.Now()) }

// ValidSessionID reports whether s has the exact shape NewSessionID makes.
// Handlers check it before touching the store, so junk never reaches a query.
func ValidSessionID(s string) bool {
	rest, ok := strings.CutPrefix(s, SessionIDPrefix)
	if !ok || len(rest) != ulidLen+sessionSecretLen {
		return false
	}
	return validULID(rest[:ulidLen]) && crockfordOnly(rest[ulidLen:])
}

// ValidEventID reports whether s is a well-formed event id.
func ValidEventID(s string) bool { return validPrefixed(s, EventIDPrefix) }

// ValidDeliveryID reports whether s is a well-formed delivery id.
func ValidDeliveryID(s string) bool { return validPrefixed(s, DeliveryIDPrefix) }

// ValidAttemptID reports whether s is a well-formed payment attempt id.
func ValidAttemptID(s string) bool { return validPrefixed(s, AttemptIDPrefix) }

// ValidReviewID reports whether s is a well-formed review id.
func ValidReviewID(s string) bool { return validPrefixed(s, ReviewIDPrefix) }

func validPrefixed(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	return ok && validULID(rest)
}

// validULID accepts only the canonical upper-case spelling, so one id has
// one string form and lookups stay exact.
func validULID(s string) bool {
	if len(s) != ulidLen || !crockfordOnly(s) {
		return false
	}
	_, err := ulid.ParseStrict(s)
	return err == nil // rejects timestamps beyond 48 bits ("8…" first char)
}

func crockfordOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(crockfordAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// IDTime returns the creation time embedded in any prefixed id, for
// diagnostics; ok is false when the id is not well-formed.
func IDTime(id string) (t time.Time, ok bool) {
	_, rest, found := strings.Cut(id, "_")
	if !found || len(rest) < ulidLen {
		return time.Time{}, false
	}
	u, err := ulid.ParseStrict(rest[:ulidLen])
	if err != nil {
		return time.Time{}, false
	}
	return ulid.Time(u.Time()), true
}
