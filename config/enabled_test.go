package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/config"
)

// instanceYAML is one provider instance with the given enabled value and a
// secret setting taken from API_KEY.
func instanceYAML(enabled string) string {
	y := minimalYAML + `
plugins:
  instances:
    - id: p1
      kind: provider
      binary: p1
`
	if enabled != "" {
		y += "      enabled: " + enabled + "\n"
	}
	return y + `      settings:
        api_key: env:API_KEY
        region: eu
`
}

func TestEnabledSwitch(t *testing.T) {
	tests := []struct {
		name    string
		enabled string // as written in the file; "" leaves the key out
		env     []string
		want    bool     // effective value after Load
		wantNil bool     // Enabled left nil (key absent)
		problem []string // expected problem paths; nil means Load succeeds
	}{
		{name: "absent means enabled", wantNil: true, want: true, env: []string{"API_KEY=k"}},
		{name: "empty value keeps the default", enabled: " ", wantNil: true, want: true, env: []string{"API_KEY=k"}},
		{name: "literal true", enabled: "true", want: true, env: []string{"API_KEY=k"}},
		{name: "literal false", enabled: "false", want: false},
		{name: "env unset", enabled: "env:P1_ON", want: false},
		{name: "env empty", enabled: "env:P1_ON", env: []string{"P1_ON="}, want: false},
		{name: "env blank", enabled: "env:P1_ON", env: []string{"P1_ON=  "}, want: false},
		{name: "env true", enabled: "env:P1_ON", env: []string{"P1_ON=true", "API_KEY=k"}, want: true},
		{name: "env TRUE", enabled: "env:P1_ON", env: []string{"P1_ON=TRUE", "API_KEY=k"}, want: true},
		{name: "env 1", enabled: "env:P1_ON", env: []string{"P1_ON=1", "API_KEY=k"}, want: true},
		{name: "env Yes", enabled: "env:P1_ON", env: []string{"P1_ON=Yes", "API_KEY=k"}, want: true},
		{name: "env false", enabled: "env:P1_ON", env: []string{"P1_ON=false"}, want: false},
		{name: "env 0", enabled: "env:P1_ON", env: []string{"P1_ON=0"}, want: false},
		{name: "env NO", enabled: "env:P1_ON", env: []string{"P1_ON=NO"}, want: false},
		{name: "env padded", enabled: "env:P1_ON", env: []string{"P1_ON= yes\n", "API_KEY=k"}, want: true},
		{name: "env garbage", enabled: "env:P1_ON", env: []string{"P1_ON=enabled-please"},
			problem: []string{"plugins.instances[0].enabled"}},
		{name: "env 2 is not a boolean", enabled: "env:P1_ON", env: []string{"P1_ON=2"},
			problem: []string{"plugins.instances[0].enabled"}},
		{name: "empty variable name", enabled: `"env:"`, problem: []string{"plugins.instances[0].enabled"}},
		{name: "file reference is not a switch", enabled: "file:/etc/on",
			problem: []string{"plugins.instances[0].enabled"}},
		{name: "other string", enabled: "sometimes", problem: []string{"plugins.instances[0].enabled"}},
		{name: "enabled but secret missing", enabled: "env:P1_ON", env: []string{"P1_ON=true"},
			problem: []string{"plugins.instances[0].settings.api_key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, instanceYAML(tt.enabled), tt.env, nil)
			if tt.problem != nil {
				if got := paths(problems(t, err)); !slices.Equal(got, tt.problem) {
					t.Fatalf("problem paths = %q, want %q (%v)", got, tt.problem, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			in := cfg.Plugins.Instances[0]
			if (in.Enabled == nil) != tt.wantNil {
				t.Fatalf("Enabled nil = %v, want %v", in.Enabled == nil, tt.wantNil)
			}
			// The plugin host reads the field exactly like this.
			if got := in.Enabled == nil || *in.Enabled; got != tt.want {
				t.Errorf("effective enabled = %v, want %v", got, tt.want)
			}
			if in.IsEnabled() != tt.want {
				t.Errorf("IsEnabled() = %v, want %v", in.IsEnabled(), tt.want)
			}
		})
	}
}

func TestEnabledSwitchProblemMessage(t *testing.T) {
	const value = "definitely-not-a-bool-s3cret"
	_, err := load(t, instanceYAML("env:P1_ON"), []string{"P1_ON=" + value}, nil)
	ps := problems(t, err)
	if len(ps) != 1 {
		t.Fatalf("problems = %v, want one", ps)
	}
	msg := ps[0].Message
	if !strings.Contains(msg, "P1_ON") {
		t.Errorf("message does not name the variable: %q", msg)
	}
	if strings.Contains(msg, value) || strings.Contains(err.Error(), value) {
		t.Errorf("message echoes the value: %q", msg)
	}
}

func TestDisabledInstanceSettingsNotResolved(t *testing.T) {
	tests := []struct {
		name     string
		enabled  string
		env      []string
		resolved bool // api_key resolved to the variable's value
		problem  []string
	}{
		{name: "disabled literally, variable unset", enabled: "false"},
		{name: "disabled by env, variable unset", enabled: "env:P1_ON"},
		{name: "disabled, variable set: still untouched", enabled: "env:P1_ON", env: []string{"API_KEY=k1"}},
		{name: "bad switch does not add settings problems", enabled: "env:P1_ON", env: []string{"P1_ON=x"},
			problem: []string{"plugins.instances[0].enabled"}},
		{name: "enabled by env, variable set", enabled: "env:P1_ON", env: []string{"P1_ON=1", "API_KEY=k1"}, resolved: true},
		{name: "enabled by default, variable unset", problem: []string{"plugins.instances[0].settings.api_key"}},
		{name: "enabled literally, variable unset", enabled: "true", problem: []string{"plugins.instances[0].settings.api_key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, instanceYAML(tt.enabled), tt.env, nil)
			if tt.problem != nil {
				ps := problems(t, err)
				if got := paths(ps); !slices.Equal(got, tt.problem) {
					t.Fatalf("problem paths = %q, want %q", got, tt.problem)
				}
				if strings.HasSuffix(tt.problem[0], "api_key") && !strings.Contains(ps[0].Message, "API_KEY is not set") {
					t.Errorf("missing secret not named: %q", ps[0].Message)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			s := cfg.Plugins.Instances[0].Settings
			if got := s["api_key"].Value() == "k1"; got != tt.resolved {
				t.Errorf("api_key resolved = %v, want %v", got, tt.resolved)
			}
			if s["api_key"].Ref() != "env:API_KEY" {
				t.Errorf("reference lost: %q", s["api_key"].Ref())
			}
			if !tt.resolved && !s["api_key"].IsZero() {
				t.Errorf("disabled instance holds a secret value")
			}
			if s["region"].Value() != "eu" {
				t.Errorf("literal setting = %q, want eu", s["region"].Value())
			}
		})
	}
}

func TestReferencesToDisabledInstances(t *testing.T) {
	const instances = minimalYAML + `
plugins:
  instances:
    - {id: live, kind: provider, binary: live}
    - {id: off, kind: provider, binary: off, enabled: false}
    - {id: envoff, kind: provider, binary: envoff, enabled: "env:ENVOFF_ON", settings: {k: env:UNSET}}
    - {id: mail, kind: mailer, binary: mail, enabled: false}
`
	tests := []struct {
		name string
		yaml string
		want []string // problem paths; nil means valid
	}{
		{name: "rule and alias name disabled providers", yaml: `
public:
  webhook_aliases: {/off.php: off, /envoff.php: envoff}
routing:
  rules:
    - method: card
      providers: [{id: live}, {id: off, priority: 1}, {id: envoff, priority: 2}]
    - method: wallet
      providers: [{id: envoff}]
`},
		{name: "unknown id still rejected", yaml: `
public:
  webhook_aliases: {/x.php: nope}
routing:
  rules:
    - method: card
      providers: [{id: off}, {id: nope}]
`, want: []string{`public.webhook_aliases["/x.php"]`, "routing.rules[0].providers[1].id"}},
		{name: "disabled non-provider still rejected", yaml: `
public:
  webhook_aliases: {/m.php: mail}
routing:
  rules:
    - method: card
      providers: [{id: mail}]
`, want: []string{`public.webhook_aliases["/m.php"]`, "routing.rules[0].providers[0].id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, instances+tt.yaml, nil, nil)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if got := paths(problems(t, err)); !slices.Equal(got, tt.want) {
				t.Errorf("problem paths = %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}

// TestExampleConfigEnvironment checks the example's env-switched instances:
// off and needing nothing by default, and asking for exactly their own
// variables, by key path, once switched on.
func TestExampleConfigEnvironment(t *testing.T) {
	stripeVars := []string{"STRIPE_SECRET_KEY=sk_test_example", "STRIPE_WEBHOOK_SECRETS=whsec_example_0123456789", "STRIPE_MODE=test"}
	payproVars := []string{"PAYPRO_VALIDATION_KEY=validation-example", "PAYPRO_SECRET_KEY=secret-example", "PAYPRO_DEFAULT_PRODUCT="}
	tests := []struct {
		name       string
		env        []string
		wantOn     []string // instance ids enabled after Load
		wantPaths  []string // problem paths; nil means valid
		wantInMsgs []string
	}{
		{name: "no environment", wantOn: []string{"sandbox"}},
		{name: "provider variables alone do not enable", env: append(slices.Clone(stripeVars), payproVars...),
			wantOn: []string{"sandbox"}},
		{name: "stripe on without its variables", env: []string{"SWITCHYARD_STRIPE_ENABLED=true"},
			wantPaths: []string{
				"plugins.instances[1].settings.mode",
				"plugins.instances[1].settings.secret_key",
				"plugins.instances[1].settings.webhook_secrets",
			},
			wantInMsgs: []string{"STRIPE_MODE is not set", "STRIPE_SECRET_KEY is not set", "STRIPE_WEBHOOK_SECRETS is not set"}},
		{name: "stripe on with its variables", env: append([]string{"SWITCHYARD_STRIPE_ENABLED=true"}, stripeVars...),
			wantOn: []string{"sandbox", "stripe"}},
		{name: "paypro on without its variables", env: []string{"SWITCHYARD_PAYPRO_ENABLED=yes"},
			wantPaths: []string{
				"plugins.instances[2].settings.default_product",
				"plugins.instances[2].settings.secret_key",
				"plugins.instances[2].settings.validation_key",
			},
			wantInMsgs: []string{"PAYPRO_DEFAULT_PRODUCT is not set", "PAYPRO_SECRET_KEY is not set", "PAYPRO_VALIDATION_KEY is not set"}},
		{name: "route53 on without its variables", env: []string{"SWITCHYARD_ROUTE53_ENABLED=true"},
			wantPaths: []string{
				"plugins.instances[3].settings.access_key_id",
				"plugins.instances[3].settings.secret_access_key",
			},
			wantInMsgs: []string{"ROUTE53_ACCESS_KEY_ID is not set", "ROUTE53_SECRET_ACCESS_KEY is not set"}},
		{name: "route53 on with its variables",
			env:    []string{"SWITCHYARD_ROUTE53_ENABLED=true", "ROUTE53_ACCESS_KEY_ID=AKIAEXAMPLE000000000", "ROUTE53_SECRET_ACCESS_KEY=example-secret-0123456789"},
			wantOn: []string{"sandbox", "route53"}},
		{name: "both on with their variables",
			env:    append(append([]string{"SWITCHYARD_STRIPE_ENABLED=1", "SWITCHYARD_PAYPRO_ENABLED=TRUE"}, stripeVars...), payproVars...),
			wantOn: []string{"sandbox", "stripe", "paypro"}},
		{name: "unreadable switch", env: []string{"SWITCHYARD_STRIPE_ENABLED=on"},
			wantPaths: []string{"plugins.instances[1].enabled"}, wantInMsgs: []string{"SWITCHYARD_STRIPE_ENABLED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(config.LoadOptions{Path: "switchyard.example.yaml", Environ: environ(tt.env...)})
			if tt.wantPaths != nil {
				ps := problems(t, err)
				if got := paths(ps); !slices.Equal(got, tt.wantPaths) {
					t.Fatalf("problem paths = %q, want %q", got, tt.wantPaths)
				}
				for i, want := range tt.wantInMsgs {
					if !strings.Contains(ps[i].Message, want) {
						t.Errorf("%s: %q does not contain %q", ps[i].Path, ps[i].Message, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var on []string
			for _, in := range cfg.Plugins.Instances {
				if in.IsEnabled() {
					on = append(on, in.ID)
				}
			}
			if !slices.Equal(on, tt.wantOn) {
				t.Errorf("enabled = %q, want %q", on, tt.wantOn)
			}
		})
	}
}

func TestNotifyMailerValidation(t *testing.T) {
	base := `
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
plugins:
  dir: bin/plugins
  instances:
    - {id: sandbox, kind: provider, binary: sandbox, settings: {signing_secret: s}}
    - {id: mail, kind: mailer, binary: smtp}
`
	cases := []struct {
		name, extra, wantPath string
	}{
		{"ok", "webhooks: {notify_mailer: mail, notify_from: \"Switchyard <noreply@example.com>\"}\n", ""},
		{"unknown instance", "webhooks: {notify_mailer: nope, notify_from: noreply@example.com}\n", "webhooks.notify_mailer"},
		{"not a mailer", "webhooks: {notify_mailer: sandbox, notify_from: noreply@example.com}\n", "webhooks.notify_mailer"},
		{"no sender", "webhooks: {notify_mailer: mail}\n", "webhooks.notify_from"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(base+tc.extra), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := config.Load(config.LoadOptions{Path: path, Environ: func() []string { return nil }})
			if tc.wantPath == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			var ve *config.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.wantPath) {
				t.Fatalf("err = %v, want a problem at %s", err, tc.wantPath)
			}
		})
	}
}
