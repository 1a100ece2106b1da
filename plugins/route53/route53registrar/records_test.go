package route53registrar_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/route53/awsfake"
	"github.com/switchyard/switchyard/sdk/registrar"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// dkim is a 2048-bit DKIM key record: longer than one 255-character TXT
// string.
var dkim = "v=DKIM1; k=rsa; p=" + strings.Repeat("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 9)

func domainWithZone(t *testing.T, fake *awsfake.Server, name string) {
	t.Helper()
	fake.AddDomain(awsfake.Domain{Name: name, Expires: time.Now().AddDate(1, 0, 0)})
}

func TestUpsertBatchFollowedUntilInSync(t *testing.T) {
	fake, r := setup(t)
	ctx := context.Background()
	domainWithZone(t, fake, "shop.com")
	op, err := r.UpsertRecords(ctx, registrar.UpsertRecordsRequest{Domain: "shop.com", Records: []registrar.Record{
		{Name: "@", Type: "A", TTL: 300, Values: []string{"203.0.113.10"}},
		{Name: "www", Type: "CNAME", TTL: 300, Values: []string{"shop.com."}},
		{Name: "@", Type: "MX", Values: []string{"10 heracles.mxrouting.net.", "20 heracles-relay.mxrouting.net."}},
		{Name: "mail._domainkey", Type: "TXT", TTL: 3600, Values: []string{dkim}},
		{Name: "_dmarc", Type: "TXT", Values: []string{`v=DMARC1; p=quarantine; rua=mailto:dmarc@shop.com`}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(op.ID, "change:") || op.Type != registrar.OperationTypeChangeRecords || op.Status != registrar.OperationInProgress || op.Domain != "shop.com" {
		t.Fatalf("UpsertRecords = %+v", op)
	}
	final, seen := follow(t, r, op.ID)
	if !slices.Equal(seen, []registrar.OperationStatus{registrar.OperationInProgress, registrar.OperationSucceeded}) || final.ID != op.ID {
		t.Errorf("statuses %v (final %+v), want PENDING then INSYNC", seen, final)
	}
	if n := fake.Count("route53.ChangeResourceRecordSets"); n != 1 {
		t.Errorf("%d change batches, want 1 (atomic)", n)
	}

	set, ok := fake.RecordSet("shop.com", "mail._domainkey.shop.com.", "TXT")
	if !ok || set.TTL != 3600 || len(set.Values) != 1 || !strings.HasPrefix(set.Values[0], `"v=DKIM1; k=rsa; p=`) || !strings.Contains(set.Values[0], `" "`) {
		t.Errorf("DKIM set %+v, want one quoted value split into 255-character strings", set)
	}
	if set, _ := fake.RecordSet("shop.com", "_dmarc.shop.com.", "TXT"); set.TTL != 300 || set.Values[0] != `"v=DMARC1; p=quarantine; rua=mailto:dmarc@shop.com"` {
		t.Errorf("DMARC set %+v (default TTL 300)", set)
	}

	recs, err := r.ListRecords(ctx, registrar.ListRecordsRequest{Domain: "shop.com"})
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]registrar.Record{}
	for _, rec := range recs {
		byKey[rec.Name+" "+rec.Type] = rec
	}
	if got := byKey["mail._domainkey TXT"]; len(got.Values) != 1 || got.Values[0] != dkim {
		t.Errorf("ListRecords DKIM = %+v, want the value joined back", got)
	}
	if got := byKey["@ MX"]; len(got.Values) != 2 || got.TTL != 300 {
		t.Errorf("ListRecords MX = %+v", got)
	}
	if _, ok := byKey["@ SOA"]; !ok {
		t.Errorf("ListRecords lacks the zone's SOA: %v", recs)
	}
	only, err := r.ListRecords(ctx, registrar.ListRecordsRequest{Domain: "shop.com", Name: "www", Type: "cname"})
	if err != nil || len(only) != 1 || only[0].Values[0] != "shop.com." {
		t.Errorf("ListRecords(www CNAME) = %+v, %v", only, err)
	}
}

func TestSPFIsMergedNeverDuplicated(t *testing.T) {
	fake, r := setup(t)
	ctx := context.Background()
	domainWithZone(t, fake, "merchant.com")
	fake.PutRecordSet("merchant.com", awsfake.RecordSet{Name: "merchant.com.", Type: "TXT", TTL: 600, Values: []string{
		`"google-site-verification=abc123"`, `"v=spf1 include:_spf.google.com -all"`,
	}})
	spf := registrar.RecordChange{Action: registrar.RecordMerge, Record: registrar.Record{Name: "@", Type: "TXT", Values: []string{"v=spf1 include:mxlogin.com ~all"}}}
	op, err := r.ChangeRecords(ctx, registrar.ChangeRecordsRequest{Domain: "merchant.com", Changes: []registrar.RecordChange{spf}})
	if err != nil {
		t.Fatal(err)
	}
	follow(t, r, op.ID)
	set, _ := fake.RecordSet("merchant.com", "merchant.com.", "TXT")
	want := []string{`"google-site-verification=abc123"`, `"v=spf1 include:_spf.google.com include:mxlogin.com -all"`}
	if !slices.Equal(set.Values, want) || set.TTL != 600 {
		t.Errorf("apex TXT = %+v\nwant values %v and the TTL kept", set, want)
	}

	// Asking again changes nothing, and says so without a batch.
	batches := fake.Count("route53.ChangeResourceRecordSets")
	op, err = r.ChangeRecords(ctx, registrar.ChangeRecordsRequest{Domain: "merchant.com", Changes: []registrar.RecordChange{spf}})
	if err != nil || op.Status != registrar.OperationSucceeded {
		t.Fatalf("repeat merge = %+v, %v", op, err)
	}
	if fake.Count("route53.ChangeResourceRecordSets") != batches {
		t.Error("a merge with nothing to add sent a batch")
	}
	if again, err := r.GetOperation(ctx, registrar.GetOperationRequest{OperationID: op.ID}); err != nil || again.Status != registrar.OperationSucceeded {
		t.Errorf("GetOperation(%s) = %+v, %v", op.ID, again, err)
	}

	// A zone without TXT gets the SPF record created.
	domainWithZone(t, fake, "fresh.com")
	op, err = r.ChangeRecords(ctx, registrar.ChangeRecordsRequest{Domain: "fresh.com", Changes: []registrar.RecordChange{spf}})
	if err != nil {
		t.Fatal(err)
	}
	follow(t, r, op.ID)
	if set, _ := fake.RecordSet("fresh.com", "fresh.com.", "TXT"); !slices.Equal(set.Values, []string{`"v=spf1 include:mxlogin.com ~all"`}) || set.TTL != 300 {
		t.Errorf("fresh apex TXT = %+v", set)
	}

	// Two SPF records (already failing every check) are folded into one.
	domainWithZone(t, fake, "broken.com")
	fake.PutRecordSet("broken.com", awsfake.RecordSet{Name: "broken.com.", Type: "TXT", TTL: 300, Values: []string{
		`"v=spf1 a mx ~all"`, `"v=spf1 include:sendgrid.net ~all"`,
	}})
	op, err = r.ChangeRecords(ctx, registrar.ChangeRecordsRequest{Domain: "broken.com", Changes: []registrar.RecordChange{spf}})
	if err != nil {
		t.Fatal(err)
	}
	follow(t, r, op.ID)
	if set, _ := fake.RecordSet("broken.com", "broken.com.", "TXT"); !slices.Equal(set.Values, []string{`"v=spf1 a mx include:sendgrid.net include:mxlogin.com ~all"`}) {
		t.Errorf("broken apex TXT = %+v, want one merged SPF", set)
	}
}

func TestDeleteRecords(t *testing.T) {
	fake, r := setup(t)
	ctx := context.Background()
	domainWithZone(t, fake, "tidy.com")
	fake.PutRecordSet("tidy.com", awsfake.RecordSet{Name: "old.tidy.com.", Type: "A", TTL: 60, Values: []string{"198.51.100.1", "198.51.100.2"}})
	fake.PutRecordSet("tidy.com", awsfake.RecordSet{Name: "tidy.com.", Type: "TXT", TTL: 300, Values: []string{`"keep-me=1"`, `"drop-me=2"`}})
	op, err := r.ChangeRecords(ctx, registrar.ChangeRecordsRequest{Domain: "tidy.com", Changes: []registrar.RecordChange{
		{Action: registrar.RecordDelete, Record: registrar.Record{Name: "old", Type: "A"}},
		{Action: registrar.RecordDelete, Record: registrar.Record{Name: "@", Type: "TXT", Values: []string{"drop-me=2"}}},
		{Action: registrar.RecordDelete, Record: registrar.Record{Name: "never-existed", Type: "CNAME"}},
		{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "new", Type: "AAAA", Values: []string{"2001:db8::1"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	follow(t, r, op.ID)
	if _, ok := fake.RecordSet("tidy.com", "old.tidy.com.", "A"); ok {
		t.Error("old A set survived its delete")
	}
	if set, _ := fake.RecordSet("tidy.com", "tidy.com.", "TXT"); !slices.Equal(set.Values, []string{`"keep-me=1"`}) {
		t.Errorf("apex TXT = %+v, want only keep-me", set)
	}
	if _, ok := fake.RecordSet("tidy.com", "new.tidy.com.", "AAAA"); !ok {
		t.Error("the upsert in the same batch was lost")
	}
}

func TestRecordChangeErrors(t *testing.T) {
	fake, r := setup(t)
	ctx := context.Background()
	domainWithZone(t, fake, "strict.com")
	fake.AddZone("internal.com", true) // private zones are never used
	for name, tc := range map[string]struct {
		req       registrar.ChangeRecordsRequest
		cat       sdkerr.Category
		code      string
		noRequest bool
	}{
		"bad action":      {registrar.ChangeRecordsRequest{Domain: "strict.com", Changes: []registrar.RecordChange{{Action: "replace", Record: registrar.Record{Name: "@", Type: "A", Values: []string{"203.0.113.1"}}}}}, sdkerr.CategoryInvalidInput, "", true},
		"bad IPv4":        {registrar.ChangeRecordsRequest{Domain: "strict.com", Changes: []registrar.RecordChange{{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "@", Type: "A", Values: []string{"300.1.1.1"}}}}}, sdkerr.CategoryInvalidInput, "", true},
		"SOA":             {registrar.ChangeRecordsRequest{Domain: "strict.com", Changes: []registrar.RecordChange{{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "@", Type: "SOA", Values: []string{"x"}}}}}, sdkerr.CategoryInvalidInput, "", true},
		"apex NS":         {registrar.ChangeRecordsRequest{Domain: "strict.com", Changes: []registrar.RecordChange{{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "@", Type: "NS", Values: []string{"ns1.x.com."}}}}}, sdkerr.CategoryInvalidInput, "", true},
		"two for one set": {registrar.ChangeRecordsRequest{Domain: "strict.com", Changes: []registrar.RecordChange{{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "www", Type: "A", Values: []string{"203.0.113.1"}}}, {Action: registrar.RecordDelete, Record: registrar.Record{Name: "WWW", Type: "a"}}}}, sdkerr.CategoryInvalidInput, "", true},
		"name outside":    {registrar.ChangeRecordsRequest{Domain: "strict.com", Changes: []registrar.RecordChange{{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "www.other.com.", Type: "A", Values: []string{"203.0.113.1"}}}}}, sdkerr.CategoryInvalidInput, "", true},
		"non-ASCII TXT":   {registrar.ChangeRecordsRequest{Domain: "strict.com", Changes: []registrar.RecordChange{{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "@", Type: "TXT", Values: []string{"café"}}}}}, sdkerr.CategoryInvalidInput, "", true},
		"CNAME at apex":   {registrar.ChangeRecordsRequest{Domain: "strict.com", Changes: []registrar.RecordChange{{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "@", Type: "CNAME", Values: []string{"elsewhere.net."}}}}}, sdkerr.CategoryInvalidInput, "", false},
		"no zone":         {registrar.ChangeRecordsRequest{Domain: "internal.com", Changes: []registrar.RecordChange{{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "@", Type: "A", Values: []string{"203.0.113.1"}}}}}, sdkerr.CategoryNotFound, registrar.CodeNoHostedZone, false},
	} {
		before := fake.Count("route53.ChangeResourceRecordSets")
		_, err := r.ChangeRecords(ctx, tc.req)
		wantErr(t, name, err, tc.cat, tc.code)
		if tc.noRequest && fake.Count("route53.ChangeResourceRecordSets") != before {
			t.Errorf("%s: a batch was sent for input the plugin should refuse", name)
		}
	}
	// Route 53's own refusal comes back with its message.
	_, err := r.ChangeRecords(ctx, registrar.ChangeRecordsRequest{Domain: "strict.com", Changes: []registrar.RecordChange{{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "@", Type: "CNAME", Values: []string{"elsewhere.net."}}}}})
	if e, _ := sdkerr.As(err); e == nil || !strings.Contains(e.Message, "not permitted at apex") {
		t.Errorf("CNAME at apex: %v, want Route 53's message", err)
	}
}

func TestMergeRetriesWhenTheSetChangedUnderIt(t *testing.T) {
	fake, r := setup(t)
	ctx := context.Background()
	domainWithZone(t, fake, "busy.com")
	fake.PutRecordSet("busy.com", awsfake.RecordSet{Name: "busy.com.", Type: "TXT", TTL: 300, Values: []string{`"v=spf1 mx ~all"`}})
	// Between the plugin's read and its batch, someone adds a value: the
	// DELETE of what was read no longer matches, the batch fails whole,
	// and the plugin reads again and merges into the new set.
	fake.BeforeChange(func() {
		fake.PutRecordSet("busy.com", awsfake.RecordSet{Name: "busy.com.", Type: "TXT", TTL: 300, Values: []string{`"v=spf1 mx ~all"`, `"verify=42"`}})
	})
	op, err := r.ChangeRecords(ctx, registrar.ChangeRecordsRequest{Domain: "busy.com", Changes: []registrar.RecordChange{
		{Action: registrar.RecordMerge, Record: registrar.Record{Name: "@", Type: "TXT", Values: []string{"v=spf1 include:mxlogin.com ~all"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	follow(t, r, op.ID)
	set, _ := fake.RecordSet("busy.com", "busy.com.", "TXT")
	if !slices.Equal(set.Values, []string{`"v=spf1 mx include:mxlogin.com ~all"`, `"verify=42"`}) {
		t.Errorf("apex TXT = %v, want the concurrent value kept and SPF merged", set.Values)
	}
	if n := fake.Count("route53.ChangeResourceRecordSets"); n != 2 {
		t.Errorf("%d batches, want 2 (one lost the race)", n)
	}
}
