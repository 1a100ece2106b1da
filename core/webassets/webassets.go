// Package webassets serves a directory of embedded static files (CSS,
// scripts) under content-hashed names, so pages can let browsers cache
// them for a year: a changed file is a new URL. The hosted checkout and
// the operator console both serve their files through it.
package webassets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// cacheControl lets browsers and proxies keep an asset for a year without
// revalidating: names carry a content hash, so a cached one is never stale.
const cacheControl = "public, max-age=31536000, immutable"

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Set maps fingerprinted names ("console.3f9a1c2b7d4e.css") to files, and
// plain names to their fingerprinted form for templates. It is immutable.
type Set struct {
	prefix       string
	byServedName map[string]asset
	servedName   map[string]string
}

// Load reads every file under dir in fsys, to be served under prefix (a
// URL path ending in "/"). Each name in required must exist.
func Load(fsys fs.FS, dir, prefix string, required ...string) (*Set, error) {
	s := &Set{prefix: prefix, byServedName: map[string]asset{}, servedName: map[string]string{}}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:6])
		name := path.Base(p)
		ext := path.Ext(name)
		served := strings.TrimSuffix(name, ext) + "." + hash + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		s.byServedName[served] = asset{body: body, contentType: ct, etag: `"` + hash + `"`}
		s.servedName[name] = served
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static files: %w", err)
	}
	for _, name := range required {
		if _, ok := s.servedName[name]; !ok {
			return nil, fmt.Errorf("static file %s is missing", name)
		}
	}
	return s, nil
}

// Path returns the URL path at which the file name (e.g. "console.css") is
// served, fingerprint included.
func (s *Set) Path(name string) (string, bool) {
	served, ok := s.servedName[name]
	if !ok {
		return "", false
	}
	return s.prefix + served, true
}

// Handler serves the files under the prefix. Only fingerprinted names
// exist, so everything it serves is immutable.
func (s *Set) Handler() http.Handler {
	modTime := time.Unix(0, 0)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(req.URL.Path, s.prefix)
		a, found := s.byServedName[name]
		if !ok || !found {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", cacheControl)
		h.Set("ETag", a.etag)
		// ServeContent answers If-None-Match with 304 and handles HEAD and
		// ranges; the zero-ish modTime keeps Last-Modified out of it.
		http.ServeContent(w, req, name, modTime, bytes.NewReader(a.body))
	})
}
