package main

import (
	"strings"
	"testing"
)

const cfg = `{"config":{"scanner_name":"govulncheck","scanner_version":"v1.10.0","db":"file:///tmp/db","go_version":"go1.26.10","scan_level":"symbol"}}
`

func findingLine(id, pkg, fn string) string {
	return `{"finding":{"osv":"` + id + `","fixed_version":"v1.2.3","trace":[{"module":"example.com/m","version":"v1.0.0","package":"` + pkg +
		`","function":"` + fn + `"},{"module":"github.com/switchyard/switchyard","package":"github.com/switchyard/switchyard/core/x","function":"Run"}]}}
`
}

func TestGate(t *testing.T) {
	osvs := `{"osv":{"id":"GO-2026-0001","summary":"bad thing"}}
{"osv":{"id":"GO-2026-0002","summary":"other thing"}}
`
	tests := []struct {
		name     string
		stream   string
		accept   []string
		wantOK   bool
		wantErr  bool
		contains []string
	}{
		{name: "clean", stream: cfg + osvs, wantOK: true, contains: []string{"go1.26.10", "no unaccepted"}},
		{name: "called fails", stream: cfg + osvs + findingLine("GO-2026-0001", "example.com/m/p", "F"),
			contains: []string{"VULNERABLE: GO-2026-0001 (bad thing)", "fixed in v1.2.3", "core/x.Run -> example.com/m/p.F"}},
		{name: "imported but not called passes", stream: cfg + osvs + findingLine("GO-2026-0001", "example.com/m/p", ""),
			wantOK: true, contains: []string{"1 advisories in imported or required code not called"}},
		{name: "accepted passes and is shown", stream: cfg + osvs + findingLine("GO-2026-0001", "example.com/m/p", "F"),
			accept: []string{"GO-2026-0001"}, wantOK: true, contains: []string{"accepted: GO-2026-0001"}},
		{name: "accepting one does not accept another", stream: cfg + osvs + findingLine("GO-2026-0001", "example.com/m/p", "F") + findingLine("GO-2026-0002", "example.com/m/q", "G"),
			accept: []string{"GO-2026-0001"}, contains: []string{"VULNERABLE: GO-2026-0002", "accepted: GO-2026-0001"}},
		{name: "stale acceptance is pointed out", stream: cfg + osvs, accept: []string{"GO-2026-0009"}, wantOK: true,
			contains: []string{"GO-2026-0009 is no longer reported"}},
		{name: "empty stream is an error", stream: "", wantErr: true},
		{name: "garbage is an error", stream: cfg + "{not json", wantErr: true},
		{name: "package level scan refused", stream: strings.Replace(cfg, `"symbol"`, `"package"`, 1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			ok, err := gate(strings.NewReader(tt.stream), &out, tt.accept)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v; output:\n%s", ok, tt.wantOK, out.String())
			}
			for _, s := range tt.contains {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
		})
	}
}
