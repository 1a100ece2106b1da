package checkout

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strconv"

	"github.com/switchyard/switchyard/core/webassets"
)

//go:embed templates/*.html
var templateFS embed.FS

// Kind selects which page a Page renders as.
type Kind string

// Page kinds. Each one is a distinct template under templates/.
const (
	// KindChoose is the method choice form (hosted_checkout mode, or
	// smart_routing after a failed attempt).
	KindChoose Kind = "choose"
	// KindRedirect hands the shopper to a provider whose origin the
	// checkout's form-action policy does not allow a POST to redirect to:
	// a plain navigation (meta refresh plus a link) is not subject to it.
	KindRedirect Kind = "redirect"
	// KindConfirming: the shopper finished on the provider's side but no
	// verified event has arrived yet.
	KindConfirming Kind = "confirming"
	// KindPaid: money received (paid, partially refunded or disputed).
	KindPaid Kind = "paid"
	// KindRefunded: the payment was refunded in full.
	KindRefunded Kind = "refunded"
	// KindReview: money arrived that does not match the session; it is held
	// for the merchant's operator (requires_review).
	KindReview Kind = "review"
	// KindFailed: the last attempt was declined; the shopper may try again.
	KindFailed Kind = "failed"
	// KindExpired: the session timed out unpaid.
	KindExpired Kind = "expired"
	// KindCanceled: the session was canceled unpaid.
	KindCanceled Kind = "canceled"
	// KindNotFound: unknown, malformed or foreign session id, or an unknown
	// provider page. It shows nothing about the session, so it cannot be
	// used to learn which ids exist.
	KindNotFound Kind = "not_found"
	// KindUnavailable: a provider page that cannot be served right now.
	KindUnavailable Kind = "unavailable"
	// KindError: an internal failure; no details are shown.
	KindError Kind = "error"
)

// Kinds lists every page kind.
func Kinds() []Kind {
	return []Kind{
		KindChoose, KindRedirect, KindConfirming, KindPaid, KindRefunded, KindReview, KindFailed,
		KindExpired, KindCanceled, KindNotFound, KindUnavailable, KindError,
	}
}

// Method is one payment method offered on the choice page.
type Method struct {
	// Value is the machine name posted back ("card").
	Value string
	// Label is what the shopper reads ("Card").
	Label string
}

// Refresh makes a page reload itself after a delay, so a status page
// updates without JavaScript.
type Refresh struct {
	Seconds int
	// URL is the page to load, same origin (e.g. with a poll counter).
	URL string
}

// Page is everything a checkout template may show. Handlers fill the fields
// the kind needs; templates show the rest only when set.
type Page struct {
	Kind      Kind
	SessionID string
	// Merchant is the merchant's display name.
	Merchant string
	// Amount is the formatted amount with its currency ("USD 49.95").
	Amount  string
	Methods []Method
	// Selected is the method to pre-select on the choice page.
	Selected string
	// Notice explains why the choice page is shown again (a declined or
	// unavailable method); it is announced with the method fieldset.
	Notice string
	// ReturnURL and CancelURL are the merchant's pages, shown as links.
	ReturnURL string
	CancelURL string
	// RedirectURL is the provider page for KindRedirect.
	RedirectURL string
	// Refresh, when set, reloads the page (KindConfirming).
	Refresh *Refresh
	// StillWaiting tells the confirming page that polling has stopped.
	StillWaiting bool
	// PartiallyRefunded adds a note to the paid page.
	PartiallyRefunded bool
}

// FormatAmount renders an amount for shoppers: the ISO code then the exact
// decimal ("USD 49.95"). The code, not a symbol, avoids "$" meaning several
// currencies.
func FormatAmount(currency, decimal string) string {
	if currency == "" {
		return decimal
	}
	return currency + "\u00a0" + decimal
}

// Renderer renders checkout pages. It is immutable after NewRenderer and
// safe for concurrent use.
type Renderer struct {
	pages  map[Kind]*template.Template
	assets *webassets.Set
}

// NewRenderer parses the embedded templates and fingerprints the static
// files. It fails only if the embedded files are broken, which a test
// catches, so callers may treat an error as fatal at start.
func NewRenderer() (*Renderer, error) {
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"sessionPath": sessionPath,
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("checkout: parse layout: %w", err)
	}
	r := &Renderer{pages: make(map[Kind]*template.Template, len(Kinds())), assets: a}
	for _, k := range Kinds() {
		t, err := layout.Clone()
		if err != nil {
			return nil, fmt.Errorf("checkout: clone layout: %w", err)
		}
		if _, err := t.ParseFS(templateFS, "templates/"+string(k)+".html"); err != nil {
			return nil, fmt.Errorf("checkout: parse %s page: %w", k, err)
		}
		r.pages[k] = t
	}
	return r, nil
}

// templateData is what templates see: the page plus renderer-owned values.
type templateData struct {
	Page
	Stylesheet string
}

// Render writes the page as a complete HTML document. It renders into a
// buffer first, so a template error never leaves half a page on the wire
// and the caller can still answer with an error page.
func (r *Renderer) Render(w io.Writer, p Page) error {
	t, ok := r.pages[p.Kind]
	if !ok {
		return fmt.Errorf("checkout: unknown page kind %q", p.Kind)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", templateData{Page: p, Stylesheet: r.stylesheet()}); err != nil {
		return fmt.Errorf("checkout: render %s page: %w", p.Kind, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// sessionPath builds /checkout/{id}{suffix} with the id path-escaped, so a
// template never concatenates raw ids into URLs.
func sessionPath(id, suffix string) string {
	return "/checkout/" + url.PathEscape(id) + suffix
}

// ReturnPollURL is the return page URL that carries the poll counter used
// by the confirming page's refresh.
func ReturnPollURL(sessionID string, poll int) string {
	return sessionPath(sessionID, "/return") + "?poll=" + strconv.Itoa(poll)
}

// stylesheet is the URL path of checkout.css (loadAssets checked it).
func (r *Renderer) stylesheet() string {
	p, _ := r.assets.Path("checkout.css")
	return p
}
