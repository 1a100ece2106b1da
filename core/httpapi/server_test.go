package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domain"
)

func decodeErr(t *testing.T, rec *httptest.ResponseRecorder) errorDetail {
	t.Helper()
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("response is not the JSON error shape: %v: %s", err, rec.Body.String())
	}
	return body.Error
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		status   int
		code     string
		field    string
		retryHdr string
	}{
		{"invalid", domain.Invalid("invalid_amount", "amount", "USD allows 2 decimals, got 3"), 400, "invalid_amount", "amount", ""},
		{"wrapped not found", fmt.Errorf("load session: %w", domain.NotFound("session")), 404, "resource_missing", "", ""},
		{"conflict", domain.Conflict("order_already_paid", "order is paid"), 409, "order_already_paid", "", ""},
		{"unprocessable", domain.Unprocessable("method_unavailable", "method", "no"), 422, "method_unavailable", "method", ""},
		{"rate limited", &retryAfterError{err: &domain.Error{Kind: domain.ErrRateLimited, Code: "rate_limited", Message: "slow down"}, after: 1500e6}, 429, "rate_limited", "", "2"},
		{"unknown error hides internals", errors.New("pq: password=hunter2 failed"), 500, "internal_error", "", ""},
		{"echo 404", echo.ErrNotFound, 404, "not_found", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Options{}, func(e *echo.Echo) {
				e.GET("/x", func(echo.Context) error { return tc.err })
			})
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d", rec.Code, tc.status)
			}
			d := decodeErr(t, rec)
			if d.Code != tc.code || d.Field != tc.field {
				t.Fatalf("error = %+v, want code %q field %q", d, tc.code, tc.field)
			}
			if strings.Contains(rec.Body.String(), "hunter2") {
				t.Fatal("internal error text leaked into the response")
			}
			if got := rec.Header().Get("Retry-After"); got != tc.retryHdr {
				t.Fatalf("Retry-After = %q, want %q", got, tc.retryHdr)
			}
		})
	}
}

func TestDecodeStrict(t *testing.T) {
	type req struct {
		Amount string            `json:"amount"`
		Meta   map[string]string `json:"metadata"`
	}
	cases := []struct {
		name  string
		body  string
		code  string
		field string
	}{
		{"ok", `{"amount":"1.00"}`, "", ""},
		{"unknown field", `{"amount":"1.00","provider":"stripe"}`, "unknown_field", "provider"},
		{"number for string", `{"amount":49.95}`, "invalid_type", "amount"},
		{"trailing data", `{"amount":"1"} {}`, "invalid_json", ""},
		{"syntax", `{"amount":`, "invalid_json", ""},
		{"empty", ``, "invalid_json", ""},
		{"array", `[]`, "invalid_type", ""},
		{"duplicate", `{"amount":"1.00","amount":"1000.00"}`, "duplicate_field", "amount"},
		{"duplicate nested", `{"amount":"1","metadata":{"a":"1","b":"2","a":"3"}}`, "duplicate_field", "metadata.a"},
		{"duplicate deeper in a value", `{"amount":"1","metadata":{"a":{"x":1,"x":2}}}`, "duplicate_field", "metadata.a.x"},
		{"duplicate after an unknown member", `{"zzz":{"q":1,"q":2},"amount":"1"}`, "duplicate_field", "zzz.q"},
		{"case variant", `{"AMOUNT":"1000.00"}`, "field_case_mismatch", "AMOUNT"},
		{"case variant beside the real one", `{"amount":"1.00","Amount":"1000.00"}`, "field_case_mismatch", "Amount"},
		{"metadata keys are data, not fields", `{"amount":"1","metadata":{"k":"1","K":"2"}}`, "", ""},
		{"invalid UTF-8", "{\"amount\":\"\xff\"}", "invalid_json", "amount"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r req
			err := decodeStrict([]byte(tc.body), &r)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			de, ok := domain.AsError(err)
			if !ok || de.Code != tc.code || de.Field != tc.field || !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("err = %v, want code %q field %q", err, tc.code, tc.field)
			}
		})
	}
	if err := decodeStrict([]byte(`{"amount":49.95}`), new(req)); !strings.Contains(err.Error(), "string") {
		t.Fatalf("number message should ask for a string: %v", err)
	}
}

func TestBodyLimitAndAdminAuth(t *testing.T) {
	e := New(Options{BodyLimit: 16}, func(e *echo.Echo) {
		g := e.Group("/admin", AdminAuth([]string{"op-token"}))
		g.POST("/echo", func(c echo.Context) error {
			b, err := readBody(c)
			if err != nil {
				return err
			}
			return c.String(200, string(b))
		})
	})
	cases := []struct {
		name   string
		auth   string
		body   string
		status int
	}{
		{"no token", "", "{}", 401},
		{"wrong token", "Bearer nope", "{}", 401},
		{"wrong scheme", "Basic op-token", "{}", 401},
		{"ok", "Bearer op-token", "{}", 200},
		{"too large", "Bearer op-token", strings.Repeat("x", 17), 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/admin/echo", strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if tc.status != 200 {
				decodeErr(t, rec)
			}
		})
	}
}

func TestReadyz(t *testing.T) {
	down := errors.New("database unreachable")
	for _, tc := range []struct {
		name   string
		ready  error
		status int
	}{{"ready", nil, 200}, {"not ready", down, 503}} {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Options{Ready: func(context.Context) error { return tc.ready }})
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d", rec.Code, tc.status)
			}
			rec = httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if rec.Code != 200 {
				t.Fatalf("healthz = %d, want 200 regardless of readiness", rec.Code)
			}
		})
	}
}
