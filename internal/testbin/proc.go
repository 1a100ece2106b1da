package testbin

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Children lists the pids of the live processes whose parent is pid,
// from /proc (Linux).
func Children(t testing.TB, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("testbin: read /proc: %v", err)
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, state, ok := procStat(child)
		if ok && ppid == pid && state != "Z" {
			out = append(out, child)
		}
	}
	return out
}

// Exe is the binary a process runs, "" if it is gone.
func Exe(pid int) string {
	p, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
	if err != nil {
		return ""
	}
	return p
}

// Running reports whether pid is a live process: it exists and is not a
// zombie waiting to be reaped (a container's init may never reap it).
func Running(pid int) bool {
	_, state, ok := procStat(pid)
	return ok && state != "Z" && state != "X"
}

// WaitGone waits up to limit for every pid to stop running and returns
// those still running after it.
func WaitGone(pids []int, limit time.Duration) []int {
	deadline := time.Now().Add(limit)
	for {
		var alive []int
		for _, pid := range pids {
			if Running(pid) {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 || time.Now().After(deadline) {
			return alive
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// procStat reads the parent pid and state letter from /proc/pid/stat.
func procStat(pid int) (ppid int, state string, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, "", false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, "", false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0], err == nil
}

// userHZ is the unit of /proc/pid/stat's CPU times (USER_HZ, 100 on every
// Linux this runs on).
const userHZ = 100

// CPUTime is the user plus system CPU time pid has used, all its threads
// together, from /proc/pid/stat (Linux); ok is false when pid is gone.
func CPUTime(pid int) (d time.Duration, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	// After the command name: state (field 3) … utime (14), stime (15).
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / userHZ, true
}

// CPUMeter measures the CPU time a benchmark's timed part costs: this
// process's, and that of other processes (PostgreSQL's backends serving
// it), which on a shared host is a steadier figure than the wall clock.
type CPUMeter struct {
	others func() []int
	self   time.Duration
	start  map[int]time.Duration
	seen   int // other processes found at Stop
}

// StartCPU begins a measurement; others lists the other processes to
// count (nil for none). It is called again at Stop, so processes started
// meanwhile (new pool connections) count from zero.
func StartCPU(others func() []int) *CPUMeter {
	m := &CPUMeter{others: others, start: map[int]time.Duration{}}
	m.self, _ = CPUTime(os.Getpid())
	if others != nil {
		for _, pid := range others() {
			m.start[pid], _ = CPUTime(pid)
		}
	}
	return m
}

// Stop returns the CPU time used since StartCPU by this process and by
// the others together (a process that ended meanwhile is not counted).
func (m *CPUMeter) Stop() (self, others time.Duration) {
	now, _ := CPUTime(os.Getpid())
	self = now - m.self
	if m.others != nil {
		for _, pid := range m.others() {
			if d, ok := CPUTime(pid); ok {
				others += d - m.start[pid]
				m.seen++
			}
		}
	}
	return self, others
}

// Report stops m and reports the CPU time per operation, n operations of
// unit ("delivery"): this process's as cpu-µs/unit and, when m counts
// other processes, theirs as db-cpu-µs/unit.
func (m *CPUMeter) Report(b *testing.B, n int, unit string) {
	b.Helper()
	self, others := m.Stop()
	b.ReportMetric(float64(self.Microseconds())/float64(n), "cpu-µs/"+unit)
	switch {
	case m.others != nil && m.seen == 0:
		// A 0 would read as "the database cost nothing".
		b.Logf("db-cpu-µs/%s not reported: no database backend found (storetest.Backends needs application_name in the DSN)", unit)
	case m.others != nil:
		b.ReportMetric(float64(others.Microseconds())/float64(n), "db-cpu-µs/"+unit)
	}
}
