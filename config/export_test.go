package config

// LeafKeys exposes the derived key list to the external tests.
func LeafKeys() []string { return leafKeys() }
