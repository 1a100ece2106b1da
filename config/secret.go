package config

// Secret is a configuration value that must never be printed. In the file it
// may be a literal, env:NAME or file:PATH; Load resolves references, and
// String/MarshalText redact so a Config can be logged safely.
type Secret struct {
	ref   string // the reference as written (env:NAME, file:PATH) or "" for a literal
	value string
}

// NewSecret wraps a resolved value (for tests and programmatic config).
func NewSecret(value string) Secret { return Secret{value: value} }

// Value returns the resolved secret.
func (s Secret) Value() string { return s.value }

// IsZero reports whether no value was given.
func (s Secret) IsZero() bool { return s.value == "" }

func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return "[redacted]"
}

// MarshalText keeps secrets out of JSON/YAML dumps of a Config.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
