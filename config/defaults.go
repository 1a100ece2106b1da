package config

import "time"

// Defaults returns the configuration used for every key the file, the
// environment and the flags leave unset. Each call returns a fresh value.
func Defaults() Config {
	listener := func(addr string) HTTPConfig {
		return HTTPConfig{
			Addr:         addr,
			ReadTimeout:  10 * time.Second,
			WriteTimeout: 30 * time.Second,
			IdleTimeout:  60 * time.Second,
			BodyLimit:    1 << 20,
		}
	}
	return Config{
		Public: PublicConfig{HTTPConfig: listener("127.0.0.1:8080"), HSTSMaxAge: 365 * 24 * time.Hour},
		Admin: AdminConfig{HTTPConfig: listener("127.0.0.1:8081"), Console: ConsoleConfig{
			Enabled: true, IdleTimeout: 30 * time.Minute, MaxAge: 12 * time.Hour,
			LoginRateLimit: LoginRateLimitConfig{PerMinute: 10, Burst: 5},
		}},
		Store: StoreConfig{
			DSN:          "sqlite:var/switchyard.db",
			MaxOpenConns: 20,
			BusyTimeout:  5 * time.Second,
			Listen:       true,
		},
		Log:       LogConfig{Level: "info", Format: "text"},
		Telemetry: TelemetryConfig{ServiceName: "switchyard", SampleRatio: 1},
		Jobs:      JobsConfig{Workers: 10, PollInterval: time.Second},
		Plugins: PluginsConfig{
			Dir:          "bin/plugins",
			StartTimeout: 10 * time.Second,
			CallTimeout:  15 * time.Second,
		},
		Routing: RoutingConfig{Breaker: BreakerConfig{Failures: 5, Cooldown: 30 * time.Second}},
		Sessions: SessionsConfig{
			TTL:            24 * time.Hour,
			MaxAmount:      "999999.99",
			IdempotencyTTL: 24 * time.Hour,
		},
		API: APIConfig{RateLimit: RateLimitConfig{RequestsPerSecond: 20, Burst: 40, RedisFailure: "open", RedisTimeout: 250 * time.Millisecond},
			AuthCacheTTL: 2 * time.Second},
		Webhooks:    WebhooksConfig{Timeout: 10 * time.Second},
		Domains:     defaultDomains(),
		Licenses:    LicensesConfig{Timeout: 10 * time.Second},
		Fulfillment: FulfillmentConfig{MaxAttempts: 12, RetryDelay: 30 * time.Second},
		Hooks: HooksConfig{
			RateLimit: HooksRateLimitConfig{RequestsPerSecond: 20, Burst: 100},
			Retention: HooksRetentionConfig{Unverified: 7 * 24 * time.Hour, Verified: 90 * 24 * time.Hour},
		},
	}
}
