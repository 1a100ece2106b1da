package webhooks

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 4, 18, 14, 22, 11, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"120", 2 * time.Minute},
		{" 7 ", 7 * time.Second},
		{"999999999", MaxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(72 * time.Hour).Format(http.TimeFormat), MaxRetryAfter},
		{"soon", 0},
	}
	for _, tc := range tests {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestCleanText(t *testing.T) {
	long := strings.Repeat("é", MaxResponseBody) // 2 bytes each
	tests := []struct {
		name, in string
		check    func(string) bool
	}{
		{"plain", "ok", func(s string) bool { return s == "ok" }},
		{"nul removed", "a\x00b", func(s string) bool { return s == "ab" }},
		{"invalid utf-8 replaced", "a\xffb", func(s string) bool { return s == "a\uFFFDb" }},
		{"truncated on a rune boundary", long, func(s string) bool {
			return len(s) <= MaxResponseBody && utf8.ValidString(s) && len(s) >= MaxResponseBody-1
		}},
	}
	for _, tc := range tests {
		if got := cleanText([]byte(tc.in)); !tc.check(got) {
			t.Errorf("%s: cleanText gave %d bytes %q…", tc.name, len(got), got[:min(len(got), 20)])
		}
	}
}

func TestNextDelay(t *testing.T) {
	s := &Service{schedules: DefaultSchedules()}
	wantSvix := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	for i, want := range wantSvix {
		got, more := s.nextDelay(ScheduleSvix, i+1, 0)
		if !more || got != want {
			t.Errorf("svix after attempt %d: %s %v, want %s", i+1, got, more, want)
		}
	}
	if _, more := s.nextDelay(ScheduleSvix, 8, 0); more {
		t.Error("svix has 8 attempts")
	}
	for n := 1; n <= 3; n++ {
		if got, more := s.nextDelay(SchedulePayPro, n, 0); !more || got != 30*time.Minute {
			t.Errorf("paypro after attempt %d: %s %v", n, got, more)
		}
	}
	if _, more := s.nextDelay(SchedulePayPro, 4, 0); more {
		t.Error("paypro has 4 attempts")
	}
	if got, _ := s.nextDelay(ScheduleSvix, 1, time.Minute); got != time.Minute {
		t.Errorf("Retry-After 1m after a 5s step: %s", got)
	}
	if got, _ := s.nextDelay(ScheduleSvix, 3, time.Minute); got != 30*time.Minute {
		t.Errorf("Retry-After never shortens the schedule: %s", got)
	}
	s.jitter = 0.1
	for range 100 {
		got, _ := s.nextDelay(ScheduleSvix, 2, 0)
		if got < 270*time.Second || got > 330*time.Second {
			t.Fatalf("jittered 5m step %s outside ±10%%", got)
		}
	}
}
