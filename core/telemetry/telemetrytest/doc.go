// Package telemetrytest reads the OpenTelemetry metrics a component
// recorded, for tests: a MeterProvider over a manual reader, and lookups of
// one instrument's value by name and attributes.
package telemetrytest
