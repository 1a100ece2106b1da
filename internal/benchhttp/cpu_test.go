package main

import (
	"testing"
	"time"
)

// TestCPUSub checks the backends' CPU between two samples: a backend
// counts from its earlier sample or from zero, and one that ended makes
// the figure a lower bound (subtracting totals made it negative).
func TestCPUSub(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name          string
		before, after map[int]time.Duration
		want          time.Duration
		partial       bool
		perOp         string // for 10 requests
	}{
		{"same backends", map[int]time.Duration{1: 10 * ms, 2: 20 * ms}, map[int]time.Duration{1: 15 * ms, 2: 30 * ms}, 15 * ms, false, "1500"},
		{"a backend started", map[int]time.Duration{1: 10 * ms}, map[int]time.Duration{1: 15 * ms, 2: 5 * ms}, 10 * ms, false, "1000"},
		{"a backend ended", map[int]time.Duration{1: 10 * ms, 2: 900 * ms}, map[int]time.Duration{1: 15 * ms}, 5 * ms, true, "≥500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := cpuUse{serve: 2 * ms, backends: tt.after, ok: true}.sub(cpuUse{serve: ms, backends: tt.before, ok: true})
			if d.backends != tt.want || d.backendsPartial != tt.partial || d.serve != ms || !d.ok {
				t.Errorf("sub = %+v, want backends %v partial %v serve %v", d, tt.want, tt.partial, ms)
			}
			if got := d.backendsPerOp(10); got != tt.perOp {
				t.Errorf("backendsPerOp = %q, want %q", got, tt.perOp)
			}
		})
	}
}
