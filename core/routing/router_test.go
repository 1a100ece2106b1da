package routing

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
)

type healthMap map[string]bool

// Healthy reports false for providers marked down.
func (h healthMap) Healthy(id string) bool { return !h[id] }

var _ HealthChecker = healthMap(nil)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func seeded(seed uint64) func() float64 {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func() float64 { mu.Lock(); defer mu.Unlock(); return r.Float64() }
}

var breakerCfg = config.BreakerConfig{Failures: 3, Cooldown: 30 * time.Second}

func newRouter(t *testing.T, rules []config.RoutingRule, opts Options) *Router {
	t.Helper()
	if opts.Rand == nil {
		opts.Rand = seeded(1)
	}
	r, err := New(config.RoutingConfig{Rules: rules, Breaker: breakerCfg}, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func prov(id string, priority, weight int) config.RoutingProvider {
	return config.RoutingProvider{ID: id, Priority: priority, Weight: weight}
}

func ids(cs []Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ProviderID
	}
	return out
}

func usd(amount int64) Request {
	return Request{Mode: domain.ModeTest, MerchantID: 42, Plan: domain.PlanPro, Method: "card", Amount: amount, Currency: "USD", Country: "US"}
}

func TestRoute(t *testing.T) {
	rules := []config.RoutingRule{
		// 0: catch-all card
		{Method: "card", Providers: []config.RoutingProvider{prov("sandbox", 0, 0)}},
		// 1: pro/unlimited card, priority order c(2) after a(1) after b(0)
		{Method: "card", Plans: []string{"pro", "unlimited"}, Providers: []config.RoutingProvider{
			prov("prov_a", 1, 0), prov("prov_b", 0, 0), prov("prov_c", 2, 0),
		}},
		// 2: merchant 7 only, EUR only
		{Method: "card", Merchants: []int64{7}, Providers: []config.RoutingProvider{
			{ID: "eu_acquirer", Currencies: []string{"EUR"}},
		}},
		// 3: merchant 8 but only while on plan starter
		{Method: "card", Merchants: []int64{8}, Plans: []string{"starter"}, Providers: []config.RoutingProvider{prov("m8_starter", 0, 0)}},
		// 4: wallet with country and amount conditions, then a fallback rule
		{Method: "wallet", Providers: []config.RoutingProvider{
			{ID: "us_wallet", Countries: []string{"US"}, MinAmount: "0.50", MaxAmount: "10000"},
			{ID: "big_wallet", Priority: 1, MinAmount: "5000.01"},
		}},
		{Method: "wallet", Providers: []config.RoutingProvider{prov("any_wallet", 0, 0)}},
		// 6: bank transfer in JPY and USD only
		{Method: "bank_transfer", Providers: []config.RoutingProvider{
			{ID: "jp_bank", Currencies: []string{"JPY"}, MinAmount: "0.50"},
			{ID: "us_bank", Currencies: []string{"USD"}, MinAmount: "0.50"},
		}},
	}
	r := newRouter(t, rules, Options{})

	tests := []struct {
		name     string
		req      Request
		want     []string
		wantRule int
		wantCode string
		wantKind error
	}{
		{name: "priority order within plan rule", req: usd(1000), want: []string{"prov_b", "prov_a", "prov_c"}, wantRule: 1},
		{name: "plan without plan rule uses catch-all", req: Request{Mode: domain.ModeTest, MerchantID: 42, Plan: domain.PlanFree, Method: "card", Amount: 1000, Currency: "USD"}, want: []string{"sandbox"}, wantRule: 0},
		{name: "merchant rule beats plan rule", req: Request{Mode: domain.ModeTest, MerchantID: 7, Plan: domain.PlanPro, Method: "card", Amount: 1000, Currency: "EUR"}, want: []string{"eu_acquirer"}, wantRule: 2},
		{name: "merchant rule conditions fail: fall through to plan rule", req: Request{Mode: domain.ModeTest, MerchantID: 7, Plan: domain.PlanPro, Method: "card", Amount: 1000, Currency: "USD"}, want: []string{"prov_b", "prov_a", "prov_c"}, wantRule: 1},
		{name: "merchant rule limited to plan applies on that plan", req: Request{Mode: domain.ModeTest, MerchantID: 8, Plan: domain.PlanStarter, Method: "card", Amount: 1000, Currency: "USD"}, want: []string{"m8_starter"}, wantRule: 3},
		{name: "merchant rule limited to plan ignored on other plan", req: Request{Mode: domain.ModeTest, MerchantID: 8, Plan: domain.PlanFree, Method: "card", Amount: 1000, Currency: "USD"}, want: []string{"sandbox"}, wantRule: 0},
		{name: "country and amount in range", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "wallet", Amount: 50, Currency: "USD", Country: "us"}, want: []string{"us_wallet"}, wantRule: 4},
		{name: "above one max, above other min", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "wallet", Amount: 1500000, Currency: "USD", Country: "US"}, want: []string{"big_wallet"}, wantRule: 4},
		{name: "both in range (min inclusive): priority order", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "wallet", Amount: 500001, Currency: "USD", Country: "US"}, want: []string{"us_wallet", "big_wallet"}, wantRule: 4},
		{name: "max bound is inclusive", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "wallet", Amount: 1000000, Currency: "USD", Country: "US"}, want: []string{"us_wallet", "big_wallet"}, wantRule: 4},
		{name: "below min: next rule", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "wallet", Amount: 49, Currency: "USD", Country: "US"}, want: []string{"any_wallet"}, wantRule: 5},
		{name: "wrong country: next rule", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "wallet", Amount: 100, Currency: "USD", Country: "DE"}, want: []string{"any_wallet"}, wantRule: 5},
		{name: "unknown country fails a country condition", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "wallet", Amount: 100, Currency: "USD"}, want: []string{"any_wallet"}, wantRule: 5},
		{name: "min 0.50 in JPY means 1 yen", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "bank_transfer", Amount: 1, Currency: "JPY"}, want: []string{"jp_bank"}, wantRule: 6},
		{name: "min 0.50 in USD means 50 cents", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "bank_transfer", Amount: 49, Currency: "USD"}, wantCode: "method_unavailable", wantKind: domain.ErrUnprocessable},
		{name: "no currency match", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "bank_transfer", Amount: 1000, Currency: "EUR"}, wantCode: "method_unavailable", wantKind: domain.ErrUnprocessable},
		{name: "unknown method", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "crypto", Amount: 1000, Currency: "USD"}, wantCode: "method_unavailable", wantKind: domain.ErrUnprocessable},
		{name: "invalid currency", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "card", Amount: 1000, Currency: "usd"}, wantCode: "invalid_currency", wantKind: domain.ErrInvalid},
		{name: "non-positive amount", req: Request{Mode: domain.ModeTest, MerchantID: 1, Method: "card", Amount: 0, Currency: "USD"}, wantCode: "invalid_amount", wantKind: domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Route(context.Background(), tt.req)
			if tt.wantCode != "" {
				de, ok := domain.AsError(err)
				if !ok || de.Code != tt.wantCode || !errors.Is(err, tt.wantKind) {
					t.Fatalf("got %v (%v), want code %s", got, err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("Route: %v", err)
			}
			if fmt.Sprint(ids(got)) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, want %v", ids(got), tt.want)
			}
			for _, c := range got {
				if c.Rule != tt.wantRule {
					t.Fatalf("candidate %s from rule %d, want %d", c.ProviderID, c.Rule, tt.wantRule)
				}
				if !strings.Contains(c.Reason, fmt.Sprintf("routing.rules[%d]", tt.wantRule)) || !strings.Contains(c.Reason, "method "+tt.req.Method) {
					t.Fatalf("reason %q does not name the rule and method", c.Reason)
				}
			}
		})
	}
}

func TestRouteCanceledContext(t *testing.T) {
	r := newRouter(t, []config.RoutingRule{{Method: "card", Providers: []config.RoutingProvider{prov("a", 0, 0)}}}, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Route(ctx, usd(100)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestHealthSkip(t *testing.T) {
	rules := []config.RoutingRule{{Method: "card", Providers: []config.RoutingProvider{prov("a", 0, 0), prov("b", 1, 0)}}}
	health := healthMap{}
	r := newRouter(t, rules, Options{Health: health})

	health["a"] = true
	got, err := r.Route(context.Background(), usd(100))
	if err != nil || fmt.Sprint(ids(got)) != "[b]" {
		t.Fatalf("got %v, %v; want [b]", ids(got), err)
	}
	if !strings.Contains(got[0].Reason, "skipped a (plugin unhealthy)") {
		t.Fatalf("reason %q does not mention the skip", got[0].Reason)
	}

	health["b"] = true
	_, err = r.Route(context.Background(), usd(100))
	var ue *UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("err = %v, want UnavailableError", err)
	}
	if de, _ := domain.AsError(err); de == nil || de.Code != "no_provider_available" {
		t.Fatalf("domain error = %+v", de)
	}
	if len(ue.Skipped) != 2 || !strings.Contains(err.Error(), "a: plugin unhealthy") {
		t.Fatalf("skipped = %+v, error %q", ue.Skipped, err)
	}
	if strings.Contains(ue.Err.Message, "a") && strings.Contains(ue.Err.Message, "plugin") {
		t.Fatalf("merchant-facing message leaks provider details: %q", ue.Err.Message)
	}
}

func TestBreaker(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rules := []config.RoutingRule{{Method: "card", Providers: []config.RoutingProvider{prov("a", 0, 0), prov("b", 1, 0)}}}
	r := newRouter(t, rules, Options{Now: clock.Now})
	fail := errors.New("provider 503")

	route := func() string {
		t.Helper()
		got, err := r.Route(context.Background(), usd(100))
		if err != nil {
			t.Fatalf("Route: %v", err)
		}
		return fmt.Sprint(ids(got))
	}
	steps := []struct {
		name  string
		do    func()
		state BreakerState
		route string
	}{
		{"two failures stay closed", func() { r.RecordResult("a", fail); r.RecordResult("a", fail) }, BreakerClosed, "[a b]"},
		{"success resets the count", func() { r.RecordResult("a", nil); r.RecordResult("a", fail); r.RecordResult("a", fail) }, BreakerClosed, "[a b]"},
		{"canceled context is not a failure", func() { r.RecordResult("a", fmt.Errorf("call: %w", context.Canceled)) }, BreakerClosed, "[a b]"},
		{"third consecutive failure opens", func() { r.RecordResult("a", fail) }, BreakerOpen, "[b]"},
		{"late failures do not extend", func() { clock.Advance(29 * time.Second); r.RecordResult("a", fail) }, BreakerOpen, "[b]"},
		{"half-open after cooldown", func() { clock.Advance(time.Second) }, BreakerHalfOpen, "[a b]"},
		{"one failure reopens", func() { r.RecordResult("a", fail) }, BreakerOpen, "[b]"},
		{"still open before cooldown", func() { clock.Advance(29 * time.Second) }, BreakerOpen, "[b]"},
		{"half-open again", func() { clock.Advance(time.Second) }, BreakerHalfOpen, "[a b]"},
		{"success closes", func() { r.RecordResult("a", nil) }, BreakerClosed, "[a b]"},
		{"closed needs full threshold again", func() { r.RecordResult("a", fail); r.RecordResult("a", fail) }, BreakerClosed, "[a b]"},
	}
	for _, st := range steps {
		st.do()
		if got := r.Breaker("a"); got != st.state {
			t.Fatalf("%s: breaker %s, want %s", st.name, got, st.state)
		}
		if got := route(); got != st.route {
			t.Fatalf("%s: route %s, want %s", st.name, got, st.route)
		}
	}
	if r.Breaker("b") != BreakerClosed || r.Breaker("unknown") != BreakerClosed {
		t.Fatal("other breakers affected")
	}
	r.RecordResult("unknown", fail) // must not panic
}

func TestBreakerAllOpen(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	r := newRouter(t, []config.RoutingRule{{Method: "card", Providers: []config.RoutingProvider{prov("a", 0, 0)}}}, Options{Now: clock.Now})
	for range 3 {
		r.RecordResult("a", errors.New("timeout"))
	}
	_, err := r.Route(context.Background(), usd(100))
	var ue *UnavailableError
	if !errors.As(err, &ue) || len(ue.Skipped) != 1 || !strings.Contains(ue.Skipped[0].Reason, "circuit breaker open") {
		t.Fatalf("err = %v", err)
	}
}

// The first candidate of a 70/30 split lands on each provider in proportion
// to its weight. With 20,000 draws the standard error of a share is ~0.3%,
// so a 1.5% tolerance fails a biased implementation but not a fair one.
func TestWeightedSplitConverges(t *testing.T) {
	tests := []struct {
		name    string
		weights map[string]int
		want    map[string]float64
	}{
		{"70/30", map[string]int{"a": 70, "b": 30}, map[string]float64{"a": .7, "b": .3}},
		{"50/30/20", map[string]int{"a": 50, "b": 30, "c": 20}, map[string]float64{"a": .5, "b": .3, "c": .2}},
		{"all zero: equal", map[string]int{"a": 0, "b": 0, "c": 0, "d": 0}, map[string]float64{"a": .25, "b": .25, "c": .25, "d": .25}},
		{"zero weight is fallback only", map[string]int{"a": 1, "b": 0}, map[string]float64{"a": 1, "b": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps []config.RoutingProvider
			for _, id := range []string{"a", "b", "c", "d"} {
				if w, ok := tt.weights[id]; ok {
					ps = append(ps, prov(id, 0, w))
				}
			}
			ps = append(ps, prov("backup", 1, 100))
			r := newRouter(t, []config.RoutingRule{{Method: "card", Providers: ps}}, Options{Rand: seeded(42)})
			const n = 20000
			first := map[string]int{}
			for range n {
				got, err := r.Route(context.Background(), usd(100))
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(ps) || got[len(got)-1].ProviderID != "backup" {
					t.Fatalf("lower priority must come last and every provider once: %v", ids(got))
				}
				first[got[0].ProviderID]++
			}
			for id, want := range tt.want {
				share := float64(first[id]) / n
				if share < want-0.015 || share > want+0.015 {
					t.Errorf("%s first in %.4f of routes, want %.2f±0.015 (%v)", id, share, want, first)
				}
			}
		})
	}
}

func TestWeightedReason(t *testing.T) {
	r := newRouter(t, []config.RoutingRule{{Method: "card", Plans: []string{"pro"}, Providers: []config.RoutingProvider{prov("a", 1, 70), prov("b", 1, 30)}}}, Options{})
	got, err := r.Route(context.Background(), usd(100))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		want := fmt.Sprintf("weight %d/100 chosen by weighted split", c.Weight)
		if !strings.Contains(c.Reason, want) || !strings.Contains(c.Reason, "plans [pro]") || !strings.Contains(c.Reason, "priority 1") {
			t.Errorf("reason %q", c.Reason)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cfg := config.RoutingConfig{
		Breaker: config.BreakerConfig{Failures: 0, Cooldown: 0},
		Rules: []config.RoutingRule{
			{Method: "", Providers: []config.RoutingProvider{prov("a", 0, 0)}},
			{Method: "card", Plans: []string{"gold"}, Merchants: []int64{-1}},
			{Method: "card", Providers: []config.RoutingProvider{
				{ID: "a", Priority: -1, Weight: -1, Currencies: []string{"XXX"}, Countries: []string{"usa"}, MinAmount: "10", MaxAmount: "5"},
				{ID: "a", MinAmount: "1e3"},
			}},
		},
	}
	_, err := New(cfg, Options{})
	if !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	for _, path := range []string{
		"routing.breaker.failures", "routing.breaker.cooldown",
		"routing.rules[0].method", "routing.rules[1].plans[0]", "routing.rules[1].merchants[0]", "routing.rules[1].providers",
		"routing.rules[2].providers[0].priority", "routing.rules[2].providers[0].weight",
		"routing.rules[2].providers[0].currencies[0]", "routing.rules[2].providers[0].countries[0]",
		"routing.rules[2].providers[0].min_amount", "routing.rules[2].providers[1].id", "routing.rules[2].providers[1].min_amount",
	} {
		if !strings.Contains(err.Error(), path+":") {
			t.Errorf("error does not report %s:\n%v", path, err)
		}
	}
}

func TestMethodsAndCurrencies(t *testing.T) {
	rules := []config.RoutingRule{
		{Method: "card", Plans: []string{"pro"}, Providers: []config.RoutingProvider{{ID: "a", Currencies: []string{"USD", "EUR"}}}},
		{Method: "card", Providers: []config.RoutingProvider{{ID: "b", Currencies: []string{"JPY", "USD"}}}},
		{Method: "wallet", Merchants: []int64{7}, Providers: []config.RoutingProvider{{ID: "w"}}},
		{Method: "sepa", Plans: []string{"unlimited"}, Providers: []config.RoutingProvider{{ID: "s", Currencies: []string{"EUR"}}}},
	}
	r := newRouter(t, rules, Options{})
	tests := []struct {
		merchant int64
		plan     domain.Plan
		want     string
	}{
		{1, domain.PlanFree, "[card]"},
		{1, domain.PlanUnlimited, "[card sepa]"},
		{7, domain.PlanFree, "[card wallet]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(r.Methods(tt.merchant, tt.plan, domain.ModeTest)); got != tt.want {
			t.Errorf("Methods(%d, %s) = %s, want %s", tt.merchant, tt.plan, got, tt.want)
		}
	}
	if list, anyCur := r.Currencies(1, domain.PlanPro, domain.ModeTest, "card"); anyCur || fmt.Sprint(list) != "[EUR JPY USD]" {
		t.Errorf("Currencies(pro card) = %v, %v", list, anyCur)
	}
	if list, anyCur := r.Currencies(1, domain.PlanFree, domain.ModeTest, "card"); anyCur || fmt.Sprint(list) != "[JPY USD]" {
		t.Errorf("Currencies(free card) = %v, %v", list, anyCur)
	}
	if _, anyCur := r.Currencies(7, domain.PlanFree, domain.ModeTest, "wallet"); !anyCur {
		t.Error("wallet without currency condition must accept any currency")
	}
	if list, anyCur := r.Currencies(1, domain.PlanFree, domain.ModeTest, "wallet"); anyCur || list != nil {
		t.Errorf("wallet is not routable for merchant 1: %v %v", list, anyCur)
	}
}

// Route and RecordResult are called from many request goroutines at once;
// run under -race.
func TestConcurrentUse(t *testing.T) {
	r := newRouter(t, []config.RoutingRule{{Method: "card", Providers: []config.RoutingProvider{prov("a", 0, 50), prov("b", 0, 50)}}}, Options{Rand: nil})
	r.rand = rand.Float64 // production default, concurrency-safe
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				got, err := r.Route(context.Background(), usd(100))
				if err != nil && !errors.Is(err, domain.ErrUnavailable) {
					t.Error(err)
					return
				}
				if len(got) > 0 {
					var res error
					if (g+i)%3 == 0 {
						res = errors.New("boom")
					}
					r.RecordResult(got[0].ProviderID, res)
				}
			}
		}()
	}
	wg.Wait()
}

// benchRules builds n rules the way a large deployment has them: mostly
// merchant-specific rules spread over methods, plus plan and catch-all rules.
func benchRules(n int) []config.RoutingRule {
	methods := []string{"card", "wallet", "bank_transfer", "sepa", "ideal"}
	plans := []string{"free", "starter", "pro", "unlimited"}
	rules := make([]config.RoutingRule, 0, n)
	for i := range n {
		m := methods[i%len(methods)]
		p := []config.RoutingProvider{
			{ID: fmt.Sprintf("p%d", i%50), Priority: 0, Weight: 70, Currencies: []string{"USD", "EUR"}, MinAmount: "0.50", MaxAmount: "10000"},
			{ID: fmt.Sprintf("p%d", (i+1)%50), Priority: 0, Weight: 30, Countries: []string{"US", "DE", "FR"}},
			{ID: fmt.Sprintf("p%d", (i+2)%50), Priority: 1},
		}
		switch {
		case i%10 == 0:
			rules = append(rules, config.RoutingRule{Method: m, Plans: []string{plans[i%len(plans)]}, Providers: p})
		case i%97 == 0:
			rules = append(rules, config.RoutingRule{Method: m, Providers: p})
		default:
			rules = append(rules, config.RoutingRule{Method: m, Merchants: []int64{int64(i)}, Providers: p})
		}
	}
	return rules
}

func benchmarkRoute(b *testing.B, n int) {
	r, err := New(config.RoutingConfig{Rules: benchRules(n), Breaker: breakerCfg}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Rule 5 is merchant 5's own card rule (5%5 == 0 is card, 5%10 != 0 is
	// merchant-specific), so the request resolves at the most specific tier
	// while thousands of other rules exist.
	req := Request{Mode: domain.ModeTest, MerchantID: 5, Plan: domain.PlanPro, Method: "card", Amount: 4995, Currency: "USD", Country: "US"}
	ctx := context.Background()
	if got, err := r.Route(ctx, req); err != nil || got[0].Rule != 5 {
		b.Fatalf("setup: %v %v", got, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Route(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRoute10Rules(b *testing.B)    { benchmarkRoute(b, 10) }
func BenchmarkRoute1000Rules(b *testing.B)  { benchmarkRoute(b, 1000) }
func BenchmarkRoute10000Rules(b *testing.B) { benchmarkRoute(b, 10000) }

// Each instance exports its breakers: the state metric (one series per
// state, 1 for the current one), Breakers() for `plugins list`, and a call
// when a breaker opens or closes (not on every result).
func TestBreakerExported(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	reader := sdkmetric.NewManualReader()
	var changes []string
	r := newRouter(t, []config.RoutingRule{{Method: "card", Providers: []config.RoutingProvider{prov("a", 0, 0), prov("b", 1, 0)}}},
		Options{Now: clock.Now, Meter: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("test"),
			OnBreakerChange: func(id string) { changes = append(changes, id) }})
	metricState := func(provider string) string {
		t.Helper()
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		current := ""
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name != "switchyard.routing.breaker.state" {
					continue
				}
				for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
					p, _ := dp.Attributes.Value("provider")
					st, _ := dp.Attributes.Value("state")
					if p.AsString() == provider && dp.Value == 1 {
						current += st.AsString()
					}
				}
			}
		}
		return current
	}
	fail := errors.New("provider 503")
	for range 3 {
		r.RecordResult("a", fail)
	}
	got := r.Breakers()
	want := []ProviderBreaker{
		{ProviderID: "a", State: BreakerOpen, OpenUntil: clock.Now().Add(30 * time.Second)},
		{ProviderID: "b", State: BreakerClosed},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Breakers() = %+v, want %+v", got, want)
	}
	if a, b := metricState("a"), metricState("b"); a != "open" || b != "closed" {
		t.Fatalf("metric: a %q, b %q", a, b)
	}
	clock.Advance(30 * time.Second)
	if a := metricState("a"); a != "half_open" {
		t.Fatalf("metric after cooldown: a %q", a)
	}
	r.RecordResult("a", nil)
	r.RecordResult("b", nil)
	if fmt.Sprint(changes) != "[a a]" {
		t.Fatalf("change calls %v, want one when a opened and one when it closed", changes)
	}
}

// A session is routed only to provider instances of its own mode: a live
// session never to a test instance (its "payments" move no money), a test
// session never to a live one (it would charge real cards). Instances the
// Modes option does not name are test instances.
func TestRouteKeepsModesApart(t *testing.T) {
	rules := []config.RoutingRule{
		{Method: "card", Merchants: []int64{7}, Providers: []config.RoutingProvider{prov("m7_sandbox", 0, 0)}},
		{Method: "card", Providers: []config.RoutingProvider{prov("sandbox", 0, 0), prov("stripe_live", 1, 0), prov("stripe_test", 2, 0)}},
		{Method: "wallet", Providers: []config.RoutingProvider{prov("wallet_test", 0, 0)}},
		{Method: "sepa", Providers: []config.RoutingProvider{{ID: "sepa_live", Currencies: []string{"EUR"}}}},
	}
	r := newRouter(t, rules, Options{Modes: map[string]domain.Mode{
		"stripe_live": domain.ModeLive, "stripe_test": domain.ModeTest, "sepa_live": domain.ModeLive,
	}})
	req := func(mode domain.Mode, merchant int64, method string) Request {
		return Request{Mode: mode, MerchantID: merchant, Plan: domain.PlanPro, Method: method, Amount: 1000, Currency: "USD"}
	}
	tests := []struct {
		name     string
		req      Request
		want     string
		wantRule int
		wantMsg  string
	}{
		{name: "live: only the live instance", req: req(domain.ModeLive, 1, "card"), want: "[stripe_live]", wantRule: 1},
		{name: "test: the test instances, default-mode one included", req: req(domain.ModeTest, 1, "card"), want: "[sandbox stripe_test]", wantRule: 1},
		{name: "live falls past a merchant rule that has only test instances", req: req(domain.ModeLive, 7, "card"), want: "[stripe_live]", wantRule: 1},
		{name: "test keeps the merchant rule", req: req(domain.ModeTest, 7, "card"), want: "[m7_sandbox]", wantRule: 0},
		{name: "live without a live instance", req: req(domain.ModeLive, 1, "wallet"), wantMsg: `method "wallet" is not available in live mode`},
		{name: "test without a test instance", req: req(domain.ModeTest, 1, "sepa"), wantMsg: "method \"sepa\" is not available for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Route(context.Background(), tt.req)
			if tt.wantMsg != "" {
				de, ok := domain.AsError(err)
				if !ok || de.Code != "method_unavailable" || !strings.Contains(de.Message, tt.wantMsg) {
					t.Fatalf("got %v, %v; want method_unavailable saying %q", ids(got), err, tt.wantMsg)
				}
				return
			}
			if err != nil || fmt.Sprint(ids(got)) != tt.want {
				t.Fatalf("got %v, %v; want %s", ids(got), err, tt.want)
			}
			for _, c := range got {
				if r.Mode(c.ProviderID) != tt.req.Mode || c.Rule != tt.wantRule {
					t.Fatalf("candidate %s (mode %s, rule %d) for a %s request, want rule %d", c.ProviderID, r.Mode(c.ProviderID), c.Rule, tt.req.Mode, tt.wantRule)
				}
			}
		})
	}
	// A euro payment in test mode: sepa's only instance is live, so the
	// message is the ordinary one, not the mode's.
	if _, err := r.Route(context.Background(), Request{Mode: domain.ModeTest, MerchantID: 1, Method: "sepa", Amount: 1000, Currency: "EUR"}); err == nil ||
		!strings.Contains(err.Error(), "not available in test mode") {
		t.Errorf("test-mode sepa in EUR: %v, want the mode named", err)
	}

	t.Run("a request without a mode is refused", func(t *testing.T) {
		got, err := r.Route(context.Background(), Request{MerchantID: 1, Method: "card", Amount: 1000, Currency: "USD"})
		if err == nil || errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("got %v, %v; want an internal error, not a merchant's", ids(got), err)
		}
	})
	t.Run("methods and currencies per mode", func(t *testing.T) {
		for _, tt := range []struct {
			mode domain.Mode
			want string
		}{{domain.ModeTest, "[card wallet]"}, {domain.ModeLive, "[card sepa]"}} {
			if got := fmt.Sprint(r.Methods(1, domain.PlanPro, tt.mode)); got != tt.want {
				t.Errorf("Methods(%s) = %s, want %s", tt.mode, got, tt.want)
			}
		}
		if list, anyCur := r.Currencies(1, domain.PlanPro, domain.ModeLive, "sepa"); anyCur || fmt.Sprint(list) != "[EUR]" {
			t.Errorf("Currencies(live sepa) = %v %v", list, anyCur)
		}
		if list, anyCur := r.Currencies(1, domain.PlanPro, domain.ModeTest, "sepa"); anyCur || list != nil {
			t.Errorf("Currencies(test sepa) = %v %v, want none", list, anyCur)
		}
	})
	t.Run("an invalid mode in the options is refused", func(t *testing.T) {
		_, err := New(config.RoutingConfig{Rules: rules, Breaker: breakerCfg}, Options{Modes: map[string]domain.Mode{"sandbox": "prod"}})
		if !errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("err = %v", err)
		}
	})
}
