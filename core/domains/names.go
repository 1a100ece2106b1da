package domains

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/net/idna"

	"github.com/switchyard/switchyard/core/domain"
)

// nameProfile is IDNA2008 lookup processing (UTS #46 mapping: case folded,
// full-width characters mapped) with the checks a registry applies: bidi
// rules, hyphens, label and name lengths.
var nameProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.CheckHyphens(true),
	idna.VerifyDNSLength(true),
	idna.StrictDomainName(true),
	idna.Transitional(false),
)

// NormalizeName turns a domain name as a shopper typed it into the form
// registrars and DNS take: lower-case ASCII, IDN labels in punycode
// ("Bücher.com" → "xn--bcher-kva.com"), no trailing dot. It needs at least
// two labels and no wildcard.
func NormalizeName(name string) (string, error) {
	n := strings.TrimSuffix(strings.TrimSpace(name), ".")
	if n == "" {
		return "", fmt.Errorf("domain name is empty")
	}
	ascii, err := nameProfile.ToASCII(n)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid domain name: %w", name, err)
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return "", fmt.Errorf("%q has no top-level domain", name)
	}
	if tld := labels[len(labels)-1]; !isLetters(tld) && !strings.HasPrefix(tld, "xn--") {
		return "", fmt.Errorf("%q: top-level domain %q is not a registrable TLD", name, tld)
	}
	return ascii, nil
}

// DisplayName is the Unicode form of a normalized name, for people.
func DisplayName(ascii string) string {
	u, err := idna.ToUnicode(ascii)
	if err != nil {
		return ascii
	}
	return u
}

// TLD is the last label of a normalized name.
func TLD(ascii string) string { return ascii[strings.LastIndexByte(ascii, '.')+1:] }

// supportsTLD reports whether tlds (as a product configures them: "com",
// ".com", "COM", "bücher") lists the TLD of the normalized name. A product
// with no tlds sells none.
func supportsTLD(tlds []string, ascii string) bool {
	tld := TLD(ascii)
	return slices.ContainsFunc(tlds, func(t string) bool {
		t = strings.TrimPrefix(strings.TrimSpace(t), ".")
		if a, err := nameProfile.ToASCII("x." + t); err == nil {
			t = strings.TrimPrefix(a, "x.")
		}
		return strings.EqualFold(t, tld)
	})
}

func isLetters(s string) bool {
	for _, c := range s {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// invalidName is the input error for a name NormalizeName refused.
func invalidName(field string, err error) *domain.Error {
	return domain.Invalid("invalid_domain", field, "%v", err)
}
