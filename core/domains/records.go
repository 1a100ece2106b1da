package domains

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// mailChanges are the mail records of the seed's MXRoute setup, as one
// batch: the SPF include merged into whatever apex SPF record exists (two
// SPF records fail every check, RFC 7208 §4.5; the registrar plugin
// merges), DKIM when a value is configured, and DMARC.
func (s *Service) mailChanges(name string) []registrar.RecordChange {
	ch := []registrar.RecordChange{{Action: registrar.RecordMerge, Record: registrar.Record{
		Name: "@", Type: "TXT", Values: []string{"v=spf1 include:" + s.mailDNS.SPFInclude + " ~all"}}}}
	if s.mailDNS.DKIM != "" {
		ch = append(ch, registrar.RecordChange{Action: registrar.RecordUpsert, Record: registrar.Record{
			Name: "mail._domainkey", Type: "TXT", Values: []string{s.mailDNS.DKIM}}})
	}
	return append(ch, registrar.RecordChange{Action: registrar.RecordUpsert, Record: registrar.Record{
		Name: "_dmarc", Type: "TXT", Values: []string{fmt.Sprintf("v=DMARC1; p=%s; rua=mailto:dmarc@%s", s.mailDNS.DMARCPolicy, name)}}})
}

// pointAtHostingTx queues the change that points a domain at its hosting
// account: A records for the apex and www when the account has an IP (the
// zone stays at the registrar, so the mail records keep working), or a
// delegation to the account's nameservers when it has only those.
func (s *Service) pointAtHostingTx(ctx context.Context, r *store.Repo, tx bun.Tx, d *store.Domain) error {
	var op *store.DomainOperation
	if d.HostingIP != "" {
		ch := []registrar.RecordChange{
			{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "@", Type: "A", Values: []string{d.HostingIP}}},
			{Action: registrar.RecordUpsert, Record: registrar.Record{Name: "www", Type: "A", Values: []string{d.HostingIP}}},
		}
		op = s.newOp(d, OpChangeRecords, "hosting:"+d.ID+":"+d.HostingIP, opParams{Changes: ch, Purpose: "hosting"}, "item")
	} else {
		ns := parseList(d.HostingNameservers)
		op = s.newOp(d, OpSetNameservers, "hosting:"+d.ID+":"+jsonList(ns), opParams{Nameservers: ns, Purpose: "hosting"}, "item")
	}
	if _, err := r.DomainOperationByKey(ctx, op.RequestKey); err == nil {
		return nil
	}
	return s.insertOpTx(ctx, r, tx, op)
}
