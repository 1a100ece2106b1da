package checkout

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// AssetsPrefix is the URL path under which the static files are served.
const AssetsPrefix = "/checkout/assets/"

// assetCacheControl lets browsers and proxies keep an asset for a year
// without revalidating: names carry a content hash, so a changed file is a
// new URL and a cached one can never be stale.
const assetCacheControl = "public, max-age=31536000, immutable"

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets maps fingerprinted names ("checkout.3f9a1c2b7d4e.css") to files,
// and plain names to their fingerprinted form for templates.
type assets struct {
	byServedName map[string]asset
	servedName   map[string]string
}

func loadAssets() (*assets, error) {
	a := &assets{byServedName: map[string]asset{}, servedName: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
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
		a.byServedName[served] = asset{body: body, contentType: ct, etag: `"` + hash + `"`}
		a.servedName[name] = served
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("checkout: load static files: %w", err)
	}
	if _, ok := a.servedName["checkout.css"]; !ok {
		return nil, fmt.Errorf("checkout: static/checkout.css is missing")
	}
	return a, nil
}

// path returns the URL path of a static file by its plain name.
func (a *assets) path(name string) string { return AssetsPrefix + a.servedName[name] }

// AssetPath returns the URL path at which the static file name (e.g.
// "checkout.css") is served, fingerprint included.
func (r *Renderer) AssetPath(name string) (string, bool) {
	if _, ok := r.assets.servedName[name]; !ok {
		return "", false
	}
	return r.assets.path(name), true
}

// AssetHandler serves the static files under AssetsPrefix. Only
// fingerprinted names exist, so everything it serves is immutable.
func (r *Renderer) AssetHandler() http.Handler {
	modTime := time.Unix(0, 0)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(req.URL.Path, AssetsPrefix)
		a, found := r.assets.byServedName[name]
		if !ok || !found {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", assetCacheControl)
		h.Set("ETag", a.etag)
		// ServeContent answers If-None-Match with 304 and handles HEAD and
		// ranges; the zero-ish modTime keeps Last-Modified out of it.
		http.ServeContent(w, req, name, modTime, bytes.NewReader(a.body))
	})
}
