package whmprovisioner

import (
	"strings"
	"testing"
)

func TestGeneratedPasswordsMeetCPanelsRules(t *testing.T) {
	seen := map[string]bool{}
	for range 300 {
		pw, err := generatePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != passwordLength || seen[pw] {
			t.Fatalf("password %q: length %d, repeated %v", pw, len(pw), seen[pw])
		}
		seen[pw] = true
		if s := PasswordStrength(pw); s != 100 {
			t.Errorf("%q rates %d, want 100", pw, s)
		}
		if !hasEachGroup(pw, 2) {
			t.Errorf("%q lacks a character group", pw)
		}
		for i := 1; i < len(pw); i++ {
			if neighbours(pw[i-1], pw[i]) {
				t.Errorf("%q has neighbouring characters at %d", pw, i)
			}
		}
		if strings.ContainsAny(pw, "\"'#;&` \\") {
			t.Errorf("%q contains a character awkward in shells or URLs", pw)
		}
	}
}

func TestPasswordStrength(t *testing.T) {
	cases := []struct {
		pw       string
		min, max int
	}{
		{"", 0, 0},
		{"abc", 1, 1},
		{"aaaaaaaaaaaa", 0, 30},          // all repeats: pattern entropy only
		{"abcdefghijklmnop", 0, 40},      // a run of neighbours
		{"luggage12", 40, 64},            // below a 65 minimum
		{"Kx7!mQ2#vR9$wT4%zL", 100, 100}, // mixed groups, 18 characters
		{"correct horse battery", 100, 100},
	}
	for _, tc := range cases {
		if got := PasswordStrength(tc.pw); got < tc.min || got > tc.max {
			t.Errorf("PasswordStrength(%q) = %d, want %d..%d", tc.pw, got, tc.min, tc.max)
		}
	}
}
