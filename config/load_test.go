package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
)

const (
	devKey   = "9VhbcfsUSlmcKK52tpBruThB8wqXC9nldtYf2CitVYM="
	devToken = "dev-admin-token-change-me"
)

// minimalYAML is the smallest valid file: everything else has a default.
const minimalYAML = `
secrets:
  keys:
    - id: k1
      key: ` + devKey + `
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func environ(vars ...string) func() []string {
	return func() []string { return vars }
}

func load(t *testing.T, yaml string, env []string, fs *pflag.FlagSet) (*config.Config, error) {
	t.Helper()
	return config.Load(config.LoadOptions{
		Path:    writeFile(t, "switchyard.yaml", yaml),
		Environ: environ(env...),
		Flags:   fs,
	})
}

func mustLoad(t *testing.T, yaml string, env ...string) *config.Config {
	t.Helper()
	cfg, err := load(t, yaml, env, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

// problems returns the problems of a *ValidationError, failing otherwise.
func problems(t *testing.T, err error) []config.Problem {
	t.Helper()
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *config.ValidationError, got %T: %v", err, err)
	}
	if !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("validation error does not wrap domain.ErrInvalid")
	}
	return ve.Problems
}

func paths(ps []config.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Path
	}
	return out
}

func flagSet(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String("config", "", "")
	fs.String("public-addr", "", "")
	fs.String("store.dsn", "", "")
	fs.String("log-level", "", "")
	fs.Duration("routing-breaker-cooldown", 0, "")
	fs.StringSlice("admin-tokens", nil, "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestLoadPrecedence(t *testing.T) {
	file := minimalYAML + `
public:
  addr: 127.0.0.1:1001
log:
  level: warn
`
	tests := []struct {
		name      string
		env       []string
		args      []string
		wantAddr  string
		wantLevel string
	}{
		{name: "defaults and file", wantAddr: "127.0.0.1:1001", wantLevel: "warn"},
		{name: "env beats file", env: []string{"SWITCHYARD_PUBLIC_ADDR=127.0.0.1:1002", "SWITCHYARD_LOG__LEVEL=debug"},
			wantAddr: "127.0.0.1:1002", wantLevel: "debug"},
		{name: "flags beat env", env: []string{"SWITCHYARD_PUBLIC_ADDR=127.0.0.1:1002", "SWITCHYARD_LOG__LEVEL=debug"},
			args: []string{"--public-addr=127.0.0.1:1003", "--log-level=error"}, wantAddr: "127.0.0.1:1003", wantLevel: "error"},
		{name: "unset flags do not override", env: []string{"SWITCHYARD_PUBLIC_ADDR=127.0.0.1:1002"},
			args: []string{"--config=x.yaml"}, wantAddr: "127.0.0.1:1002", wantLevel: "warn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, file, tt.env, flagSet(t, tt.args...))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Public.Addr != tt.wantAddr || cfg.Log.Level != tt.wantLevel {
				t.Errorf("got addr %q level %q, want %q %q", cfg.Public.Addr, cfg.Log.Level, tt.wantAddr, tt.wantLevel)
			}
			// A key nobody set keeps its default.
			if cfg.Admin.Addr != "127.0.0.1:8081" || cfg.Public.ReadTimeout != 10*time.Second {
				t.Errorf("defaults lost: admin.addr %q public.read_timeout %v", cfg.Admin.Addr, cfg.Public.ReadTimeout)
			}
		})
	}
}

func TestLoadFlagTypes(t *testing.T) {
	fs := flagSet(t, "--routing-breaker-cooldown=90s", "--admin-tokens=0123456789abcdefA,0123456789abcdefB", "--store.dsn=sqlite:/tmp/x.db")
	cfg, err := load(t, minimalYAML, nil, fs)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Routing.Breaker.Cooldown != 90*time.Second {
		t.Errorf("cooldown = %v", cfg.Routing.Breaker.Cooldown)
	}
	if len(cfg.Admin.Tokens) != 2 || cfg.Admin.Tokens[1].Value() != "0123456789abcdefB" {
		t.Errorf("tokens = %d", len(cfg.Admin.Tokens))
	}
	if cfg.Store.DSN != "sqlite:/tmp/x.db" {
		t.Errorf("dsn = %q", cfg.Store.DSN)
	}
}

func TestLoadEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		env   string
		check func(*config.Config) any
		want  any
	}{
		{"public addr shortcut", "SWITCHYARD_PUBLIC_ADDR=0.0.0.0:9000", func(c *config.Config) any { return c.Public.Addr }, "0.0.0.0:9000"},
		{"admin addr shortcut", "SWITCHYARD_ADMIN_ADDR=127.0.0.1:9001", func(c *config.Config) any { return c.Admin.Addr }, "127.0.0.1:9001"},
		{"store dsn shortcut", "SWITCHYARD_STORE_DSN=postgres://u@db:5432/sy?sslmode=disable", func(c *config.Config) any { return c.Store.DSN }, "postgres://u@db:5432/sy?sslmode=disable"},
		{"plugins dir shortcut", "SWITCHYARD_PLUGINS_DIR=/opt/switchyard/plugins", func(c *config.Config) any { return c.Plugins.Dir }, "/opt/switchyard/plugins"},
		{"double underscore nests, keeps single", "SWITCHYARD_PUBLIC__BASE_URL=https://pay.example.com", func(c *config.Config) any { return c.Public.BaseURL }, "https://pay.example.com"},
		{"three levels", "SWITCHYARD_API__RATE_LIMIT__REQUESTS_PER_SECOND=2.5", func(c *config.Config) any { return c.API.RateLimit.RequestsPerSecond }, 2.5},
		{"duration", "SWITCHYARD_SESSIONS__TTL=90m", func(c *config.Config) any { return c.Sessions.TTL }, 90 * time.Minute},
		{"bool", "SWITCHYARD_WEBHOOKS__ALLOW_PRIVATE_TARGETS=true", func(c *config.Config) any { return c.Webhooks.AllowPrivateTargets }, true},
		{"licenses timeout", "SWITCHYARD_LICENSES__TIMEOUT=4s", func(c *config.Config) any { return c.Licenses.Timeout }, 4 * time.Second},
		{"licenses timeout default", "", func(c *config.Config) any { return c.Licenses.Timeout }, 10 * time.Second},
		{"unrelated variable ignored", "SWITCHYARD_TEST_POSTGRES_DSN=postgres://x", func(c *config.Config) any { return c.Store.DSN }, "sqlite:var/switchyard.db"},
		{"other prefix ignored", "STORE_DSN=postgres://x", func(c *config.Config) any { return c.Store.DSN }, "sqlite:var/switchyard.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, minimalYAML, tt.env)
			if got := tt.check(cfg); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadEnvironmentProblems(t *testing.T) {
	_, err := load(t, minimalYAML, []string{
		"SWITCHYARD_STORE__DNS=sqlite:x.db",
		"SWITCHYARD_PUBLIC__READ_TIMEOUT=10",
		"SWITCHYARD_PUBLIC_ADDR=",
		"SWITCHYARD_ROUTING__RULES__0__METHOD=card",
		"SWITCHYARD_LICENSES__TIMEOUT=-2s",
	}, flagSet(t, "--log-level=loud", "--admin-tokens=0123456789abcdef,short"))
	got := problems(t, err)
	want := []config.Problem{
		{Path: "admin.tokens[1]", Message: "must be at least 16 characters (from --admin-tokens)"},
		{Path: "licenses.timeout", Message: "must be a positive duration (from SWITCHYARD_LICENSES__TIMEOUT)"},
		{Path: "log.level", Message: `must be one of debug, info, warn, error, got "loud" (from --log-level)`},
		{Path: "public.addr", Message: `must be host:port, got "" (from SWITCHYARD_PUBLIC_ADDR)`},
		{Path: "public.read_timeout", Message: "must be a duration such as 500ms, 10s or 1h30m, got a string (from SWITCHYARD_PUBLIC__READ_TIMEOUT)"},
		{Path: "routing.rules", Message: "must be a list, got a mapping (from SWITCHYARD_ROUTING__RULES__0__METHOD)"},
		{Path: "store.dns", Message: "unknown key (from SWITCHYARD_STORE__DNS)"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n got %v\nwant %v", got, want)
	}
}

func TestEnvAliasesAreUnambiguous(t *testing.T) {
	// Every fixed key must be reachable through its single-underscore
	// spelling, which only works if no two keys share one.
	keys := config.LeafKeys()
	seen := map[string]string{}
	for _, key := range keys {
		for _, spelled := range []string{strings.ReplaceAll(key, ".", "_"), strings.NewReplacer(".", "-", "_", "-").Replace(key)} {
			if other, dup := seen[spelled]; dup {
				t.Fatalf("%s and %s both spell %s", key, other, spelled)
			}
			seen[spelled] = key
		}
	}
	for _, key := range []string{"public.addr", "public.base_url", "admin.tokens", "routing.breaker.cooldown", "plugins.dir"} {
		if !slices.Contains(keys, key) {
			t.Errorf("leaf keys lack %s: %v", key, keys)
		}
	}
	for _, key := range []string{"plugins.instances", "secrets.keys", "public.webhook_aliases", "public.http_config"} {
		if slices.Contains(keys, key) {
			t.Errorf("leaf keys contain non-scalar %s", key)
		}
	}
}

func TestSecretReferences(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(devKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("token-from-a-file-0001\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`
admin:
  tokens: [env:ADMIN_TOKEN, "file:%s", literal-token-000001]
secrets:
  keys:
    - id: k1
      key: file:%s
plugins:
  instances:
    - id: p1
      kind: mailer
      binary: smtp
      settings:
        password: env:SMTP_PASSWORD
        port: 587
`, tokenFile, keyFile)
	cfg := mustLoad(t, yaml, "ADMIN_TOKEN=token-from-the-env-01", "SMTP_PASSWORD=hunter2-smtp")

	tokens := []string{}
	for _, s := range cfg.Admin.Tokens {
		tokens = append(tokens, s.Value())
	}
	if want := []string{"token-from-the-env-01", "token-from-a-file-0001", "literal-token-000001"}; !slices.Equal(tokens, want) {
		t.Errorf("tokens = %q, want %q", tokens, want)
	}
	if got := cfg.Secrets.Keys[0].Key.Value(); got != devKey {
		t.Errorf("file key not trimmed/resolved: %q", got)
	}
	if cfg.Secrets.Keys[0].Key.Ref() != "file:"+keyFile {
		t.Errorf("ref = %q", cfg.Secrets.Keys[0].Key.Ref())
	}
	settings := cfg.Plugins.Instances[0].Settings
	if settings["password"].Value() != "hunter2-smtp" || settings["port"].Value() != "587" {
		t.Errorf("settings not resolved: password ok=%v port=%q", settings["password"].Value() == "hunter2-smtp", settings["port"].Value())
	}
}

func TestSecretReferenceProblems(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	yaml := fmt.Sprintf(`
admin:
  tokens: [env:NOT_SET_ANYWHERE]
secrets:
  keys:
    - id: k1
      key: file:%s
plugins:
  instances:
    - id: p1
      kind: mailer
      binary: smtp
      settings:
        api_key: env:ALSO_NOT_SET
`, missing)
	_, err := load(t, yaml, []string{"UNRELATED=1"}, nil)
	ps := problems(t, err)
	want := []string{"admin.tokens[0]", "plugins.instances[0].settings.api_key", "secrets.keys[0].key"}
	if got := paths(ps); !slices.Equal(got, want) {
		t.Fatalf("paths = %q, want %q (problems %v)", got, want, ps)
	}
	for _, p := range ps {
		if !strings.Contains(p.Message, "env:") && !strings.Contains(p.Message, "file:") {
			t.Errorf("%s: message does not name the reference: %q", p.Path, p.Message)
		}
	}
	if !strings.Contains(ps[0].Message, "NOT_SET_ANYWHERE is not set") {
		t.Errorf("env problem: %q", ps[0].Message)
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	secretValues := []string{"super-secret-admin-token", "super-secret-signing", devKey}
	yaml := `
admin:
  tokens: [super-secret-admin-token]
secrets:
  keys:
    - id: k1
      key: ` + devKey + `
plugins:
  instances:
    - id: p1
      kind: provider
      binary: p1
      settings:
        signing_secret: env:SIGNING
`
	cfg := mustLoad(t, yaml, "SIGNING=super-secret-signing")
	if cfg.Plugins.Instances[0].Settings["signing_secret"].Value() != "super-secret-signing" {
		t.Fatal("secret not resolved; the test would prove nothing")
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var textLog, jsonLog bytes.Buffer
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("cfg", "config", cfg)
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("cfg", "config", cfg)
	renderings := map[string]string{
		"%v":        fmt.Sprintf("%v", cfg),
		"%+v":       fmt.Sprintf("%+v", *cfg),
		"%#v":       fmt.Sprintf("%#v", *cfg),
		"json":      string(js),
		"slog text": textLog.String(),
		"slog json": jsonLog.String(),
	}
	for name, out := range renderings {
		for _, s := range secretValues {
			if strings.Contains(out, s) {
				t.Errorf("%s rendering contains a secret value: %s", name, out)
			}
		}
		if !strings.Contains(out, "redacted") {
			t.Errorf("%s rendering shows no redaction marker: %s", name, out)
		}
	}
}

func TestThreeMistakesAllReported(t *testing.T) {
	yaml := minimalYAML + `
store:
  dsn: mysql://root@localhost/sy
plugins:
  instances:
    - id: pay
      kind: gateway
      binary: pay
routing:
  rules:
    - method: card
      providers:
        - id: pay
          wieght: 10
`
	_, err := load(t, yaml, nil, nil)
	ps := problems(t, err)
	want := []string{
		"plugins.instances[0].kind",
		"routing.rules[0].providers[0].wieght",
		"store.dsn",
	}
	if got := paths(ps); !slices.Equal(got, want) {
		t.Fatalf("paths = %q, want %q\n%v", got, want, err)
	}
	msg := err.Error()
	for _, s := range []string{"routing.rules[0].providers[0].wieght: unknown key", `store.dsn: must start with sqlite: or postgres://`, `plugins.instances[0].kind: must be one of provider, provisioner, registrar, mailer, got "gateway"`} {
		if !strings.Contains(msg, s) {
			t.Errorf("error lacks %q:\n%s", s, msg)
		}
	}
}

func TestUnknownKeysAndTypes(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []config.Problem
	}{
		{
			name: "top level and nested typos",
			yaml: "publik: {}\nlog:\n  levle: debug\n",
			want: []config.Problem{{"log.levle", "unknown key"}, {"publik", "unknown key"}},
		},
		{
			name: "squashed listener keys are known, others are not",
			yaml: "admin:\n  read_timeout: 5s\n  base_url: http://x\n",
			want: []config.Problem{{"admin.base_url", "unknown key"}},
		},
		{
			name: "list elements carry their index",
			yaml: "plugins:\n  instances:\n    - {id: a, kind: provider, binary: a}\n    - {id: b, kind: provider, binary: b, knd: x}\n",
			want: []config.Problem{{"plugins.instances[1].knd", "unknown key"}},
		},
		{
			name: "bare number for a duration",
			yaml: "jobs:\n  poll_interval: 5\n",
			want: []config.Problem{{"jobs.poll_interval", "must be a duration such as 500ms, 10s or 1h30m, got 5"}},
		},
		{
			name: "wrong shapes",
			yaml: "routing: [1, 2]\njobs:\n  workers: many\nwebhooks:\n  allow_private_targets: maybe\n",
			want: []config.Problem{
				{"jobs.workers", "must be an integer, got a string"},
				{"routing", "must be a mapping, got a list"},
				{"webhooks.allow_private_targets", "must be true or false, got a string"},
			},
		},
		{
			name: "settings and aliases take any key",
			yaml: "public:\n  webhook_aliases:\n    /a.php: p\nplugins:\n  instances:\n    - {id: p, kind: provider, binary: p, settings: {anything_goes: x, nested_ok: 1}}\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, minimalYAML+tt.yaml, nil, nil)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if cfg.Public.WebhookAliases["/a.php"] != "p" {
					t.Errorf("dotted map key lost: %v", cfg.Public.WebhookAliases)
				}
				return
			}
			if got := problems(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	bad := writeFile(t, "bad.yaml", "public:\n  addr: 127.0.0.1:8080\n   oops: [\n")
	_, err := config.Load(config.LoadOptions{Path: bad, Environ: environ()})
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("invalid YAML error should name the file and line: %v", err)
	}
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		t.Errorf("a parse failure is not a validation error")
	}

	missing := filepath.Join(t.TempDir(), "missing.yaml")
	_, err = config.Load(config.LoadOptions{Path: missing, Environ: environ()})
	if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file error should name the file: %v", err)
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := config.Load(config.LoadOptions{Path: "switchyard.example.yaml", Environ: environ()})
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if cfg.Store.DSN != "sqlite:var/switchyard.db" {
		t.Errorf("store.dsn = %q", cfg.Store.DSN)
	}
	// With no environment only the sandbox runs; the real providers are
	// documented but switched off, their secret references unresolved.
	type inst struct {
		id, binary string
		on         bool
	}
	var got []inst
	for _, in := range cfg.Plugins.Instances {
		got = append(got, inst{in.ID, in.Binary, in.IsEnabled()})
		if !in.IsEnabled() {
			// Literals (the SMTP example's host and port) are fine;
			// references must stay unresolved.
			refs := 0
			for k, s := range in.Settings {
				if s.Ref() != "" {
					refs++
					if !s.IsZero() {
						t.Errorf("%s.settings.%s: a disabled instance's reference was resolved", in.ID, k)
					}
				}
			}
			if refs == 0 {
				t.Errorf("%s: a disabled example instance should take its credentials from references", in.ID)
			}
		}
	}
	want := []inst{{"sandbox", "sandbox", true}, {"stripe", "stripe", false}, {"paypro", "paypro", false},
		{"route53", "route53", false}, {"whm", "whm", false}, {"smtp", "smtp", false}}
	if !slices.Equal(got, want) {
		t.Errorf("instances = %+v, want %+v", got, want)
	}
	// The sandbox is every method's first choice, so `make run` routes
	// everything to it; stripe and paypro only follow.
	candidates := map[string][]string{}
	for _, r := range cfg.Routing.Rules {
		slices.SortStableFunc(r.Providers, func(a, b config.RoutingProvider) int { return a.Priority - b.Priority })
		if r.Providers[0].ID != "sandbox" || len(r.Providers) > 1 && r.Providers[1].Priority == r.Providers[0].Priority {
			t.Errorf("rule %s: sandbox is not the only first choice: %+v", r.Method, r.Providers)
		}
		for _, p := range r.Providers {
			candidates[r.Method] = append(candidates[r.Method], p.ID)
		}
	}
	wantCandidates := map[string][]string{
		"card":          {"sandbox", "stripe", "paypro"},
		"bank_transfer": {"sandbox"},
		"wallet":        {"sandbox", "stripe"},
	}
	if fmt.Sprint(candidates) != fmt.Sprint(wantCandidates) {
		t.Errorf("candidates = %v, want %v", candidates, wantCandidates)
	}
	if cfg.Public.WebhookAliases["/api/webhook.php"] != "sandbox" || cfg.Public.WebhookAliases["/stripe-webhook.php"] != "stripe" ||
		!cfg.Webhooks.AllowPrivateTargets {
		t.Errorf("aliases %v allow_private %v", cfg.Public.WebhookAliases, cfg.Webhooks.AllowPrivateTargets)
	}
}

// TestExampleConfigDocumentsEveryKey keeps the example in step with Config:
// every fixed key must appear in it (as a key or in a comment).
func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile("switchyard.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, key := range config.LeafKeys() {
		name := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(text, name+":") {
			t.Errorf("example config does not mention %s", key)
		}
	}
}

func TestPluginsReattach(t *testing.T) {
	const yaml = minimalYAML + `
plugins:
  dir: bin/plugins
  instances:
    - {id: sandbox, kind: provider, binary: sandbox}
`
	const good = `{"sandbox":{"Protocol":"grpc","ProtocolVersion":1,"Pid":42,"Test":true,"Addr":{"Network":"unix","String":"/tmp/plugin1"}}}`
	cfg := mustLoad(t, yaml, "SWITCHYARD_PLUGINS_REATTACH="+good)
	if cfg.Plugins.Reattach != good {
		t.Errorf("plugins.reattach = %q, want the environment's value", cfg.Plugins.Reattach)
	}
	for name, raw := range map[string]string{
		"not json":         `{"sandbox":`,
		"unknown instance": strings.Replace(good, `"sandbox"`, `"stripe"`, 1),
		"no address":       strings.Replace(good, `"/tmp/plugin1"`, `""`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := load(t, yaml, []string{"SWITCHYARD_PLUGINS_REATTACH=" + raw}, nil)
			got := problems(t, err)
			if len(got) != 1 || got[0].Path != "plugins.reattach" {
				t.Errorf("problems %v, want one at plugins.reattach", got)
			}
		})
	}
}
