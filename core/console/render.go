package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/webassets"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// AssetsPrefix is the URL path under which the console's static files are
// served.
const AssetsPrefix = "/console/assets/"

// Page is everything a console template gets. Handlers fill Data with the
// page's own view struct.
type Page struct {
	// Title is the page's heading and the start of its <title>.
	Title string
	// Nav names the active section (see NavItems).
	Nav string
	// Operator is who is signed in; nil on the login page.
	Operator *Operator
	// CSRF is the token every form posts back.
	CSRF  string
	Flash *Flash
	Data  any
}

// NavItem is one entry of the console's navigation.
type NavItem struct {
	Key, Label, Path string
}

// NavItems are the console's sections, in menu order.
func NavItems() []NavItem {
	return []NavItem{
		{"overview", "Overview", "/console/"},
		{"sessions", "Sessions", "/console/sessions"},
		{"reviews", "Reviews", "/console/reviews"},
		{"deliveries", "Webhook deliveries", "/console/deliveries"},
		{"endpoints", "Endpoints", "/console/endpoints"},
		{"merchants", "Merchants", "/console/merchants"},
		{"services", "Services", "/console/services"},
		{"domains", "Domains", "/console/domains"},
		{"plugins", "Plugins", "/console/plugins"},
		{"audit", "Audit log", "/console/audit"},
	}
}

// Renderer renders console pages. It is immutable after NewRenderer and
// safe for concurrent use.
type Renderer struct {
	pages  map[string]*template.Template
	assets *webassets.Set
}

type templateData struct {
	*Page
	Stylesheet string
	Script     string
	NavItems   []NavItem
}

// NewRenderer parses the embedded templates: layout.html plus one file per
// page, each page named by its file name without .html.
func NewRenderer() (*Renderer, error) {
	assets, err := webassets.Load(staticFS, "static", AssetsPrefix, "console.css", "console.js")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	layout, err := template.New("layout.html").Funcs(funcs()).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console: parse layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}, assets: assets}
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" {
			continue
		}
		t, err := layout.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFS, file); err != nil {
			return nil, fmt.Errorf("console: parse %s: %w", file, err)
		}
		r.pages[name] = t
	}
	return r, nil
}

// Pages lists the page names NewRenderer parsed.
func (r *Renderer) Pages() []string {
	out := make([]string, 0, len(r.pages))
	for name := range r.pages {
		out = append(out, name)
	}
	return out
}

// Render writes page name. Nothing is written when it fails, so the caller
// can render an error page instead.
func (r *Renderer) Render(w io.Writer, name string, p *Page) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("console: no page %q", name)
	}
	css, _ := r.assets.Path("console.css")
	js, _ := r.assets.Path("console.js")
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", templateData{Page: p, Stylesheet: css, Script: js, NavItems: NavItems()}); err != nil {
		return fmt.Errorf("console: render %s: %w", name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// AssetHandler serves the static files under AssetsPrefix.
func (r *Renderer) AssetHandler() http.Handler { return r.assets.Handler() }

// TimeFormat is how the console shows times: UTC, to the second.
const TimeFormat = "2006-01-02 15:04:05 UTC"

func funcs() template.FuncMap {
	return template.FuncMap{
		"when":        when,
		"pretty":      pretty,
		"deref":       deref,
		"add":         func(a, b int) int { return a + b },
		"add64":       func(a, b int64) int64 { return a + b },
		"statusClass": statusClass,
		"reviewCtx":   reviewCtx,
		"join":        strings.Join,
		"pct": func(n, d int64) string {
			if d == 0 {
				return "–"
			}
			return fmt.Sprintf("%.1f%%", float64(n)*100/float64(d))
		},
	}
}

// when formats a time.Time, *time.Time or RFC 3339 string; zero and nil
// are "–".
func when(v any) string {
	switch t := v.(type) {
	case time.Time:
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format(TimeFormat)
	case *time.Time:
		if t == nil || t.IsZero() {
			return "–"
		}
		return t.UTC().Format(TimeFormat)
	case string:
		if t == "" {
			return "–"
		}
		if p, err := time.Parse(time.RFC3339, t); err == nil {
			return p.UTC().Format(TimeFormat)
		}
		return t
	case *string:
		if t == nil {
			return "–"
		}
		return when(*t)
	}
	return fmt.Sprint(v)
}

// pretty indents JSON for reading; anything else is returned as it is.
func pretty(v any) string {
	var raw []byte
	switch t := v.(type) {
	case string:
		raw = []byte(t)
	case []byte:
		raw = t
	case json.RawMessage:
		raw = t
	default:
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") == nil {
		return buf.String()
	}
	return string(raw)
}

// deref shows optional values: nil is "–".
func deref(v any) string {
	switch t := v.(type) {
	case *string:
		if t == nil || *t == "" {
			return "–"
		}
		return *t
	case *int:
		if t == nil {
			return "–"
		}
		return fmt.Sprint(*t)
	case *int64:
		if t == nil {
			return "–"
		}
		return fmt.Sprint(*t)
	case string:
		if t == "" {
			return "–"
		}
		return t
	}
	return fmt.Sprint(v)
}

// statusClass picks a badge style for a status word; the word itself is
// always shown, so colour only adds to it.
func statusClass(status any) string {
	switch fmt.Sprint(status) {
	case "paid", "succeeded", "ok", "healthy", "active", "applied", "enabled", "done":
		return "ok"
	case "failed", "disabled", "unhealthy", "suspended", "canceled", "expired", "denied", "disputed", "revoked":
		return "bad"
	case "open", "processing", "pending", "scheduled", "starting", "requires_review", "recorded", "partially_refunded", "refunded", "attention", "paused":
		return "warn"
	}
	return ""
}

// ReviewContext is what the shared "review" template gets: the page (for
// the CSRF token and role), the review, and where its form returns.
type ReviewContext struct {
	Page   any
	Review any
	Back   string
}

// reviewCtx builds a ReviewContext; sessionID, when set, makes the form
// return to that session's page, else to the reviews page.
func reviewCtx(page any, review any, sessionID string) ReviewContext {
	back := "/console/reviews"
	if sessionID != "" {
		back = "/console/sessions/" + sessionID
	}
	return ReviewContext{Page: page, Review: review, Back: back}
}
