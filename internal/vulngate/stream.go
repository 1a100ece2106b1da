package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// message is one value of govulncheck's JSON stream; exactly one field is
// set. Only the fields the gate reads are declared.
type message struct {
	Config  *config  `json:"config,omitempty"`
	OSV     *osv     `json:"osv,omitempty"`
	Finding *finding `json:"finding,omitempty"`
}

type config struct {
	ScannerVersion string `json:"scanner_version"`
	DB             string `json:"db"`
	GoVersion      string `json:"go_version"`
	ScanLevel      string `json:"scan_level"`
}

type osv struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

// frame is one step of a finding's trace; the first is the vulnerable
// symbol (or only its package or module when the code is not called), the
// last the Switchyard code that leads there.
type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
}

func (f frame) symbol() string {
	name := f.Function
	if f.Receiver != "" {
		name = strings.TrimPrefix(f.Receiver, "*") + "." + name
	}
	return f.Package + "." + name
}

// called reports a symbol-level finding: the vulnerable function is reachable
// from Switchyard's code.
func (f *finding) called() bool { return len(f.Trace) > 0 && f.Trace[0].Function != "" }

func (f *finding) describe() string {
	if len(f.Trace) == 0 {
		return "?"
	}
	return f.Trace[len(f.Trace)-1].symbol() + " -> " + f.Trace[0].symbol()
}

type scan struct {
	config      config
	summaries   map[string]string
	firstCalled map[string]*finding
	uncalled    map[string]bool
}

func readScan(r io.Reader) (*scan, error) {
	s := &scan{summaries: map[string]string{}, firstCalled: map[string]*finding{}, uncalled: map[string]bool{}}
	dec := json.NewDecoder(r)
	sawConfig := false
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading govulncheck JSON: %w", err)
		}
		switch {
		case m.Config != nil:
			s.config, sawConfig = *m.Config, true
		case m.OSV != nil:
			s.summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil:
			f := m.Finding
			if f.called() {
				if _, ok := s.firstCalled[f.OSV]; !ok {
					s.firstCalled[f.OSV] = f
				}
			} else {
				s.uncalled[f.OSV] = true
			}
		}
	}
	// An empty or truncated stream (govulncheck failed to start, the
	// database was unreachable) must not read as "no vulnerabilities".
	if !sawConfig {
		return nil, errors.New("no govulncheck config message: the scan did not run")
	}
	if s.config.ScanLevel != "" && s.config.ScanLevel != "symbol" {
		return nil, fmt.Errorf("scan level %q: the gate needs symbol-level results", s.config.ScanLevel)
	}
	return s, nil
}

func (s *scan) calledIDs() []string {
	ids := make([]string, 0, len(s.firstCalled))
	for id := range s.firstCalled {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (s *scan) uncalledCount() int {
	n := 0
	for id := range s.uncalled {
		if _, called := s.firstCalled[id]; !called {
			n++
		}
	}
	return n
}

func (s *scan) summary(id string) string {
	if sum := s.summaries[id]; sum != "" {
		return "(" + sum + ")"
	}
	return ""
}
