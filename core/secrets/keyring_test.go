package secrets_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/secrets"
)

func newKey(t *testing.T, id string) secrets.Key {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return secrets.Key{ID: id, Key: k}
}

func newKeyring(t *testing.T, keys ...secrets.Key) *secrets.Keyring {
	t.Helper()
	kr, err := secrets.NewKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

var owner = secrets.Owner{Table: "provider_instances", Row: "7", Field: "api_key"}

func TestRoundTrip(t *testing.T) {
	kr := newKeyring(t, newKey(t, "k1"))
	for _, plain := range [][]byte{[]byte("sk_live_51H…"), {}, bytes.Repeat([]byte{0}, 4096)} {
		ct, err := kr.Encrypt(plain, owner)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ct, "v1:k1:") {
			t.Errorf("format: %q", ct)
		}
		if len(plain) > 0 && strings.Contains(ct, string(plain)) {
			t.Errorf("ciphertext contains plaintext")
		}
		got, err := kr.Decrypt(ct, owner)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("round trip: %q, %v", got, err)
		}
	}
	a, _ := kr.Encrypt([]byte("same"), owner)
	b, _ := kr.Encrypt([]byte("same"), owner)
	if a == b {
		t.Errorf("two encryptions of one value are equal: nonce reuse")
	}
}

func TestRotation(t *testing.T) {
	oldKey, newK := newKey(t, "2025"), newKey(t, "2026")
	before := newKeyring(t, oldKey)
	ct, err := before.Encrypt([]byte("whm-token"), owner)
	if err != nil {
		t.Fatal(err)
	}

	after := newKeyring(t, newK, oldKey) // new key first: it encrypts
	if got, err := after.Decrypt(ct, owner); err != nil || string(got) != "whm-token" {
		t.Fatalf("old ciphertext under rotated keyring: %q, %v", got, err)
	}
	fresh, err := after.Encrypt([]byte("x"), owner)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := secrets.KeyID(fresh); id != "2026" || after.PrimaryID() != "2026" {
		t.Errorf("new values use key %q, want 2026", id)
	}
	if !after.NeedsRewrap(ct) || after.NeedsRewrap(fresh) {
		t.Errorf("NeedsRewrap: old %v (want true), fresh %v (want false)", after.NeedsRewrap(ct), after.NeedsRewrap(fresh))
	}

	rewrapped, err := after.Rewrap(ct, owner)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := secrets.KeyID(rewrapped); id != "2026" {
		t.Errorf("rewrap moved to %q, want 2026", id)
	}
	// Once rewrapped, the old key can go.
	onlyNew := newKeyring(t, newK)
	if got, err := onlyNew.Decrypt(rewrapped, owner); err != nil || string(got) != "whm-token" {
		t.Fatalf("rewrapped value without old key: %q, %v", got, err)
	}
	if again, err := after.Rewrap(rewrapped, owner); err != nil || again != rewrapped {
		t.Errorf("rewrap of a current value changed it: %v", err)
	}
}

func TestDecryptFailures(t *testing.T) {
	kr := newKeyring(t, newKey(t, "k1"), newKey(t, "k0"))
	const plain = "paypro-secret-value"
	ct, err := kr.Encrypt([]byte(plain), owner)
	if err != nil {
		t.Fatal(err)
	}
	payload := ct[len("v1:k1:"):]
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	tamperedRaw := append([]byte(nil), raw...)
	tamperedRaw[len(tamperedRaw)/2] ^= 0x80
	underOtherKey := "v1:k0:" + payload

	tests := []struct {
		name  string
		ct    string
		owner secrets.Owner
		want  error
	}{
		{"flipped byte", "v1:k1:" + base64.RawURLEncoding.EncodeToString(tamperedRaw), owner, secrets.ErrAuthentication},
		{"other row", ct, secrets.Owner{Table: owner.Table, Row: "8", Field: owner.Field}, secrets.ErrAuthentication},
		{"other field", ct, secrets.Owner{Table: owner.Table, Row: owner.Row, Field: "webhook_secret"}, secrets.ErrAuthentication},
		{"other table", ct, secrets.Owner{Table: "endpoints", Row: owner.Row, Field: owner.Field}, secrets.ErrAuthentication},
		{"relabelled key id", underOtherKey, owner, secrets.ErrAuthentication},
		{"unknown key id", "v1:k9:" + payload, owner, secrets.ErrUnknownKey},
		{"bad version", "v2" + ct[2:], owner, secrets.ErrMalformed},
		{"not base64", "v1:k1:***", owner, secrets.ErrMalformed},
		{"too short", "v1:k1:AAAA", owner, secrets.ErrMalformed},
		{"plain text", plain, owner, secrets.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kr.Decrypt(tt.ct, tt.owner)
			if err == nil {
				t.Fatalf("decrypted to %q, want an error", got)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), plain) {
				t.Errorf("error contains the plaintext: %v", err)
			}
			if _, rerr := kr.Rewrap(tt.ct, tt.owner); rerr == nil {
				t.Errorf("Rewrap accepted a value Decrypt rejects")
			}
		})
	}
}

// TestAnyChangedCharacterFails alters every character of a ciphertext in
// turn: whatever the position (version, key id, nonce, body, tag, trailing
// base64 bits), the result must not decrypt.
func TestAnyChangedCharacterFails(t *testing.T) {
	kr := newKeyring(t, newKey(t, "k1"), newKey(t, "k0"))
	ct, err := kr.Encrypt([]byte("some credential"), owner)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(ct) {
		for _, mask := range []byte{0x01, 0x02, 0x20} {
			b := []byte(ct)
			b[i] ^= mask
			if got, err := kr.Decrypt(string(b), owner); err == nil {
				t.Errorf("position %d mask %#x: altered ciphertext decrypted to %q", i, mask, got)
			}
		}
	}
}

func TestSwapBetweenRowsFails(t *testing.T) {
	kr := newKeyring(t, newKey(t, "k1"))
	alice := secrets.Owner{Table: "provider_instances", Row: "1", Field: "api_key"}
	bob := secrets.Owner{Table: "provider_instances", Row: "2", Field: "api_key"}
	aliceCT, _ := kr.Encrypt([]byte("alice-key"), alice)
	bobCT, _ := kr.Encrypt([]byte("bob-key"), bob)
	if _, err := kr.Decrypt(aliceCT, bob); !errors.Is(err, secrets.ErrAuthentication) {
		t.Errorf("alice's value in bob's row: %v", err)
	}
	if _, err := kr.Decrypt(bobCT, alice); !errors.Is(err, secrets.ErrAuthentication) {
		t.Errorf("bob's value in alice's row: %v", err)
	}
	// Length-prefixed associated data: shifting characters between row and
	// field must not produce the same owner.
	a := secrets.Owner{Table: "t", Row: "1", Field: "2x"}
	b := secrets.Owner{Table: "t", Row: "12", Field: "x"}
	ct, _ := kr.Encrypt([]byte("v"), a)
	if _, err := kr.Decrypt(ct, b); !errors.Is(err, secrets.ErrAuthentication) {
		t.Errorf("ambiguous owner encoding: %v", err)
	}
}

func TestOwnerRequired(t *testing.T) {
	kr := newKeyring(t, newKey(t, "k1"))
	for _, o := range []secrets.Owner{{}, {Table: "t", Row: "1"}, {Table: "t", Field: "f"}, {Row: "1", Field: "f"}} {
		if _, err := kr.Encrypt([]byte("v"), o); err == nil {
			t.Errorf("Encrypt accepted incomplete owner %+v", o)
		}
	}
}

func TestNewKeyringRejects(t *testing.T) {
	good := newKey(t, "k1")
	tests := []struct {
		name string
		keys []secrets.Key
		want string
	}{
		{"no keys", nil, "at least one key"},
		{"short key", []secrets.Key{{ID: "k1", Key: make([]byte, 16)}}, "16 bytes, want 32"},
		{"long key", []secrets.Key{{ID: "k1", Key: make([]byte, 64)}}, "64 bytes, want 32"},
		{"duplicate id", []secrets.Key{good, {ID: "k1", Key: make([]byte, 32)}}, `duplicate key id "k1"`},
		{"id with colon", []secrets.Key{{ID: "a:b", Key: make([]byte, 32)}}, "must match"},
		{"empty id", []secrets.Key{{ID: "", Key: make([]byte, 32)}}, "must match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := secrets.NewKeyring(tt.keys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestFromConfig(t *testing.T) {
	k1, k0 := newKey(t, "k1"), newKey(t, "k0")
	cfg := config.SecretsConfig{Keys: []config.KeyConfig{
		{ID: "k1", Key: config.NewSecret(base64.StdEncoding.EncodeToString(k1.Key))},
		{ID: "k0", Key: config.NewSecret(base64.RawURLEncoding.EncodeToString(k0.Key))},
	}}
	kr, err := secrets.FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := newKeyring(t, k0).Encrypt([]byte("v"), owner)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := kr.Decrypt(ct, owner); err != nil || string(got) != "v" {
		t.Errorf("config keyring cannot read k0 values: %v", err)
	}
	if kr.PrimaryID() != "k1" {
		t.Errorf("primary = %q", kr.PrimaryID())
	}

	bad := config.SecretsConfig{Keys: []config.KeyConfig{{ID: "k1", Key: config.NewSecret("c2hvcnQ=")}}}
	if _, err := secrets.FromConfig(bad); err == nil || !strings.Contains(err.Error(), "secrets.keys[0]") || strings.Contains(err.Error(), "c2hvcnQ=") {
		t.Errorf("bad config key: %v", err)
	}
}
