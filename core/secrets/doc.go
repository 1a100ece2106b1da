// Package secrets encrypts credentials at rest with AES-256-GCM under a
// keyring of named keys. The first key encrypts and every key decrypts, so
// keys rotate without downtime; each ciphertext carries its key id and is
// bound to its owner (table, row, field) through GCM associated data, so a
// value copied to another row or column fails to decrypt instead of leaking
// one merchant's credentials into another's.
package secrets
