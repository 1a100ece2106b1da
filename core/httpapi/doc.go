// Package httpapi is Switchyard's HTTP surface: the public listener (merchant
// API and its compatibility aliases, provider webhook intake, hosted checkout
// routes) and the admin listener (admin API, health, metrics).
//
// Handlers stay thin: bind, validate, call a service, and return its error.
// Mapping errors to HTTP statuses and the JSON error shape happens in exactly
// one place, errorHandler, so every failure looks the same to clients.
package httpapi
