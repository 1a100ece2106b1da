package checkout

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// cssVars extracts the custom properties of the first :root block after
// marker ("" for the light scheme, the dark media query for the dark one).
func cssVars(t *testing.T, css, marker string) map[string]string {
	t.Helper()
	start := 0
	if marker != "" {
		start = strings.Index(css, marker)
		if start < 0 {
			t.Fatalf("stylesheet has no %q", marker)
		}
	}
	i := strings.Index(css[start:], ":root {")
	if i < 0 {
		t.Fatalf("no :root block after %q", marker)
	}
	block := css[start+i:]
	block = block[:strings.Index(block, "}")]
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-fA-F]{6})`).FindAllStringSubmatch(block, -1) {
		vars[m[1]] = m[2]
	}
	return vars
}

func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	var c [3]float64
	for i := range 3 {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatalf("bad colour %q", hex)
		}
		s := float64(v) / 255
		if s <= 0.04045 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func contrast(t *testing.T, a, b string) float64 {
	t.Helper()
	la, lb := luminance(t, a), luminance(t, b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// TestColourContrast checks WCAG 2.1 AA for every foreground/background pair
// the stylesheet uses, in both colour schemes: 4.5:1 for text, 3:1 for
// borders and focus rings (non-text contrast, 1.4.11).
func TestColourContrast(t *testing.T) {
	body, err := staticFS.ReadFile("static/checkout.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(body)
	pairs := []struct {
		fg, bg string
		min    float64
	}{
		{"text", "panel", 4.5}, {"text", "bg", 4.5},
		{"muted", "panel", 4.5}, {"muted", "bg", 4.5},
		{"accent", "panel", 4.5}, {"accent-hover", "panel", 4.5},
		{"accent-text", "accent", 4.5}, {"accent-text", "accent-hover", 4.5},
		{"text", "error-bg", 4.5},
		{"panel", "success", 4.5}, {"panel", "error", 4.5},
		{"border", "panel", 3}, {"error", "error-bg", 3},
		{"focus", "panel", 3}, {"focus", "bg", 3},
	}
	for _, scheme := range []struct{ name, marker string }{
		{"light", ""},
		{"dark", "@media (prefers-color-scheme: dark)"},
	} {
		vars := cssVars(t, css, scheme.marker)
		for _, p := range pairs {
			fg, bg := vars[p.fg], vars[p.bg]
			if fg == "" || bg == "" {
				t.Errorf("%s: --%s or --%s is not a #rrggbb colour", scheme.name, p.fg, p.bg)
				continue
			}
			if got := contrast(t, fg, bg); got < p.min {
				t.Errorf("%s: --%s %s on --%s %s has contrast %.2f, want >= %.1f", scheme.name, p.fg, fg, p.bg, bg, got, p.min)
			}
		}
	}
}
