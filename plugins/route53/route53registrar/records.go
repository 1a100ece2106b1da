package route53registrar

import (
	"context"
	"net"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/route53domains"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// changePrefix marks operation ids of Route 53 record changes:
// "change:<change id>:<domain>", or "change:none:<domain>" for a batch
// that found nothing to change.
const changePrefix = "change:"

const (
	noChangeID = "none"
	defaultTTL = 300
	maxTTL     = 2147483647
	// maxChanges is Route 53's limit of changes per batch (a merge or a
	// partial delete sends two).
	maxChanges = 1000
	// maxCASAttempts bounds the read-modify-write retries of merges and
	// partial deletes that lost a race with another change to the set.
	maxCASAttempts = 3
)

// recordTypes are the types ChangeRecords accepts. SOA is the zone's own;
// NS is accepted below the apex only (delegating a subdomain): the apex NS
// set is Route 53's, and SetNameservers delegates the domain.
var recordTypes = map[string]bool{
	"A": true, "AAAA": true, "CAA": true, "CNAME": true, "DS": true, "HTTPS": true, "MX": true, "NAPTR": true,
	"NS": true, "PTR": true, "SPF": true, "SRV": true, "SSHFP": true, "SVCB": true, "TLSA": true, "TXT": true,
}

var recordLabel = regexp.MustCompile(`^(\*|[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)$`)

// setKey names a record set: fully qualified lower-case name with the
// trailing dot, and type.
type setKey struct{ name, typ string }

// plannedChange is one validated RecordChange.
type plannedChange struct {
	key    setKey
	action registrar.RecordAction
	ttl    int      // 0: the default (upsert) or the existing TTL (merge)
	values []string // as given (TXT: plain text)
}

// conditional reports whether the change reads the current set first.
func (p plannedChange) conditional() bool { return p.action != registrar.RecordUpsert }

// UpsertRecords implements registrar.Registrar: every record set is
// created or replaced (UPSERT) in one atomic batch.
func (r *Registrar) UpsertRecords(ctx context.Context, req registrar.UpsertRecordsRequest) (registrar.Operation, error) {
	changes := make([]registrar.RecordChange, len(req.Records))
	for i, rec := range req.Records {
		changes[i] = registrar.RecordChange{Action: registrar.RecordUpsert, Record: rec}
	}
	return r.ChangeRecords(ctx, registrar.ChangeRecordsRequest{Domain: req.Domain, Changes: changes})
}

// ChangeRecords implements registrar.RecordChanger with one
// ChangeResourceRecordSets batch. Upserts are sent as UPSERT. Merges and
// partial deletes read the set first and send DELETE of exactly what was
// read plus CREATE of the result, so the batch fails instead of
// overwriting a concurrent change; it is then re-read and retried.
func (r *Registrar) ChangeRecords(ctx context.Context, req registrar.ChangeRecordsRequest) (registrar.Operation, error) {
	domain, err := normalizeDomain(req.Domain, "domain")
	if err != nil {
		return registrar.Operation{}, err
	}
	plan, err := planChanges(domain, req.Changes)
	if err != nil {
		return registrar.Operation{}, err
	}
	inst, err := r.instance()
	if err != nil {
		return registrar.Operation{}, err
	}
	zoneID, err := inst.zoneFor(ctx, domain)
	if err != nil {
		return registrar.Operation{}, err
	}
	var previous map[setKey]*types.ResourceRecordSet
	var lastErr error
	for attempt := 1; ; attempt++ {
		current, err := inst.readSets(ctx, zoneID, plan)
		if err != nil {
			return registrar.Operation{}, err
		}
		if lastErr != nil && sameSets(previous, current) {
			// The batch failed against the sets as they still are: the
			// failure is the request's, not a race.
			return registrar.Operation{}, mapError(ctx, "route53 ChangeResourceRecordSets", lastErr)
		}
		batch, err := buildBatch(plan, current)
		if err != nil {
			return registrar.Operation{}, err
		}
		if len(batch) == 0 {
			return r.noChange(domain), nil
		}
		if len(batch) > maxChanges {
			return registrar.Operation{}, sdk.Invalid("the batch needs %d Route 53 changes, more than %d", len(batch), maxChanges).WithField("changes")
		}
		out, err := inst.dns.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(zoneID),
			ChangeBatch:  &types.ChangeBatch{Changes: batch, Comment: aws.String("switchyard")},
		})
		if err == nil {
			return changeOperation(domain, out.ChangeInfo), nil
		}
		if errorCode(err) != "InvalidChangeBatch" || !anyConditional(plan) || attempt >= maxCASAttempts {
			return registrar.Operation{}, mapError(ctx, "route53 ChangeResourceRecordSets", err)
		}
		previous, lastErr = current, err
	}
}

func anyConditional(plan []plannedChange) bool {
	for _, p := range plan {
		if p.conditional() {
			return true
		}
	}
	return false
}

// planChanges validates the request before anything is sent.
func planChanges(domain string, changes []registrar.RecordChange) ([]plannedChange, error) {
	if len(changes) == 0 {
		return nil, sdk.Invalid("at least one record change is required").WithField("changes")
	}
	seen := map[setKey]bool{}
	plan := make([]plannedChange, 0, len(changes))
	for _, c := range changes {
		if !c.Action.Valid() {
			return nil, sdk.Invalid("record action %q is not upsert, merge or delete", c.Action).WithField("action")
		}
		rec := c.Record
		typ := strings.ToUpper(strings.TrimSpace(rec.Type))
		if !recordTypes[typ] {
			return nil, sdk.Invalid("record type %q is not supported (SOA is the zone's own)", rec.Type).WithField("type")
		}
		fqdn, err := recordFQDN(rec.Name, domain)
		if err != nil {
			return nil, err
		}
		if typ == "NS" && fqdn == domain+"." {
			return nil, sdk.Invalid("the apex NS records belong to the hosted zone; use SetNameservers to delegate the domain").WithField("type")
		}
		key := setKey{fqdn, typ}
		if seen[key] {
			return nil, sdk.Invalid("more than one change for %s %s", rec.Name, typ).WithField("name")
		}
		seen[key] = true
		if rec.TTL < 0 || rec.TTL > maxTTL {
			return nil, sdk.Invalid("TTL %d is out of range", rec.TTL).WithField("ttl")
		}
		if c.Action != registrar.RecordDelete && len(rec.Values) == 0 {
			return nil, sdk.Invalid("%s %s needs at least one value", rec.Name, typ).WithField("values")
		}
		if typ == "CNAME" && (c.Action == registrar.RecordMerge || len(rec.Values) > 1) {
			return nil, sdk.Invalid("a CNAME has exactly one value: upsert it").WithField("values")
		}
		for _, v := range rec.Values {
			if err := checkValue(typ, v); err != nil {
				return nil, err
			}
		}
		plan = append(plan, plannedChange{key: key, action: c.Action, ttl: rec.TTL, values: rec.Values})
	}
	return plan, nil
}

func checkValue(typ, v string) error {
	if strings.TrimSpace(v) == "" || strings.ContainsAny(v, "\r\n") {
		return sdk.Invalid("%s values must be non-empty single lines", typ).WithField("values")
	}
	switch typ {
	case "A":
		if ip := net.ParseIP(v); ip == nil || ip.To4() == nil {
			return sdk.Invalid("%q is not an IPv4 address", v).WithField("values")
		}
	case "AAAA":
		if ip := net.ParseIP(v); ip == nil || ip.To4() != nil {
			return sdk.Invalid("%q is not an IPv6 address", v).WithField("values")
		}
	case "TXT", "SPF":
		if !printableASCII(v) {
			return sdk.Invalid("TXT values must be printable ASCII").WithField("values")
		}
	}
	return nil
}

// recordFQDN turns a record name relative to the zone ("www", "@") — or an
// absolute one inside it ("www.example.com.") — into Route 53's form.
func recordFQDN(name, domain string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if strings.HasSuffix(n, ".") {
		abs := strings.TrimSuffix(n, ".")
		switch {
		case abs == domain:
			n = "@"
		case strings.HasSuffix(abs, "."+domain):
			n = strings.TrimSuffix(abs, "."+domain)
		default:
			return "", sdk.Invalid("record name %q is outside %s", name, domain).WithField("name")
		}
	}
	if n == "" || n == "@" {
		return domain + ".", nil
	}
	for i, l := range strings.Split(n, ".") {
		if !recordLabel.MatchString(l) || (l == "*" && i > 0) {
			return "", sdk.Invalid("record name %q is not valid (labels of letters, digits, '-' and '_'; '*' only first)", name).WithField("name")
		}
	}
	fqdn := n + "." + domain + "."
	if len(fqdn) > 254 {
		return "", sdk.Invalid("record name %q is too long", name).WithField("name")
	}
	return fqdn, nil
}

// relativeName turns a Route 53 name ("\052.example.com.") back into the
// SDK's form ("*", "@").
func relativeName(awsName, domain string) string {
	n := strings.ToLower(strings.TrimSuffix(decodeNameEscapes(awsName), "."))
	if n == domain {
		return "@"
	}
	return strings.TrimSuffix(n, "."+domain)
}

// decodeNameEscapes undoes Route 53's \DDD octal escapes in names.
func decodeNameEscapes(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				out = append(out, byte(n))
				i += 3
				continue
			}
		}
		out = append(out, s[i])
	}
	return string(out)
}

// readSets reads the current sets the conditional changes depend on.
func (inst *instance) readSets(ctx context.Context, zoneID string, plan []plannedChange) (map[setKey]*types.ResourceRecordSet, error) {
	current := map[setKey]*types.ResourceRecordSet{}
	for _, p := range plan {
		if !p.conditional() {
			continue
		}
		out, err := inst.dns.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
			HostedZoneId: aws.String(zoneID), StartRecordName: aws.String(p.key.name),
			StartRecordType: types.RRType(p.key.typ), MaxItems: aws.Int32(1),
		})
		if err != nil {
			return nil, mapError(ctx, "route53 ListResourceRecordSets", err)
		}
		for i := range out.ResourceRecordSets {
			set := out.ResourceRecordSets[i]
			if strings.EqualFold(decodeNameEscapes(aws.ToString(set.Name)), p.key.name) && string(set.Type) == p.key.typ {
				if set.AliasTarget != nil || set.SetIdentifier != nil {
					return nil, sdk.Invalid("%s %s is an alias or uses a routing policy; change it in the Route 53 console", p.key.name, p.key.typ).WithField("name")
				}
				current[p.key] = &set
			}
		}
	}
	return current, nil
}

func sameSets(a, b map[setKey]*types.ResourceRecordSet) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || aws.ToInt64(x.TTL) != aws.ToInt64(y.TTL) || strings.Join(rawValues(x), "\x00") != strings.Join(rawValues(y), "\x00") {
			return false
		}
	}
	return true
}

func rawValues(set *types.ResourceRecordSet) []string {
	if set == nil {
		return nil
	}
	out := make([]string, 0, len(set.ResourceRecords))
	for _, rr := range set.ResourceRecords {
		out = append(out, aws.ToString(rr.Value))
	}
	return out
}

// buildBatch turns the plan and the sets it read into Route 53 changes.
func buildBatch(plan []plannedChange, current map[setKey]*types.ResourceRecordSet) ([]types.Change, error) {
	var batch []types.Change
	for _, p := range plan {
		txt := p.key.typ == "TXT" || p.key.typ == "SPF"
		cur := current[p.key]
		switch p.action {
		case registrar.RecordUpsert:
			raw := make([]string, len(p.values))
			for i, v := range p.values {
				raw[i] = presentValue(txt, v)
			}
			batch = append(batch, change(types.ChangeActionUpsert, p.key, ttlOr(p.ttl, defaultTTL), raw))
		case registrar.RecordMerge:
			merged := mergeValues(p.key.typ, rawValues(cur), p.values)
			if cur == nil {
				batch = append(batch, change(types.ChangeActionCreate, p.key, ttlOr(p.ttl, defaultTTL), merged))
				continue
			}
			ttl := ttlOr(p.ttl, int(aws.ToInt64(cur.TTL)))
			if slices.Equal(merged, rawValues(cur)) && int64(ttl) == aws.ToInt64(cur.TTL) {
				continue
			}
			batch = append(batch, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: cur},
				change(types.ChangeActionCreate, p.key, ttl, merged))
		case registrar.RecordDelete:
			if cur == nil {
				continue
			}
			remaining := removeValues(txt, rawValues(cur), p.values)
			switch {
			case len(p.values) == 0 || len(remaining) == 0:
				batch = append(batch, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: cur})
			case len(remaining) < len(cur.ResourceRecords):
				batch = append(batch, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: cur},
					change(types.ChangeActionCreate, p.key, int(aws.ToInt64(cur.TTL)), remaining))
			}
		}
	}
	return batch, nil
}

func ttlOr(ttl, fallback int) int {
	if ttl > 0 {
		return ttl
	}
	return fallback
}

func change(action types.ChangeAction, key setKey, ttl int, raw []string) types.Change {
	set := &types.ResourceRecordSet{Name: aws.String(key.name), Type: types.RRType(key.typ), TTL: aws.Int64(int64(ttl))}
	for _, v := range raw {
		set.ResourceRecords = append(set.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return types.Change{Action: action, ResourceRecordSet: set}
}

// presentValue is a value as Route 53 stores it: TXT quoted, others as given.
func presentValue(txt bool, v string) string {
	if txt {
		return quoteTXT(v)
	}
	return strings.TrimSpace(v)
}

// sameValue compares a stored value with a requested one.
func sameValue(txt bool, raw, v string) bool {
	if txt {
		return unquoteTXT(raw) == v
	}
	return strings.EqualFold(strings.TrimSpace(raw), strings.TrimSpace(v))
}

// mergeValues adds the requested values to the stored ones, keeping the
// stored ones as they are. For TXT, SPF values are folded into one (see
// registrar.RecordMerge): a requested SPF value merges into the first
// stored one, and further stored SPF values (already broken) are folded
// in too.
func mergeValues(typ string, raw []string, requested []string) []string {
	txt := typ == "TXT" || typ == "SPF"
	out := append([]string{}, raw...)
	spfAt := -1
	if typ == "TXT" {
		for i := 0; i < len(out); i++ {
			if !isSPF(unquoteTXT(out[i])) {
				continue
			}
			if spfAt < 0 {
				spfAt = i
				continue
			}
			out[spfAt] = quoteTXT(mergeSPF(unquoteTXT(out[spfAt]), unquoteTXT(out[i])))
			out = append(out[:i], out[i+1:]...)
			i--
		}
	}
	for _, v := range requested {
		if typ == "TXT" && isSPF(v) && spfAt >= 0 {
			merged := mergeSPF(unquoteTXT(out[spfAt]), v)
			if merged != unquoteTXT(out[spfAt]) {
				out[spfAt] = quoteTXT(merged)
			}
			continue
		}
		present := false
		for _, r := range out {
			if sameValue(txt, r, v) {
				present = true
				break
			}
		}
		if !present {
			out = append(out, presentValue(txt, v))
			if typ == "TXT" && isSPF(v) {
				spfAt = len(out) - 1
			}
		}
	}
	return out
}

// removeValues drops the requested values from the stored ones.
func removeValues(txt bool, raw []string, requested []string) []string {
	var out []string
	for _, r := range raw {
		drop := false
		for _, v := range requested {
			if sameValue(txt, r, v) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, r)
		}
	}
	return out
}

// zoneFor finds the public hosted zone named domain. Several public zones
// of the same name happen (a zone deleted and re-created by hand); the one
// whose nameservers the domain is delegated to is the live one.
func (inst *instance) zoneFor(ctx context.Context, domain string) (string, error) {
	out, err := inst.dns.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String(domain), MaxItems: aws.Int32(100)})
	if err != nil {
		return "", mapError(ctx, "route53 ListHostedZonesByName", err)
	}
	var ids []string
	for _, z := range out.HostedZones {
		if strings.EqualFold(strings.TrimSuffix(decodeNameEscapes(aws.ToString(z.Name)), "."), domain) && (z.Config == nil || !z.Config.PrivateZone) {
			ids = append(ids, aws.ToString(z.Id))
		}
	}
	switch len(ids) {
	case 0:
		return "", sdk.NotFound("no public Route 53 hosted zone for %s", domain).WithCode(registrar.CodeNoHostedZone)
	case 1:
		return ids[0], nil
	}
	d, err := inst.domains.GetDomainDetail(ctx, &route53domains.GetDomainDetailInput{DomainName: aws.String(domain)})
	if err != nil {
		return "", sdk.Invalid("%d public hosted zones are named %s and the domain's nameservers could not be read to choose one: %v", len(ids), domain, mapError(ctx, "route53domains GetDomainDetail", err)).WithCode("ambiguous_zone")
	}
	var delegated []string
	for _, ns := range d.Nameservers {
		delegated = append(delegated, aws.ToString(ns.Name))
	}
	var match []string
	for _, id := range ids {
		z, err := inst.dns.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
		if err != nil {
			return "", mapError(ctx, "route53 GetHostedZone", err)
		}
		if z.DelegationSet != nil && sameHosts(z.DelegationSet.NameServers, delegated) {
			match = append(match, id)
		}
	}
	if len(match) != 1 {
		return "", sdk.Invalid("%d public hosted zones are named %s and %d of them match the domain's nameservers; delete the stale ones", len(ids), domain, len(match)).WithCode("ambiguous_zone")
	}
	return match[0], nil
}

func sameHosts(a, b []string) bool {
	norm := func(hs []string) string {
		out := make([]string, len(hs))
		for i, h := range hs {
			out[i] = strings.TrimSuffix(strings.ToLower(h), ".")
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	return len(a) > 0 && norm(a) == norm(b)
}

// ListRecords implements registrar.RecordLister. Alias record sets and
// sets with a routing policy (weighted, latency …) are left out: they
// cannot be expressed as a Record or changed through ChangeRecords.
func (r *Registrar) ListRecords(ctx context.Context, req registrar.ListRecordsRequest) ([]registrar.Record, error) {
	domain, err := normalizeDomain(req.Domain, "domain")
	if err != nil {
		return nil, err
	}
	var want setKey
	if req.Name != "" {
		if want.name, err = recordFQDN(req.Name, domain); err != nil {
			return nil, err
		}
	}
	if req.Type != "" {
		want.typ = strings.ToUpper(strings.TrimSpace(req.Type))
		if !recordTypes[want.typ] && want.typ != "SOA" {
			return nil, sdk.Invalid("record type %q is not supported", req.Type).WithField("type")
		}
	}
	inst, err := r.instance()
	if err != nil {
		return nil, err
	}
	zoneID, err := inst.zoneFor(ctx, domain)
	if err != nil {
		return nil, err
	}
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), MaxItems: aws.Int32(300)}
	if want.name != "" {
		in.StartRecordName = aws.String(want.name)
		if want.typ != "" {
			in.StartRecordType = types.RRType(want.typ)
		}
	}
	var out []registrar.Record
	for {
		page, err := inst.dns.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, mapError(ctx, "route53 ListResourceRecordSets", err)
		}
		for _, set := range page.ResourceRecordSets {
			name := strings.ToLower(decodeNameEscapes(aws.ToString(set.Name)))
			if want.name != "" && name != want.name {
				return out, nil // sets come in name order: past the one wanted
			}
			if (want.typ != "" && string(set.Type) != want.typ) || set.AliasTarget != nil || set.SetIdentifier != nil {
				continue
			}
			out = append(out, recordFromSet(set, domain))
		}
		if !page.IsTruncated {
			return out, nil
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = page.NextRecordName, page.NextRecordType, page.NextRecordIdentifier
	}
}

func recordFromSet(set types.ResourceRecordSet, domain string) registrar.Record {
	rec := registrar.Record{Name: relativeName(aws.ToString(set.Name), domain), Type: string(set.Type), TTL: int(aws.ToInt64(set.TTL))}
	txt := set.Type == types.RRTypeTxt || set.Type == types.RRTypeSpf
	for _, rr := range set.ResourceRecords {
		v := aws.ToString(rr.Value)
		if txt {
			v = unquoteTXT(v)
		}
		rec.Values = append(rec.Values, v)
	}
	return rec
}

// changeOperation is the Operation for a submitted Route 53 change.
func changeOperation(domain string, info *types.ChangeInfo) registrar.Operation {
	op := registrar.Operation{Type: registrar.OperationTypeChangeRecords, Domain: domain, Status: registrar.OperationInProgress}
	if info == nil {
		return op
	}
	op.ID = changePrefix + strings.TrimPrefix(aws.ToString(info.Id), "/change/") + ":" + domain
	if info.Status == types.ChangeStatusInsync {
		op.Status = registrar.OperationSucceeded
	}
	if info.SubmittedAt != nil {
		op.SubmittedAt = info.SubmittedAt.UTC()
		op.UpdatedAt = op.SubmittedAt
	}
	return op
}

// noChange is the already-final Operation for a batch that found every
// set as requested.
func (r *Registrar) noChange(domain string) registrar.Operation {
	now := r.now().UTC()
	return registrar.Operation{
		ID: changePrefix + noChangeID + ":" + domain, Type: registrar.OperationTypeChangeRecords, Domain: domain,
		Status: registrar.OperationSucceeded, Message: "the records were already as requested", SubmittedAt: now, UpdatedAt: now,
	}
}

// getChange follows a record change (GetChange) until Route 53 reports it
// INSYNC on all its nameservers.
func (r *Registrar) getChange(ctx context.Context, id string) (registrar.Operation, error) {
	changeID, domain, ok := strings.Cut(strings.TrimPrefix(id, changePrefix), ":")
	if !ok || changeID == "" || domain == "" {
		return registrar.Operation{}, sdk.NotFound("no operation %q (malformed change id)", id)
	}
	if changeID == noChangeID {
		return r.noChange(domain), nil
	}
	inst, err := r.instance()
	if err != nil {
		return registrar.Operation{}, err
	}
	out, err := inst.dns.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(changeID)})
	if err != nil {
		return registrar.Operation{}, mapError(ctx, "route53 GetChange", err)
	}
	op := changeOperation(domain, out.ChangeInfo)
	op.ID = id
	return op, nil
}
