package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what the scripts' done() prints on the BENCH line.
type wrkResult struct {
	Requests      int64 `json:"requests"`
	DurationUS    int64 `json:"duration_us"`
	StatusErrors  int64 `json:"status_errors"` // responses >= 400 (wrk's own count)
	ConnectErrors int64 `json:"connect_errors"`
	ReadErrors    int64 `json:"read_errors"`
	WriteErrors   int64 `json:"write_errors"`
	Timeouts      int64 `json:"timeouts"`
	P50US         int64 `json:"p50_us"`
	P90US         int64 `json:"p90_us"`
	P99US         int64 `json:"p99_us"`
	MaxUS         int64 `json:"max_us"`
	Exhausted     int64 `json:"exhausted"`

	load string // 1-minute load average when the run ended
}

func (r wrkResult) rps() float64 {
	if r.DurationUS == 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

// bad counts responses that were not a success and requests that got no
// response at all.
func (r wrkResult) bad() int64 {
	return r.StatusErrors + r.ConnectErrors + r.ReadErrors + r.WriteErrors + r.Timeouts
}

func (r wrkResult) valid() bool { return r.bad() == 0 && r.Exhausted == 0 && r.Requests > 0 }

func ms(us int64) string { return strconv.FormatFloat(float64(us)/1000, 'f', 1, 64) }

// runWrk drives url with script for d and returns the parsed result.
func runWrk(ctx context.Context, o options, work string, d time.Duration, url, script string, args ...string) (wrkResult, error) {
	cmdArgs := []string{
		"-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.conns), "-d", d.String(),
		"--timeout", "5s", "-s", filepath.Join(work, script), url, "--",
	}
	cmd := exec.CommandContext(ctx, "wrk", append(cmdArgs, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s%s", err, stdout.String(), stderr.String())
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "BENCH "); ok {
			var r wrkResult
			if err := json.Unmarshal([]byte(v), &r); err != nil {
				return wrkResult{}, fmt.Errorf("wrk result %q: %w", v, err)
			}
			r.load = loadAvg()
			return r, nil
		}
	}
	return wrkResult{}, fmt.Errorf("wrk printed no result line:\n%s%s", stdout.String(), stderr.String())
}
