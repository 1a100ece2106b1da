package domain

import "testing"

func TestParsePlanAndMode(t *testing.T) {
	tests := []struct {
		in   string
		want Plan
		mode IntegrationMode
		bad  bool
	}{
		{in: "free", want: PlanFree, mode: ModeHostedCheckout},
		{in: "starter", want: PlanStarter, mode: ModeHostedCheckout},
		{in: "pro", want: PlanPro, mode: ModeSmartRouting},
		{in: "Unlimited", want: PlanUnlimited, mode: ModeSmartRouting},
		{in: "", bad: true},
		{in: "enterprise", bad: true},
		{in: " pro", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePlan(tt.in)
			if tt.bad {
				assertDomainError(t, err, "invalid_plan", "plan")
				return
			}
			if err != nil || p != tt.want {
				t.Fatalf("ParsePlan(%q) = %q, %v", tt.in, p, err)
			}
			if got := p.IntegrationMode(); got != tt.mode {
				t.Fatalf("%s.IntegrationMode() = %s, want %s", p, got, tt.mode)
			}
			if !p.Valid() {
				t.Fatalf("%s not Valid", p)
			}
		})
	}
	if Plan("Pro").Valid() {
		t.Error("non-canonical plan reported valid")
	}
	if len(Plans()) != 4 {
		t.Error("Plans() must list four plans")
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"test": ModeTest, "LIVE": ModeLive} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	_, err := ParseMode("prod")
	assertDomainError(t, err, "invalid_mode", "mode")
}

func TestScopes(t *testing.T) {
	for _, s := range DefaultScopes() {
		if got, err := ParseScope(string(s)); err != nil || got != s {
			t.Errorf("ParseScope(%q) = %q, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "sessions:*", "SESSIONS:READ", "admin"} {
		_, err := ParseScope(bad)
		assertDomainError(t, err, "invalid_scope", "scope")
	}
	d := DefaultScopes()
	d[0] = "mutated"
	if DefaultScopes()[0] != ScopeSessionsWrite {
		t.Error("DefaultScopes shares its backing array")
	}
	granted := []Scope{ScopeSessionsRead}
	if !HasScope(granted, ScopeSessionsRead) || HasScope(granted, ScopeSessionsWrite) {
		t.Error("HasScope wrong")
	}
}
