package whmprovisioner

import (
	"crypto/rand"
	"math"
	"math/big"
	"strings"
)

// Password generation. cPanel rates a password 0–100 by estimated entropy
// (Cpanel::PasswdStrength::Check): characters that are not a neighbour
// (same, one code point above or below) of the previous one count log2 of
// the size of the character groups used, neighbours count log2(3), and
// 70 bits or more rate 100. Servers refuse passwords rated below their
// "createacct"/"passwd" minimum, which operators may raise to 100. A
// 20-character password drawn from all four groups below, with no two
// neighbouring characters in a row, carries about 127 bits, so it rates 100
// on every server; it also passes cracklib, being random.
const passwordLength = 20

// Groups the generator draws from. The symbols are cPanel's "symbols" group
// minus characters that are awkward in shells and URLs (no quotes, '#', ';',
// '&', space, backtick).
var passwordGroups = []string{
	"abcdefghijkmnopqrstuvwxyz", // no l: legible in the welcome mail
	"ABCDEFGHJKLMNPQRSTUVWXYZ",  // no I, O
	"23456789",                  // no 0, 1
	"!$%()*+,-./:<=>?{|}~",
}

// generatePassword returns a random password with at least two characters
// of every group and no neighbouring characters in a row.
func generatePassword() (string, error) {
	all := ""
	for _, g := range passwordGroups {
		all += g
	}
	for {
		b := make([]byte, passwordLength)
		for i := range b {
			for {
				c, err := pick(all)
				if err != nil {
					return "", err
				}
				if i == 0 || !neighbours(b[i-1], c) {
					b[i] = c
					break
				}
			}
		}
		pw := string(b)
		if hasEachGroup(pw, 2) {
			return pw, nil
		}
	}
}

func pick(set string) (byte, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
	if err != nil {
		return 0, err
	}
	return set[n.Int64()], nil
}

// neighbours reports whether b follows a as cPanel's pattern check sees it:
// the same character or one code point away.
func neighbours(a, b byte) bool {
	d := int(a) - int(b)
	return d >= -1 && d <= 1
}

func hasEachGroup(pw string, min int) bool {
	for _, g := range passwordGroups {
		n := 0
		for i := 0; i < len(pw); i++ {
			for j := 0; j < len(g); j++ {
				if pw[i] == g[j] {
					n++
				}
			}
		}
		if n < min {
			return false
		}
	}
	return true
}

// cpanelSymbols is cPanel's "symbols" group (22 characters).
const cpanelSymbols = "!$%&()*+,-./:<=>?`{|}~"

// PasswordStrength rates pw the way cPanel's entropy estimate does (0–100),
// without cPanel's dictionary checks. The WHM test fake uses it to refuse
// weak passwords like a real server; it is exported for that.
func PasswordStrength(pw string) int {
	if pw == "" {
		return 0
	}
	if len(pw) < 4 {
		return 1
	}
	const (
		digits = 1 << iota
		lowerAF
		lowerGZ
		upperAF
		upperGZ
		symbols
		otherSymbols
		space
	)
	used := 0
	different, pattern := 0, 0
	for i := 0; i < len(pw); i++ {
		c := pw[i]
		if i == 0 || !neighbours(pw[i-1], c) {
			different++
		} else {
			pattern++
		}
		switch {
		case c >= '0' && c <= '9':
			used |= digits
		case c >= 'a' && c <= 'f':
			used |= lowerAF
		case c >= 'g' && c <= 'z':
			used |= lowerAF | lowerGZ
		case c >= 'A' && c <= 'F':
			used |= upperAF
		case c >= 'G' && c <= 'Z':
			used |= upperAF | upperGZ
		case c == ' ':
			used |= space
		case strings.IndexByte(cpanelSymbols, c) >= 0:
			used |= symbols
		case c == '"' || c == '#' || c == '\'' || c == ';':
			used |= otherSymbols
		default:
			// Anything outside the groups makes cPanel count every group.
			used = math.MaxInt32
		}
	}
	size := 0
	for _, g := range []struct{ bit, n int }{
		{digits, 10}, {lowerAF, 6}, {lowerGZ, 20}, {upperAF, 6}, {upperGZ, 20},
		{symbols, 22}, {otherSymbols, 4}, {space, 1},
	} {
		if used&g.bit != 0 {
			size += g.n
		}
	}
	entropy := float64(different)*math.Log2(float64(size)) + float64(pattern)*math.Log2(3)
	const threshold = 70
	if entropy > threshold {
		return 100
	}
	return int(100 * entropy / threshold)
}
