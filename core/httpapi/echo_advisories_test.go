package httpapi_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/internal/testbin"
)

// The echo v4 advisories GO-2026-6872 (RealIP trusts a spoofed
// X-Forwarded-For by default) and GO-2026-6875 (the Proxy middleware
// forwards a client's X-Real-IP upstream) have no v4 fix; `make vuln`
// accepts them because of what these two tests hold (docs/decisions.md).

// TestRealIPIsTheDirectPeer: whatever forwarding headers a client sends,
// the address Switchyard's listeners see is the TCP peer.
func TestRealIPIsTheDirectPeer(t *testing.T) {
	e := httpapi.New(httpapi.Options{}, func(e *echo.Echo) {
		e.GET("/ip", func(c echo.Context) error { return c.String(http.StatusOK, c.RealIP()) })
	})
	for _, h := range []http.Header{
		{},
		{"X-Forwarded-For": {"100.100.100.200, 10.0.0.1"}},
		{"X-Real-Ip": {"100.100.100.200"}},
		{"X-Forwarded-For": {"1.2.3.4"}, "X-Real-Ip": {"5.6.7.8"}, "Forwarded": {"for=9.9.9.9"}},
	} {
		req := httptest.NewRequest(http.MethodGet, "/ip", nil)
		req.RemoteAddr = "203.0.113.7:41234"
		req.Header = h
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if got := rec.Body.String(); got != "203.0.113.7" {
			t.Errorf("headers %v: RealIP = %q, want the peer 203.0.113.7", h, got)
		}
	}
}

// TestNoEchoProxyOrHeaderIPExtractor: no production code uses echo's
// reverse-proxy middleware or an IP extractor that reads forwarding headers,
// except the /hooks rate limit, which reads X-Forwarded-For only from the
// operator's hooks.trusted_proxies with echo's default trust of loopback and
// private ranges switched off (core/httpapi/hooks.go, sourceAddress).
func TestNoEchoProxyOrHeaderIPExtractor(t *testing.T) {
	forbidden := map[string]map[string]bool{
		"github.com/labstack/echo/v4/middleware": {"Proxy": true, "ProxyWithConfig": true, "ProxyConfig": true},
		"github.com/labstack/echo/v4":            {"ExtractIPFromXFFHeader": true, "ExtractIPFromRealIPHeader": true, "LegacyIPExtractor": true},
	}
	reviewed := map[string]string{"core/httpapi/hooks.go": "ExtractIPFromXFFHeader"}
	root := testbin.RepoRoot(t)
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "bin" || name == "var" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		names := map[string]string{} // local import name -> path
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if forbidden[p] == nil {
				continue
			}
			name := p[strings.LastIndex(p, "/")+1:]
			if p == "github.com/labstack/echo/v4" {
				name = "echo"
			}
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = p
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && forbidden[names[id.Name]][sel.Sel.Name] {
				rel, _ := filepath.Rel(root, path)
				if reviewed[filepath.ToSlash(rel)] == sel.Sel.Name {
					return true
				}
				t.Errorf("%s uses %s.%s: see the echo advisories in docs/decisions.md before changing this", rel, names[id.Name], sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("scanned only %d Go files under %s", files, root)
	}
}
