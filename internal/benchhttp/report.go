package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

type report struct {
	started            time.Time
	commit             string
	loadStart, loadEnd string
	opts               options
	dbs                []*dbResult
	skipped            []string
}

// Targets of issue 18, read on the median pair.
var targets = map[string]float64{"sqlite": 0.25, "postgres": 0.10}

const targetP99MS = 50.0

func (r *report) failed() bool {
	for _, d := range r.dbs {
		if d.bad {
			return true
		}
	}
	return false
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// render prints the report as Markdown (it reads fine on a terminal too).
func (r *report) render() string {
	var b strings.Builder
	o := r.opts
	fmt.Fprintf(&b, "make bench-http — commit %s, %s, wrk -t%d -c%d -d%s, %d pairs; load average %s at the start, %s at the end\n\n",
		r.commit, r.started.Format("2006-01-02 15:04 UTC"), o.threads, o.conns, o.duration, o.pairs, r.loadStart, r.loadEnd)
	for _, d := range r.dbs {
		fmt.Fprintf(&b, "### %s\n\n", d.db)
		b.WriteString("| pair | create req/s | p50 | p99 | bare req/s | p50 | p99 | create ÷ bare | hooks events/s | p50 | p99 | hooks ÷ create | non-2xx/errors (create, bare, hooks) | load | CPU µs/create: serve, backends |\n")
		b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |\n")
		var ratios, p99s, hookRates, hookRatios, hookP99s []float64
		for i, p := range d.pairs {
			ratio := p.create.rps() / p.bare.rps()
			ratios = append(ratios, ratio)
			p99s = append(p99s, float64(p.create.P99US)/1000)
			hooks, hp50, hp99, hratio := "–", "–", "–", "–"
			if o.hooks {
				hookRates = append(hookRates, p.hooks.rps())
				hookP99s = append(hookP99s, float64(p.hooks.P99US)/1000)
				hr := p.hooks.rps() / p.create.rps()
				hookRatios = append(hookRatios, hr)
				hooks, hp50, hp99, hratio = fmt.Sprintf("%.0f", p.hooks.rps()), ms(p.hooks.P50US)+" ms", ms(p.hooks.P99US)+" ms", fmt.Sprintf("%.2f×", hr)
				if p.hooks.Exhausted > 0 {
					hooks += " (events ran out: invalid)"
				}
			}
			cpu := "–"
			if p.createCPU.ok {
				cpu = perOp(p.createCPU.serve, p.create.Requests) + ", " + p.createCPU.backendsPerOp(p.create.Requests)
			}
			fmt.Fprintf(&b, "| %d | %.0f | %s ms | %s ms | %.0f | %s ms | %s ms | **%.3f×** | %s | %s | %s | %s | %d, %d, %d | %s | %s |\n",
				i+1, p.create.rps(), ms(p.create.P50US), ms(p.create.P99US),
				p.bare.rps(), ms(p.bare.P50US), ms(p.bare.P99US), ratio,
				hooks, hp50, hp99, hratio, p.create.bad(), p.bare.bad(), p.hooks.bad(), p.bare.load, cpu)
		}
		b.WriteString("\n")
		want := targets[d.db]
		mr, mp := median(ratios), median(p99s)
		verdict := func(ok bool) string {
			if ok {
				return "met"
			}
			return "NOT met"
		}
		fmt.Fprintf(&b, "Median pair: create ÷ bare **%.3f×** (target ≥ %.2f×: %s), create p99 **%.1f ms** (target ≤ %.0f ms: %s)",
			mr, want, verdict(mr >= want), mp, targetP99MS, verdict(mp <= targetP99MS))
		if o.hooks {
			fmt.Fprintf(&b, "; intake **%.0f events/s**, %.2f× session create, p99 %.1f ms", median(hookRates), median(hookRatios), median(hookP99s))
		}
		b.WriteString(".\n\n")
		for _, c := range d.check {
			b.WriteString("- " + c + "\n")
		}
		b.WriteString("\n")
	}
	for _, s := range r.skipped {
		fmt.Fprintf(&b, "%s: not measured (no DSN).\n", s)
	}
	return b.String()
}
