package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// jsonError writes a JSON 1.1 error as AWS does: the code in __type (and
// the x-amzn-ErrorType header), the text in message.
func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// domainsRequest is the union of the fields the handled operations read.
type domainsRequest struct {
	DomainName        string
	DurationInYears   int
	AutoRenew         *bool
	AuthCode          string
	CurrentExpiryYear int
	OperationId       string
	Nameservers       []struct{ Name string }
	RegistrantContact map[string]any
	AdminContact      map[string]any
	TechContact       map[string]any
	// PrivacyProtect* default to true at Route 53.
	PrivacyProtectRegistrantContact *bool
	MaxItems                        int
	Status                          []string
	Type                            []string
	SubmittedSince                  *float64
}

func (s *Server) serveDomains(w http.ResponseWriter, r *http.Request, op string, body []byte) {
	refuse := func(status int, code, msg string) { jsonError(w, status, code, msg) }
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		refuse(http.StatusBadRequest, "SerializationException", "Route 53 Domains takes POST / with application/x-amz-json-1.1")
		return
	}
	if !s.admit("route53domains", op, r, body, refuse) {
		return
	}
	var req domainsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		refuse(http.StatusBadRequest, "SerializationException", "invalid JSON: "+err.Error())
		return
	}
	req.DomainName = strings.ToLower(req.DomainName)
	s.mu.Lock()
	defer s.mu.Unlock()
	handlers := map[string]func(http.ResponseWriter, domainsRequest){
		"CheckDomainAvailability":   s.checkAvailability,
		"RegisterDomain":            s.registerDomain,
		"TransferDomain":            s.transferDomain,
		"RenewDomain":               s.renewDomain,
		"GetDomainDetail":           s.getDomainDetail,
		"UpdateDomainNameservers":   s.updateNameservers,
		"RetrieveDomainAuthCode":    s.retrieveAuthCode,
		"EnableDomainTransferLock":  func(w http.ResponseWriter, req domainsRequest) { s.setLock(w, req, true) },
		"DisableDomainTransferLock": func(w http.ResponseWriter, req domainsRequest) { s.setLock(w, req, false) },
		"GetOperationDetail":        s.getOperationDetail,
		"ListOperations":            s.listOperations,
	}
	h, ok := handlers[op]
	if !ok {
		refuse(http.StatusBadRequest, "UnknownOperationException", "the fake does not implement "+op)
		return
	}
	h(w, req)
}

// checkName answers like Route 53 Domains for a missing name or an
// unsupported TLD; it reports false after answering.
func (s *Server) checkName(w http.ResponseWriter, name string) bool {
	labels := strings.Split(name, ".")
	if name == "" || len(labels) < 2 {
		jsonError(w, http.StatusBadRequest, "InvalidInput", "Errors: [domain name must contain more than 1 label]")
		return false
	}
	if !s.supportedTLDs[labels[len(labels)-1]] {
		jsonError(w, http.StatusBadRequest, "UnsupportedTLD", fmt.Sprintf("Amazon Route 53 does not support the top-level domain (TLD) `.%s`.", labels[len(labels)-1]))
		return false
	}
	return true
}

// owned answers "not found in account" for a domain the account lacks.
func (s *Server) owned(w http.ResponseWriter, name string) (*Domain, bool) {
	if !s.checkName(w, name) {
		return nil, false
	}
	d, ok := s.domains[name]
	if !ok {
		jsonError(w, http.StatusBadRequest, "InvalidInput", fmt.Sprintf("Domain %s not found in 111122223333 account.", name))
		return nil, false
	}
	return d, true
}

func (s *Server) checkAvailability(w http.ResponseWriter, req domainsRequest) {
	if !s.checkName(w, req.DomainName) {
		return
	}
	a, ok := s.availability[req.DomainName]
	if !ok {
		a = "AVAILABLE"
	}
	writeJSON(w, map[string]string{"Availability": a})
}

func requireContacts(w http.ResponseWriter, req domainsRequest) bool {
	for name, c := range map[string]map[string]any{"RegistrantContact": req.RegistrantContact, "AdminContact": req.AdminContact, "TechContact": req.TechContact} {
		for _, f := range []string{"FirstName", "LastName", "Email", "PhoneNumber", "AddressLine1", "City", "CountryCode", "ContactType"} {
			if v, _ := c[f].(string); v == "" {
				jsonError(w, http.StatusBadRequest, "InvalidInput", fmt.Sprintf("Errors: [%s.%s is required]", name, f))
				return false
			}
		}
	}
	return true
}

// busy answers DuplicateRequest while an operation for the domain is open.
func (s *Server) busy(w http.ResponseWriter, name string) bool {
	for _, o := range s.ops {
		if o.Domain == name && (o.Status == "SUBMITTED" || o.Status == "IN_PROGRESS") {
			jsonError(w, http.StatusBadRequest, "DuplicateRequest", "The request is already in progress for the domain.")
			return true
		}
	}
	return false
}

func (s *Server) submit(w http.ResponseWriter, typ, name string, outcome, message string, apply func()) {
	now := s.now().UTC()
	o := &Operation{ID: newUUID(), Type: typ, Domain: name, Status: "SUBMITTED", Submitted: now, Updated: now, outcome: outcome, Message: message, apply: apply}
	s.ops[o.ID] = o
	s.opOrder = append(s.opOrder, o.ID)
	writeJSON(w, map[string]string{"OperationId": o.ID})
}

func (s *Server) registerDomain(w http.ResponseWriter, req domainsRequest) {
	if !s.checkName(w, req.DomainName) || !requireContacts(w, req) || s.busy(w, req.DomainName) {
		return
	}
	if req.DurationInYears < 1 || req.DurationInYears > 10 {
		jsonError(w, http.StatusBadRequest, "InvalidInput", "Errors: [DurationInYears must be between 1 and 10]")
		return
	}
	if a, ok := s.availability[req.DomainName]; ok && a != "AVAILABLE" {
		jsonError(w, http.StatusBadRequest, "InvalidInput", fmt.Sprintf("Domain %s is not available for registration.", req.DomainName))
		return
	}
	name, years := req.DomainName, req.DurationInYears
	privacy := req.PrivacyProtectRegistrantContact == nil || *req.PrivacyProtectRegistrantContact
	autoRenew := req.AutoRenew == nil || *req.AutoRenew
	// The registry holds the name from submission on.
	s.availability[name] = "UNAVAILABLE"
	if msg, fail := s.failures[name]; fail {
		delete(s.failures, name)
		s.submit(w, "REGISTER_DOMAIN", name, "FAILED", msg, func() { delete(s.availability, name) })
		return
	}
	term, short := s.terms[name]
	delete(s.terms, name)
	s.submit(w, "REGISTER_DOMAIN", name, "SUCCESSFUL", "", func() {
		now := s.now().UTC()
		expires := now.AddDate(years, 0, 0)
		if short {
			expires = now.Add(term)
		}
		s.addDomain(Domain{Name: name, Created: now, Expires: expires, AutoRenew: autoRenew, Privacy: privacy, Locked: true})
	})
}

func (s *Server) transferDomain(w http.ResponseWriter, req domainsRequest) {
	if !s.checkName(w, req.DomainName) || !requireContacts(w, req) || s.busy(w, req.DomainName) {
		return
	}
	if req.AuthCode == "" {
		jsonError(w, http.StatusBadRequest, "InvalidInput", "Errors: [AuthCode is required for this TLD]")
		return
	}
	if _, ok := s.domains[req.DomainName]; ok {
		jsonError(w, http.StatusBadRequest, "InvalidInput", fmt.Sprintf("Domain %s is already registered in this account.", req.DomainName))
		return
	}
	name, years := req.DomainName, req.DurationInYears
	var ns []string
	for _, n := range req.Nameservers {
		ns = append(ns, n.Name)
	}
	if msg, fail := s.failures[name]; fail {
		delete(s.failures, name)
		s.submit(w, "TRANSFER_IN_DOMAIN", name, "FAILED", msg, nil)
		return
	}
	s.submit(w, "TRANSFER_IN_DOMAIN", name, "SUCCESSFUL", "", func() {
		now := s.now().UTC()
		d := Domain{Name: name, Created: now.AddDate(-2, 0, 0), Expires: now.AddDate(years, 0, 0), Locked: true}
		s.addDomain(d)
		if len(ns) > 0 {
			s.domains[name].Nameservers = ns
		}
	})
}

func (s *Server) renewDomain(w http.ResponseWriter, req domainsRequest) {
	d, ok := s.owned(w, req.DomainName)
	if !ok || s.busy(w, req.DomainName) {
		return
	}
	if req.CurrentExpiryYear != d.Expires.Year() {
		jsonError(w, http.StatusBadRequest, "InvalidInput", fmt.Sprintf("Errors: [The current expiry year %d does not match the domain's expiry year %d]", req.CurrentExpiryYear, d.Expires.Year()))
		return
	}
	years := req.DurationInYears
	s.submit(w, "RENEW_DOMAIN", d.Name, "SUCCESSFUL", "", func() { d.Expires = d.Expires.AddDate(years, 0, 0) })
}

func (s *Server) getDomainDetail(w http.ResponseWriter, req domainsRequest) {
	d, ok := s.owned(w, req.DomainName)
	if !ok {
		return
	}
	var ns []map[string]any
	for _, n := range d.Nameservers {
		ns = append(ns, map[string]any{"Name": n, "GlueIps": []string{}})
	}
	status := []string{"ok"}
	if d.Locked {
		status = []string{"clientTransferProhibited https://icann.org/epp#clientTransferProhibited"}
	}
	writeJSON(w, map[string]any{
		"DomainName": d.Name, "Nameservers": ns, "AutoRenew": d.AutoRenew,
		"RegistrantPrivacy": d.Privacy, "AdminPrivacy": d.Privacy, "TechPrivacy": d.Privacy,
		"RegistrarName": "Amazon Registrar, Inc.", "StatusList": status,
		"CreationDate": epoch(d.Created), "ExpirationDate": epoch(d.Expires), "UpdatedDate": epoch(d.Created),
	})
}

func (s *Server) updateNameservers(w http.ResponseWriter, req domainsRequest) {
	d, ok := s.owned(w, req.DomainName)
	if !ok || s.busy(w, req.DomainName) {
		return
	}
	if len(req.Nameservers) == 0 {
		jsonError(w, http.StatusBadRequest, "InvalidInput", "Errors: [Nameservers must not be empty]")
		return
	}
	var ns []string
	for _, n := range req.Nameservers {
		ns = append(ns, n.Name)
	}
	s.submit(w, "UPDATE_NAMESERVER", d.Name, "SUCCESSFUL", "", func() { d.Nameservers = ns })
}

func (s *Server) retrieveAuthCode(w http.ResponseWriter, req domainsRequest) {
	d, ok := s.owned(w, req.DomainName)
	if !ok {
		return
	}
	writeJSON(w, map[string]string{"AuthCode": d.AuthCode})
}

func (s *Server) setLock(w http.ResponseWriter, req domainsRequest, locked bool) {
	d, ok := s.owned(w, req.DomainName)
	if !ok || s.busy(w, req.DomainName) {
		return
	}
	if strings.HasSuffix(d.Name, ".io") {
		// Some registries have no transfer lock at all.
		jsonError(w, http.StatusBadRequest, "TLDRulesViolation", "The top-level domain does not support this operation.")
		return
	}
	s.submit(w, "DOMAIN_LOCK", d.Name, "SUCCESSFUL", "", func() { d.Locked = locked })
}

// getOperationDetail advances the operation one step per poll: SUBMITTED,
// IN_PROGRESS (opPolls-1 times), then its outcome.
func (s *Server) getOperationDetail(w http.ResponseWriter, req domainsRequest) {
	o, ok := s.ops[req.OperationId]
	if !ok {
		jsonError(w, http.StatusBadRequest, "InvalidInput", fmt.Sprintf("No operation found with ID %s.", req.OperationId))
		return
	}
	if o.Status == "SUBMITTED" || o.Status == "IN_PROGRESS" {
		o.polls++
		o.Updated = s.now().UTC()
		switch {
		case o.polls >= s.opPolls:
			o.Status = o.outcome
			if o.Status == "SUCCESSFUL" && o.apply != nil {
				o.apply()
			} else if o.Status == "FAILED" && o.apply != nil && o.Type == "REGISTER_DOMAIN" {
				o.apply() // releases the name again
			}
		default:
			o.Status = "IN_PROGRESS"
		}
	}
	out := map[string]any{
		"OperationId": o.ID, "Status": o.Status, "DomainName": o.Domain, "Type": o.Type,
		"SubmittedDate": epoch(o.Submitted), "LastUpdatedDate": epoch(o.Updated),
	}
	if o.Message != "" && o.Status == "FAILED" {
		out["Message"] = o.Message
	}
	if o.Flag != "" {
		out["StatusFlag"] = o.Flag
	}
	writeJSON(w, out)
}

func (s *Server) listOperations(w http.ResponseWriter, req domainsRequest) {
	match := func(v string, in []string) bool {
		if len(in) == 0 {
			return true
		}
		for _, x := range in {
			if x == v {
				return true
			}
		}
		return false
	}
	var out []map[string]any
	ids := append([]string{}, s.opOrder...)
	sort.SliceStable(ids, func(i, j int) bool { return s.ops[ids[i]].Submitted.After(s.ops[ids[j]].Submitted) })
	for _, id := range ids {
		o := s.ops[id]
		if !match(o.Status, req.Status) || !match(o.Type, req.Type) {
			continue
		}
		if req.SubmittedSince != nil && epoch(o.Submitted) < *req.SubmittedSince {
			continue
		}
		out = append(out, map[string]any{
			"OperationId": o.ID, "Status": o.Status, "Type": o.Type, "DomainName": o.Domain,
			"SubmittedDate": epoch(o.Submitted), "LastUpdatedDate": epoch(o.Updated),
		})
		if req.MaxItems > 0 && len(out) == req.MaxItems {
			break
		}
	}
	writeJSON(w, map[string]any{"Operations": out})
}
