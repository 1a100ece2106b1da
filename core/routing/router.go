package routing

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
)

// HealthChecker reports plugin liveness, e.g. the plugin host knowing that a
// provider process is down or restarting. It is called on the request path,
// so it must be cheap and safe for concurrent use.
type HealthChecker interface {
	Healthy(providerID string) bool
}

// Options carries the Router's injectable dependencies; the zero value is
// fine for production.
type Options struct {
	// Health reports plugin liveness; nil treats every provider as up.
	Health HealthChecker
	// Rand returns a uniform float in [0, 1) for the weighted split. It must
	// be safe for concurrent use if Route is. Nil uses math/rand/v2's
	// top-level generator: ChaCha8 per thread, seeded from the OS, lock-free,
	// so volume splits are neither predictable nor a point of contention.
	Rand func() float64
	// Now is the breaker clock; nil means time.Now.
	Now func() time.Time
	// Meter, when set, receives switchyard.routing.breaker.state: one
	// series per provider and state, 1 for the current state.
	Meter metric.Meter
	// OnBreakerChange, when set, is called (outside any lock) after a
	// result opens or closes a provider's breaker, so its state can be
	// published (`switchyard plugins list`).
	OnBreakerChange func(providerID string)
	// Modes is each provider instance's mode (plugins.instances[].mode).
	// An instance missing from it is a test-mode instance, like an
	// instance whose configuration names no mode: only live-mode sessions
	// can move real money, so nothing is live unless the operator says so.
	Modes map[string]domain.Mode
}

// ProviderBreaker is one provider's breaker as this instance sees it.
type ProviderBreaker struct {
	ProviderID string
	State      BreakerState
	// Failures counts consecutive failures while closed.
	Failures int
	// OpenUntil is when an open breaker turns half-open; zero when closed.
	OpenUntil time.Time
}

// Request is what a payment needs routed. Amount is in Currency's minor
// units; Country is an ISO 3166 alpha-2 code or empty when unknown. Mode is
// the session's (its key's) mode and is required: only provider instances
// of the same mode are candidates, so a live session never reaches a test
// instance (whose "payments" move no money) and a test session never
// charges a live one.
type Request struct {
	MerchantID int64
	Mode       domain.Mode
	Plan       domain.Plan
	Method     string
	Amount     int64
	Currency   domain.Currency
	Country    string
}

// Candidate is one provider to try, best first, with the reason it was
// chosen; the payments service records both on the payment attempt.
type Candidate struct {
	ProviderID string
	Priority   int
	Weight     int
	// Rule is the index into routing.rules of the rule that decided.
	Rule   int
	Reason string
}

// Skip is a provider that passed the rule's conditions but was left out.
type Skip struct {
	ProviderID string
	Reason     string
}

// UnavailableError is returned when every eligible provider is unhealthy. It
// unwraps to a *domain.Error (ErrUnavailable, "no_provider_available") whose
// message is safe for merchants; Skipped names the providers and why, for
// logs and diagnostics only.
type UnavailableError struct {
	Err     *domain.Error
	Skipped []Skip
}

func (e *UnavailableError) Error() string {
	parts := make([]string, len(e.Skipped))
	for i, s := range e.Skipped {
		parts[i] = s.ProviderID + ": " + s.Reason
	}
	return e.Err.Error() + " (skipped " + strings.Join(parts, "; ") + ")"
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Router ranks provider candidates. It is immutable after New except for the
// per-provider breakers, which lock individually, so concurrent Route calls
// share no lock.
type Router struct {
	methods  map[string]*methodRules
	breakers map[string]*breaker // fixed key set: every provider in any rule
	health   HealthChecker
	rand     func() float64
	now      func() time.Time
	onChange func(providerID string)
	modes    map[string]domain.Mode // fixed after New
}

// methodRules indexes one method's rules by specificity tier.
type methodRules struct {
	byMerchant map[int64][]*rule
	byPlan     map[domain.Plan][]*rule
	catchAll   []*rule
}

type rule struct {
	index     int
	method    string
	plans     []domain.Plan // only checked for merchant rules that also name plans
	head      string        // "routing.rules[3] (merchants [42]) for method card", for reasons
	providers []*entry      // sorted by priority, config order within
}

type entry struct {
	id         string
	mode       domain.Mode
	priority   int
	weight     int
	currencies []domain.Currency // empty: any
	countries  []string          // empty: any
	// Bounds per currency scale, so a request compares integers only.
	hasMin, hasMax bool
	min, max       [domain.MaxScale + 1]int64
}

// New builds a Router. Every problem in cfg is reported, each with its key
// path, wrapped in domain.ErrInvalid.
func New(cfg config.RoutingConfig, opts Options) (*Router, error) {
	r := &Router{
		methods:  make(map[string]*methodRules),
		breakers: make(map[string]*breaker),
		health:   opts.Health,
		rand:     opts.Rand,
		now:      opts.Now,
		onChange: opts.OnBreakerChange,
		modes:    make(map[string]domain.Mode, len(opts.Modes)),
	}
	for id, m := range opts.Modes {
		if !m.Valid() {
			return nil, fmt.Errorf("routing: %w: provider instance %q has mode %q, want test or live", domain.ErrInvalid, id, m)
		}
		r.modes[id] = m
	}
	if r.rand == nil {
		r.rand = rand.Float64
	}
	if r.now == nil {
		r.now = time.Now
	}
	var errs []error
	problem := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if cfg.Breaker.Failures < 1 {
		problem("routing.breaker.failures", "must be at least 1")
	}
	if cfg.Breaker.Cooldown <= 0 {
		problem("routing.breaker.cooldown", "must be positive")
	}
	for i, rc := range cfg.Rules {
		ru, ok := buildRule(i, rc, problem)
		if !ok {
			continue
		}
		mr := r.methods[ru.method]
		if mr == nil {
			mr = &methodRules{byMerchant: map[int64][]*rule{}, byPlan: map[domain.Plan][]*rule{}}
			r.methods[ru.method] = mr
		}
		switch {
		case len(rc.Merchants) > 0:
			for _, m := range rc.Merchants {
				if !slices.Contains(mr.byMerchant[m], ru) {
					mr.byMerchant[m] = append(mr.byMerchant[m], ru)
				}
			}
		case len(ru.plans) > 0:
			for _, p := range ru.plans {
				if !slices.Contains(mr.byPlan[p], ru) {
					mr.byPlan[p] = append(mr.byPlan[p], ru)
				}
			}
		default:
			mr.catchAll = append(mr.catchAll, ru)
		}
		for _, e := range ru.providers {
			e.mode = r.Mode(e.id)
			if r.breakers[e.id] == nil {
				r.breakers[e.id] = &breaker{threshold: cfg.Breaker.Failures, cooldown: cfg.Breaker.Cooldown}
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("routing config: %w: %w", domain.ErrInvalid, errors.Join(errs...))
	}
	if opts.Meter != nil {
		if err := r.observeBreakers(opts.Meter); err != nil {
			return nil, fmt.Errorf("routing: breaker metric: %w", err)
		}
	}
	return r, nil
}

func buildRule(i int, rc config.RoutingRule, problem func(path, format string, args ...any)) (*rule, bool) {
	path := fmt.Sprintf("routing.rules[%d]", i)
	ok := true
	ru := &rule{index: i, method: rc.Method}
	if rc.Method == "" || strings.TrimSpace(rc.Method) != rc.Method {
		problem(path+".method", "must be a non-empty name without surrounding spaces")
		ok = false
	}
	for j, p := range rc.Plans {
		plan, err := domain.ParsePlan(p)
		if err != nil || string(plan) != p {
			problem(fmt.Sprintf("%s.plans[%d]", path, j), "unknown plan %q", p)
			ok = false
			continue
		}
		ru.plans = append(ru.plans, plan)
	}
	for j, m := range rc.Merchants {
		if m <= 0 {
			problem(fmt.Sprintf("%s.merchants[%d]", path, j), "must be a positive merchant id")
			ok = false
		}
	}
	if len(rc.Providers) == 0 {
		problem(path+".providers", "must list at least one provider")
		ok = false
	}
	seen := map[string]bool{}
	for j, pc := range rc.Providers {
		ppath := fmt.Sprintf("%s.providers[%d]", path, j)
		e, eok := buildEntry(ppath, pc, problem)
		if seen[pc.ID] {
			problem(ppath+".id", "%q is listed twice in this rule", pc.ID)
			eok = false
		}
		seen[pc.ID] = true
		if !eok {
			ok = false
			continue
		}
		ru.providers = append(ru.providers, e)
	}
	// Stable: config order breaks priority ties, which also fixes the order
	// of the weighted draw's inputs and so makes seeded tests reproducible.
	sort.SliceStable(ru.providers, func(a, b int) bool { return ru.providers[a].priority < ru.providers[b].priority })

	var label string
	switch {
	case len(rc.Merchants) > 0 && len(ru.plans) > 0:
		label = fmt.Sprintf("%s (merchants %v, plans %v)", path, rc.Merchants, rc.Plans)
	case len(rc.Merchants) > 0:
		label = fmt.Sprintf("%s (merchants %v)", path, rc.Merchants)
	case len(ru.plans) > 0:
		label = fmt.Sprintf("%s (plans %v)", path, rc.Plans)
	default:
		label = path + " (catch-all)"
	}
	ru.head = label + " for method " + ru.method
	return ru, ok
}

func buildEntry(path string, pc config.RoutingProvider, problem func(path, format string, args ...any)) (*entry, bool) {
	ok := true
	e := &entry{id: pc.ID, priority: pc.Priority, weight: pc.Weight}
	if pc.ID == "" {
		problem(path+".id", "must not be empty")
		ok = false
	}
	if pc.Priority < 0 {
		problem(path+".priority", "must not be negative")
		ok = false
	}
	if pc.Weight < 0 {
		problem(path+".weight", "must not be negative")
		ok = false
	}
	for k, c := range pc.Currencies {
		cur, err := domain.ParseCurrency(c)
		if err != nil {
			problem(fmt.Sprintf("%s.currencies[%d]", path, k), "%q is not an accepted ISO 4217 currency", c)
			ok = false
			continue
		}
		e.currencies = append(e.currencies, cur)
	}
	for k, c := range pc.Countries {
		if len(c) != 2 || !isUpperAlpha(c) {
			problem(fmt.Sprintf("%s.countries[%d]", path, k), "must be a 2-letter upper-case ISO 3166 code, got %q", c)
			ok = false
			continue
		}
		e.countries = append(e.countries, c)
	}
	var lo, hi domain.MajorAmount
	var err error
	if pc.MinAmount != "" {
		if lo, err = domain.ParseMajorAmount(pc.MinAmount); err != nil {
			problem(path+".min_amount", "%v", err)
			ok = false
		} else {
			e.hasMin = true
		}
	}
	if pc.MaxAmount != "" {
		if hi, err = domain.ParseMajorAmount(pc.MaxAmount); err != nil {
			problem(path+".max_amount", "%v", err)
			ok = false
		} else {
			e.hasMax = true
		}
	}
	for s := 0; s <= domain.MaxScale; s++ {
		e.min[s] = lo.CeilMinor(s)
		e.max[s] = hi.FloorMinor(s)
	}
	if e.hasMin && e.hasMax && e.min[domain.MaxScale] > e.max[domain.MaxScale] {
		problem(path+".min_amount", "must not exceed max_amount")
		ok = false
	}
	return e, ok
}

func isUpperAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// rulesFor yields the rules for a merchant and method in precedence order.
func (mr *methodRules) rulesFor(merchantID int64, plan domain.Plan, yield func(*rule) bool) {
	for _, ru := range mr.byMerchant[merchantID] {
		if len(ru.plans) > 0 && !slices.Contains(ru.plans, plan) {
			continue
		}
		if !yield(ru) {
			return
		}
	}
	for _, ru := range mr.byPlan[plan] {
		if !yield(ru) {
			return
		}
	}
	for _, ru := range mr.catchAll {
		if !yield(ru) {
			return
		}
	}
}

// eligible reports whether e's conditions accept the request; scale is the
// request currency's minor-unit count.
func (e *entry) eligible(req *Request, scale int) bool {
	if e.mode != req.Mode {
		return false
	}
	if len(e.currencies) > 0 && !slices.Contains(e.currencies, req.Currency) {
		return false
	}
	// An unknown country cannot satisfy a country restriction: the operator
	// limited the provider for a reason, so we do not guess.
	if len(e.countries) > 0 && !slices.Contains(e.countries, req.Country) {
		return false
	}
	if e.hasMin && req.Amount < e.min[scale] {
		return false
	}
	if e.hasMax && req.Amount > e.max[scale] {
		return false
	}
	return true
}

// Route returns the providers to try for req, best first. Errors:
// invalid_currency / invalid_amount (ErrInvalid) for a malformed request,
// method_unavailable (ErrUnprocessable) when no rule for the merchant, plan
// and method accepts the currency, country and amount, and
// *UnavailableError (ErrUnavailable, no_provider_available) when providers
// qualify but all are unhealthy.
func (r *Router) Route(ctx context.Context, req Request) ([]Candidate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	scale := req.Currency.Scale()
	if scale < 0 {
		return nil, domain.Invalid("invalid_currency", "currency", "currency %q is not a valid ISO 4217 code", string(req.Currency))
	}
	if req.Amount <= 0 {
		return nil, domain.Invalid("invalid_amount", "amount", "amount must be greater than zero")
	}
	if !req.Mode.Valid() {
		// A caller bug, never a merchant's input: without a mode the
		// router cannot keep live and test money apart, so it refuses.
		return nil, fmt.Errorf("routing: request without a valid mode (%q)", req.Mode)
	}
	req.Country = strings.ToUpper(req.Country)
	mr := r.methods[req.Method]
	if mr == nil {
		return nil, methodUnavailable(req.Method)
	}

	var (
		chosen        *rule
		eligible      []*entry
		otherModeOnly bool // some provider qualified but for its mode
	)
	mr.rulesFor(req.MerchantID, req.Plan, func(ru *rule) bool {
		for _, e := range ru.providers {
			if e.eligible(&req, scale) {
				eligible = append(eligible, e)
			} else if e.mode != req.Mode {
				other := *req.withMode(e.mode)
				otherModeOnly = otherModeOnly || e.eligible(&other, scale)
			}
		}
		if len(eligible) > 0 {
			chosen = ru
			return false
		}
		return true
	})
	if chosen == nil && otherModeOnly {
		return nil, domain.Unprocessable("method_unavailable", "method",
			"method %q is not available in %s mode: no %s-mode provider instance takes %s %s payments", req.Method, req.Mode, req.Mode,
			domain.FormatAmount(req.Amount, req.Currency), req.Currency)
	}
	if chosen == nil {
		return nil, domain.Unprocessable("method_unavailable", "method",
			"method %q is not available for %s %s payments", req.Method, domain.FormatAmount(req.Amount, req.Currency), req.Currency)
	}

	now := r.now()
	var skipped []Skip
	healthy := eligible[:0]
	for _, e := range eligible {
		if r.health != nil && !r.health.Healthy(e.id) {
			skipped = append(skipped, Skip{ProviderID: e.id, Reason: "plugin unhealthy"})
			continue
		}
		if st := r.breakers[e.id].state(now); st == BreakerOpen {
			skipped = append(skipped, Skip{ProviderID: e.id, Reason: "circuit breaker open after consecutive failures"})
			continue
		}
		healthy = append(healthy, e)
	}
	if len(healthy) == 0 {
		return nil, &UnavailableError{
			Err: &domain.Error{Kind: domain.ErrUnavailable, Code: "no_provider_available",
				Message: fmt.Sprintf("no payment provider is available for method %q right now; try again shortly", req.Method)},
			Skipped: skipped,
		}
	}
	return r.rank(chosen, healthy, skipped), nil
}

// withMode returns a copy of req in another mode.
func (req *Request) withMode(m domain.Mode) *Request {
	c := *req
	c.Mode = m
	return &c
}

// Mode is provider instance id's mode: what Options.Modes said, test when
// it said nothing. The payments service checks it again when an event
// arrives, so an instance reconfigured to the other mode after routing
// cannot settle a session of the old one.
func (r *Router) Mode(providerID string) domain.Mode {
	if m, ok := r.modes[providerID]; ok {
		return m
	}
	return domain.ModeTest
}

// rank orders entries (already sorted by priority) into candidates, drawing
// a weighted random order inside each equal-priority group.
func (r *Router) rank(ru *rule, es []*entry, skipped []Skip) []Candidate {
	out := make([]Candidate, 0, len(es))
	for start := 0; start < len(es); {
		end := start + 1
		for end < len(es) && es[end].priority == es[start].priority {
			end++
		}
		group := es[start:end]
		total := 0
		for _, e := range group {
			total += e.weight
		}
		r.weightedOrder(group)
		for _, e := range group {
			out = append(out, Candidate{
				ProviderID: e.id,
				Priority:   e.priority,
				Weight:     e.weight,
				Rule:       ru.index,
				Reason:     reason(ru, e, len(group), total, len(out)+1, skipped),
			})
		}
		start = end
	}
	return out
}

// weightedOrder permutes g in place by successive weighted draws without
// replacement: the first slot goes to each entry with probability weight /
// total, the next among the rest likewise. Entries of weight 0 share equally
// when the whole group is 0, and otherwise come last, as fallbacks only.
func (r *Router) weightedOrder(g []*entry) {
	for i := 0; i < len(g)-1; i++ {
		total := 0
		for _, e := range g[i:] {
			total += e.weight
		}
		var pick int
		if total == 0 {
			pick = i + min(int(r.rand()*float64(len(g)-i)), len(g)-i-1)
		} else {
			x := r.rand() * float64(total)
			acc := 0
			pick = -1
			for j := i; j < len(g); j++ {
				if g[j].weight == 0 {
					continue
				}
				acc += g[j].weight
				pick = j // ends at the last positive weight if rounding overshoots
				if x < float64(acc) {
					break
				}
			}
		}
		g[i], g[pick] = g[pick], g[i]
	}
}

func reason(ru *rule, e *entry, groupSize, groupWeight, position int, skipped []Skip) string {
	// Built with strconv rather than fmt: this runs for every candidate of
	// every payment.
	var b strings.Builder
	b.Grow(len(ru.head) + 96)
	b.WriteString(ru.head)
	b.WriteString(": candidate ")
	b.WriteString(strconv.Itoa(position))
	b.WriteString(", priority ")
	b.WriteString(strconv.Itoa(e.priority))
	switch {
	case groupSize == 1:
		b.WriteString(", only provider at this priority")
	case groupWeight == 0:
		b.WriteString(", equal split among ")
		b.WriteString(strconv.Itoa(groupSize))
	default:
		b.WriteString(", weight ")
		b.WriteString(strconv.Itoa(e.weight))
		b.WriteString("/")
		b.WriteString(strconv.Itoa(groupWeight))
		b.WriteString(" chosen by weighted split")
	}
	if len(skipped) > 0 {
		b.WriteString("; skipped ")
		for i, s := range skipped {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.ProviderID + " (" + s.Reason + ")")
		}
	}
	return b.String()
}

func methodUnavailable(method string) *domain.Error {
	return domain.Unprocessable("method_unavailable", "method", "method %q is not available for this merchant", method)
}

// RecordResult feeds a provider call's outcome to its circuit breaker. err
// must be a provider fault (transport error, timeout, 5xx); a declined card
// is a healthy provider doing its job and should be recorded as nil. A
// canceled context says nothing about the provider and is ignored, as are
// provider ids that appear in no rule.
func (r *Router) RecordResult(providerID string, err error) {
	b := r.breakers[providerID]
	if b == nil || (err != nil && !countsAsFailure(err)) {
		return
	}
	if b.record(r.now(), err) && r.onChange != nil {
		r.onChange(providerID)
	}
}

// Breakers reports every provider's breaker, sorted by provider id: what
// the switchyard.routing.breaker.state metric and `plugins list` show.
func (r *Router) Breakers() []ProviderBreaker {
	now := r.now()
	out := make([]ProviderBreaker, 0, len(r.breakers))
	for id, b := range r.breakers {
		st, failures, until := b.snapshot(now)
		if st == BreakerClosed {
			until = time.Time{}
		}
		out = append(out, ProviderBreaker{ProviderID: id, State: st, Failures: failures, OpenUntil: until})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProviderID < out[j].ProviderID })
	return out
}

// breakerStates are the values of the metric's state attribute.
var breakerStates = []BreakerState{BreakerClosed, BreakerOpen, BreakerHalfOpen}

func (r *Router) observeBreakers(m metric.Meter) error {
	_, err := m.Int64ObservableGauge("switchyard.routing.breaker.state",
		metric.WithDescription("Circuit breaker of each provider on this instance: 1 for its current state (closed, open, half_open), 0 for the others. Breakers are per instance."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			for _, b := range r.Breakers() {
				for _, st := range breakerStates {
					v := int64(0)
					if b.State == st {
						v = 1
					}
					o.Observe(v, metric.WithAttributes(attribute.String("provider", b.ProviderID), attribute.String("state", string(st))))
				}
			}
			return nil
		}))
	return err
}

// Breaker reports a provider's breaker state, for diagnostics and metrics.
func (r *Router) Breaker(providerID string) BreakerState {
	b := r.breakers[providerID]
	if b == nil {
		return BreakerClosed
	}
	return b.state(r.now())
}

// Methods lists, sorted, the methods some rule routes for this merchant and
// plan to a provider instance of mode, regardless of currency, amount and
// health (those depend on the payment and the moment). It feeds /v1/me.
func (r *Router) Methods(merchantID int64, plan domain.Plan, mode domain.Mode) []string {
	var out []string
	for m, mr := range r.methods {
		found := false
		mr.rulesFor(merchantID, plan, func(ru *rule) bool {
			found = slices.ContainsFunc(ru.providers, func(e *entry) bool { return e.mode == mode })
			return !found
		})
		if found {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// Currencies reports which currencies the rules for this merchant, plan and
// method accept at provider instances of mode: anyCurrency is true when
// some such provider has no currency condition, otherwise list is the
// sorted union. It lets /v1/me intersect what plugins describe with what
// routing allows.
func (r *Router) Currencies(merchantID int64, plan domain.Plan, mode domain.Mode, method string) (list []domain.Currency, anyCurrency bool) {
	mr := r.methods[method]
	if mr == nil {
		return nil, false
	}
	seen := map[domain.Currency]bool{}
	mr.rulesFor(merchantID, plan, func(ru *rule) bool {
		for _, e := range ru.providers {
			if e.mode != mode {
				continue
			}
			if len(e.currencies) == 0 {
				anyCurrency = true
				return false
			}
			for _, c := range e.currencies {
				if !seen[c] {
					seen[c] = true
					list = append(list, c)
				}
			}
		}
		return true
	})
	if anyCurrency {
		return nil, true
	}
	slices.Sort(list)
	return list, false
}

var _ error = (*UnavailableError)(nil)
