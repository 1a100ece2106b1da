// Package config loads Switchyard's typed configuration from a YAML file, the
// SWITCHYARD_ environment and command-line flags, resolves secret references
// and validates the result, reporting every problem with its key path.
package config
