// Package wcag checks the colour contrast of the stylesheets the browser
// pages ship (hosted checkout, operator console) against WCAG 2.1: the
// contrast ratio of two sRGB colours, and the custom properties of a
// stylesheet's :root blocks, per colour scheme.
package wcag

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Minimum ratios: 4.5:1 for text (1.4.3 AA), 3:1 for borders, focus rings
// and other non-text parts (1.4.11).
const (
	Text    = 4.5
	NonText = 3.0
)

// Scheme names a colour scheme and where its :root block starts: "" for
// the first (light) block, a media query for others.
type Scheme struct {
	Name, Marker string
}

// Schemes are the light scheme and the prefers-color-scheme: dark one.
var Schemes = []Scheme{{"light", ""}, {"dark", "@media (prefers-color-scheme: dark)"}}

var varRe = regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-fA-F]{6})`)

// Vars returns the #rrggbb custom properties of the first :root block
// after marker.
func Vars(css, marker string) (map[string]string, error) {
	start := 0
	if marker != "" {
		start = strings.Index(css, marker)
		if start < 0 {
			return nil, fmt.Errorf("stylesheet has no %q", marker)
		}
	}
	i := strings.Index(css[start:], ":root {")
	if i < 0 {
		return nil, fmt.Errorf("no :root block after %q", marker)
	}
	block := css[start+i:]
	block = block[:strings.Index(block, "}")]
	vars := map[string]string{}
	for _, m := range varRe.FindAllStringSubmatch(block, -1) {
		vars[m[1]] = m[2]
	}
	return vars, nil
}

// Contrast is the WCAG contrast ratio of two #rrggbb colours.
func Contrast(a, b string) (float64, error) {
	la, err := luminance(a)
	if err != nil {
		return 0, err
	}
	lb, err := luminance(b)
	if err != nil {
		return 0, err
	}
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05), nil
}

func luminance(hex string) (float64, error) {
	if len(hex) != 7 || hex[0] != '#' {
		return 0, fmt.Errorf("bad colour %q", hex)
	}
	var c [3]float64
	for i := range 3 {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return 0, fmt.Errorf("bad colour %q", hex)
		}
		s := float64(v) / 255
		if s <= 0.04045 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2], nil
}

// Pair is a foreground and background custom property and the ratio they
// must reach.
type Pair struct {
	FG, BG string
	Min    float64
}

// Check returns one message per pair that falls short (or names a missing
// property), in every scheme.
func Check(css string, pairs []Pair) []string {
	var problems []string
	for _, sc := range Schemes {
		vars, err := Vars(css, sc.Marker)
		if err != nil {
			problems = append(problems, sc.Name+": "+err.Error())
			continue
		}
		for _, p := range pairs {
			fg, bg := vars[p.FG], vars[p.BG]
			if fg == "" || bg == "" {
				problems = append(problems, fmt.Sprintf("%s: --%s or --%s is not a #rrggbb colour", sc.Name, p.FG, p.BG))
				continue
			}
			got, err := Contrast(fg, bg)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			if got < p.Min {
				problems = append(problems, fmt.Sprintf("%s: --%s %s on --%s %s has contrast %.2f, want >= %.1f", sc.Name, p.FG, fg, p.BG, bg, got, p.Min))
			}
		}
	}
	return problems
}
