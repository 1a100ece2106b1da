package sandbox_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/wcag"
)

// The pay page shows whom the shopper pays and how much, in the hosted
// checkout's layout, and none of Switchyard's or the sandbox's internal
// ids; its only style is the inlined stylesheet its CSP allows by hash.
func TestPayPageContent(t *testing.T) {
	p := configured(t, newClock())
	for _, tc := range []struct {
		merchant, want string
	}{
		{"Hosted <Books> & Co", "Hosted &lt;Books&gt; &amp; Co"},
		{"", ""},
	} {
		req := paymentRequest("cs_pagecontent" + strings.Repeat("x", len(tc.merchant)))
		req.MerchantName = tc.merchant
		created, err := p.CreatePayment(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		page := payPage(t, p, created)
		body := string(page.Body)
		if tc.want != "" && !strings.Contains(body, `<p class="merchant">`+tc.want+`</p>`) {
			t.Errorf("merchant %q not shown escaped in the summary:\n%s", tc.merchant, body)
		}
		if tc.want == "" && strings.Contains(body, `class="merchant"`) {
			t.Errorf("an empty merchant name still renders the summary")
		}
		for _, want := range []string{`<main class="panel"`, `<span class="amount">49.95 USD</span>`, "Test payment by card", "no money moves"} {
			if tc.want != "" && !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		// Ids may be in hidden form fields and the action, not in text.
		text := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(body, " ")
		if ids := regexp.MustCompile(`\b(sbx|cs)_[A-Za-z0-9]+`).FindAllString(text, -1); len(ids) > 0 {
			t.Errorf("page text shows internal ids %v", ids)
		}
		style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(body)
		if style == nil {
			t.Fatal("no inline stylesheet")
		}
		sum := sha256.Sum256([]byte(style[1]))
		csp := page.Headers.Get("Content-Security-Policy")
		if !strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("CSP %q does not allow exactly the inlined stylesheet", csp)
		}
	}
	// A link edited to name another shop fails its signature.
	req := paymentRequest("cs_renamed")
	req.MerchantName = "Real Shop"
	created, err := p.CreatePayment(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	created.NextAction.URL = strings.Replace(created.NextAction.URL, "merchant=Real+Shop", "merchant=Evil+Shop", 1)
	if page := payPage(t, p, created); page.Status != 400 {
		t.Errorf("edited merchant name: status %d, want 400", page.Status)
	}
}

// TestPageContrast checks WCAG 2.1 AA for the page's colour pairs in both
// schemes: 4.5:1 for text, 3:1 for borders and focus rings.
func TestPageContrast(t *testing.T) {
	css, err := os.ReadFile("page.css")
	if err != nil {
		t.Fatal(err)
	}
	pairs := []wcag.Pair{
		{FG: "text", BG: "panel", Min: wcag.Text}, {FG: "text", BG: "bg", Min: wcag.Text},
		{FG: "muted", BG: "panel", Min: wcag.Text}, {FG: "muted", BG: "bg", Min: wcag.Text},
		{FG: "accent-text", BG: "accent", Min: wcag.Text}, {FG: "accent-text", BG: "accent-hover", Min: wcag.Text},
		{FG: "text", BG: "note-bg", Min: wcag.Text}, {FG: "note-border", BG: "note-bg", Min: wcag.NonText},
		{FG: "border", BG: "panel", Min: wcag.NonText}, {FG: "text", BG: "panel", Min: wcag.NonText},
		{FG: "focus", BG: "panel", Min: wcag.NonText}, {FG: "focus", BG: "bg", Min: wcag.NonText},
	}
	for _, p := range wcag.Check(string(css), pairs) {
		t.Error(p)
	}
}
