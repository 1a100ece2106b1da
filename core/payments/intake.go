package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
)

// What is stored of an inbound webhook before its plugin verified it.
// Anyone can post to /hooks/…, so an unverified request costs at most these
// bytes plus a fixed row overhead, whatever its size: 10,000 unsigned 1 MB
// posts grow the database by a few tens of megabytes at most (the test
// asserts the per-request bound on both dialects; docs/operations.md
// records a full run). The excerpt still shows an operator which headers
// and what kind of body were sent; BodySize says how much.
const (
	ExcerptBodyBytes   = 1024
	ExcerptHeaderBytes = 1024
	ExcerptQueryBytes  = 256
	ExcerptPathBytes   = 256
	// excerptHeaderValueBytes caps each header value within the header
	// budget, so one huge header does not crowd out the rest.
	excerptHeaderValueBytes = 256
)

// Default retention windows of stored webhook requests
// (hooks.retention).
const (
	DefaultUnverifiedRetention = 7 * 24 * time.Hour
	DefaultVerifiedRetention   = 90 * 24 * time.Hour
)

// Rejection reasons of the switchyard.webhook.intake.rejected metric.
const (
	RejectUnknownProvider = "unknown_provider"
	RejectUnverified      = "unverified"
	RejectInvalid         = "invalid"
	RejectNotFound        = "not_found"
	RejectTooLarge        = "too_large"
	RejectRateLimited     = "rate_limited"
	RejectUnavailable     = "unavailable"
	RejectError           = "error"
)

// unknownProviderLabel stands for any provider id that is not configured:
// ids in the path are chosen by whoever posts, so they never become labels.
const unknownProviderLabel = "unknown"

// intakeExcerpt is the row stored of a request that was not accepted:
// credentials redacted, headers, query, path and body cut to their budgets.
func intakeExcerpt(providerID string, req provider.WebhookRequest, at time.Time) (*store.WebhookRequest, error) {
	headers, cutHeaders, err := boundedHeaders(redactHeaders(req.Headers), ExcerptHeaderBytes)
	if err != nil {
		return nil, err
	}
	path, cutPath := cutText(req.Path, ExcerptPathBytes)
	query, cutQuery := cutText(req.Query, ExcerptQueryBytes)
	body := req.Body
	if len(body) > ExcerptBodyBytes {
		body = body[:ExcerptBodyBytes]
	}
	return &store.WebhookRequest{
		ProviderID: providerID, Method: req.Method, Path: path, Query: query, Headers: headers,
		Body: append([]byte{}, body...), RemoteAddr: req.RemoteAddr, ReceivedAt: at,
		BodySize:  int64(len(req.Body)),
		Truncated: cutHeaders || cutPath || cutQuery || len(body) < len(req.Body),
	}, nil
}

// boundedHeaders encodes h as a JSON object of string arrays of at most
// budget bytes: names in order, each value cut to excerptHeaderValueBytes,
// and a header that no longer fits left out. cut reports any loss.
func boundedHeaders(h http.Header, budget int) (string, bool, error) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make(http.Header, len(h))
	size, cut := len("{}"), false
	for _, k := range names {
		vals := make([]string, 0, len(h[k]))
		for _, v := range h[k] {
			v, c := cutText(v, excerptHeaderValueBytes)
			cut = cut || c
			vals = append(vals, v)
		}
		entry, err := json.Marshal(map[string][]string{k: vals})
		if err != nil {
			return "", false, fmt.Errorf("encode webhook headers: %w", err)
		}
		n := len(entry) - len("{}") + len(",")
		if size+n > budget {
			cut = true
			continue
		}
		out[k], size = vals, size+n
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", false, fmt.Errorf("encode webhook headers: %w", err)
	}
	return string(b), cut, nil
}

// cutText keeps at most n bytes of s, not splitting a UTF-8 sequence.
func cutText(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// acceptedWebhook is whether a plugin accepted a request: it returned
// events, or answered below 400. Only an accepted request is kept whole.
func acceptedWebhook(out provider.WebhookResponse) bool {
	return len(out.Events) > 0 || out.Response.Status < http.StatusBadRequest
}

// verifiedRequest is the row of an accepted request: all of it, credentials
// redacted, with the status it is answered.
func verifiedRequest(providerID string, req provider.WebhookRequest, at time.Time, status int) (*store.WebhookRequest, error) {
	headers, err := json.Marshal(redactHeaders(req.Headers))
	if err != nil {
		return nil, fmt.Errorf("encode webhook headers: %w", err)
	}
	return &store.WebhookRequest{
		ProviderID: providerID, Method: req.Method, Path: req.Path, Query: req.Query, Headers: string(headers),
		Body: req.Body, RemoteAddr: req.RemoteAddr, ReceivedAt: at, ResponseStatus: &status,
		Verified: true, BodySize: int64(len(req.Body)),
	}, nil
}

// recordRejected stores the excerpt of a request that was not accepted,
// with the status it is answered, and counts it. A failure to store it is
// logged, not answered: the verdict does not depend on the record.
func (s *Service) recordRejected(ctx context.Context, providerID string, req provider.WebhookRequest, at time.Time, status int) {
	s.CountWebhookRejection(ctx, providerID, rejectionReason(status))
	raw, err := intakeExcerpt(providerID, req, at)
	if err == nil {
		raw.ResponseStatus = &status
		err = s.store.InsertWebhookRequest(context.WithoutCancel(ctx), raw)
	}
	if err != nil {
		s.log.WarnContext(ctx, "could not record a refused webhook request", "provider_id", providerID, "status", status, "err", err)
	}
}

// responseStatus is what the HTTP layer answers: the error's status, or
// the plugin's (200 when it left it unset).
func responseStatus(resp provider.HTTPResponse, err error) int {
	switch {
	case err != nil:
		return errorStatus(err)
	case resp.Status == 0:
		return http.StatusOK
	}
	return resp.Status
}

// rejectionReason names why Switchyard answered status to a request that
// was not accepted.
func rejectionReason(status int) string {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return RejectUnverified
	case status == http.StatusNotFound:
		return RejectNotFound
	case status == http.StatusRequestEntityTooLarge:
		return RejectTooLarge
	case status == http.StatusTooManyRequests:
		return RejectRateLimited
	case status == http.StatusServiceUnavailable:
		return RejectUnavailable
	case status < http.StatusInternalServerError:
		return RejectInvalid
	}
	return RejectError
}

// CountWebhookRejection counts one inbound webhook that was not accepted,
// for the switchyard.webhook.intake.rejected metric. The HTTP layer calls
// it for requests it refuses before they reach the service (rate limit).
// A provider id that is not configured is counted as "unknown".
func (s *Service) CountWebhookRejection(ctx context.Context, providerID, reason string) {
	s.metrics.rejected.Add(ctx, 1, metric.WithAttributes(
		attribute.String("provider", s.providerLabel(providerID)), attribute.String("reason", reason)))
}

// providerLabel is providerID when it is a configured provider instance.
func (s *Service) providerLabel(providerID string) string {
	if _, err := s.providers.Describe(providerID); errors.Is(err, domain.ErrNotFound) {
		return unknownProviderLabel
	}
	return providerID
}

// PruneResult counts what one retention run deleted.
type PruneResult struct {
	Unverified int64
	Verified   int64
}

// PruneWebhookRequests is the retention job's work: it deletes stored
// webhook requests older than their window (hooks.retention: unverified
// ones after Unverified, verified ones after Verified), in batches.
// Provider events outlive their raw request: they keep the normalized
// payload and lose only the link.
func (s *Service) PruneWebhookRequests(ctx context.Context) (PruneResult, error) {
	var res PruneResult
	now := s.now()
	for _, w := range []struct {
		verified bool
		window   time.Duration
		n        *int64
	}{{false, s.retention.Unverified, &res.Unverified}, {true, s.retention.Verified, &res.Verified}} {
		for {
			n, err := s.store.DeleteWebhookRequestsBefore(ctx, w.verified, now.Add(-w.window), cleanupBatch)
			*w.n += n
			if err != nil {
				return res, err
			}
			if n < cleanupBatch {
				break
			}
		}
	}
	if res.Unverified+res.Verified > 0 {
		s.log.InfoContext(ctx, "webhook requests pruned", "unverified", res.Unverified, "verified", res.Verified)
	}
	return res, nil
}
