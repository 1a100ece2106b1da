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
		{FG: "text", BG: "panel", Min: wcag.Text}, {FG: "text", BG: "bg", Min: wcag.Text},
		{FG: "muted", BG: "panel", Min: wcag.Text}, {FG: "muted", BG: "bg", Min: wcag.Text},
		{FG: "accent", BG: "panel", Min: wcag.Text}, {FG: "accent-hover", BG: "panel", Min: wcag.Text},
		{FG: "accent-text", BG: "accent", Min: wcag.Text}, {FG: "accent-text", BG: "accent-hover", Min: wcag.Text},
		{FG: "text", BG: "error-bg", Min: wcag.Text},
		{FG: "panel", BG: "success", Min: wcag.Text}, {FG: "panel", BG: "error", Min: wcag.Text},
		{FG: "border", BG: "panel", Min: wcag.NonText}, {FG: "error", BG: "error-bg", Min: wcag.NonText},
		{FG: "focus", BG: "panel", Min: wcag.NonText}, {FG: "focus", BG: "bg", Min: wcag.NonText},
	}
	for _, p := range wcag.Check(string(body), pairs) {
		t.Error(p)
	}
}
