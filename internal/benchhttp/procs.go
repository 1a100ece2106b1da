package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/core/store"
)

//go:embed create.lua
var createLua []byte

//go:embed hooks.lua
var hooksLua []byte

func writeScripts(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "create.lua"), createLua, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "hooks.lua"), hooksLua, 0o644)
}

const (
	benchSigningSecret = "bench-sandbox-signing-secret"
	benchAdminToken    = "bench-operator-token-0123456789"
	hooksRoute         = "/hooks/sandbox/sandbox"
)

// configYAML is a production-like configuration: the sandbox provider
// behind the real plugin process, info logs (to a file), default pool and
// job settings. Only the rate limits are lifted, since one key (and one
// source address, for /hooks) sends everything.
func configYAML(plugins string) string {
	return `public: {addr: "127.0.0.1:0"}
admin: {addr: "127.0.0.1:0", tokens: ["` + benchAdminToken + `"]}
log: {level: info, format: json}
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
plugins:
  dir: "` + plugins + `"
  instances:
    - id: sandbox
      kind: provider
      binary: sandbox
      settings: {signing_secret: ` + benchSigningSecret + `}
routing:
  rules:
    - method: card
      providers: [{id: sandbox, weight: 100}]
api:
  rate_limit: {requests_per_second: 1000000, burst: 1000000}
hooks:
  rate_limit: {requests_per_second: 1000000, burst: 1000000}
webhooks: {allow_private_targets: true}
`
}

// instance is one database's setup: config, environment, processes.
type instance struct {
	dir, cfg, dsn string
	env           []string
	bin           string
	key           string
	public, bare  string
	procs         []*exec.Cmd
	pgPort        int // PostgreSQL's port (0 on SQLite), to find serve's backends
}

func newInstance(o options, work, db string) (*instance, func(), error) {
	dir := filepath.Join(work, db)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	plugins, err := filepath.Abs(o.plugins)
	if err != nil {
		return nil, nil, err
	}
	in := &instance{dir: dir, cfg: filepath.Join(dir, "switchyard.yaml"), bin: o.switchyard}
	if err := os.WriteFile(in.cfg, []byte(configYAML(plugins)), 0o600); err != nil {
		return nil, nil, err
	}
	cleanup := func() {}
	switch db {
	case "sqlite":
		in.dsn = "sqlite:" + filepath.Join(dir, "switchyard.db")
	case "postgres":
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		schema := "sybench_" + hex.EncodeToString(b)
		sep := "?"
		if strings.Contains(o.postgresDSN, "?") {
			sep = "&"
		}
		in.dsn = o.postgresDSN + sep + "search_path=" + schema
		in.pgPort = postgresPort(o.postgresDSN)
		cleanup = func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if st, err := store.Open(ctx, o.postgresDSN, store.Options{}); err == nil {
				_, _ = st.DB().ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
				_ = st.Close()
			}
		}
	default:
		return nil, nil, fmt.Errorf("unknown database %q (want sqlite or postgres)", db)
	}
	in.env = append(os.Environ(), "SWITCHYARD_STORE_DSN="+in.dsn)
	return in, cleanup, nil
}

func (in *instance) cli(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, in.bin, append(args, "--config", in.cfg)...)
	cmd.Env = in.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("switchyard %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// setup migrates and creates the merchant and its API key.
func (in *instance) setup(ctx context.Context) error {
	if _, err := in.cli(ctx, "migrate"); err != nil {
		return err
	}
	out, err := in.cli(ctx, "merchants", "create", "--name", "Bench", "--plan", "free",
		"--domain", "shop.test", "--contact-email", "ops@shop.test", "--json")
	if err != nil {
		return err
	}
	var m struct{ ID int64 }
	if err := json.Unmarshal(out, &m); err != nil {
		return fmt.Errorf("merchants create output: %w", err)
	}
	if out, err = in.cli(ctx, "keys", "create", "--merchant", fmt.Sprint(m.ID), "--json"); err != nil {
		return err
	}
	var k struct{ Key string }
	if err := json.Unmarshal(out, &k); err != nil || k.Key == "" {
		return fmt.Errorf("keys create output %q: %v", out, err)
	}
	in.key = k.Key
	return nil
}

// start runs a process and waits for the line announcing its address.
func (in *instance) start(name string, prefix string, logName string, args ...string) (string, error) {
	logf, err := os.Create(filepath.Join(in.dir, logName))
	if err != nil {
		return "", err
	}
	cmd := exec.Command(name, args...)
	cmd.Env = in.env
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	in.procs = append(in.procs, cmd)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), prefix); ok && !found {
				found = true
				addr <- strings.TrimSpace(v)
			}
		}
		close(addr)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			return "", fmt.Errorf("%s exited before listening (log: %s)", filepath.Base(name), logf.Name())
		}
		return a, nil
	case <-time.After(60 * time.Second):
		return "", fmt.Errorf("%s did not announce its address within 60s (log: %s)", filepath.Base(name), logf.Name())
	}
}

func (in *instance) startAll(o options) error {
	pub, err := in.start(in.bin, "public listener:", "serve.log", "serve", "--config", in.cfg)
	if err != nil {
		return err
	}
	in.public = pub
	bare, err := in.start(o.bare, "listening on", "bareecho.log", "-addr", "127.0.0.1:0")
	if err != nil {
		return err
	}
	in.bare = "http://" + bare
	return nil
}

// stop sends SIGTERM to every process and waits for it.
func (in *instance) stop() {
	for _, p := range in.procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range in.procs {
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(40 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	in.procs = nil
}
