package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/core/store"
)

// pairResult is one A/B pair: the real binary's session create, the bare
// binary, and (when measured) the real binary's webhook intake.
type pairResult struct {
	create, bare, hooks wrkResult
	createCPU           cpuDelta // serve's and its backends' CPU during the create run
}

type dbResult struct {
	db    string
	pairs []pairResult
	check []string // server-side counts against what wrk saw
	bad   bool
}

// benchDB measures one database: setup, warm-up, then -pairs rounds of
// create / bare / hooks, then a count of what the server stored.
func benchDB(ctx context.Context, o options, work, db string) (*dbResult, error) {
	in, cleanup, err := newInstance(o, work, db)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	fmt.Printf("== %s: setting up\n", db)
	if err := in.setup(ctx); err != nil {
		return nil, err
	}
	if err := in.startAll(o); err != nil {
		in.stop()
		return nil, err
	}
	defer in.stop()

	res := &dbResult{db: db}
	fmt.Printf("== %s: warm-up (%s each)\n", db, o.warmup)
	if _, err := runWrk(ctx, o, work, o.warmup, in.public, "create.lua", "WARM", in.key); err != nil {
		return nil, err
	}
	if _, err := runWrk(ctx, o, work, o.warmup, in.bare, "create.lua", "WARM", in.key); err != nil {
		return nil, err
	}

	var hookFiles []string
	if o.hooks {
		fmt.Printf("== %s: preparing %d signed provider events × %d runs (each its own session and attempt)\n", db, o.hookEvents, o.pairs)
		for i := range o.pairs {
			lines, err := prepareHookEvents(ctx, in, o.hookEvents, "HOOK"+strconv.Itoa(i+1))
			if err != nil {
				return nil, err
			}
			f := filepath.Join(in.dir, fmt.Sprintf("hooks-%d.txt", i+1))
			if err := os.WriteFile(f, lines, 0o600); err != nil {
				return nil, err
			}
			hookFiles = append(hookFiles, f)
		}
		// Let the setup's writes (and SQLite's checkpoint) settle.
		time.Sleep(3 * time.Second)
	}

	for i := range o.pairs {
		run := "BENCH" + strconv.Itoa(i+1)
		var p pairResult
		before := in.cpu()
		if p.create, err = runWrk(ctx, o, work, o.duration, in.public, "create.lua", run, in.key); err != nil {
			return nil, err
		}
		p.createCPU = in.cpu().sub(before)
		fmt.Printf("   pair %d  create %8.0f req/s p50 %5s ms p99 %6s ms bad %d load %s cpu µs/create serve %s backends %s\n", i+1, p.create.rps(), ms(p.create.P50US), ms(p.create.P99US), p.create.bad(), p.create.load,
			perOp(p.createCPU.serve, p.create.Requests), p.createCPU.backendsPerOp(p.create.Requests))
		if p.bare, err = runWrk(ctx, o, work, o.duration, in.bare, "create.lua", run, in.key); err != nil {
			return nil, err
		}
		fmt.Printf("   pair %d  bare   %8.0f req/s p50 %5s ms p99 %6s ms bad %d load %s\n", i+1, p.bare.rps(), ms(p.bare.P50US), ms(p.bare.P99US), p.bare.bad(), p.bare.load)
		if o.hooks {
			if p.hooks, err = runWrk(ctx, o, work, o.duration, in.public+hooksRoute, "hooks.lua",
				hookFiles[i], strconv.Itoa(o.threads), hooksRoute); err != nil {
				return nil, err
			}
			fmt.Printf("   pair %d  hooks  %8.0f req/s p50 %5s ms p99 %6s ms bad %d exhausted %d load %s\n", i+1, p.hooks.rps(), ms(p.hooks.P50US), ms(p.hooks.P99US), p.hooks.bad(), p.hooks.Exhausted, p.hooks.load)
		}
		if !p.create.valid() || !p.bare.valid() || (o.hooks && !p.hooks.valid()) {
			res.bad = true
		}
		res.pairs = append(res.pairs, p)
	}
	in.stop()
	if err := res.verify(ctx, in, o); err != nil {
		return nil, err
	}
	return res, nil
}

// verify counts what the server stored: every create wrk saw answered is a
// session (the server may have finished up to -conns more that wrk cut
// off), and every intake request paid its own session.
func (r *dbResult) verify(ctx context.Context, in *instance, o options) error {
	st, err := store.Open(ctx, in.dsn, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	count := func(where string, args ...any) (int64, error) {
		var n int64
		err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM sessions WHERE "+where, args...).Scan(&n)
		return n, err
	}
	for i, p := range r.pairs {
		run := "BENCH" + strconv.Itoa(i+1)
		n, err := count("order_id LIKE ?", run+"-%")
		if err != nil {
			return err
		}
		line := fmt.Sprintf("pair %d: wrk counted %d create responses, the database holds %d sessions", i+1, p.create.Requests, n)
		if n < p.create.Requests || n > p.create.Requests+int64(o.conns) {
			line += " — MISMATCH"
			r.bad = true
		}
		if o.hooks {
			paid, err := count("order_id LIKE ? AND status = ?", "HOOK"+strconv.Itoa(i+1)+"-%", "paid")
			if err != nil {
				return err
			}
			line += fmt.Sprintf("; %d intake requests answered, %d of their sessions paid", p.hooks.Requests, paid)
			if paid < p.hooks.Requests-p.hooks.bad() || paid > p.hooks.Requests+int64(o.conns) {
				line += " — MISMATCH"
				r.bad = true
			}
		}
		r.check = append(r.check, line)
	}
	return nil
}
