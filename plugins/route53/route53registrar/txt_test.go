package route53registrar

import (
	"strings"
	"testing"
)

func TestMergeSPF(t *testing.T) {
	for _, tc := range []struct{ existing, add, want string }{
		{"v=spf1 -all", "v=spf1 include:mxlogin.com ~all", "v=spf1 include:mxlogin.com -all"},
		{"v=spf1 include:_spf.google.com ~all", "v=spf1 include:mxlogin.com ~all", "v=spf1 include:_spf.google.com include:mxlogin.com ~all"},
		{"v=spf1 include:mxlogin.com ~all", "v=spf1 include:mxlogin.com ~all", "v=spf1 include:mxlogin.com ~all"},
		{"v=spf1 INCLUDE:MXLOGIN.COM ~all", "v=spf1 include:mxlogin.com ~all", "v=spf1 INCLUDE:MXLOGIN.COM ~all"},
		{"v=spf1 mx", "v=spf1 include:mxlogin.com ~all", "v=spf1 mx include:mxlogin.com ~all"},
		{"v=spf1 mx redirect=_spf.example.com", "v=spf1 include:mxlogin.com ~all", "v=spf1 mx include:mxlogin.com redirect=_spf.example.com"},
		{"v=spf1 a ?all exp=explain.example.com", "v=spf1 ip4:192.0.2.1 -all", "v=spf1 a ip4:192.0.2.1 ?all exp=explain.example.com"},
		{"v=spf1", "v=spf1 include:mxlogin.com ~all", "v=spf1 include:mxlogin.com ~all"},
	} {
		if got := mergeSPF(tc.existing, tc.add); got != tc.want {
			t.Errorf("mergeSPF(%q, %q) = %q, want %q", tc.existing, tc.add, got, tc.want)
		}
	}
}

func TestIsSPF(t *testing.T) {
	for v, want := range map[string]bool{
		"v=spf1 -all": true, "V=SPF1 mx": true, "v=spf1": true, "v=spf10 mx": false,
		"v=DMARC1; p=none": false, "spf1": false,
	} {
		if isSPF(v) != want {
			t.Errorf("isSPF(%q) = %v", v, !want)
		}
	}
}

func TestTXTQuoting(t *testing.T) {
	long := strings.Repeat("a", 600)
	for _, text := range []string{"", "v=spf1 -all", `say "hi" \ bye`, long} {
		q := quoteTXT(text)
		if got := unquoteTXT(q); got != text {
			t.Errorf("round trip of %.40q: %.40q", text, got)
		}
		for _, part := range strings.Split(q, `" "`) {
			if n := len(strings.Trim(part, `"`)); n > maxTXTString {
				t.Errorf("a %d-character string in %.40q", n, q)
			}
		}
	}
	if got := quoteTXT(long); strings.Count(got, `"`) != 6 {
		t.Errorf("600 characters should be three strings: %.80q", got)
	}
	if got := unquoteTXT(`"caf\303\251" plain`); got != "café"+"plain" {
		t.Errorf("unquote with octal escapes = %q", got)
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{"Bücher.COM.": "xn--bcher-kva.com", " shop.co.uk ": "shop.co.uk"} {
		if got, err := normalizeDomain(in, "domain"); err != nil || got != want {
			t.Errorf("normalizeDomain(%q) = %q, %v", in, got, err)
		}
	}
	for in, want := range map[string]string{"@": "shop.com.", "": "shop.com.", "WWW": "www.shop.com.", "*.dev": "*.dev.shop.com.", "mail._domainkey": "mail._domainkey.shop.com.", "api.shop.com.": "api.shop.com.", "shop.com.": "shop.com."} {
		if got, err := recordFQDN(in, "shop.com"); err != nil || got != want {
			t.Errorf("recordFQDN(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"a..b", "dev.*", "bad name", "x.other.com."} {
		if _, err := recordFQDN(bad, "shop.com"); err == nil {
			t.Errorf("recordFQDN(%q) accepted", bad)
		}
	}
	if got := relativeName(`\052.dev.shop.com.`, "shop.com"); got != "*.dev" {
		t.Errorf("relativeName = %q", got)
	}
}
