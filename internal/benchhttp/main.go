// Command benchhttp is `make bench-http`: black-box throughput and latency
// of the real `switchyard serve` binary, measured with wrk the way an
// operator would, against a bare echo/v4 binary (bareecho) that decodes the
// same JSON, on SQLite and on PostgreSQL. Runs alternate A/B (create,
// bare, then provider-webhook intake) for -pairs pairs; each pair gives a
// ratio, and the verdict is read on the median pair. See docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type options struct {
	switchyard, bare, plugins string
	postgresDSN               string
	dbs                       []string
	pairs                     int
	duration, warmup          time.Duration
	conns, threads            int
	hooks                     bool
	hookEvents                int
	markdown                  string
	keepDir                   bool
}

func main() {
	var o options
	var dbs string
	flag.StringVar(&o.switchyard, "switchyard", "bin/switchyard", "switchyard binary")
	flag.StringVar(&o.bare, "bare", "bin/bench/bareecho", "bare echo binary")
	flag.StringVar(&o.plugins, "plugins", "bin/plugins", "plugin directory (needs the sandbox plugin)")
	flag.StringVar(&o.postgresDSN, "postgres", os.Getenv("SWITCHYARD_TEST_POSTGRES_DSN"), "PostgreSQL DSN (a fresh schema is created and dropped); empty skips PostgreSQL")
	flag.StringVar(&dbs, "dbs", "sqlite,postgres", "databases to measure, comma-separated")
	flag.IntVar(&o.pairs, "pairs", 3, "A/B pairs per database")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each wrk run")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "length of the warm-up run of each binary")
	flag.IntVar(&o.conns, "conns", 32, "wrk connections")
	flag.IntVar(&o.threads, "threads", 2, "wrk threads")
	flag.BoolVar(&o.hooks, "hooks", true, "also measure provider-webhook intake (/hooks) each pair")
	flag.IntVar(&o.hookEvents, "hook-events", 8000, "signed provider events prepared per intake run (each for its own session)")
	flag.StringVar(&o.markdown, "markdown", "var/bench-http.md", "also write the report as Markdown here (empty: no file)")
	flag.BoolVar(&o.keepDir, "keep", false, "keep the working directory (configs, logs, databases)")
	flag.Parse()
	o.dbs = strings.Split(dbs, ",")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-http:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk not found in PATH (make bench-http installs Debian's wrk): %w", err)
	}
	for _, p := range []string{o.switchyard, o.bare, filepath.Join(o.plugins, "sandbox")} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s: %w (run through make bench-http, which builds it)", p, err)
		}
	}
	work, err := os.MkdirTemp("", "switchyard-bench-http-")
	if err != nil {
		return err
	}
	if o.keepDir {
		fmt.Println("working directory:", work)
	} else {
		defer os.RemoveAll(work)
	}
	if err := writeScripts(work); err != nil {
		return err
	}

	rep := &report{started: time.Now().UTC(), commit: gitCommit(), loadStart: loadAvg(), opts: o}
	for _, db := range o.dbs {
		db = strings.TrimSpace(db)
		if db == "postgres" && o.postgresDSN == "" {
			fmt.Println("PostgreSQL: skipped (set SWITCHYARD_TEST_POSTGRES_DSN or -postgres)")
			rep.skipped = append(rep.skipped, "postgres")
			continue
		}
		res, err := benchDB(ctx, o, work, db)
		if err != nil {
			return fmt.Errorf("%s: %w", db, err)
		}
		rep.dbs = append(rep.dbs, res)
	}
	rep.loadEnd = loadAvg()
	out := rep.render()
	fmt.Print("\n" + out)
	if o.markdown != "" {
		if err := os.MkdirAll(filepath.Dir(o.markdown), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.markdown, []byte(out), 0o644); err != nil {
			return err
		}
		fmt.Println("written to", o.markdown)
	}
	if rep.failed() {
		return fmt.Errorf("some runs had non-2xx responses, socket errors or too few prepared events (see above)")
	}
	return nil
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += "-dirty"
	}
	return c
}

// loadAvg is the 1-minute load average from /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
