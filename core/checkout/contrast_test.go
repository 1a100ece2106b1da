package checkout

import (
	"testing"

	"github.com/switchyard/switchyard/internal/wcag"
)

// TestColourContrast checks WCAG 2.1 AA for every foreground/background pair
// the stylesheet uses, in both colour schemes: 4.5:1 for text, 3:1 for
// borders and focus rings (non-text contrast, 1.4.11).
func TestColourContrast(t *testing.T) {
	body, err := staticFS.ReadFile("static/checkout.css")
	if err != nil {
		t.Fatal(err)
	}
	pairs := []wcag.Pair{
		{"text", "panel", wcag.Text}, {"text", "bg", wcag.Text},
		{"muted", "panel", wcag.Text}, {"muted", "bg", wcag.Text},
		{"accent", "panel", wcag.Text}, {"accent-hover", "panel", wcag.Text},
		{"accent-text", "accent", wcag.Text}, {"accent-text", "accent-hover", wcag.Text},
		{"text", "error-bg", wcag.Text},
		{"panel", "success", wcag.Text}, {"panel", "error", wcag.Text},
		{"border", "panel", wcag.NonText}, {"error", "error-bg", wcag.NonText},
		{"focus", "panel", wcag.NonText}, {"focus", "bg", wcag.NonText},
	}
	for _, p := range wcag.Check(string(body), pairs) {
		t.Error(p)
	}
}
