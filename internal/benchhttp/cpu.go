package main

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/testbin"
)

// cpuUse is CPU time (user + system) consumed so far by serve and by the
// PostgreSQL backends serving serve's connections. Requests per second
// move with whatever else runs on a shared host; CPU per request much
// less, so each create run also reports it (docs/benchmarks.md).
type cpuUse struct {
	serve    time.Duration
	backends map[int]time.Duration // by backend pid
	ok       bool                  // false when /proc could not be read (not Linux)
}

// cpuDelta is the CPU used between two samples.
type cpuDelta struct {
	serve, backends time.Duration
	// backendsPartial: a backend ended between the samples (the pool
	// closed a connection), so its CPU in between is unknown and backends
	// is a lower bound. Subtracting totals instead gave negative figures.
	backendsPartial bool
	ok              bool
}

// sub is the CPU used from o to c: a backend counts from its CPU in o, or
// from zero when it started after o.
func (c cpuUse) sub(o cpuUse) cpuDelta {
	d := cpuDelta{serve: c.serve - o.serve, ok: c.ok && o.ok}
	for pid, t := range c.backends {
		d.backends += t - o.backends[pid]
	}
	for pid := range o.backends {
		if _, ok := c.backends[pid]; !ok {
			d.backendsPartial = true
		}
	}
	return d
}

// backendsPerOp renders the backends' CPU per request, marked ≥ when it is
// a lower bound.
func (d cpuDelta) backendsPerOp(n int64) string {
	s := perOp(d.backends, n)
	if d.backendsPartial && s != "–" {
		s = "≥" + s
	}
	return s
}

// perOp renders d per request in microseconds.
func perOp(d time.Duration, n int64) string {
	if n == 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(d.Microseconds())/float64(n), 'f', 0, 64)
}

// serveCPU samples serve (pid) and its PostgreSQL backends: the backends
// are found by the client port in their process title ("postgres: … 127.0.0.1(PORT) …"),
// matched against serve's TCP connections to pgPort. On SQLite pgPort is 0
// and only serve counts.
func serveCPU(pid, pgPort int) cpuUse {
	serve, ok := testbin.CPUTime(pid)
	if !ok {
		return cpuUse{}
	}
	use := cpuUse{serve: serve, backends: map[int]time.Duration{}, ok: true}
	if pgPort == 0 {
		return use
	}
	ports := clientPorts(pid, pgPort)
	if len(ports) == 0 {
		return use
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !strings.HasPrefix(string(cmd), "postgres: ") {
			continue
		}
		i, j := strings.IndexByte(string(cmd), '('), strings.IndexByte(string(cmd), ')')
		if i < 0 || j < i || !ports[string(cmd[i+1:j])] {
			continue
		}
		bpid, _ := strconv.Atoi(filepath.Base(d))
		if t, ok := testbin.CPUTime(bpid); ok {
			use.backends[bpid] = t
		}
	}
	return use
}

// clientPorts are the local ports of pid's TCP connections to remotePort.
func clientPorts(pid, remotePort int) map[string]bool {
	inodes := map[string]bool{}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	ports := map[string]bool{}
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fl := strings.Fields(sc.Text())
			if len(fl) < 10 || !inodes[fl[9]] {
				continue
			}
			_, rem, _ := strings.Cut(fl[2], ":")
			_, loc, _ := strings.Cut(fl[1], ":")
			r, err1 := strconv.ParseInt(rem, 16, 32)
			l, err2 := strconv.ParseInt(loc, 16, 32)
			if err1 == nil && err2 == nil && int(r) == remotePort {
				ports[strconv.Itoa(int(l))] = true
			}
		}
		_ = f.Close()
	}
	return ports
}

// cpu samples serve (the first process startAll starts) and its backends.
func (in *instance) cpu() cpuUse {
	if len(in.procs) == 0 {
		return cpuUse{}
	}
	return serveCPU(in.procs[0].Process.Pid, in.pgPort)
}

// postgresPort is the server port of a postgres:// DSN (5432 when unnamed).
func postgresPort(dsn string) int {
	u, err := url.Parse(dsn)
	if err != nil || u.Port() == "" {
		return 5432
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		return 5432
	}
	return p
}
