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
		{FG: "text", BG: "bg", Min: wcag.Text}, {FG: "text", BG: "panel", Min: wcag.Text}, {FG: "text", BG: "code-bg", Min: wcag.Text},
		{FG: "muted", BG: "bg", Min: wcag.Text}, {FG: "muted", BG: "panel", Min: wcag.Text}, {FG: "muted", BG: "code-bg", Min: wcag.Text},
		// links and buttons
		{FG: "accent", BG: "panel", Min: wcag.Text}, {FG: "accent", BG: "bg", Min: wcag.Text}, {FG: "accent-hover", BG: "panel", Min: wcag.Text},
		{FG: "accent", BG: "code-bg", Min: wcag.Text}, {FG: "accent-hover", BG: "code-bg", Min: wcag.Text},
		{FG: "accent-text", BG: "accent", Min: wcag.Text}, {FG: "accent-text", BG: "accent-hover", Min: wcag.Text},
		{FG: "panel", BG: "error", Min: wcag.Text},
		// navigation
		{FG: "nav-text", BG: "nav-bg", Min: wcag.Text}, {FG: "nav-active", BG: "nav-bg", Min: wcag.Text},
		// notices and badges
		{FG: "text", BG: "ok-bg", Min: wcag.Text}, {FG: "text", BG: "warn-bg", Min: wcag.Text}, {FG: "text", BG: "error-bg", Min: wcag.Text},
		{FG: "ok", BG: "panel", Min: wcag.Text}, {FG: "warn", BG: "panel", Min: wcag.Text}, {FG: "error", BG: "panel", Min: wcag.Text},
		{FG: "ok", BG: "code-bg", Min: wcag.Text}, {FG: "warn", BG: "code-bg", Min: wcag.Text}, {FG: "error", BG: "code-bg", Min: wcag.Text},
		// borders and focus rings
		{FG: "border", BG: "panel", Min: wcag.NonText}, {FG: "focus", BG: "panel", Min: wcag.NonText}, {FG: "focus", BG: "bg", Min: wcag.NonText},
		{FG: "nav-active", BG: "nav-bg", Min: wcag.NonText}, {FG: "ok", BG: "ok-bg", Min: wcag.NonText}, {FG: "warn", BG: "warn-bg", Min: wcag.NonText},
		{FG: "error", BG: "error-bg", Min: wcag.NonText},
	}
	for _, p := range wcag.Check(string(body), pairs) {
		t.Error(p)
	}
}
