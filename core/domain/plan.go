package domain

import "strings"

// Plan is a merchant's subscription tier; it decides the integration mode.
type Plan string

// Plans, cheapest first.
const (
	PlanFree      Plan = "free"
	PlanStarter   Plan = "starter"
	PlanPro       Plan = "pro"
	PlanUnlimited Plan = "unlimited"
)

// Plans lists every plan, cheapest first.
func Plans() []Plan { return []Plan{PlanFree, PlanStarter, PlanPro, PlanUnlimited} }

// ParsePlan accepts a plan name in any letter case.
func ParsePlan(s string) (Plan, error) {
	p := Plan(strings.ToLower(s))
	switch p {
	case PlanFree, PlanStarter, PlanPro, PlanUnlimited:
		return p, nil
	}
	return "", Invalid("invalid_plan", "plan", "plan must be one of free, starter, pro, unlimited")
}

// Valid reports whether p is a known plan in canonical form.
func (p Plan) Valid() bool {
	got, err := ParsePlan(string(p))
	return err == nil && got == p
}

// IntegrationMode is how a merchant integrates: whether the shopper picks
// the payment method on Switchyard's page or the merchant sends it.
type IntegrationMode string

const (
	// ModeHostedCheckout: the shopper chooses the method on the hosted page;
	// the merchant must not send one.
	ModeHostedCheckout IntegrationMode = "hosted_checkout"
	// ModeSmartRouting: the merchant sends the method and Switchyard routes
	// straight to a provider.
	ModeSmartRouting IntegrationMode = "smart_routing"
)

// IntegrationMode maps free and starter to hosted checkout and the paid
// tiers to smart routing. An unknown plan gets hosted checkout, the mode
// that asks the least of the merchant.
func (p Plan) IntegrationMode() IntegrationMode {
	switch p {
	case PlanPro, PlanUnlimited:
		return ModeSmartRouting
	}
	return ModeHostedCheckout
}

// Mode separates test traffic from live money; a key sees only sessions of
// its own mode.
type Mode string

const (
	ModeTest Mode = "test"
	ModeLive Mode = "live"
)

// ParseMode accepts "test" or "live" in any letter case.
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToLower(s))
	switch m {
	case ModeTest, ModeLive:
		return m, nil
	}
	return "", Invalid("invalid_mode", "mode", "mode must be test or live")
}

// Valid reports whether m is a known mode in canonical form.
func (m Mode) Valid() bool { return m == ModeTest || m == ModeLive }

// Scope is a permission carried by an API key.
type Scope string

const (
	ScopeSessionsWrite Scope = "sessions:write"
	ScopeSessionsRead  Scope = "sessions:read"
	ScopeMeRead        Scope = "me:read"
	ScopeRefundsWrite  Scope = "refunds:write"
)

// ParseScope accepts a known scope, exactly as spelled above.
func ParseScope(s string) (Scope, error) {
	sc := Scope(s)
	switch sc {
	case ScopeSessionsWrite, ScopeSessionsRead, ScopeMeRead, ScopeRefundsWrite:
		return sc, nil
	}
	return "", Invalid("invalid_scope", "scope", "scope must be one of sessions:write, sessions:read, me:read, refunds:write")
}

// DefaultScopes is what a key gets when none are asked for: everything the
// merchant API offers. A new slice each call, so callers may modify it.
func DefaultScopes() []Scope {
	return []Scope{ScopeSessionsWrite, ScopeSessionsRead, ScopeMeRead, ScopeRefundsWrite}
}

// HasScope reports whether want is among granted.
func HasScope(granted []Scope, want Scope) bool {
	for _, s := range granted {
		if s == want {
			return true
		}
	}
	return false
}
