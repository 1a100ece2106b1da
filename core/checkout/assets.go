package checkout

import (
	"embed"
	"fmt"
	"net/http"

	"github.com/switchyard/switchyard/core/webassets"
)

//go:embed static
var staticFS embed.FS

// AssetsPrefix is the URL path under which the static files are served.
const AssetsPrefix = "/checkout/assets/"

// loadAssets fingerprints the static files (core/webassets).
func loadAssets() (*webassets.Set, error) {
	s, err := webassets.Load(staticFS, "static", AssetsPrefix, "checkout.css")
	if err != nil {
		return nil, fmt.Errorf("checkout: %w", err)
	}
	return s, nil
}

// AssetPath returns the URL path at which the static file name (e.g.
// "checkout.css") is served, fingerprint included.
func (r *Renderer) AssetPath(name string) (string, bool) { return r.assets.Path(name) }

// AssetHandler serves the static files under AssetsPrefix. Only
// fingerprinted names exist, so everything it serves is immutable.
func (r *Renderer) AssetHandler() http.Handler { return r.assets.Handler() }
