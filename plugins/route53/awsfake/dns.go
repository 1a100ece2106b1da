package awsfake

import (
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

const xmlns = "https://route53.amazonaws.com/doc/2013-04-01/"

// Zone is a hosted zone.
type Zone struct {
	ID          string // without the /hostedzone/ prefix
	Name        string // with the trailing dot
	Private     bool
	NameServers []string
	sets        map[setKey]*RecordSet
}

// RecordSet is a basic (non-alias, simple routing) record set as Route 53
// stores it: values in presentation format, TXT quoted.
type RecordSet struct {
	Name   string // fully qualified, lower case, trailing dot
	Type   string
	TTL    int64
	Values []string
}

type setKey struct{ name, typ string }

type change struct {
	id, status, submitted string
	polls                 int
}

// AddZone adds a hosted zone (private or public) with its SOA and NS sets.
func (s *Server) AddZone(name string, private bool) *Zone {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addZone(name, private)
}

func (s *Server) addZone(name string, private bool) *Zone {
	fqdn := strings.TrimSuffix(strings.ToLower(name), ".") + "."
	s.nextSerial++
	z := &Zone{ID: fmt.Sprintf("Z%04dFAKE%s", s.nextSerial, strings.ToUpper(randomHex(4))), Name: fqdn, Private: private, sets: map[setKey]*RecordSet{}}
	n := s.nextSerial
	z.NameServers = []string{
		fmt.Sprintf("ns-%d.awsdns-%02d.com", 100+n, n%64), fmt.Sprintf("ns-%d.awsdns-%02d.net", 600+n, n%64),
		fmt.Sprintf("ns-%d.awsdns-%02d.org", 1100+n, n%64), fmt.Sprintf("ns-%d.awsdns-%02d.co.uk", 1600+n, n%64),
	}
	var ns []string
	for _, h := range z.NameServers {
		ns = append(ns, h+".")
	}
	z.sets[setKey{fqdn, "NS"}] = &RecordSet{Name: fqdn, Type: "NS", TTL: 172800, Values: ns}
	z.sets[setKey{fqdn, "SOA"}] = &RecordSet{Name: fqdn, Type: "SOA", TTL: 900, Values: []string{z.NameServers[0] + ". awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}}
	s.zones[z.ID] = z
	return z
}

// PutRecordSet stores a set in the zone named domain, as if an operator had
// made it in the console.
func (s *Server) PutRecordSet(domain string, set RecordSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zoneNamed(domain)
	set.Name = strings.ToLower(set.Name)
	z.sets[setKey{set.Name, set.Type}] = &set
}

// RecordSet returns a copy of the set, if present, in the public zone
// named domain.
func (s *Server) RecordSet(domain, name, typ string) (RecordSet, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zoneNamed(domain)
	if z == nil {
		return RecordSet{}, false
	}
	set, ok := z.sets[setKey{strings.ToLower(name), typ}]
	if !ok {
		return RecordSet{}, false
	}
	c := *set
	c.Values = append([]string{}, set.Values...)
	return c, true
}

func (s *Server) zoneNamed(domain string) *Zone {
	fqdn := strings.TrimSuffix(strings.ToLower(domain), ".") + "."
	for _, z := range s.zones {
		if z.Name == fqdn && !z.Private {
			return z
		}
	}
	return nil
}

type xmlError struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func writeXMLError(w http.ResponseWriter, status int, code, msg string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	writeXML(w, status, xmlError{Xmlns: xmlns, Type: typ, Code: code, Message: msg, RequestID: newUUID()})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}

func (s *Server) serveDNS(w http.ResponseWriter, r *http.Request, body []byte) {
	refuse := func(status int, code, msg string) { writeXMLError(w, status, code, msg) }
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/2013-04-01/"), "/")
	var op string
	switch {
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "hostedzonesbyname":
		op = "ListHostedZonesByName"
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "hostedzone":
		op = "GetHostedZone"
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset":
		op = "ListResourceRecordSets"
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset":
		op = "ChangeResourceRecordSets"
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "change":
		op = "GetChange"
	default:
		refuse(http.StatusNotFound, "UnknownOperation", "the fake does not implement "+r.Method+" "+r.URL.Path)
		return
	}
	if !s.admit("route53", op, r, body, refuse) {
		return
	}
	s.mu.Lock()
	if fn := s.beforeChange; fn != nil && op == "ChangeResourceRecordSets" {
		s.beforeChange = nil
		s.mu.Unlock()
		fn()
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	q := r.URL.Query()
	switch op {
	case "ListHostedZonesByName":
		s.listHostedZonesByName(w, q.Get("dnsname"), q.Get("maxitems"))
	case "GetHostedZone":
		s.getHostedZone(w, parts[1])
	case "ListResourceRecordSets":
		s.listRecordSets(w, parts[1], q.Get("name"), q.Get("type"), q.Get("maxitems"))
	case "ChangeResourceRecordSets":
		s.changeRecordSets(w, parts[1], body)
	case "GetChange":
		s.getChange(w, parts[1])
	}
}

type xmlZone struct {
	ID                     string `xml:"Id"`
	Name                   string `xml:"Name"`
	CallerReference        string `xml:"CallerReference"`
	PrivateZone            bool   `xml:"Config>PrivateZone"`
	ResourceRecordSetCount int    `xml:"ResourceRecordSetCount"`
}

func (z *Zone) xml() xmlZone {
	return xmlZone{ID: "/hostedzone/" + z.ID, Name: z.Name, CallerReference: "RISWorkflow-" + z.ID, PrivateZone: z.Private, ResourceRecordSetCount: len(z.sets)}
}

// reversedName orders names the way Route 53 lists them: labels from the
// right.
func reversedName(fqdn string) string {
	labels := strings.Split(strings.TrimSuffix(fqdn, "."), ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".")
}

func (s *Server) listHostedZonesByName(w http.ResponseWriter, dnsName, maxItems string) {
	start := strings.TrimSuffix(strings.ToLower(dnsName), ".")
	limit := atoiOr(maxItems, 100)
	var zones []*Zone
	for _, z := range s.zones {
		if start == "" || reversedName(z.Name) >= reversedName(start+".") {
			zones = append(zones, z)
		}
	}
	sort.Slice(zones, func(i, j int) bool {
		if zones[i].Name != zones[j].Name {
			return reversedName(zones[i].Name) < reversedName(zones[j].Name)
		}
		return zones[i].ID < zones[j].ID
	})
	truncated := len(zones) > limit
	if truncated {
		zones = zones[:limit]
	}
	type resp struct {
		XMLName     xml.Name  `xml:"ListHostedZonesByNameResponse"`
		Xmlns       string    `xml:"xmlns,attr"`
		HostedZones []xmlZone `xml:"HostedZones>HostedZone"`
		DNSName     string    `xml:"DNSName,omitempty"`
		IsTruncated bool      `xml:"IsTruncated"`
		MaxItems    int       `xml:"MaxItems"`
	}
	out := resp{Xmlns: xmlns, DNSName: dnsName, IsTruncated: truncated, MaxItems: limit}
	for _, z := range zones {
		out.HostedZones = append(out.HostedZones, z.xml())
	}
	writeXML(w, http.StatusOK, out)
}

func (s *Server) getHostedZone(w http.ResponseWriter, id string) {
	z, ok := s.zones[id]
	if !ok {
		writeXMLError(w, http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: "+id)
		return
	}
	type resp struct {
		XMLName     xml.Name `xml:"GetHostedZoneResponse"`
		Xmlns       string   `xml:"xmlns,attr"`
		HostedZone  xmlZone  `xml:"HostedZone"`
		NameServers []string `xml:"DelegationSet>NameServers>NameServer"`
	}
	writeXML(w, http.StatusOK, resp{Xmlns: xmlns, HostedZone: z.xml(), NameServers: z.NameServers})
}

type xmlRecordSet struct {
	Name    string  `xml:"Name"`
	Type    string  `xml:"Type"`
	TTL     int64   `xml:"TTL"`
	Records []xmlRR `xml:"ResourceRecords>ResourceRecord"`
}

type xmlRR struct {
	Value string `xml:"Value"`
}

func (x xmlRecordSet) values() []string {
	var out []string
	for _, r := range x.Records {
		out = append(out, r.Value)
	}
	return out
}

func toXMLSet(set *RecordSet) xmlRecordSet {
	out := xmlRecordSet{Name: escapeName(set.Name), Type: set.Type, TTL: set.TTL}
	for _, v := range set.Values {
		out.Records = append(out.Records, xmlRR{Value: v})
	}
	return out
}

// escapeName writes '*' the way Route 53 returns it (\052).
func escapeName(n string) string { return strings.ReplaceAll(n, "*", `\052`) }

func (s *Server) sortedSets(z *Zone) []*RecordSet {
	var sets []*RecordSet
	for _, set := range z.sets {
		sets = append(sets, set)
	}
	sort.Slice(sets, func(i, j int) bool {
		a, b := reversedName(sets[i].Name), reversedName(sets[j].Name)
		if a != b {
			return a < b
		}
		return sets[i].Type < sets[j].Type
	})
	return sets
}

func (s *Server) listRecordSets(w http.ResponseWriter, id, name, typ, maxItems string) {
	z, ok := s.zones[id]
	if !ok {
		writeXMLError(w, http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: "+id)
		return
	}
	if typ != "" && name == "" {
		writeXMLError(w, http.StatusBadRequest, "InvalidInput", "The input is not valid: type requires name")
		return
	}
	limit := atoiOr(maxItems, 300)
	startName := strings.ToLower(strings.ReplaceAll(name, `\052`, "*"))
	var page []*RecordSet
	var next *RecordSet
	for _, set := range s.sortedSets(z) {
		if startName != "" {
			a, b := reversedName(set.Name), reversedName(startName)
			if a < b || (a == b && typ != "" && set.Type < typ) {
				continue
			}
		}
		if len(page) == limit {
			next = set
			break
		}
		page = append(page, set)
	}
	type resp struct {
		XMLName            xml.Name       `xml:"ListResourceRecordSetsResponse"`
		Xmlns              string         `xml:"xmlns,attr"`
		ResourceRecordSets []xmlRecordSet `xml:"ResourceRecordSets>ResourceRecordSet"`
		IsTruncated        bool           `xml:"IsTruncated"`
		NextRecordName     string         `xml:"NextRecordName,omitempty"`
		NextRecordType     string         `xml:"NextRecordType,omitempty"`
		MaxItems           int            `xml:"MaxItems"`
	}
	out := resp{Xmlns: xmlns, IsTruncated: next != nil, MaxItems: limit}
	if next != nil {
		out.NextRecordName, out.NextRecordType = escapeName(next.Name), next.Type
	}
	for _, set := range page {
		out.ResourceRecordSets = append(out.ResourceRecordSets, toXMLSet(set))
	}
	writeXML(w, http.StatusOK, out)
}

type changeRequest struct {
	Changes []struct {
		Action string       `xml:"Action"`
		Set    xmlRecordSet `xml:"ResourceRecordSet"`
	} `xml:"ChangeBatch>Changes>Change"`
}

type invalidChangeBatch struct {
	XMLName   xml.Name `xml:"InvalidChangeBatch"`
	Xmlns     string   `xml:"xmlns,attr"`
	Messages  []string `xml:"Messages>Message"`
	RequestID string   `xml:"RequestId"`
}

// changeRecordSets applies the batch atomically: every change is checked
// against the zone as changed by the ones before it, and nothing is kept
// if any fails.
func (s *Server) changeRecordSets(w http.ResponseWriter, id string, body []byte) {
	z, ok := s.zones[id]
	if !ok {
		writeXMLError(w, http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: "+id)
		return
	}
	var req changeRequest
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Changes) == 0 {
		writeXMLError(w, http.StatusBadRequest, "InvalidInput", "Invalid XML or an empty change batch")
		return
	}
	next := map[setKey]*RecordSet{}
	for k, v := range z.sets {
		next[k] = v
	}
	var msgs []string
	touched := map[string]bool{}
	for _, c := range req.Changes {
		set := RecordSet{Name: strings.ToLower(strings.ReplaceAll(c.Set.Name, `\052`, "*")), Type: c.Set.Type, TTL: c.Set.TTL, Values: c.Set.values()}
		if !strings.HasSuffix(set.Name, ".") {
			set.Name += "."
		}
		key := setKey{set.Name, set.Type}
		desc := fmt.Sprintf("[name='%s', type='%s']", set.Name, set.Type)
		if set.Name != z.Name && !strings.HasSuffix(set.Name, "."+z.Name) {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", set.Name, z.Name))
			continue
		}
		if touched[c.Action+desc] || (c.Action == "UPSERT" && (touched["CREATE"+desc] || touched["DELETE"+desc])) {
			msgs = append(msgs, "The request contains an invalid set of changes for a resource record set "+desc)
			continue
		}
		touched[c.Action+desc] = true
		cur, exists := next[key]
		switch c.Action {
		case "CREATE":
			if exists {
				msgs = append(msgs, "Tried to create resource record set "+desc+" but it already exists")
				continue
			}
		case "DELETE":
			if !exists {
				msgs = append(msgs, "Tried to delete resource record set "+desc+" but it was not found")
				continue
			}
			if cur.TTL != set.TTL || strings.Join(cur.Values, "\x00") != strings.Join(set.Values, "\x00") {
				msgs = append(msgs, "Tried to delete resource record set "+desc+" but the values provided do not match the current values")
				continue
			}
			delete(next, key)
			continue
		case "UPSERT":
		default:
			msgs = append(msgs, "Unknown action "+c.Action)
			continue
		}
		if m := checkRecordSet(set, z.Name); m != "" {
			msgs = append(msgs, m)
			continue
		}
		stored := set
		next[key] = &stored
	}
	for k := range next {
		if k.typ == "CNAME" {
			for other := range next {
				if other.name == k.name && other.typ != "CNAME" {
					msgs = append(msgs, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name", k.name))
				}
			}
		}
	}
	if len(msgs) > 0 {
		writeXML(w, http.StatusBadRequest, invalidChangeBatch{Xmlns: xmlns, Messages: msgs, RequestID: newUUID()})
		return
	}
	z.sets = next
	s.nextSerial++
	ch := &change{id: fmt.Sprintf("C%06dFAKE%s", s.nextSerial, strings.ToUpper(randomHex(4))), status: "PENDING", submitted: s.now().UTC().Format("2006-01-02T15:04:05.000Z")}
	s.changes[ch.id] = ch
	writeChangeInfo(w, "ChangeResourceRecordSetsResponse", ch)
}

// checkRecordSet applies the record checks Route 53 makes that the plugin
// relies on; it returns the failure message or "".
func checkRecordSet(set RecordSet, zone string) string {
	desc := fmt.Sprintf("[name='%s', type='%s']", set.Name, set.Type)
	if len(set.Values) == 0 {
		return "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with " + desc
	}
	for _, v := range set.Values {
		switch set.Type {
		case "A":
			if ip := net.ParseIP(v); ip == nil || ip.To4() == nil {
				return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '%s''", v)
			}
		case "TXT", "SPF":
			if m := checkTXT(v); m != "" {
				return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: %s encountered with '%s''", m, v)
			}
		case "CNAME":
			if set.Name == zone {
				return "RRSet of type CNAME with DNS name " + set.Name + " is not permitted at apex in zone " + zone
			}
		}
	}
	return ""
}

// checkTXT checks one TXT value in presentation format: quoted
// character-strings of at most 255 characters each.
func checkTXT(v string) string {
	i := 0
	for i < len(v) {
		if v[i] == ' ' {
			i++
			continue
		}
		if v[i] != '"' {
			return "TXTRDATAUnquoted (the value must be quoted)"
		}
		i++
		n := 0
		for i < len(v) && v[i] != '"' {
			if v[i] == '\\' {
				i++
			}
			i++
			n++
		}
		if i >= len(v) {
			return "TXTRDATAUnbalancedQuotes"
		}
		i++
		if n > 255 {
			return "TXTRDATATooLong (Value is too long)"
		}
	}
	return ""
}

func writeChangeInfo(w http.ResponseWriter, root string, ch *change) {
	type info struct {
		ID          string `xml:"Id"`
		Status      string `xml:"Status"`
		SubmittedAt string `xml:"SubmittedAt"`
		Comment     string `xml:"Comment,omitempty"`
	}
	type resp struct {
		XMLName    xml.Name
		Xmlns      string `xml:"xmlns,attr"`
		ChangeInfo info   `xml:"ChangeInfo"`
	}
	writeXML(w, http.StatusOK, resp{XMLName: xml.Name{Local: root}, Xmlns: xmlns, ChangeInfo: info{ID: "/change/" + ch.id, Status: ch.status, SubmittedAt: ch.submitted}})
}

// getChange reports PENDING until the change has been polled syncPolls
// times, then INSYNC.
func (s *Server) getChange(w http.ResponseWriter, id string) {
	ch, ok := s.changes[id]
	if !ok {
		writeXMLError(w, http.StatusNotFound, "NoSuchChange", "A change with the specified change ID does not exist.")
		return
	}
	ch.polls++
	if ch.polls >= s.syncPolls {
		ch.status = "INSYNC"
	}
	writeChangeInfo(w, "GetChangeResponse", ch)
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return def
	}
	return n
}
