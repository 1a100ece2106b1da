package domain

import (
	"sort"
	"strings"
	"testing"
	"time"
)

func TestNewIDsShapeAndValidity(t *testing.T) {
	tests := []struct {
		name   string
		make   func() string
		prefix string
		valid  func(string) bool
		length int
	}{
		{"session", NewSessionID, "cs_", ValidSessionID, SessionIDLen},
		{"event", NewEventID, "evt_", ValidEventID, 4 + 26},
		{"delivery", NewDeliveryID, "whd_", ValidDeliveryID, 4 + 26},
		{"attempt", NewAttemptID, "pa_", ValidAttemptID, 3 + 26},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(map[string]bool)
			for range 1000 {
				id := tt.make()
				if !strings.HasPrefix(id, tt.prefix) || len(id) != tt.length {
					t.Fatalf("id %q: want prefix %q and length %d", id, tt.prefix, tt.length)
				}
				if !tt.valid(id) {
					t.Fatalf("own validator rejects %q", id)
				}
				if seen[id] {
					t.Fatalf("duplicate id %q", id)
				}
				seen[id] = true
			}
		})
	}
}

func TestEventIDLooksLikeDesign(t *testing.T) {
	// DESIGN: "evt_01HX4R…" — a canonical upper-case ULID of a current time.
	id := NewEventID()
	if !strings.HasPrefix(id, "evt_0") || strings.ToUpper(id[4:]) != id[4:] {
		t.Fatalf("event id %q", id)
	}
}

func TestIDsSortByTime(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []string
	for i := range 50 {
		at := base.Add(time.Duration(49-i) * time.Millisecond) // generated newest first
		ids = append(ids, newSessionID(at), newID(EventIDPrefix, at))
	}
	for _, prefix := range []string{SessionIDPrefix, EventIDPrefix} {
		var same []string
		for _, id := range ids {
			if strings.HasPrefix(id, prefix) {
				same = append(same, id)
			}
		}
		sorted := append([]string(nil), same...)
		sort.Strings(sorted)
		for i := range sorted {
			got, ok := IDTime(sorted[i])
			if !ok {
				t.Fatalf("IDTime(%q) failed", sorted[i])
			}
			want := base.Add(time.Duration(i) * time.Millisecond)
			if !got.Equal(want) {
				t.Fatalf("%s sorted[%d] has time %v, want %v", prefix, i, got, want)
			}
		}
	}
}

func TestValidSessionIDRejects(t *testing.T) {
	good := NewSessionID()
	tests := []string{
		"",
		"cs_",
		strings.TrimPrefix(good, "cs_"),
		"CS_" + good[3:],
		"cs_" + strings.ToLower(good[3:]),
		good[:len(good)-1],
		good + "A",
		good[:len(good)-1] + "I", // not in the Crockford alphabet
		good[:len(good)-1] + "!",
		"cs_8" + good[4:],        // ULID timestamp overflow
		"evt_" + good[3:],        // wrong prefix
		"cs_" + NewEventID()[4:], // a bare ULID lacks the secret part
		"cs_" + good[3:] + "/../x",
	}
	for _, s := range tests {
		if ValidSessionID(s) {
			t.Errorf("ValidSessionID(%q) = true", s)
		}
	}
}

func TestValidPrefixedRejects(t *testing.T) {
	ev := NewEventID()
	for _, s := range []string{"", "evt_", "evt_" + strings.ToLower(ev[4:]), ev + "0", "whd_" + ev[4:], "evt_" + ev[5:]} {
		if ValidEventID(s) {
			t.Errorf("ValidEventID(%q) = true", s)
		}
	}
	if ValidDeliveryID(ev) || ValidAttemptID(ev) {
		t.Errorf("event id accepted as another kind")
	}
}

func TestSessionIDSecretVaries(t *testing.T) {
	// Same millisecond, so only randomness distinguishes the ids; the
	// appended secret must differ, not only the ULID's random part.
	at := time.Now()
	a, b := newSessionID(at), newSessionID(at)
	if a[3:3+10] != b[3:3+10] {
		t.Fatalf("timestamps differ for the same instant: %q %q", a, b)
	}
	if a[3+26:] == b[3+26:] {
		t.Fatalf("secret suffix repeated: %q %q", a, b)
	}
}
