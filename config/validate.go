package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/sdk"
)

// Problem is one thing wrong with a configuration, located by its key path
// (e.g. routing.rules[0].providers[1].weight).
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// ValidationError lists every problem found, sorted by path. It wraps
// domain.ErrInvalid.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		b.WriteString("invalid configuration: 1 problem")
	} else {
		fmt.Fprintf(&b, "invalid configuration: %d problems", len(e.Problems))
	}
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap makes errors.Is(err, domain.ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return domain.ErrInvalid }

// Enumerations accepted by Validate; other packages may use them to stay in
// step with the config.
var (
	LogLevels   = []string{"debug", "info", "warn", "error"}
	LogFormats  = []string{"json", "text"}
	PluginKinds = []string{"provider", "provisioner", "registrar", "mailer"}
	Plans       = []string{"free", "starter", "pro", "unlimited"}
)

// KeyLen is the size of a keyring key: AES-256.
const KeyLen = 32

// Bytes decodes the key (standard or unpadded URL-safe base64) and checks its
// length. The error never contains the key.
func (k KeyConfig) Bytes() ([]byte, error) {
	s := strings.TrimSpace(k.Key.Value())
	if s == "" {
		return nil, errors.New("key is empty")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawURLEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, errors.New("key is not valid base64 (standard or raw URL-safe)")
	}
	if len(b) != KeyLen {
		return nil, fmt.Errorf("key decodes to %d bytes, want %d", len(b), KeyLen)
	}
	return b, nil
}

var (
	idPattern    = regexp.MustCompile(`^[a-z0-9_-]+$`)
	keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	decimalRe    = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	sha256Re     = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	countryRe    = regexp.MustCompile(`^[A-Z]{2}$`)
	// operatorNameRe: what an admin token's name may be. No brackets, so a
	// name never looks like the default admin.tokens[i].
	operatorNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)
)

// minTokenLen keeps guessable operator tokens out of the admin API.
const minTokenLen = 16

// Validate checks the whole configuration and returns a *ValidationError
// listing every problem (including those Load found: unknown keys, ill-typed
// values, unresolvable secrets), or nil.
func (c *Config) Validate() error {
	v := &validator{}
	v.http("public", c.Public.HTTPConfig)
	v.http("admin", c.Admin.HTTPConfig)
	v.public(c)
	v.admin(c)
	v.store(c.Store)
	v.log(c.Log)
	v.telemetry(c.Telemetry)
	v.secrets(c.Secrets)
	v.positive("jobs.poll_interval", c.Jobs.PollInterval)
	if c.Jobs.Workers < 1 {
		v.add("jobs.workers", "must be at least 1")
	}
	kinds := v.plugins(c.Plugins)
	v.routing(c.Routing, kinds)
	v.webhookAliases(c, kinds)
	v.positive("sessions.ttl", c.Sessions.TTL)
	v.positive("sessions.idempotency_ttl", c.Sessions.IdempotencyTTL)
	if d, ok := v.decimal("sessions.max_amount", c.Sessions.MaxAmount); ok && d.Sign() <= 0 {
		v.add("sessions.max_amount", "must be greater than 0")
	}
	if c.API.RateLimit.RequestsPerSecond <= 0 {
		v.add("api.rate_limit.requests_per_second", "must be greater than 0")
	}
	if c.API.RateLimit.Burst < 1 {
		v.add("api.rate_limit.burst", "must be at least 1")
	}
	rl := c.API.RateLimit
	v.oneOf("api.rate_limit.redis_failure", rl.RedisFailure, RedisFailurePolicies)
	if u := rl.RedisURL.Value(); u != "" && !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://") && !strings.HasPrefix(u, "unix://") {
		// The URL may hold a password: describe, do not echo.
		v.add("api.rate_limit.redis_url", "must be a redis://, rediss:// or unix:// URL")
	}
	if rl.RedisTimeout <= 0 || rl.RedisTimeout > RateLimitMaxRedisTimeout {
		v.add("api.rate_limit.redis_timeout", "must be a positive duration of at most %s (every request may wait that long for Redis)", RateLimitMaxRedisTimeout)
	}
	if c.API.AuthCacheTTL < 0 || c.API.AuthCacheTTL > APIMaxAuthCacheTTL {
		v.add("api.auth_cache_ttl", "must be between 0s (off) and %s: it is how long a key revoked elsewhere may still be accepted", APIMaxAuthCacheTTL)
	}
	v.hooks(c.Hooks)
	v.positive("webhooks.timeout", c.Webhooks.Timeout)
	if id := c.Webhooks.NotifyMailer; id != "" {
		if kind, ok := kinds[id]; !ok {
			v.add("webhooks.notify_mailer", "names no plugins.instances entry")
		} else if kind != "mailer" {
			v.add("webhooks.notify_mailer", "names an instance of kind %s, want mailer", kind)
		}
		if _, err := mail.ParseAddress(c.Webhooks.NotifyFrom); err != nil {
			v.add("webhooks.notify_from", "must be a mailbox such as \"Switchyard <noreply@example.com>\" when notify_mailer is set")
		}
	}
	if id := c.Mail.Mailer; id != "" {
		if kind, ok := kinds[id]; !ok {
			v.add("mail.mailer", "names no plugins.instances entry")
		} else if kind != "mailer" {
			v.add("mail.mailer", "names an instance of kind %s, want mailer", kind)
		}
	}
	if f := c.Mail.From; f != "" {
		if _, err := mail.ParseAddress(f); err != nil {
			v.add("mail.from", "must be a mailbox such as \"Shop <billing@example.com>\"")
		}
	}

	v.domains(c.Domains)
	v.products(c.Products, kinds)
	if c.Fulfillment.MaxAttempts < 1 || c.Fulfillment.MaxAttempts > 50 {
		v.add("fulfillment.max_attempts", "must be between 1 and 50")
	}
	v.positive("fulfillment.retry_delay", c.Fulfillment.RetryDelay)

	v.positive("licenses.timeout", c.Licenses.Timeout)
	if c.Licenses.Timeout > LicensesMaxTimeout {
		v.add("licenses.timeout", "must be at most %s (the provider waits for the key inside its own request)", LicensesMaxTimeout)
	}

	problems := mergeProblems(c.loadProblems, v.problems)
	for i, p := range problems {
		if from := originOf(c.origins, p.Path); from != "" {
			problems[i].Message += " (from " + from + ")"
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: problems}
}

// mergeProblems drops a check's complaint about a key whose value Load
// already rejected (the check saw the default or an empty secret instead), so
// each mistake is reported once, then sorts.
func mergeProblems(load, checks []Problem) []Problem {
	seen := make(map[string]bool, len(load))
	out := append([]Problem(nil), load...)
	for _, p := range load {
		seen[p.Path] = true
	}
	for _, p := range checks {
		if !seen[p.Path] {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b Problem) int {
		if c := comparePaths(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	return slices.Compact(out)
}

// originOf finds the variable or flag that set path, the key holding it
// (admin.tokens[1] was set by --admin-tokens) or a key below it
// (SWITCHYARD_PLUGINS__INSTANCES__0__ID turns plugins.instances into a
// mapping). The longest match wins, then the name, for determinism.
func originOf(origins map[string]string, path string) string {
	best, from := "", ""
	for key, name := range origins {
		related := path == key || strings.HasPrefix(path, key+"[") || strings.HasPrefix(path, key+".") ||
			strings.HasPrefix(key, path+".")
		if related && (len(key) > len(best) || len(key) == len(best) && name < from) {
			best, from = key, name
		}
	}
	return from
}

// comparePaths orders paths as text except that digit runs compare as
// numbers, so rules[2] sorts before rules[10].
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da != "" && db != "" {
			na, _ := strconv.ParseUint(da, 10, 64)
			nb, _ := strconv.ParseUint(db, 10, 64)
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

type validator struct {
	problems []Problem
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) positive(path string, d time.Duration) {
	if d <= 0 {
		v.add(path, "must be a positive duration")
	}
}

func (v *validator) oneOf(path, value string, allowed []string) bool {
	if slices.Contains(allowed, value) {
		return true
	}
	v.add(path, "must be one of %s, got %q", strings.Join(allowed, ", "), value)
	return false
}

func (v *validator) decimal(path, s string) (*big.Rat, bool) {
	if !decimalRe.MatchString(s) {
		v.add(path, "must be a decimal amount such as 49.95, got %q", s)
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

func (v *validator) addr(path, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.add(path, "must be host:port, got %q", addr)
		return
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		v.add(path, "port must be a number from 0 to 65535, got %q", port)
	}
	if strings.ContainsAny(host, " /") {
		v.add(path, "host %q is not a host name or IP address", host)
	}
}

func (v *validator) httpURL(path, raw string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https":
		v.add(path, "must be an absolute http:// or https:// URL, got %q", raw)
	case u.User != nil:
		v.add(path, "must not contain credentials")
	case u.RawQuery != "" || u.Fragment != "":
		v.add(path, "must not have a query or fragment")
	case strings.HasSuffix(raw, "/"):
		v.add(path, "must not end with a slash")
	}
}

func (v *validator) http(prefix string, h HTTPConfig) {
	v.addr(prefix+".addr", h.Addr)
	v.positive(prefix+".read_timeout", h.ReadTimeout)
	v.positive(prefix+".write_timeout", h.WriteTimeout)
	v.positive(prefix+".idle_timeout", h.IdleTimeout)
	if h.BodyLimit <= 0 {
		v.add(prefix+".body_limit", "must be a positive number of bytes")
	}
}

func (v *validator) public(c *Config) {
	if c.Public.BaseURL != "" {
		v.httpURL("public.base_url", c.Public.BaseURL)
	}
	if c.Public.HSTSMaxAge < 0 {
		v.add("public.hsts_max_age", "must be 0s (no header) or positive")
	}
	if _, port, err := net.SplitHostPort(c.Public.Addr); err == nil && port != "0" && c.Public.Addr == c.Admin.Addr {
		v.add("admin.addr", "must differ from public.addr (both are %q)", c.Admin.Addr)
	}
}

// hooks checks the webhook intake: the per-source bucket, the proxies
// (addresses or prefixes) and the retention windows.
func (v *validator) hooks(h HooksConfig) {
	if h.RateLimit.RequestsPerSecond <= 0 {
		v.add("hooks.rate_limit.requests_per_second", "must be greater than 0")
	}
	if h.RateLimit.Burst < 1 {
		v.add("hooks.rate_limit.burst", "must be at least 1")
	}
	for i, p := range h.TrustedProxies {
		if _, err := ParseTrustedProxy(p); err != nil {
			v.add(fmt.Sprintf("hooks.trusted_proxies[%d]", i), "must be an IP address or CIDR prefix such as 10.0.0.0/8, got %q", p)
		}
	}
	v.positive("hooks.retention.unverified", h.Retention.Unverified)
	v.positive("hooks.retention.verified", h.Retention.Verified)
}

// ParseTrustedProxy reads one hooks.trusted_proxies entry: a CIDR prefix,
// or a single address (its /32 or /128).
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (v *validator) admin(c *Config) {
	seen := make(map[string]int)
	names := make(map[string]int)
	for i, t := range c.Admin.Tokens {
		path := fmt.Sprintf("admin.tokens[%d]", i)
		switch {
		case len(t.Value()) < minTokenLen:
			v.add(path, "must be at least %d characters", minTokenLen)
		case seen[t.Value()] > 0:
			v.add(path, "duplicates admin.tokens[%d]", seen[t.Value()]-1)
		default:
			seen[t.Value()] = i + 1
		}
		if t.Role != "" {
			v.oneOf(path+".role", t.Role, []string{RoleViewer, RoleOperator})
		}
		if t.Name == "" {
			continue
		}
		switch {
		case !operatorNameRe.MatchString(t.Name):
			v.add(path+".name", "must be 1 to 64 letters, digits or . _ @ - (starting with a letter or digit), got %q", t.Name)
		case names[t.Name] > 0:
			v.add(path+".name", "duplicates admin.tokens[%d].name", names[t.Name]-1)
		default:
			names[t.Name] = i + 1
		}
	}
	cc := c.Admin.Console
	if cc.BaseURL != "" {
		v.httpURL("admin.console.base_url", cc.BaseURL)
	}
	v.positive("admin.console.idle_timeout", cc.IdleTimeout)
	v.positive("admin.console.max_age", cc.MaxAge)
	if cc.IdleTimeout > cc.MaxAge && cc.MaxAge > 0 {
		v.add("admin.console.idle_timeout", "must not exceed admin.console.max_age (%s)", cc.MaxAge)
	}
	if cc.LoginRateLimit.PerMinute <= 0 {
		v.add("admin.console.login_rate_limit.per_minute", "must be greater than 0")
	}
	if cc.LoginRateLimit.Burst < 1 {
		v.add("admin.console.login_rate_limit.burst", "must be at least 1")
	}
}

func (v *validator) store(s StoreConfig) {
	switch {
	case strings.HasPrefix(s.DSN, "sqlite:"):
		if strings.TrimPrefix(s.DSN, "sqlite:") == "" {
			v.add("store.dsn", "sqlite: needs a database path, e.g. sqlite:var/switchyard.db")
		}
	case strings.HasPrefix(s.DSN, "postgres://"), strings.HasPrefix(s.DSN, "postgresql://"):
		if u, err := url.Parse(s.DSN); err != nil || u.Host == "" {
			// The DSN may hold a password: describe, do not echo.
			v.add("store.dsn", "is not a valid postgres:// URL (host required)")
		}
	default:
		scheme, _, ok := strings.Cut(s.DSN, ":")
		if !ok || strings.ContainsAny(scheme, "/@") {
			scheme = ""
		}
		v.add("store.dsn", "must start with sqlite: or postgres:// (or postgresql://), got scheme %q", scheme)
	}
	if s.MaxOpenConns < 0 {
		v.add("store.max_open_conns", "must not be negative (0 uses the store's default)")
	}
	if pg := strings.HasPrefix(s.DSN, "postgres"); pg && s.MaxOpenConns > 0 && s.MaxOpenConns < StoreMinPGConns {
		v.add("store.max_open_conns", "must be at least %d on PostgreSQL (LISTEN holds two connections), got %d", StoreMinPGConns, s.MaxOpenConns)
	}
	v.positive("store.busy_timeout", s.BusyTimeout)
}

func (v *validator) log(l LogConfig) {
	v.oneOf("log.level", l.Level, LogLevels)
	v.oneOf("log.format", l.Format, LogFormats)
}

func (v *validator) telemetry(t TelemetryConfig) {
	if strings.TrimSpace(t.ServiceName) == "" {
		v.add("telemetry.service_name", "must not be empty")
	}
	if t.OTLPEndpoint != "" {
		v.httpURL("telemetry.otlp_endpoint", t.OTLPEndpoint)
	}
	if t.SampleRatio < 0 || t.SampleRatio > 1 {
		v.add("telemetry.sample_ratio", "must be between 0 and 1")
	}
}

func (v *validator) secrets(s SecretsConfig) {
	if len(s.Keys) == 0 {
		v.add("secrets.keys", "at least one key is required to encrypt credentials at rest")
	}
	seen := make(map[string]int)
	for i, k := range s.Keys {
		path := fmt.Sprintf("secrets.keys[%d]", i)
		v.uniqueID("secrets.keys", i, k.ID, keyIDPattern, seen)
		if _, err := k.Bytes(); err != nil {
			v.add(path+".key", "%v", err)
		}
	}
}

// uniqueID checks the id of element i of a list against its pattern and the
// ids before it; seen maps an id to its first index + 1.
func (v *validator) uniqueID(list string, i int, id string, re *regexp.Regexp, seen map[string]int) {
	path := fmt.Sprintf("%s[%d].id", list, i)
	switch {
	case !re.MatchString(id):
		v.add(path, "must match %s, got %q", strings.Trim(re.String(), "^$"), id)
	case seen[id] > 0:
		v.add(path, "duplicates %s[%d].id %q", list, seen[id]-1, id)
	default:
		seen[id] = i + 1
	}
}

// plugins checks the instances and returns each instance id's kind.
func (v *validator) plugins(p PluginsConfig) map[string]string {
	if strings.TrimSpace(p.Dir) == "" {
		v.add("plugins.dir", "must not be empty")
	}
	v.positive("plugins.start_timeout", p.StartTimeout)
	v.positive("plugins.call_timeout", p.CallTimeout)
	kinds := make(map[string]string)
	seen := make(map[string]int)
	for i, in := range p.Instances {
		path := fmt.Sprintf("plugins.instances[%d]", i)
		v.uniqueID("plugins.instances", i, in.ID, idPattern, seen)
		v.oneOf(path+".kind", in.Kind, PluginKinds)
		if _, dup := kinds[in.ID]; !dup {
			kinds[in.ID] = in.Kind
		}
		switch {
		case in.Binary == "":
			v.add(path+".binary", "must not be empty")
		case !filepath.IsLocal(in.Binary):
			v.add(path+".binary", "must be a path inside plugins.dir, got %q", in.Binary)
		}
		if in.SHA256 != "" && !sha256Re.MatchString(in.SHA256) {
			v.add(path+".sha256", "must be 64 hexadecimal characters")
		}
		if len(in.PageOrigins) > 0 && in.Kind != "provider" && slices.Contains(PluginKinds, in.Kind) {
			v.add(path+".page_origins", "only provider instances send shoppers to pages (this is a %s)", in.Kind)
		}
		for j, o := range in.PageOrigins {
			v.origin(fmt.Sprintf("%s.page_origins[%d]", path, j), o)
		}
		switch {
		case in.Mode == "":
		case in.Kind != "provider" && slices.Contains(PluginKinds, in.Kind):
			v.add(path+".mode", "only provider instances take payments in a mode (this is a %s)", in.Kind)
		default:
			v.oneOf(path+".mode", in.Mode, []string{InstanceModeTest, InstanceModeLive})
		}
	}
	if strings.TrimSpace(p.Reattach) != "" {
		reattach, err := sdk.ParseReattach(p.Reattach)
		if err != nil {
			v.add("plugins.reattach", "%v", err)
		}
		for _, id := range slices.Sorted(maps.Keys(reattach)) {
			if _, ok := kinds[id]; !ok {
				v.add("plugins.reattach", "%q is not a configured plugin instance (plugins.instances)", id)
			}
		}
	}
	return kinds
}

// origin checks a browser origin: scheme://host[:port], http or https, and
// nothing else (a trailing slash is tolerated).
func (v *validator) origin(path, raw string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https":
		v.add(path, "must be an origin such as https://pay.example.com, got %q", raw)
	case u.User != nil:
		v.add(path, "must not contain credentials")
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		v.add(path, "must be an origin only (scheme://host[:port]), without path, query or fragment, got %q", raw)
	}
}

// providerRef checks that id names a provider instance. An instance whose
// kind is itself invalid was already reported, so it is not blamed twice.
func (v *validator) providerRef(path, id string, kinds map[string]string) {
	kind, ok := kinds[id]
	switch {
	case !ok:
		v.add(path, "%q is not a configured plugin instance (plugins.instances)", id)
	case kind == "provider" || !slices.Contains(PluginKinds, kind):
	default:
		v.add(path, "%q is a %s, not a provider", id, kind)
	}
}

func (v *validator) routing(r RoutingConfig, kinds map[string]string) {
	for i, rule := range r.Rules {
		path := fmt.Sprintf("routing.rules[%d]", i)
		if strings.TrimSpace(rule.Method) == "" {
			v.add(path+".method", "must not be empty")
		}
		for j, plan := range rule.Plans {
			v.oneOf(fmt.Sprintf("%s.plans[%d]", path, j), plan, Plans)
		}
		for j, m := range rule.Merchants {
			if m <= 0 {
				v.add(fmt.Sprintf("%s.merchants[%d]", path, j), "must be a merchant id (positive integer)")
			}
		}
		if len(rule.Providers) == 0 {
			v.add(path+".providers", "must list at least one provider")
		}
		seen := make(map[string]bool)
		for j, p := range rule.Providers {
			v.routingProvider(fmt.Sprintf("%s.providers[%d]", path, j), p, kinds, seen)
		}
	}
	if r.Breaker.Failures < 1 {
		v.add("routing.breaker.failures", "must be at least 1")
	}
	v.positive("routing.breaker.cooldown", r.Breaker.Cooldown)
}

func (v *validator) routingProvider(path string, p RoutingProvider, kinds map[string]string, seen map[string]bool) {
	if seen[p.ID] {
		v.add(path+".id", "%q is listed twice in this rule", p.ID)
	} else {
		v.providerRef(path+".id", p.ID, kinds)
	}
	seen[p.ID] = true
	if p.Priority < 0 {
		v.add(path+".priority", "must not be negative")
	}
	if p.Weight < 0 {
		v.add(path+".weight", "must not be negative")
	}
	for k, cur := range p.Currencies {
		cpath := fmt.Sprintf("%s.currencies[%d]", path, k)
		if len(cur) != 3 || strings.ToUpper(cur) != cur {
			v.add(cpath, "must be a 3-letter upper-case ISO 4217 code, got %q", cur)
		} else if !domain.Currency(cur).Valid() {
			v.add(cpath, "%q is not a current ISO 4217 currency that payments are made in", cur)
		}
	}
	for k, country := range p.Countries {
		if !countryRe.MatchString(country) {
			v.add(fmt.Sprintf("%s.countries[%d]", path, k), "must be a 2-letter upper-case ISO 3166 code, got %q", country)
		}
	}
	var lo, hi *big.Rat
	if p.MinAmount != "" {
		lo, _ = v.decimal(path+".min_amount", p.MinAmount)
	}
	if p.MaxAmount != "" {
		hi, _ = v.decimal(path+".max_amount", p.MaxAmount)
	}
	if lo != nil && hi != nil && lo.Cmp(hi) > 0 {
		v.add(path+".min_amount", "must not exceed max_amount")
	}
}

func (v *validator) webhookAliases(c *Config, kinds map[string]string) {
	for _, k := range sortedKeys(c.Public.WebhookAliases) {
		path := mapKeyPath("public.webhook_aliases", k)
		if !strings.HasPrefix(k, "/") {
			v.add(path, "path must start with /")
		}
		v.providerRef(path, c.Public.WebhookAliases[k], kinds)
	}
}

// products checks products[]: a usable unique sku per merchant, a name,
// and a fulfillment spec whose plugin references exist
// (domain.FulfillmentSpec.Check, the rule the admin API applies too).
func (v *validator) products(ps []ProductConfig, kinds map[string]string) {
	seen := map[string]bool{}
	for i, p := range ps {
		path := fmt.Sprintf("products[%d]", i)
		if !domain.ValidSKU(p.SKU) {
			v.add(path+".sku", "must be 1-64 letters, digits or . _ : -")
		}
		key := fmt.Sprintf("%d/%s", p.MerchantID, p.SKU)
		if seen[key] {
			v.add(path+".sku", "%q is defined twice for the same merchant", p.SKU)
		}
		seen[key] = true
		if strings.TrimSpace(p.Name) == "" {
			v.add(path+".name", "must not be empty")
		}
		if p.MerchantID < 0 {
			v.add(path+".merchant_id", "must be a merchant id, or absent for a global product")
		}
		for _, e := range p.Fulfillment.Spec().Check(func(id string) string { return kinds[id] }) {
			v.add(path+"."+e.Field, "%s", e.Message)
		}
	}
}
