package console

import (
	"testing"

	"github.com/switchyard/switchyard/internal/wcag"
)

// TestColourContrast checks WCAG 2.1 AA for every foreground/background
// pair console.css uses, in both colour schemes.
func TestColourContrast(t *testing.T) {
	body, err := staticFS.ReadFile("static/console.css")
	if err != nil {
		t.Fatal(err)
	}
	pairs := []wcag.Pair{
		// text on the page, panels, code blocks and table heads
		{"text", "bg", wcag.Text}, {"text", "panel", wcag.Text}, {"text", "code-bg", wcag.Text},
		{"muted", "bg", wcag.Text}, {"muted", "panel", wcag.Text}, {"muted", "code-bg", wcag.Text},
		// links and buttons
		{"accent", "panel", wcag.Text}, {"accent", "bg", wcag.Text}, {"accent-hover", "panel", wcag.Text},
		{"accent", "code-bg", wcag.Text}, {"accent-hover", "code-bg", wcag.Text},
		{"accent-text", "accent", wcag.Text}, {"accent-text", "accent-hover", wcag.Text},
		{"panel", "error", wcag.Text},
		// navigation
		{"nav-text", "nav-bg", wcag.Text}, {"nav-active", "nav-bg", wcag.Text},
		// notices and badges
		{"text", "ok-bg", wcag.Text}, {"text", "warn-bg", wcag.Text}, {"text", "error-bg", wcag.Text},
		{"ok", "panel", wcag.Text}, {"warn", "panel", wcag.Text}, {"error", "panel", wcag.Text},
		{"ok", "code-bg", wcag.Text}, {"warn", "code-bg", wcag.Text}, {"error", "code-bg", wcag.Text},
		// borders and focus rings
		{"border", "panel", wcag.NonText}, {"focus", "panel", wcag.NonText}, {"focus", "bg", wcag.NonText},
		{"nav-active", "nav-bg", wcag.NonText}, {"ok", "ok-bg", wcag.NonText}, {"warn", "warn-bg", wcag.NonText},
		{"error", "error-bg", wcag.NonText},
	}
	for _, p := range wcag.Check(string(body), pairs) {
		t.Error(p)
	}
}
