package config_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
)

func validConfig() config.Config {
	cfg := config.Defaults()
	cfg.Secrets.Keys = []config.KeyConfig{{ID: "k1", Key: config.NewSecret(devKey)}}
	cfg.Admin.Tokens = []config.AdminToken{config.NewAdminToken("", "", devToken)}
	enabled := true
	cfg.Plugins.Instances = []config.PluginInstance{
		{ID: "sandbox", Kind: "provider", Binary: "sandbox", Enabled: &enabled},
		{ID: "smtp", Kind: "mailer", Binary: "smtp"},
	}
	cfg.Routing.Rules = []config.RoutingRule{{
		Method: "card", Plans: []string{"pro"},
		Providers: []config.RoutingProvider{{ID: "sandbox", Weight: 1, Currencies: []string{"USD"}, MinAmount: "0.50", MaxAmount: "100"}},
	}}
	cfg.Public.WebhookAliases = map[string]string{"/api/webhook.php": "sandbox"}
	return cfg
}

func TestValidate(t *testing.T) {
	if err := new(config.Config).Validate(); err == nil {
		t.Fatal("the zero Config must not validate")
	}
	base := validConfig()
	if err := base.Validate(); err != nil {
		t.Fatalf("base config: %v", err)
	}
	tests := []struct {
		name     string
		mutate   func(*config.Config)
		path     string
		contains string
	}{
		{"addr without port", func(c *config.Config) { c.Public.Addr = "localhost" }, "public.addr", "host:port"},
		{"addr bad port", func(c *config.Config) { c.Admin.Addr = "127.0.0.1:99999" }, "admin.addr", "port"},
		{"same listener twice", func(c *config.Config) { c.Admin.Addr = c.Public.Addr }, "admin.addr", "differ"},
		{"base url relative", func(c *config.Config) { c.Public.BaseURL = "pay.example.com" }, "public.base_url", "absolute"},
		{"base url ftp", func(c *config.Config) { c.Public.BaseURL = "ftp://pay.example.com" }, "public.base_url", "absolute"},
		{"base url trailing slash", func(c *config.Config) { c.Public.BaseURL = "https://pay.example.com/" }, "public.base_url", "slash"},
		{"zero timeout", func(c *config.Config) { c.Public.WriteTimeout = 0 }, "public.write_timeout", "positive"},
		{"negative body limit", func(c *config.Config) { c.Admin.BodyLimit = -1 }, "admin.body_limit", "positive"},
		{"short token", func(c *config.Config) { c.Admin.Tokens = []config.AdminToken{config.NewAdminToken("", "", "short")} }, "admin.tokens[0]", "16"},
		{"duplicate token", func(c *config.Config) {
			c.Admin.Tokens = append(c.Admin.Tokens, config.NewAdminToken("", "", devToken))
		}, "admin.tokens[1]", "duplicates admin.tokens[0]"},
		{"dsn mysql", func(c *config.Config) { c.Store.DSN = "mysql://x" }, "store.dsn", `got scheme "mysql"`},
		{"dsn empty sqlite path", func(c *config.Config) { c.Store.DSN = "sqlite:" }, "store.dsn", "path"},
		{"dsn postgres without host", func(c *config.Config) { c.Store.DSN = "postgres:///db" }, "store.dsn", "host"},
		{"negative pool", func(c *config.Config) { c.Store.MaxOpenConns = -1 }, "store.max_open_conns", "negative"},
		{"log level", func(c *config.Config) { c.Log.Level = "verbose" }, "log.level", "debug, info, warn, error"},
		{"log format", func(c *config.Config) { c.Log.Format = "xml" }, "log.format", "json, text"},
		{"sample ratio", func(c *config.Config) { c.Telemetry.SampleRatio = 1.5 }, "telemetry.sample_ratio", "between 0 and 1"},
		{"otlp endpoint", func(c *config.Config) { c.Telemetry.OTLPEndpoint = "collector:4318" }, "telemetry.otlp_endpoint", "absolute"},
		{"no keys", func(c *config.Config) { c.Secrets.Keys = nil }, "secrets.keys", "at least one"},
		{"duplicate key id", func(c *config.Config) { c.Secrets.Keys = append(c.Secrets.Keys, c.Secrets.Keys[0]) }, "secrets.keys[1].id", "duplicates"},
		{"key id with colon", func(c *config.Config) { c.Secrets.Keys[0].ID = "a:b" }, "secrets.keys[0].id", "[A-Za-z0-9_-]+"},
		{"short key", func(c *config.Config) {
			c.Secrets.Keys[0].Key = config.NewSecret(base64.StdEncoding.EncodeToString(make([]byte, 16)))
		}, "secrets.keys[0].key", "16 bytes, want 32"},
		{"key not base64", func(c *config.Config) { c.Secrets.Keys[0].Key = config.NewSecret("not base64!!") }, "secrets.keys[0].key", "base64"},
		{"workers", func(c *config.Config) { c.Jobs.Workers = 0 }, "jobs.workers", "at least 1"},
		{"plugin id", func(c *config.Config) { c.Plugins.Instances[1].ID = "SMTP" }, "plugins.instances[1].id", "[a-z0-9_-]+"},
		{"plugin id duplicate", func(c *config.Config) { c.Plugins.Instances[1].ID = "sandbox" }, "plugins.instances[1].id", "duplicates plugins.instances[0].id"},
		{"plugin kind", func(c *config.Config) { c.Plugins.Instances[1].Kind = "gateway" }, "plugins.instances[1].kind", "provider, provisioner"},
		{"plugin binary empty", func(c *config.Config) { c.Plugins.Instances[1].Binary = "" }, "plugins.instances[1].binary", "empty"},
		{"plugin binary escapes dir", func(c *config.Config) { c.Plugins.Instances[1].Binary = "../smtp" }, "plugins.instances[1].binary", "inside plugins.dir"},
		{"plugin sha256", func(c *config.Config) { c.Plugins.Instances[1].SHA256 = "abc" }, "plugins.instances[1].sha256", "64"},
		{"page origin with path", func(c *config.Config) {
			c.Plugins.Instances[0].PageOrigins = []string{"https://pay.example.com", "https://pay.example.com/checkout"}
		}, "plugins.instances[0].page_origins[1]", "origin only"},
		{"page origin not a url", func(c *config.Config) { c.Plugins.Instances[0].PageOrigins = []string{"pay.example.com"} }, "plugins.instances[0].page_origins[0]", "must be an origin"},
		{"page origin javascript", func(c *config.Config) { c.Plugins.Instances[0].PageOrigins = []string{"javascript:alert(1)"} }, "plugins.instances[0].page_origins[0]", "must be an origin"},
		{"page origin credentials", func(c *config.Config) { c.Plugins.Instances[0].PageOrigins = []string{"https://u:p@pay.example.com"} }, "plugins.instances[0].page_origins[0]", "credentials"},
		{"provider mode", func(c *config.Config) { c.Plugins.Instances[0].Mode = "production" }, "plugins.instances[0].mode", "test, live"},
		{"provider mode case", func(c *config.Config) { c.Plugins.Instances[0].Mode = "Live" }, "plugins.instances[0].mode", "test, live"},
		{"mode on a mailer", func(c *config.Config) { c.Plugins.Instances[1].Mode = "live" }, "plugins.instances[1].mode", "only provider instances"},
		{"page origins on a mailer", func(c *config.Config) { c.Plugins.Instances[1].PageOrigins = []string{"https://mail.example.com"} }, "plugins.instances[1].page_origins", "only provider instances"},
		{"rule method", func(c *config.Config) { c.Routing.Rules[0].Method = "" }, "routing.rules[0].method", "empty"},
		{"rule plan", func(c *config.Config) { c.Routing.Rules[0].Plans = []string{"pro", "gold"} }, "routing.rules[0].plans[1]", "free, starter, pro, unlimited"},
		{"rule without providers", func(c *config.Config) { c.Routing.Rules[0].Providers = nil }, "routing.rules[0].providers", "at least one"},
		{"unknown provider", func(c *config.Config) { c.Routing.Rules[0].Providers[0].ID = "stripe" }, "routing.rules[0].providers[0].id", "not a configured plugin instance"},
		{"mailer as provider", func(c *config.Config) { c.Routing.Rules[0].Providers[0].ID = "smtp" }, "routing.rules[0].providers[0].id", "is a mailer, not a provider"},
		{"negative weight", func(c *config.Config) { c.Routing.Rules[0].Providers[0].Weight = -1 }, "routing.rules[0].providers[0].weight", "negative"},
		{"negative priority", func(c *config.Config) { c.Routing.Rules[0].Providers[0].Priority = -1 }, "routing.rules[0].providers[0].priority", "negative"},
		{"currency lower case", func(c *config.Config) { c.Routing.Rules[0].Providers[0].Currencies = []string{"usd"} }, "routing.rules[0].providers[0].currencies[0]", "upper-case"},
		{"currency unknown", func(c *config.Config) { c.Routing.Rules[0].Providers[0].Currencies = []string{"USD", "QQQ"} }, "routing.rules[0].providers[0].currencies[1]", "ISO 4217"},
		{"country", func(c *config.Config) { c.Routing.Rules[0].Providers[0].Countries = []string{"USA"} }, "routing.rules[0].providers[0].countries[0]", "2-letter"},
		{"min amount", func(c *config.Config) { c.Routing.Rules[0].Providers[0].MinAmount = "1,5" }, "routing.rules[0].providers[0].min_amount", "decimal"},
		{"min above max", func(c *config.Config) { c.Routing.Rules[0].Providers[0].MinAmount = "100.01" }, "routing.rules[0].providers[0].min_amount", "exceed"},
		{"breaker failures", func(c *config.Config) { c.Routing.Breaker.Failures = 0 }, "routing.breaker.failures", "at least 1"},
		{"session max", func(c *config.Config) { c.Sessions.MaxAmount = "0" }, "sessions.max_amount", "greater than 0"},
		{"rate", func(c *config.Config) { c.API.RateLimit.RequestsPerSecond = 0 }, "api.rate_limit.requests_per_second", "greater than 0"},
		{"burst", func(c *config.Config) { c.API.RateLimit.Burst = 0 }, "api.rate_limit.burst", "at least 1"},
		{"auth cache negative", func(c *config.Config) { c.API.AuthCacheTTL = -time.Second }, "api.auth_cache_ttl", "between 0s (off) and 1m0s"},
		{"auth cache too long", func(c *config.Config) { c.API.AuthCacheTTL = 2 * time.Minute }, "api.auth_cache_ttl", "between 0s (off) and 1m0s"},
		{"alias without slash", func(c *config.Config) { c.Public.WebhookAliases = map[string]string{"api/webhook.php": "sandbox"} }, `public.webhook_aliases["api/webhook.php"]`, "start with /"},
		{"alias to unknown", func(c *config.Config) { c.Public.WebhookAliases = map[string]string{"/hook": "nope"} }, `public.webhook_aliases["/hook"]`, "not a configured plugin instance"},
		{"webhook timeout", func(c *config.Config) { c.Webhooks.Timeout = -1 }, "webhooks.timeout", "positive"},
		{"licenses timeout zero", func(c *config.Config) { c.Licenses.Timeout = 0 }, "licenses.timeout", "positive"},
		{"licenses timeout negative", func(c *config.Config) { c.Licenses.Timeout = -time.Second }, "licenses.timeout", "positive"},
		{"licenses timeout too long", func(c *config.Config) { c.Licenses.Timeout = 26 * time.Second }, "licenses.timeout", "at most 25s"},
		{"hsts negative", func(c *config.Config) { c.Public.HSTSMaxAge = -time.Second }, "public.hsts_max_age", "0s (no header) or positive"},
		{"hooks rate", func(c *config.Config) { c.Hooks.RateLimit.RequestsPerSecond = 0 }, "hooks.rate_limit.requests_per_second", "greater than 0"},
		{"hooks burst", func(c *config.Config) { c.Hooks.RateLimit.Burst = 0 }, "hooks.rate_limit.burst", "at least 1"},
		{"hooks proxy", func(c *config.Config) { c.Hooks.TrustedProxies = []string{"10.0.0.0/8", "proxy.internal"} }, "hooks.trusted_proxies[1]", "IP address or CIDR prefix"},
		{"hooks unverified retention", func(c *config.Config) { c.Hooks.Retention.Unverified = 0 }, "hooks.retention.unverified", "positive"},
		{"hooks verified retention", func(c *config.Config) { c.Hooks.Retention.Verified = -time.Hour }, "hooks.retention.verified", "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.mutate(&cfg)
			err := cfg.Validate()
			var ve *config.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %v", err)
			}
			if len(ve.Problems) != 1 {
				t.Errorf("want exactly one problem, got %v", ve.Problems)
			}
			p := ve.Problems[0]
			if p.Path != tt.path || !strings.Contains(p.Message, tt.contains) {
				t.Errorf("got %s, want path %s with %q", p, tt.path, tt.contains)
			}
		})
	}
}

func TestValidatePageOrigins(t *testing.T) {
	cfg := validConfig()
	cfg.Plugins.Instances[0].PageOrigins = []string{"https://checkout.provider.example", "http://127.0.0.1:8443/", "HTTPS://Pay.Example.com:443"}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("valid origins refused: %v", err)
	}
}

func TestValidateSortsByPath(t *testing.T) {
	cfg := validConfig()
	rule := cfg.Routing.Rules[0]
	for range 11 {
		cfg.Routing.Rules = append(cfg.Routing.Rules, rule)
	}
	cfg.Routing.Rules[10].Method = ""
	cfg.Routing.Rules[2].Method = ""
	cfg.Log.Level = "loud"
	cfg.Admin.Addr = "nope"
	err := cfg.Validate()
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatal(err)
	}
	want := []string{"admin.addr", "log.level", "routing.rules[2].method", "routing.rules[10].method"}
	if got := paths(ve.Problems); !slices.Equal(got, want) {
		t.Errorf("order = %q, want %q", got, want)
	}
	if again := cfg.Validate().Error(); again != err.Error() {
		t.Errorf("not deterministic:\n%s\n%s", err, again)
	}
	if !strings.HasPrefix(err.Error(), "invalid configuration: 4 problems\n  admin.addr: ") {
		t.Errorf("message: %s", err)
	}
}

func TestKeyConfigBytes(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(250 + i) // forces '+' '/' vs '-' '_' to differ between alphabets
	}
	tests := []struct {
		name    string
		key     string
		wantErr string
	}{
		{"standard", base64.StdEncoding.EncodeToString(raw), ""},
		{"raw url", base64.RawURLEncoding.EncodeToString(raw), ""},
		{"empty", "", "empty"},
		{"too long", base64.StdEncoding.EncodeToString(append(raw, 1)), "33 bytes"},
		{"garbage", "%%%%", "not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := config.KeyConfig{ID: "k", Key: config.NewSecret(tt.key)}.Bytes()
			if tt.wantErr == "" {
				if err != nil || !slices.Equal(b, raw) {
					t.Fatalf("got %x, %v", b, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
			}
			if tt.key != "" && strings.Contains(err.Error(), tt.key) {
				t.Errorf("error echoes the key")
			}
		})
	}
}
