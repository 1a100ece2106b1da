package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// heldSession stores what the payments service leaves after an
// underpayment: a session in requires_review and its open review.
func heldSession(t *testing.T, cfgPath string, merchantID int64) (sessionID, reviewID string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(config.LoadOptions{Path: cfgPath})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, cfg.Store.DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC().Truncate(time.Microsecond)
	sess := &store.Session{ID: domain.NewSessionID(), MerchantID: merchantID, Mode: store.ModeTest, Status: domain.StatusRequiresReview,
		Domain: "acme.test", OrderID: "HELD-1", Amount: 4995, Currency: "USD", Metadata: "{}", AmountReceived: 1000, CurrencyReceived: "USD",
		ReviewReason: domain.ReviewAmountMismatch, EventSeq: 0, ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	if err := st.InsertSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	rv := &store.Review{ID: domain.NewReviewID(), SessionID: sess.ID, MerchantID: merchantID, Mode: store.ModeTest,
		Reason: domain.ReviewAmountMismatch, Status: domain.ReviewOpen, EventKind: string(domain.PaymentSucceeded),
		ProviderID: "paypro", ProviderEventID: "18304429:1", ExpectedAmount: 4995, ExpectedCurrency: "USD",
		ReceivedAmount: 1000, ReceivedCurrency: "USD", Detail: "received 10.00 USD, less than the session's 49.95 USD", CreatedAt: now}
	if err := st.InsertReview(ctx, rv); err != nil {
		t.Fatal(err)
	}
	return sess.ID, rv.ID
}

func TestReviewsCommands(t *testing.T) {
	cfg := writeConfig(t, "")
	if _, stderr, code := cli(t, "migrate", "--config", cfg); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	stdout, stderr, code := cli(t, "merchants", "create", "--config", cfg, "--name", "Acme", "--plan", "free",
		"--domain", "acme.test", "--contact-email", "ops@acme.test", "--json")
	if code != 0 {
		t.Fatalf("merchants create: %s", stderr)
	}
	var m struct{ ID int64 }
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatal(err)
	}
	sid, rid := heldSession(t, cfg, m.ID)

	stdout, stderr, code = cli(t, "reviews", "list", "--config", cfg, "--json")
	var list []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &list) != nil || len(list) != 1 || list[0].ID != rid || list[0].Status != "open" {
		t.Fatalf("reviews list: %d %s %s", code, stdout, stderr)
	}
	stdout, _, code = cli(t, "reviews", "list", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, rid) || !strings.Contains(stdout, "49.95 USD") || !strings.Contains(stdout, "10.00 USD") {
		t.Fatalf("reviews table: %s", stdout)
	}
	if _, stderr, code := cli(t, "reviews", "resolve", "--config", cfg, rid); code == 0 || !strings.Contains(stderr, "accept") {
		t.Fatalf("resolve without a decision: %d %s", code, stderr)
	}
	if _, stderr, code := cli(t, "reviews", "resolve", "--config", cfg, rid, "--accept", "--refund"); code == 0 {
		t.Fatalf("both decisions accepted: %s", stderr)
	}
	stdout, stderr, code = cli(t, "reviews", "resolve", "--config", cfg, rid, "--accept", "--note", "paid the rest by bank transfer", "--json")
	var got struct {
		Status     string `json:"status"`
		Resolution string `json:"resolution"`
		ResolvedBy string `json:"resolved_by"`
		Note       string `json:"note"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || got.Status != "resolved" || got.Resolution != "accept" ||
		!strings.HasPrefix(got.ResolvedBy, "cli") || got.Note != "paid the rest by bank transfer" {
		t.Fatalf("resolve: %d %s %s", code, stdout, stderr)
	}
	if _, stderr, code := cli(t, "reviews", "resolve", "--config", cfg, rid, "--refund"); code == 0 || !strings.Contains(stderr, "resolved") {
		t.Fatalf("second decision: %d %s", code, stderr)
	}
	stdout, _, _ = cli(t, "reviews", "list", "--config", cfg, "--json")
	if strings.TrimSpace(stdout) != "[]" {
		t.Fatalf("queue after resolving: %s", stdout)
	}

	ctx := context.Background()
	c, _ := config.Load(config.LoadOptions{Path: cfg})
	st, err := store.Open(ctx, c.Store.DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sess, err := st.GetSession(ctx, sid)
	if err != nil || sess.Status != domain.StatusPaid || sess.PaidAt == nil || sess.ReviewReason != "" {
		t.Fatalf("session after accept: %+v %v", sess, err)
	}
	evs, _ := st.SessionEvents(ctx, sid)
	if len(evs) != 1 || evs[0].Type != "session.paid" || !strings.Contains(evs[0].Data, `"amount_received":"10.00"`) {
		t.Fatalf("events %+v", evs)
	}
}
