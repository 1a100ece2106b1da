package awsfake

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Domains' operation target prefix (the service's JSON 1.1 target).
const targetPrefix = "Route53Domains_v20140515."

// Server is the fake. Build it with New; all methods are safe for
// concurrent use.
type Server struct {
	srv *httptest.Server

	mu      sync.Mutex
	secrets map[string]string // access key id → secret
	calls   []string          // "route53domains.RegisterDomain", "route53.GetChange" …
	bodies  map[string][]byte // last request body per call name
	authErr []string          // refused signatures, for assertions
	now     func() time.Time

	// Route 53 Domains
	supportedTLDs map[string]bool
	availability  map[string]string // domain → availability other than AVAILABLE
	domains       map[string]*Domain
	ops           map[string]*Operation
	opOrder       []string
	failures      map[string]string        // domain → the message its next register/transfer fails with
	terms         map[string]time.Duration // domain → how long its next registration lasts, instead of its years
	throttle      int
	injected      map[string][]injection // call → errors to answer, in order
	beforeChange  func()                 // runs once before the next change batch

	// Route 53
	zones      map[string]*Zone // id → zone
	changes    map[string]*change
	syncPolls  int // GetChange calls before a change is INSYNC
	opPolls    int // GetOperationDetail calls before an operation is final
	nextSerial int
}

// Domain is a domain in the fake account.
type Domain struct {
	Name        string
	Created     time.Time
	Expires     time.Time
	AutoRenew   bool
	Locked      bool
	Privacy     bool
	Nameservers []string
	AuthCode    string
}

// Operation is an asynchronous Route 53 Domains operation.
type Operation struct {
	ID, Type, Domain, Status, Message, Flag string
	Submitted, Updated                      time.Time
	polls                                   int
	outcome                                 string // SUCCESSFUL or FAILED
	apply                                   func() // runs when it succeeds
}

// New starts a fake that accepts requests signed with keyID and secret,
// for the duration of t.
func New(t testing.TB, keyID, secret string) *Server {
	t.Helper()
	s := &Server{
		secrets:       map[string]string{keyID: secret},
		bodies:        map[string][]byte{},
		now:           time.Now,
		supportedTLDs: map[string]bool{"com": true, "net": true, "org": true, "io": true, "dev": true, "shop": true, "co": true, "info": true},
		availability:  map[string]string{},
		domains:       map[string]*Domain{},
		ops:           map[string]*Operation{},
		failures:      map[string]string{},
		terms:         map[string]time.Duration{},
		injected:      map[string][]injection{},
		zones:         map[string]*Zone{},
		changes:       map[string]*change{},
		syncPolls:     2,
		opPolls:       2,
	}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL for both endpoint settings.
func (s *Server) URL() string { return s.srv.URL }

// SetAvailability makes CheckDomainAvailability answer value for domain
// (UNAVAILABLE, UNAVAILABLE_PREMIUM, RESERVED, DONT_KNOW …); domains the
// fake has not heard of are AVAILABLE.
func (s *Server) SetAvailability(domain, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.availability[strings.ToLower(domain)] = value
}

// FailNext makes the next registration or transfer of domain end FAILED
// with message.
func (s *Server) FailNext(domain, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[strings.ToLower(domain)] = message
}

// Throttle answers the next n requests, of either service, with AWS's
// throttling error.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

type injection struct {
	status    int
	code, msg string
}

// FailCall answers the next n requests of call ("route53domains.RegisterDomain")
// with an error of the given HTTP status and AWS code, after the signature
// check: 500 InternalFailure for an AWS outage, 400 ThrottlingException …
func (s *Server) FailCall(call string, n, status int, code, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.injected[call] = append(s.injected[call], injection{status, code, msg})
	}
}

// BeforeChange runs fn (once) just before the next change batch is
// applied, as another writer racing the plugin would.
func (s *Server) BeforeChange(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeChange = fn
}

// AddDomain puts a registered domain, with a hosted zone, into the account.
func (s *Server) AddDomain(d Domain) *Zone {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addDomain(d)
}

func (s *Server) addDomain(d Domain) *Zone {
	d.Name = strings.ToLower(d.Name)
	if d.Created.IsZero() {
		d.Created = s.now().UTC()
	}
	if d.AuthCode == "" {
		d.AuthCode = "Fake-" + randomHex(6)
	}
	z := s.addZone(d.Name, false)
	if len(d.Nameservers) == 0 {
		d.Nameservers = append([]string{}, z.NameServers...)
	}
	dd := d
	s.domains[d.Name] = &dd
	s.availability[d.Name] = "UNAVAILABLE"
	return z
}

// NextTerm makes the next successful registration of domain expire term
// after it completes instead of after its years: a domain bought long ago,
// for tests of what happens near expiry.
func (s *Server) NextTerm(domain string, term time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.terms[strings.ToLower(domain)] = term
}

// SetExpiry moves a domain's expiry, as time passing or a renewal made
// outside Switchyard (auto-renew, the console) would.
func (s *Server) SetExpiry(name string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.domains[strings.ToLower(name)]; ok {
		d.Expires = expires.UTC()
	}
}

// Domain returns a copy of a domain in the account.
func (s *Server) Domain(name string) (Domain, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.domains[strings.ToLower(name)]
	if !ok {
		return Domain{}, false
	}
	c := *d
	c.Nameservers = append([]string{}, d.Nameservers...)
	return c, true
}

// Operation returns a copy of an operation.
func (s *Server) Operation(id string) (Operation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.ops[id]
	if !ok {
		return Operation{}, false
	}
	return *o, true
}

// Calls lists the operations called so far, in order, as
// "route53domains.<Operation>" and "route53.<Operation>".
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.calls...)
}

// Count is how many times call ("route53domains.RegisterDomain") was made.
func (s *Server) Count(call string) int {
	n := 0
	for _, c := range s.Calls() {
		if c == call {
			n++
		}
	}
	return n
}

// LastBody is the body of the last request of call.
func (s *Server) LastBody(call string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte{}, s.bodies[call]...)
}

// AuthFailures lists the signature problems the fake refused.
func (s *Server) AuthFailures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.authErr...)
}

// ServeHTTP implements http.Handler: Route 53 Domains on POST / with
// X-Amz-Target, Route 53 under /2013-04-01/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.serveDomains(w, r, strings.TrimPrefix(target, targetPrefix), body)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/2013-04-01/") {
		s.serveDNS(w, r, body)
		return
	}
	http.NotFound(w, r)
}

// admit records the call and runs the checks every request goes through:
// signature, then throttling. It reports false after answering.
func (s *Server) admit(service, op string, r *http.Request, body []byte, refuse func(status int, code, msg string)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := service + "." + op
	s.calls = append(s.calls, name)
	s.bodies[name] = body
	if _, aerr := verifySigV4(r, body, service, s.secrets); aerr != nil {
		s.authErr = append(s.authErr, name+": "+aerr.msg)
		switch {
		case aerr.unknownKey && service == "route53":
			refuse(http.StatusForbidden, "InvalidClientTokenId", aerr.msg)
		case aerr.unknownKey:
			refuse(http.StatusBadRequest, "UnrecognizedClientException", aerr.msg)
		case service == "route53":
			refuse(http.StatusForbidden, "SignatureDoesNotMatch", aerr.msg)
		default:
			refuse(http.StatusBadRequest, "InvalidSignatureException", aerr.msg)
		}
		return false
	}
	if inj := s.injected[name]; len(inj) > 0 {
		s.injected[name] = inj[1:]
		refuse(inj[0].status, inj[0].code, inj[0].msg)
		return false
	}
	if s.throttle > 0 {
		s.throttle--
		if service == "route53" {
			refuse(http.StatusBadRequest, "Throttling", "Rate exceeded")
		} else {
			refuse(http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		}
		return false
	}
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("awsfake: crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

func newUUID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
