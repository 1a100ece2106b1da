package config

import (
	"fmt"
	"time"

	"github.com/switchyard/switchyard/core/domain"
)

// Config is Switchyard's whole configuration. It is built once by Load (YAML
// file, then SWITCHYARD_ environment, then flags) and passed down from
// core/app; nothing else reads the environment or files for settings.
type Config struct {
	Public    PublicConfig    `koanf:"public"`
	Admin     AdminConfig     `koanf:"admin"`
	Store     StoreConfig     `koanf:"store"`
	Log       LogConfig       `koanf:"log"`
	Telemetry TelemetryConfig `koanf:"telemetry"`
	Secrets   SecretsConfig   `koanf:"secrets"`
	Jobs      JobsConfig      `koanf:"jobs"`
	Plugins   PluginsConfig   `koanf:"plugins"`
	Routing   RoutingConfig   `koanf:"routing"`
	Sessions  SessionsConfig  `koanf:"sessions"`
	API       APIConfig       `koanf:"api"`
	Webhooks  WebhooksConfig  `koanf:"webhooks"`
	Licenses  LicensesConfig  `koanf:"licenses"`
	Hooks     HooksConfig     `koanf:"hooks"`
	Mail      MailConfig      `koanf:"mail"`
	Domains   DomainsConfig   `koanf:"domains"`
	// Products are the products defined in the file (docs/fulfillment.md);
	// more are saved through the admin API.
	Products    []ProductConfig   `koanf:"products"`
	Fulfillment FulfillmentConfig `koanf:"fulfillment"`

	// loadProblems are what Load found before the typed checks (unknown
	// keys, ill-typed values, unresolvable secrets); Validate reports them.
	loadProblems []Problem
	// origins maps key paths set by an environment variable or a flag to
	// its name, so a problem with such a key says where the value came from.
	origins map[string]string
}

// HTTPConfig is what both listeners share.
type HTTPConfig struct {
	Addr         string        `koanf:"addr"`
	ReadTimeout  time.Duration `koanf:"read_timeout"`
	WriteTimeout time.Duration `koanf:"write_timeout"`
	IdleTimeout  time.Duration `koanf:"idle_timeout"`
	BodyLimit    int64         `koanf:"body_limit"` // bytes
}

// PublicConfig is the merchant API, checkout and provider-webhook listener.
type PublicConfig struct {
	HTTPConfig `koanf:",squash"`
	// BaseURL is how shoppers and providers reach the public listener
	// (scheme://host[:port], no trailing slash). Empty means http:// + Addr,
	// with the bound port when Addr asks for port 0.
	BaseURL string `koanf:"base_url"`
	// WebhookAliases maps a legacy path (e.g. /api/webhook.php) to a provider
	// instance id, so seed integrations keep their registered URLs.
	WebhookAliases map[string]string `koanf:"webhook_aliases"`
	// HSTSMaxAge is the Strict-Transport-Security max-age sent on every
	// public response when BaseURL is https; 0 sends no header.
	HSTSMaxAge time.Duration `koanf:"hsts_max_age"`
}

// AdminConfig is the operator listener: admin API, console and /metrics.
type AdminConfig struct {
	HTTPConfig `koanf:",squash"`
	// Tokens are the operators' credentials. Each entry is either a plain
	// token (secret; name admin.tokens[i], role operator, as before roles
	// existed) or a mapping {name, role, token}.
	Tokens  []AdminToken  `koanf:"tokens"`
	Console ConsoleConfig `koanf:"console"`
	// DemoInbox, for development, serves POST /demo/inbox on the admin
	// listener: a webhook receiver that answers 204 and logs what it got,
	// so the demo merchant's endpoint has somewhere to deliver (make run).
	DemoInbox bool `koanf:"demo_inbox"`
}

// Operator roles: a viewer reads everything, an operator also acts.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
)

// AdminToken is one operator credential. In the file it is a plain token
// or a mapping; Name and Role are empty when the file leaves them out (see
// AdminConfig.Operators for the defaults).
type AdminToken struct {
	Name  string `koanf:"name"`
	Role  string `koanf:"role"`
	Token Secret `koanf:"token"`
}

// Value returns the resolved token.
func (t AdminToken) Value() string { return t.Token.Value() }

// NewAdminToken wraps a resolved token with a name and role (for tests and
// programmatic config); empty name and role take the defaults.
func NewAdminToken(name, role, token string) AdminToken {
	return AdminToken{Name: name, Role: role, Token: NewSecret(token)}
}

// Operators returns the tokens with their defaults filled in: an unnamed
// token is called admin.tokens[i] (so the audit log says which entry acted)
// and a token without a role is an operator, as every token was before
// roles existed.
func (a AdminConfig) Operators() []AdminToken {
	out := make([]AdminToken, 0, len(a.Tokens))
	for i, t := range a.Tokens {
		if t.Name == "" {
			t.Name = fmt.Sprintf("admin.tokens[%d]", i)
		}
		if t.Role == "" {
			t.Role = RoleOperator
		}
		out = append(out, t)
	}
	return out
}

// ConsoleConfig is the operator web console under /console/ on the admin
// listener.
type ConsoleConfig struct {
	Enabled bool `koanf:"enabled"`
	// BaseURL is how operators' browsers reach the admin listener
	// (scheme://host[:port]) when it is behind a proxy. When it is https
	// the session cookie is Secure (and __Host- prefixed); empty means the
	// request's own scheme decides.
	BaseURL string `koanf:"base_url"`
	// IdleTimeout ends a console session nobody used for this long;
	// MaxAge ends any session this long after login.
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	MaxAge      time.Duration `koanf:"max_age"`
	// LoginRateLimit is a token bucket per client address on login attempts.
	LoginRateLimit LoginRateLimitConfig `koanf:"login_rate_limit"`
}

// LoginRateLimitConfig is the console's login bucket per client address:
// PerMinute attempts refill each minute, up to Burst at once.
type LoginRateLimitConfig struct {
	PerMinute float64 `koanf:"per_minute"`
	Burst     int     `koanf:"burst"`
}

// StoreConfig selects and tunes the database.
type StoreConfig struct {
	// DSN is sqlite:PATH or postgres://...
	DSN string `koanf:"dsn"`
	// MaxOpenConns is the PostgreSQL pool of one instance, shared by
	// requests, River and the LISTEN connections; 0 means the default (20).
	MaxOpenConns int           `koanf:"max_open_conns"`
	BusyTimeout  time.Duration `koanf:"busy_timeout"` // SQLite only
	// Listen turns PostgreSQL LISTEN/NOTIFY on: jobs start on any instance
	// as soon as they are enqueued, and auth caches drop revoked keys at
	// once. Off (behind PgBouncer in transaction mode, where LISTEN cannot
	// work), jobs are polled and caches expire by TTL.
	Listen bool `koanf:"listen"`
}

// StoreMinPGConns is the smallest store.max_open_conns on PostgreSQL: two
// connections are held by LISTEN (River's and the cache invalidation's).
const StoreMinPGConns = 4

// LogConfig configures log/slog.
type LogConfig struct {
	Level  string `koanf:"level"`  // debug, info, warn, error
	Format string `koanf:"format"` // json or text
}

// TelemetryConfig configures OpenTelemetry.
type TelemetryConfig struct {
	ServiceName  string  `koanf:"service_name"`
	OTLPEndpoint string  `koanf:"otlp_endpoint"` // empty: no trace export
	SampleRatio  float64 `koanf:"sample_ratio"`
}

// SecretsConfig is the keyring that encrypts credentials at rest.
type SecretsConfig struct {
	// Keys: the first encrypts, all decrypt. Each key is 32 bytes, base64.
	Keys []KeyConfig `koanf:"keys"`
}

// KeyConfig is one keyring entry.
type KeyConfig struct {
	ID  string `koanf:"id"`
	Key Secret `koanf:"key"`
}

// JobsConfig tunes the River workers.
type JobsConfig struct {
	Workers      int           `koanf:"workers"`
	PollInterval time.Duration `koanf:"poll_interval"`
}

// PluginsConfig lists the plugin instances the host launches.
type PluginsConfig struct {
	Dir          string           `koanf:"dir"`
	StartTimeout time.Duration    `koanf:"start_timeout"`
	CallTimeout  time.Duration    `koanf:"call_timeout"`
	Instances    []PluginInstance `koanf:"instances"`
	// Reattach, for development, is a JSON object from instance id to the
	// address of a plugin already running in debug mode (what the plugin
	// prints when started with SWITCHYARD_PLUGIN_DEBUG=<id>; see
	// sdk.ParseReattach). Those instances are connected to instead of
	// launched. Usually given as SWITCHYARD_PLUGINS_REATTACH.
	Reattach string `koanf:"reattach"`
}

// PluginInstance is one configured plugin process.
//
// Enabled is nil when the file leaves it out, which means enabled. In the
// file it may also be env:NAME; Load resolves that to true or false, so
// consumers only ever see a plain bool (see IsEnabled).
type PluginInstance struct {
	ID       string            `koanf:"id"`
	Kind     string            `koanf:"kind"` // provider, provisioner, registrar, mailer
	Binary   string            `koanf:"binary"`
	SHA256   string            `koanf:"sha256"`
	Enabled  *bool             `koanf:"enabled" switch:"env"`
	Settings map[string]Secret `koanf:"settings"`
	// PageOrigins, for a provider, are the origins (scheme://host[:port])
	// of the pages it sends shoppers to, e.g. its hosted payment page. The
	// hosted checkout's form-action policy lists them, so the method form
	// can 303 the browser there directly; a page on an unlisted origin is
	// reached through a hand-off page instead. Plugins report their usual
	// origins themselves (provider.Description.PageOrigins); these are for
	// pages a setting moves elsewhere.
	PageOrigins []string `koanf:"page_origins"`
	// Mode, for a provider, is "test" or "live": which sessions (by their
	// API key's mode) routing may send to the instance and whose events it
	// may settle. Empty means test, so no instance takes live money unless
	// the operator says so. It must agree with the plugin's own setting
	// (Stripe's mode, PayPro's test_mode); the sandbox is test only.
	Mode string `koanf:"mode"`
}

// Provider instance modes (plugins.instances[].mode).
const (
	InstanceModeTest = "test"
	InstanceModeLive = "live"
)

// IsEnabled reports whether the instance is to be started.
func (p PluginInstance) IsEnabled() bool { return p.Enabled == nil || *p.Enabled }

// ProviderMode is the instance's mode, InstanceModeTest when none is given.
func (p PluginInstance) ProviderMode() string {
	if p.Mode == "" {
		return InstanceModeTest
	}
	return p.Mode
}

// RoutingConfig ranks provider instances per method.
type RoutingConfig struct {
	Rules   []RoutingRule `koanf:"rules"`
	Breaker BreakerConfig `koanf:"breaker"`
}

// RoutingRule maps a method to candidate providers for some plans or merchants.
type RoutingRule struct {
	Method    string            `koanf:"method"`
	Plans     []string          `koanf:"plans"`     // empty: every plan
	Merchants []int64           `koanf:"merchants"` // empty: every merchant
	Providers []RoutingProvider `koanf:"providers"`
}

// RoutingProvider is one candidate within a rule.
type RoutingProvider struct {
	ID         string   `koanf:"id"`
	Priority   int      `koanf:"priority"` // lower runs first
	Weight     int      `koanf:"weight"`   // volume split among equal priority
	Currencies []string `koanf:"currencies"`
	Countries  []string `koanf:"countries"`
	MinAmount  string   `koanf:"min_amount"` // decimal, in the session currency
	MaxAmount  string   `koanf:"max_amount"`
}

// BreakerConfig is the per-provider circuit breaker.
type BreakerConfig struct {
	Failures int           `koanf:"failures"` // consecutive failures that open it
	Cooldown time.Duration `koanf:"cooldown"`
}

// SessionsConfig sets checkout session policy.
type SessionsConfig struct {
	TTL            time.Duration `koanf:"ttl"`
	MaxAmount      string        `koanf:"max_amount"` // decimal, per currency major unit
	IdempotencyTTL time.Duration `koanf:"idempotency_ttl"`
}

// APIConfig sets merchant API policy.
type APIConfig struct {
	RateLimit RateLimitConfig `koanf:"rate_limit"`
	// AuthCacheTTL is how long a successful API key authentication is
	// reused; 0 turns the cache off.
	AuthCacheTTL time.Duration `koanf:"auth_cache_ttl"`
}

// APIMaxAuthCacheTTL bounds api.auth_cache_ttl: it is how long a key
// revoked elsewhere (CLI, another instance) may still be accepted here.
const APIMaxAuthCacheTTL = time.Minute

// RateLimitConfig is a per-key token bucket.
type RateLimitConfig struct {
	RequestsPerSecond float64 `koanf:"requests_per_second"`
	Burst             int     `koanf:"burst"`
	// RedisURL, when set, keeps the buckets in Redis so every instance
	// shares them; empty keeps them per instance.
	RedisURL Secret `koanf:"redis_url"`
	// RedisFailure is what happens while Redis cannot be reached: open
	// (each instance applies its own buckets) or closed (503).
	RedisFailure string `koanf:"redis_failure"`
	// RedisTimeout bounds each Redis call (dial, read, write).
	RedisTimeout time.Duration `koanf:"redis_timeout"`
}

// RedisFailurePolicies are the values of api.rate_limit.redis_failure.
var RedisFailurePolicies = []string{"open", "closed"}

// RateLimitMaxRedisTimeout bounds api.rate_limit.redis_timeout: every
// merchant request may wait that long when Redis hangs.
const RateLimitMaxRedisTimeout = 5 * time.Second

// WebhooksConfig sets outbound webhook policy.
type WebhooksConfig struct {
	// AllowPrivateTargets lets target URLs reach loopback (127.0.0.0/8,
	// ::1), for development; nothing else non-public opens.
	AllowPrivateTargets bool          `koanf:"allow_private_targets"`
	Timeout             time.Duration `koanf:"timeout"`
	// NotifyMailer is a mailer plugin instance id; when set, a merchant's
	// contact is emailed when a delivery finally fails or an endpoint is
	// disabled. Empty: a log line and a metric only.
	NotifyMailer string `koanf:"notify_mailer"`
	// NotifyFrom is the sender mailbox of those emails.
	NotifyFrom string `koanf:"notify_from"`
}

// MailConfig holds the defaults of the mail Switchyard sends to merchants'
// customers (receipts, service ready and suspended); a merchant's own mail
// settings win (docs/fulfillment.md#mail).
type MailConfig struct {
	// Mailer is the mailer plugin instance used for a merchant that names
	// none. Empty: such a merchant's customers get no mail until it names one.
	Mailer string `koanf:"mailer"`
	// From is the sender mailbox used for a merchant that names none; empty
	// means the mailer plugin's own sender.
	From string `koanf:"from"`
}

// ProductConfig is one products[] entry: a sku and how its items are
// fulfilled. MerchantID 0 is a global product (every merchant's sessions
// may name it; a merchant's own product with the same sku wins).
type ProductConfig struct {
	SKU         string             `koanf:"sku"`
	Name        string             `koanf:"name"`
	MerchantID  int64              `koanf:"merchant_id"`
	Fulfillment ProductFulfillment `koanf:"fulfillment"`
}

// ProductFulfillment is domain.FulfillmentSpec in the file.
type ProductFulfillment struct {
	Kind             string   `koanf:"kind"`
	Provisioner      string   `koanf:"provisioner"`
	Package          string   `koanf:"package"`
	OnRefund         string   `koanf:"on_refund"`
	LoginLinkInEmail bool     `koanf:"login_link_in_email"`
	GracePeriod      string   `koanf:"grace_period"`
	Registrar        string   `koanf:"registrar"`
	TLDs             []string `koanf:"tlds"`
	MailDNS          bool     `koanf:"mail_dns"`
}

// Spec is the entry as the domain's spec.
func (p ProductFulfillment) Spec() domain.FulfillmentSpec {
	s := domain.FulfillmentSpec{
		Kind: domain.FulfillmentKind(p.Kind), Provisioner: p.Provisioner, Package: p.Package,
		OnRefund: domain.RefundPolicy(p.OnRefund), LoginLinkInEmail: p.LoginLinkInEmail, GracePeriod: p.GracePeriod,
		Registrar: p.Registrar, TLDs: p.TLDs, MailDNS: p.MailDNS,
	}
	s.Normalize()
	return s
}

// FulfillmentConfig tunes the fulfillment jobs (panel calls).
type FulfillmentConfig struct {
	// MaxAttempts is how often a panel call that fails for a passing
	// reason (panel unreachable, 5xx, timeout) is tried before the service
	// is marked failed.
	MaxAttempts int `koanf:"max_attempts"`
	// RetryDelay is the first wait between attempts; it doubles up to an
	// hour.
	RetryDelay time.Duration `koanf:"retry_delay"`
}

// LicensesConfig sets how license-key requests (PayPro's LicenseRequested)
// are forwarded to merchants' key generators. The calls use
// webhooks.allow_private_targets like outbound webhooks.
type LicensesConfig struct {
	// Timeout bounds one call to a merchant's key generator, which the
	// provider waits on synchronously; at most LicensesMaxTimeout.
	Timeout time.Duration `koanf:"timeout"`
}

// LicensesMaxTimeout is the largest licenses.timeout: the key is answered
// inside the provider's own request, and 30 s is the common provider
// timeout. It equals core/licenses.MaxTimeout (config cannot import that
// package, which depends on config; a test there keeps the two equal).
const LicensesMaxTimeout = 25 * time.Second

// HooksConfig is the inbound provider webhook intake: /hooks/… and the
// public.webhook_aliases paths.
type HooksConfig struct {
	// RateLimit is a token bucket per source address (an IPv6 source by
	// its /64); excess requests get 429 before their body is read.
	RateLimit HooksRateLimitConfig `koanf:"rate_limit"`
	// TrustedProxies are the addresses or CIDR prefixes of reverse proxies
	// in front of the public listener: a request from one of them is
	// attributed to the address its X-Forwarded-For names. Empty: the peer
	// address is the source.
	TrustedProxies []string `koanf:"trusted_proxies"`
	// Retention is how long stored requests are kept.
	Retention HooksRetentionConfig `koanf:"retention"`
}

// HooksRateLimitConfig is the webhook intake's bucket per source.
type HooksRateLimitConfig struct {
	RequestsPerSecond float64 `koanf:"requests_per_second"`
	Burst             int     `koanf:"burst"`
}

// HooksRetentionConfig are the windows of the webhook request retention
// job, counted from when a request was received.
type HooksRetentionConfig struct {
	// Unverified requests (the plugin refused them) are bounded excerpts
	// kept for diagnosis.
	Unverified time.Duration `koanf:"unverified"`
	// Verified requests are kept whole, as the record behind applied events.
	Verified time.Duration `koanf:"verified"`
}
