package merchants

import (
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/core/store"
)

const (
	keyAlphabet  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	keyRandomLen = 32 // 32 base62 chars ≈ 190 bits
	prefixRandom = 8  // random chars kept in the public prefix
)

// generateKey returns a new secret key such as sk_test_<32 base62 chars>.
// Base62 keeps keys double-click selectable and safe in headers and URLs.
func generateKey(mode store.KeyMode) (string, error) {
	buf := make([]byte, 0, keyRandomLen)
	var b [64]byte
	for len(buf) < keyRandomLen {
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("generate api key: %w", err)
		}
		for _, c := range b {
			// Rejection sampling keeps the distribution uniform: 248 = 4×62.
			if c < 248 && len(buf) < keyRandomLen {
				buf = append(buf, keyAlphabet[c%62])
			}
		}
	}
	return "sk_" + string(mode) + "_" + string(buf), nil
}

// keyPrefix is the public part of a key, shown in listings and logs.
func keyPrefix(key string) string {
	mode, rest := splitKey(key)
	return "sk_" + mode + "_" + rest[:prefixRandom]
}

// splitKey returns the mode and random part of a well-formed key, or empty
// strings when the key is malformed.
func splitKey(key string) (mode, random string) {
	rest, ok := strings.CutPrefix(key, "sk_")
	if !ok {
		return "", ""
	}
	mode, random, ok = strings.Cut(rest, "_")
	if !ok || (mode != string(store.ModeTest) && mode != string(store.ModeLive)) || len(random) != keyRandomLen {
		return "", ""
	}
	for i := 0; i < len(random); i++ {
		if !strings.ContainsRune(keyAlphabet, rune(random[i])) {
			return "", ""
		}
	}
	return mode, random
}
