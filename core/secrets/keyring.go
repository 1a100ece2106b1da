package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/switchyard/switchyard/config"
)

// Errors a caller may match with errors.Is. Messages never contain
// plaintext or key material.
var (
	// ErrUnknownKey: the ciphertext names a key id the keyring lacks
	// (rotated out too early, or the wrong keyring).
	ErrUnknownKey = errors.New("unknown key id")
	// ErrMalformed: the value is not a ciphertext this package produced.
	ErrMalformed = errors.New("malformed ciphertext")
	// ErrAuthentication: GCM rejected the value: it was altered, or it
	// belongs to another owner (row, field or table).
	ErrAuthentication = errors.New("ciphertext failed authentication (tampered, or moved from another owner)")
)

// version prefixes every ciphertext so the format can evolve.
const version = "v1"

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Key is one keyring entry: a short id stored with each ciphertext and a
// 32-byte AES-256 key.
type Key struct {
	ID  string
	Key []byte
}

// Owner says where a value is stored. It is authenticated with the value, so
// decrypting requires the same owner that encrypted it.
type Owner struct {
	Table string
	Row   string
	Field string
}

func (o Owner) String() string { return o.Table + "[" + o.Row + "]." + o.Field }

func (o Owner) valid() error {
	if o.Table == "" || o.Row == "" || o.Field == "" {
		return fmt.Errorf("owner %s: table, row and field are all required", o)
	}
	return nil
}

// associatedData encodes the owner with length prefixes, so that no two
// distinct owners (e.g. row "1" field "2x" vs row "12" field "x") produce the
// same bytes. The version and key id are bound too.
func (o Owner) associatedData(keyID string) []byte {
	b := []byte("switchyard/secrets/" + version)
	for _, s := range []string{keyID, o.Table, o.Row, o.Field} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// Keyring encrypts with its primary (first) key and decrypts with any key.
// It is safe for concurrent use.
type Keyring struct {
	primary string
	aeads   map[string]cipher.AEAD
}

// NewKeyring builds a keyring; keys[0] is the primary. Ids must be unique
// and match [A-Za-z0-9_-]+; every key must be 32 bytes.
func NewKeyring(keys []Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("keyring: at least one key is required")
	}
	kr := &Keyring{primary: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for i, k := range keys {
		if !keyIDPattern.MatchString(k.ID) {
			return nil, fmt.Errorf("keyring: key %d: id %q must match [A-Za-z0-9_-]+", i, k.ID)
		}
		if _, dup := kr.aeads[k.ID]; dup {
			return nil, fmt.Errorf("keyring: duplicate key id %q", k.ID)
		}
		if len(k.Key) != config.KeyLen {
			return nil, fmt.Errorf("keyring: key %q is %d bytes, want %d", k.ID, len(k.Key), config.KeyLen)
		}
		block, err := aes.NewCipher(k.Key) // copies the key schedule; k.Key is not retained
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", k.ID, err)
		}
		kr.aeads[k.ID] = aead
	}
	return kr, nil
}

// FromConfig builds the keyring from secrets.keys, decoding each key from
// base64.
func FromConfig(cfg config.SecretsConfig) (*Keyring, error) {
	keys := make([]Key, 0, len(cfg.Keys))
	for i, kc := range cfg.Keys {
		b, err := kc.Bytes()
		if err != nil {
			return nil, fmt.Errorf("keyring: secrets.keys[%d] (%s): %w", i, kc.ID, err)
		}
		keys = append(keys, Key{ID: kc.ID, Key: b})
	}
	return NewKeyring(keys)
}

// PrimaryID is the id of the key new values are encrypted with.
func (k *Keyring) PrimaryID() string { return k.primary }

// Encrypt seals plaintext for owner under the primary key, returning
// "v1:<key id>:<base64url(nonce || ciphertext || tag)>".
func (k *Keyring) Encrypt(plaintext []byte, owner Owner) (string, error) {
	if err := owner.valid(); err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	aead := k.aeads[k.primary]
	// Random 96-bit nonces are safe far beyond the number of credentials a
	// gateway will ever store under one key.
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("encrypt %s: nonce: %w", owner, err)
	}
	sealed := aead.Seal(nonce, nonce, plaintext, owner.associatedData(k.primary))
	return version + ":" + k.primary + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Decrypt opens a value produced by Encrypt for the same owner.
func (k *Keyring) Decrypt(ciphertext string, owner Owner) ([]byte, error) {
	if err := owner.valid(); err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	keyID, payload, err := parse(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("decrypt %s: %w", owner, err)
	}
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("decrypt %s: %w %q", owner, ErrUnknownKey, keyID)
	}
	if len(payload) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("decrypt %s: %w: too short", owner, ErrMalformed)
	}
	nonce, sealed := payload[:aead.NonceSize()], payload[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, sealed, owner.associatedData(keyID))
	if err != nil {
		return nil, fmt.Errorf("decrypt %s with key %q: %w", owner, keyID, ErrAuthentication)
	}
	return plain, nil
}

// KeyID returns the id of the key a ciphertext was sealed with.
func KeyID(ciphertext string) (string, error) {
	id, _, err := parse(ciphertext)
	return id, err
}

// NeedsRewrap reports whether a ciphertext was sealed with a key other than
// the primary. Malformed values also report true, so a rewrap pass surfaces
// them instead of skipping them silently.
func (k *Keyring) NeedsRewrap(ciphertext string) bool {
	id, _, err := parse(ciphertext)
	return err != nil || id != k.primary
}

// Rewrap decrypts a value and encrypts it again under the primary key for
// the same owner. A value already under the primary key is returned as is.
func (k *Keyring) Rewrap(ciphertext string, owner Owner) (string, error) {
	if !k.NeedsRewrap(ciphertext) {
		// Still authenticate it: rewrap must not bless a tampered value.
		if _, err := k.Decrypt(ciphertext, owner); err != nil {
			return "", fmt.Errorf("rewrap: %w", err)
		}
		return ciphertext, nil
	}
	plain, err := k.Decrypt(ciphertext, owner)
	if err != nil {
		return "", fmt.Errorf("rewrap: %w", err)
	}
	defer clear(plain)
	out, err := k.Encrypt(plain, owner)
	if err != nil {
		return "", fmt.Errorf("rewrap: %w", err)
	}
	return out, nil
}

func parse(ciphertext string) (keyID string, payload []byte, err error) {
	ver, rest, ok := strings.Cut(ciphertext, ":")
	if !ok || ver != version {
		return "", nil, fmt.Errorf("%w: want %s:<key id>:<data>", ErrMalformed, version)
	}
	keyID, data, ok := strings.Cut(rest, ":")
	if !ok || !keyIDPattern.MatchString(keyID) {
		return "", nil, fmt.Errorf("%w: bad key id", ErrMalformed)
	}
	// Strict: a ciphertext has exactly one spelling, so an altered string can
	// never decrypt, not even by changing unused trailing bits.
	payload, err = base64.RawURLEncoding.Strict().DecodeString(data)
	if err != nil {
		return "", nil, fmt.Errorf("%w: data is not base64url", ErrMalformed)
	}
	return keyID, payload, nil
}
