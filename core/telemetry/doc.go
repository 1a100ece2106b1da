// Package telemetry builds Switchyard's observability from config: a slog
// logger (text or JSON), an OpenTelemetry tracer provider (exporting over
// OTLP/HTTP when configured), a meter provider exposed in Prometheus format
// on its own registry, and the echo middleware that ties them to each HTTP
// request (trace span, request id, access log, request metrics).
//
// Nothing here is global except the W3C propagator (TraceContext + Baggage),
// which OpenTelemetry intends to be process-wide; the providers are passed to
// whoever needs them.
package telemetry
