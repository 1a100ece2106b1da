package checkout_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/switchyard/switchyard/core/checkout"
)

const testSession = "cs_01JD3Y5N8K2M4P6Q8R0S2T4V6WABCDEFGHJKMNPQRS"

func newRenderer(t *testing.T) *checkout.Renderer {
	t.Helper()
	r, err := checkout.NewRenderer()
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	return r
}

func render(t *testing.T, r *checkout.Renderer, p checkout.Page) (string, *html.Node) {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Render(&buf, p); err != nil {
		t.Fatalf("Render(%s): %v", p.Kind, err)
	}
	doc, err := html.Parse(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatalf("parse %s page: %v", p.Kind, err)
	}
	return buf.String(), doc
}

// find returns every element with the given tag for which match (if any)
// is true.
func find(n *html.Node, tag string, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag && (match == nil || match(n)) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func fullPage(kind checkout.Kind) checkout.Page {
	return checkout.Page{
		Kind:      kind,
		SessionID: testSession,
		Merchant:  "Acme Hosting",
		Amount:    checkout.FormatAmount("USD", "49.95"),
		Methods: []checkout.Method{
			{Value: "card", Label: "Card"},
			{Value: "bank_transfer", Label: "Bank transfer"},
		},
		ReturnURL:   "https://shop.example/success",
		CancelURL:   "https://shop.example/cancel",
		RedirectURL: "https://pay.provider.example/p/123",
	}
}

// Every page is a complete, accessible document: language, viewport,
// a title, exactly one h1, the fingerprinted stylesheet, no script.
func TestEveryPageHasAccessibleSkeleton(t *testing.T) {
	r := newRenderer(t)
	css, ok := r.AssetPath("checkout.css")
	if !ok || !strings.HasPrefix(css, checkout.AssetsPrefix+"checkout.") || css == checkout.AssetsPrefix+"checkout.css" {
		t.Fatalf("AssetPath(checkout.css) = %q, %v; want a fingerprinted path", css, ok)
	}
	for _, k := range checkout.Kinds() {
		t.Run(string(k), func(t *testing.T) {
			raw, doc := render(t, r, fullPage(k))
			if !strings.HasPrefix(raw, "<!doctype html>") {
				t.Errorf("page does not start with a doctype")
			}
			htmlEl := find(doc, "html", nil)
			if lang, _ := attr(htmlEl[0], "lang"); lang != "en" {
				t.Errorf("html lang = %q, want en", lang)
			}
			vp := find(doc, "meta", func(n *html.Node) bool { v, _ := attr(n, "name"); return v == "viewport" })
			if len(vp) != 1 {
				t.Errorf("want one viewport meta, got %d", len(vp))
			}
			titles := find(doc, "title", nil)
			if len(titles) != 1 || text(titles[0]) == "" {
				t.Errorf("want one non-empty title")
			}
			if h1 := find(doc, "h1", nil); len(h1) != 1 {
				t.Errorf("want exactly one h1, got %d", len(h1))
			}
			if len(find(doc, "main", nil)) != 1 {
				t.Errorf("want one main landmark")
			}
			links := find(doc, "link", func(n *html.Node) bool { v, _ := attr(n, "rel"); return v == "stylesheet" })
			if len(links) != 1 {
				t.Fatalf("want one stylesheet link, got %d", len(links))
			}
			if href, _ := attr(links[0], "href"); href != css {
				t.Errorf("stylesheet href = %q, want %q", href, css)
			}
			if s := find(doc, "script", nil); len(s) != 0 {
				t.Errorf("pages must work without JavaScript; found %d script elements", len(s))
			}
			if strings.Contains(raw, "style=") || len(find(doc, "style", nil)) != 0 {
				t.Errorf("inline styles would be blocked by style-src 'self'")
			}
		})
	}
}

func TestChoosePageForm(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		name        string
		selected    string
		notice      string
		wantChecked string
	}{
		{name: "first method preselected", wantChecked: "card"},
		{name: "selected method preselected", selected: "bank_transfer", wantChecked: "bank_transfer"},
		{name: "with notice", selected: "card", notice: "This payment method is unavailable. Please choose another.", wantChecked: "card"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fullPage(checkout.KindChoose)
			p.Selected, p.Notice = tt.selected, tt.notice
			_, doc := render(t, r, p)

			forms := find(doc, "form", nil)
			if len(forms) != 1 {
				t.Fatalf("want one form, got %d", len(forms))
			}
			if m, _ := attr(forms[0], "method"); m != "post" {
				t.Errorf("form method = %q", m)
			}
			if a, _ := attr(forms[0], "action"); a != "/checkout/"+testSession+"/pay" {
				t.Errorf("form action = %q", a)
			}
			fs := find(forms[0], "fieldset", nil)
			if len(fs) != 1 || len(find(fs[0], "legend", nil)) != 1 {
				t.Fatalf("methods must be a fieldset with a legend")
			}
			radios := find(fs[0], "input", func(n *html.Node) bool { v, _ := attr(n, "type"); return v == "radio" })
			if len(radios) != 2 {
				t.Fatalf("want 2 radios, got %d", len(radios))
			}
			labels := map[string]string{}
			for _, l := range find(doc, "label", nil) {
				f, _ := attr(l, "for")
				labels[f] = text(l)
			}
			var checked []string
			for i, in := range radios {
				id, _ := attr(in, "id")
				name, _ := attr(in, "name")
				val, _ := attr(in, "value")
				if name != "method" {
					t.Errorf("radio %d name = %q", i, name)
				}
				if labels[id] == "" {
					t.Errorf("radio %q has no label tied to it", id)
				}
				if _, ok := attr(in, "checked"); ok {
					checked = append(checked, val)
				}
			}
			if len(checked) != 1 || checked[0] != tt.wantChecked {
				t.Errorf("checked = %v, want [%s]", checked, tt.wantChecked)
			}
			if labels["method-1"] != "Bank transfer" {
				t.Errorf("label of method-1 = %q", labels["method-1"])
			}
			buttons := find(forms[0], "button", nil)
			if len(buttons) != 1 || !strings.Contains(text(buttons[0]), "Pay USD") {
				t.Errorf("want one submit button naming the amount")
			}
			notices := find(doc, "div", func(n *html.Node) bool { v, _ := attr(n, "id"); return v == "notice" })
			desc, hasDesc := attr(fs[0], "aria-describedby")
			if tt.notice == "" {
				if len(notices) != 0 || hasDesc {
					t.Errorf("no notice expected")
				}
				return
			}
			if len(notices) != 1 || text(notices[0]) != tt.notice {
				t.Errorf("notice not shown")
			}
			if role, _ := attr(notices[0], "role"); role != "alert" {
				t.Errorf("notice role = %q, want alert", role)
			}
			if desc != "notice" {
				t.Errorf("fieldset aria-describedby = %q, want notice", desc)
			}
			if title := text(find(doc, "title", nil)[0]); !strings.HasPrefix(title, "Error: ") {
				t.Errorf("title %q should start with Error: so screen readers hear it first", title)
			}
		})
	}
}

func TestChoosePageWithoutMethods(t *testing.T) {
	r := newRenderer(t)
	p := fullPage(checkout.KindChoose)
	p.Methods = nil
	_, doc := render(t, r, p)
	if len(find(doc, "form", nil)) != 0 {
		t.Errorf("no form expected without methods")
	}
	if !strings.Contains(text(doc), "No payment method can take this payment") {
		t.Errorf("missing explanation")
	}
}

// The pages state what happened in words a shopper understands, and link
// where the brief says they must.
func TestStatusPages(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		kind      checkout.Kind
		mutate    func(*checkout.Page)
		wantText  []string
		wantLinks []string
		noText    []string
	}{
		{kind: checkout.KindPaid, wantText: []string{"Payment received", "USD 49.95", "Acme Hosting"}, wantLinks: []string{"https://shop.example/success"}},
		{kind: checkout.KindPaid, mutate: func(p *checkout.Page) { p.ReturnURL = "" }, wantText: []string{"You can close this page"}},
		{kind: checkout.KindPaid, mutate: func(p *checkout.Page) { p.PartiallyRefunded = true }, wantText: []string{"Part of this payment has since been refunded"}},
		{kind: checkout.KindRefunded, wantText: []string{"refunded in full"}},
		{kind: checkout.KindReview, wantText: []string{"under review", "do not need to pay again"}},
		{kind: checkout.KindFailed, wantText: []string{"Payment failed", "try another method"}, wantLinks: []string{"/checkout/" + testSession, "/checkout/" + testSession + "/cancel"}},
		{kind: checkout.KindExpired, wantText: []string{"expired"}, wantLinks: []string{"https://shop.example/cancel"}},
		{kind: checkout.KindExpired, mutate: func(p *checkout.Page) { p.CancelURL = "" }, wantLinks: []string{"https://shop.example/success"}},
		{kind: checkout.KindCanceled, wantText: []string{"Checkout canceled"}, wantLinks: []string{"https://shop.example/cancel"}},
		{kind: checkout.KindConfirming, wantText: []string{"received, confirming", "updates by itself"}, wantLinks: []string{"https://shop.example/success"}},
		{kind: checkout.KindConfirming, mutate: func(p *checkout.Page) { p.StillWaiting = true }, wantText: []string{"taking longer than usual"}, wantLinks: []string{"/checkout/" + testSession + "/return"}, noText: []string{"updates by itself"}},
		{kind: checkout.KindRedirect, wantLinks: []string{"https://pay.provider.example/p/123"}},
		{kind: checkout.KindNotFound, mutate: func(p *checkout.Page) { *p = checkout.Page{Kind: checkout.KindNotFound} }, wantText: []string{"Checkout not found"}, noText: []string{"Acme"}},
		{kind: checkout.KindError, mutate: func(p *checkout.Page) { *p = checkout.Page{Kind: checkout.KindError} }, wantText: []string{"Something went wrong"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			p := fullPage(tt.kind)
			if tt.mutate != nil {
				tt.mutate(&p)
			}
			_, doc := render(t, r, p)
			body := text(doc)
			for _, w := range tt.wantText {
				if !strings.Contains(body, w) {
					t.Errorf("page text lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tt.noText {
				if strings.Contains(body, w) {
					t.Errorf("page text must not contain %q", w)
				}
			}
			hrefs := map[string]bool{}
			for _, a := range find(doc, "a", nil) {
				h, _ := attr(a, "href")
				hrefs[h] = true
				if text(a) == "" {
					t.Errorf("link %q has no text", h)
				}
			}
			for _, w := range tt.wantLinks {
				if !hrefs[w] {
					t.Errorf("no link to %q (have %v)", w, hrefs)
				}
			}
		})
	}
}

func TestConfirmingRefresh(t *testing.T) {
	r := newRenderer(t)
	p := fullPage(checkout.KindConfirming)
	p.Refresh = &checkout.Refresh{Seconds: 3, URL: checkout.ReturnPollURL(testSession, 4)}
	_, doc := render(t, r, p)
	metas := find(doc, "meta", func(n *html.Node) bool { v, _ := attr(n, "http-equiv"); return v == "refresh" })
	if len(metas) != 1 {
		t.Fatalf("want one refresh meta, got %d", len(metas))
	}
	want := "3; url=/checkout/" + testSession + "/return?poll=4"
	if c, _ := attr(metas[0], "content"); c != want {
		t.Errorf("refresh content = %q, want %q", c, want)
	}

	p.Refresh = nil
	_, doc = render(t, r, p)
	if n := len(find(doc, "meta", func(n *html.Node) bool { v, _ := attr(n, "http-equiv"); return v == "refresh" })); n != 0 {
		t.Errorf("no refresh expected, got %d", n)
	}
}

// Merchant-controlled values are data, never markup or script URLs.
func TestUntrustedValuesAreEscaped(t *testing.T) {
	r := newRenderer(t)
	p := fullPage(checkout.KindPaid)
	p.Merchant = `<img src=x onerror=alert(1)>`
	p.ReturnURL = "javascript:alert(1)"
	raw, doc := render(t, r, p)
	if strings.Contains(raw, "<img") {
		t.Errorf("merchant name was not escaped")
	}
	for _, a := range find(doc, "a", nil) {
		if h, _ := attr(a, "href"); strings.HasPrefix(strings.ToLower(h), "javascript:") {
			t.Errorf("javascript: URL survived as a link")
		}
	}
}

func TestRenderUnknownKind(t *testing.T) {
	r := newRenderer(t)
	var buf bytes.Buffer
	if err := r.Render(&buf, checkout.Page{Kind: "nope"}); err == nil {
		t.Fatal("want an error for an unknown kind")
	}
	if buf.Len() != 0 {
		t.Errorf("nothing may be written on error")
	}
}

func TestAssetHandler(t *testing.T) {
	r := newRenderer(t)
	css, _ := r.AssetPath("checkout.css")
	h := r.AssetHandler()

	get := func(method, path string, hdr map[string]string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	rec := get(http.MethodGet, css, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s = %d", css, rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control = %q, want a year and immutable", cc)
	}
	if !strings.Contains(rec.Body.String(), ":focus-visible") {
		t.Errorf("stylesheet lacks focus styles")
	}
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatalf("no ETag")
	}
	if rec := get(http.MethodGet, css, map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", rec.Code)
	}
	if rec := get(http.MethodHead, css, nil); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD = %d with %d body bytes", rec.Code, rec.Body.Len())
	}
	for _, p := range []string{checkout.AssetsPrefix + "checkout.css", checkout.AssetsPrefix + "nope.css", checkout.AssetsPrefix + "../templates/layout.html", "/elsewhere" + css} {
		if rec := get(http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, rec.Code)
		}
	}
	if rec := get(http.MethodPost, css, nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", rec.Code)
	}
}

func TestFormatAmount(t *testing.T) {
	tests := []struct{ cur, dec, want string }{
		{"USD", "49.95", "USD\u00a049.95"},
		{"JPY", "500", "JPY\u00a0500"},
		{"", "1.00", "1.00"},
	}
	for _, tt := range tests {
		if got := checkout.FormatAmount(tt.cur, tt.dec); got != tt.want {
			t.Errorf("FormatAmount(%q, %q) = %q, want %q", tt.cur, tt.dec, got, tt.want)
		}
	}
}
