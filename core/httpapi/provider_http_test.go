package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/checkout"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// fakeProvider answers HandleHTTP only; the embedded nil interface panics
// if the passthrough ever calls anything else.
type fakeProvider struct {
	provider.Client
	resp provider.HTTPResponse
	err  error
	got  *provider.HTTPRequest
}

func (p *fakeProvider) HandleHTTP(_ context.Context, req provider.HTTPRequest) (provider.HTTPResponse, error) {
	p.got = &req
	return p.resp, p.err
}

type fakeLookup struct {
	providers map[string]*fakeProvider
	err       error
	calls     int
}

var (
	_ httpapi.ProviderLookup = (*fakeLookup)(nil)
	// The plugin host is what core/app passes in production.
	_ httpapi.ProviderLookup = (*pluginhost.Host)(nil)
)

func (l *fakeLookup) Provider(id string) (provider.Client, error) {
	l.calls++
	if l.err != nil {
		return nil, l.err
	}
	p, ok := l.providers[id]
	if !ok {
		return nil, &domain.Error{Kind: domain.ErrNotFound, Code: "plugin_missing", Message: "no plugin instance " + id}
	}
	return p, nil
}

func providerServer(t *testing.T, l *fakeLookup, base string) http.Handler {
	t.Helper()
	r, err := checkout.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return httpapi.New(httpapi.Options{BodyLimit: 1 << 10}, httpapi.ProviderHTTP(l, r, httpapi.ProviderHTTPOptions{PublicBaseURL: base}))
}

func TestProviderHTTPPassthrough(t *testing.T) {
	p := &fakeProvider{resp: provider.HTTPResponse{
		Status: http.StatusCreated,
		Headers: http.Header{
			"Content-Type":      {"text/html; charset=utf-8"},
			"X-Custom":          {"a", "b"},
			"Referrer-Policy":   {"no-referrer"},
			"Connection":        {"close"},
			"Transfer-Encoding": {"chunked"},
			"Content-Length":    {"99999"},
		},
		Body: []byte("<p>pay here</p>"),
	}}
	l := &fakeLookup{providers: map[string]*fakeProvider{"sandbox": p}}
	srv := providerServer(t, l, "https://pay.example.com/")

	req := httptest.NewRequest(http.MethodPost, "/p/sandbox/pay/sbx_1?x=1&y=%20", strings.NewReader("a=b"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Test", "yes")
	req.RemoteAddr = "203.0.113.7:4242"
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)

	got := p.got
	if got == nil {
		t.Fatal("HandleHTTP was not called")
	}
	if got.Method != http.MethodPost || got.Path != "/pay/sbx_1" || got.Query != "x=1&y=%20" || string(got.Body) != "a=b" ||
		got.RemoteAddr != "203.0.113.7:4242" || got.BaseURL != "https://pay.example.com/p/sandbox" ||
		got.Headers.Get("X-Test") != "yes" || got.Headers.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("request reached the plugin as %+v", got)
	}

	if rec.Code != http.StatusCreated || rec.Body.String() != "<p>pay here</p>" {
		t.Errorf("response = %d %q", rec.Code, rec.Body.String())
	}
	h := rec.Header()
	if v := h.Values("X-Custom"); len(v) != 2 || v[0] != "a" || v[1] != "b" {
		t.Errorf("X-Custom = %v", v)
	}
	if h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("the plugin's own header must win: Referrer-Policy = %q", h.Get("Referrer-Policy"))
	}
	for k, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "frame-ancestors 'none'; base-uri 'none'",
		"Cache-Control":           "no-store",
		"Connection":              "",
		"Transfer-Encoding":       "",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestProviderHTTPPaths(t *testing.T) {
	tests := []struct {
		reqPath, wantPath, wantQuery string
	}{
		{"/p/sandbox", "/", ""},
		{"/p/sandbox/", "/", ""},
		{"/p/sandbox/a/b%2Fc?q=1", "/a/b/c", "q=1"},
	}
	for _, tt := range tests {
		t.Run(tt.reqPath, func(t *testing.T) {
			p := &fakeProvider{}
			srv := providerServer(t, &fakeLookup{providers: map[string]*fakeProvider{"sandbox": p}}, "")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://sy.test"+tt.reqPath, nil))
			if p.got == nil {
				t.Fatalf("not passed through: %d", rec.Code)
			}
			if p.got.Path != tt.wantPath || p.got.Query != tt.wantQuery {
				t.Errorf("path %q query %q, want %q %q", p.got.Path, p.got.Query, tt.wantPath, tt.wantQuery)
			}
			if p.got.BaseURL != "http://sy.test/p/sandbox" {
				t.Errorf("BaseURL without a configured base = %q", p.got.BaseURL)
			}
			if rec.Code != http.StatusOK {
				t.Errorf("zero status must become 200, got %d", rec.Code)
			}
		})
	}
}

func TestProviderHTTPFailures(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		method     string
		lookupErr  error
		resp       provider.HTTPResponse
		err        error
		status     int
		want       string
		noLookup   bool
		wantEmpty  bool
		notInBody  string
		pluginSeen bool
	}{
		{name: "unknown provider", path: "/p/nope/x", status: 404, want: "Checkout not found"},
		{name: "malformed id is not looked up", path: "/p/NOPE!/x", status: 404, noLookup: true},
		{name: "not a provider instance", path: "/p/sandbox/x", lookupErr: &domain.Error{Kind: domain.ErrInvalid, Code: "plugin_kind"}, status: 404},
		{name: "lookup fails otherwise", path: "/p/sandbox/x", lookupErr: errors.New("boom"), status: 503, want: "Temporarily unavailable"},
		{name: "plugin down", path: "/p/sandbox/x", err: fmt.Errorf("plugin sandbox: handle http: %w", sdkerr.Unavailable("plugin is not running: restarting")), status: 503, want: "Temporarily unavailable", notInBody: "restarting"},
		{name: "plugin serves no http", path: "/p/sandbox/x", err: sdkerr.Unimplemented("provider serves no http routes"), status: 404},
		{name: "plugin bug", path: "/p/sandbox/x", err: sdkerr.Internal("nil map at line 3"), status: 502, want: "Something went wrong", notInBody: "nil map"},
		{name: "invalid status from plugin", path: "/p/sandbox/x", resp: provider.HTTPResponse{Status: 99}, status: 502},
		{name: "HEAD has no body", path: "/p/sandbox/x", method: http.MethodHead, resp: provider.HTTPResponse{Body: []byte("hello")}, status: 200, wantEmpty: true},
		{name: "304 has no body", path: "/p/sandbox/x", resp: provider.HTTPResponse{Status: 304, Body: []byte("hello")}, status: 304, wantEmpty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakeProvider{resp: tt.resp, err: tt.err}
			l := &fakeLookup{providers: map[string]*fakeProvider{"sandbox": p}, err: tt.lookupErr}
			srv := providerServer(t, l, "")
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.noLookup && l.calls != 0 {
				t.Errorf("a malformed id reached the lookup")
			}
			body := rec.Body.String()
			if tt.want != "" && !strings.Contains(body, tt.want) {
				t.Errorf("body lacks %q", tt.want)
			}
			if tt.notInBody != "" && strings.Contains(body, tt.notInBody) {
				t.Errorf("internal detail %q leaked", tt.notInBody)
			}
			if tt.wantEmpty && rec.Body.Len() != 0 {
				t.Errorf("body = %q, want none", body)
			}
			if rec.Code >= 400 {
				if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
					t.Errorf("error pages are HTML for browsers, got %q", rec.Header().Get("Content-Type"))
				}
				if rec.Header().Get("X-Frame-Options") != "DENY" || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") {
					t.Errorf("error pages need the strict headers")
				}
			}
		})
	}
}

func TestProviderHTTPBodyLimit(t *testing.T) {
	p := &fakeProvider{}
	srv := providerServer(t, &fakeLookup{providers: map[string]*fakeProvider{"sandbox": p}}, "")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/p/sandbox/x", strings.NewReader(strings.Repeat("a", 2<<10))))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", rec.Code)
	}
	if p.got != nil {
		t.Errorf("an oversized body reached the plugin")
	}
}
