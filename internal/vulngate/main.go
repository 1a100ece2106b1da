// Command vulngate reads govulncheck's JSON stream (govulncheck -format json)
// on stdin and decides whether `make vuln` passes: it fails on every
// vulnerability whose vulnerable code Switchyard's code calls (a symbol-level
// finding, what govulncheck's text mode reports as "affected"), except the
// advisories named with -accept. An advisory is accepted only with a written
// reason (docs/decisions.md); the gate prints the accepted ones on every run
// so they stay visible, and says when an accepted one is no longer reported
// so the acceptance can be dropped.
//
// govulncheck has no way to acknowledge an advisory itself, and its text
// mode exits 3 on any finding, so without this gate a single unfixable
// advisory would keep `make vuln` red and hide new ones.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	var accept multiFlag
	flag.Var(&accept, "accept", "an advisory id (GO-YYYY-NNNN) whose findings do not fail the gate; repeatable")
	flag.Parse()
	ok, err := gate(os.Stdin, os.Stdout, accept)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }

func (m *multiFlag) Set(v string) error {
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*m = append(*m, id)
		}
	}
	return nil
}

// gate reports the findings read from r to w and whether the scan passes.
func gate(r io.Reader, w io.Writer, accept []string) (bool, error) {
	scan, err := readScan(r)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(w, "govulncheck %s, database %s, %s\n", scan.config.ScannerVersion, scan.config.DB, scan.config.GoVersion)

	accepted := map[string]bool{}
	for _, id := range accept {
		accepted[id] = true
	}
	var failing []string
	seenAccepted := map[string]bool{}
	for _, id := range scan.calledIDs() {
		if accepted[id] {
			seenAccepted[id] = true
			fmt.Fprintf(w, "accepted: %s %s (called, no fix; see docs/decisions.md)\n", id, scan.summary(id))
			continue
		}
		failing = append(failing, id)
	}
	for _, id := range accept {
		if !seenAccepted[id] {
			fmt.Fprintf(w, "note: accepted advisory %s is no longer reported; drop it from the accept list\n", id)
		}
	}
	for _, id := range failing {
		f := scan.firstCalled[id]
		fmt.Fprintf(w, "VULNERABLE: %s %s\n  found in %s@%s, fixed in %s\n  reached through %s\n",
			id, scan.summary(id), f.Trace[0].Module, f.Trace[0].Version, orNone(f.FixedVersion), f.describe())
	}
	if len(failing) > 0 {
		fmt.Fprintf(w, "%d vulnerabilities reached by Switchyard's code; upgrade (govulncheck ./... shows every trace)\n", len(failing))
		return false, nil
	}
	fmt.Fprintf(w, "no unaccepted vulnerability reached (%d advisories in imported or required code not called)\n", scan.uncalledCount())
	return true, nil
}

func orNone(s string) string {
	if s == "" {
		return "no release"
	}
	return s
}
