package config

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secret is a configuration value that must never be printed. In the file it
// may be a literal, env:NAME or file:PATH; Load resolves references, and
// String/MarshalText redact so a Config can be logged safely.
type Secret struct {
	ref   string // the reference as written (env:NAME, file:PATH) or "" for a literal
	value string
}

// Secret reference prefixes. A literal that must start with one of these
// cannot be written inline; put it in a file and use file:PATH instead.
const (
	envRefPrefix  = "env:"
	fileRefPrefix = "file:"
)

const redacted = "[redacted]"

// NewSecret wraps a resolved value (for tests and programmatic config).
func NewSecret(value string) Secret { return Secret{value: value} }

// Value returns the resolved secret.
func (s Secret) Value() string { return s.value }

// IsZero reports whether no value was given.
func (s Secret) IsZero() bool { return s.value == "" }

// Ref returns the reference the value came from (env:NAME or file:PATH), or
// "" for a literal. A reference names where the secret lives, not the secret,
// so it is safe to show in diagnostics.
func (s Secret) Ref() string { return s.ref }

func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v (which bypasses String) from printing the value.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// LogValue keeps slog handlers that walk structs from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps secrets out of JSON/YAML dumps of a Config.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText records a literal or an unresolved reference; Load resolves
// references afterwards so that a failure can be reported with its key path.
func (s *Secret) UnmarshalText(text []byte) error {
	t := string(text)
	if strings.HasPrefix(t, envRefPrefix) || strings.HasPrefix(t, fileRefPrefix) {
		*s = Secret{ref: t}
		return nil
	}
	*s = Secret{value: t}
	return nil
}

// resolve loads a referenced value. The returned error names the reference
// and the cause but never any content.
func (s *Secret) resolve(lookup func(string) (string, bool)) error {
	switch {
	case strings.HasPrefix(s.ref, envRefPrefix):
		name := strings.TrimPrefix(s.ref, envRefPrefix)
		if name == "" {
			return fmt.Errorf("%s: empty environment variable name", s.ref)
		}
		v, ok := lookup(name)
		if !ok {
			return fmt.Errorf("%s: environment variable %s is not set", s.ref, name)
		}
		s.value = v
	case strings.HasPrefix(s.ref, fileRefPrefix):
		path := strings.TrimPrefix(s.ref, fileRefPrefix)
		if path == "" {
			return fmt.Errorf("%s: empty file path", s.ref)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			// The *PathError names the path and the cause, never the content.
			return fmt.Errorf("%s: %w", s.ref, err)
		}
		s.value = strings.TrimRight(string(b), "\r\n")
	}
	return nil
}
