package domains

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// Item actions.
const (
	ActionRegister = "register"
	ActionTransfer = "transfer"
)

// Contact is the registrant of a domain item, as the session create body
// carries it ("contact" object); admin and tech contacts are the same.
type Contact struct {
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Organization string `json:"organization,omitempty"`
	Email        string `json:"email"`
	// Phone in the registry format +CC.NUMBER ("+1.2025550100").
	Phone       string `json:"phone"`
	Address1    string `json:"address1"`
	Address2    string `json:"address2,omitempty"`
	City        string `json:"city"`
	State       string `json:"state,omitempty"`
	PostalCode  string `json:"postal_code,omitempty"`
	CountryCode string `json:"country_code"`
}

func (c Contact) registrar() registrar.Contact {
	return registrar.Contact{FirstName: c.FirstName, LastName: c.LastName, Organization: c.Organization, Email: c.Email,
		Phone: c.Phone, Address1: c.Address1, Address2: c.Address2, City: c.City, State: c.State,
		PostalCode: c.PostalCode, CountryCode: c.CountryCode}
}

var (
	phonePattern   = regexp.MustCompile(`^\+[0-9]{1,3}\.[0-9]{4,14}$`)
	countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
)

// ProductSettings is what a register_domain product configures.
type ProductSettings struct {
	// Registrar is the registrar plugin instance id.
	Registrar string
	// TLDs the product sells ("com", "io"); a name under any other is
	// refused at session create.
	TLDs []string
	// MailDNS asks for the mail records (SPF, DKIM, DMARC) once the domain
	// is registered.
	MailDNS bool
}

// ItemInput is a domain item of a session create body.
type ItemInput struct {
	Domain string
	Years  int // 0 means 1
	Action string
	// AuthCode is the EPP code a transfer needs. Never log or echo it.
	AuthCode string
	// Contact is the raw "contact" object.
	Contact json.RawMessage
}

// Order is a validated domain item: what Validate returns and EnqueueTx
// takes.
type Order struct {
	Name     string // normalized (punycode)
	Years    int
	Action   string
	AuthCode string
	Contact  Contact
	Product  ProductSettings
}

// Validate checks a domain item at session create, before anything is
// stored: the name (IDN converted to punycode), a TLD the product sells,
// years 1–10, the action, the auth code (required for a transfer, refused
// for a registration) and the registrant contact. field prefixes the
// error's field ("items[0]."). The auth code never appears in an error.
func Validate(p ProductSettings, in ItemInput, field string) (*Order, error) {
	name, err := NormalizeName(in.Domain)
	if err != nil {
		return nil, invalidName(field+"domain", err)
	}
	if !supportsTLD(p.TLDs, name) {
		return nil, domain.Invalid("unsupported_tld", field+"domain", "this product does not sell .%s domains (it sells %s)",
			TLD(name), strings.Join(p.TLDs, ", "))
	}
	o := &Order{Name: name, Years: in.Years, Action: in.Action, AuthCode: in.AuthCode, Product: p}
	if o.Years == 0 {
		o.Years = 1
	}
	if o.Years < 1 || o.Years > 10 {
		return nil, domain.Invalid("invalid_years", field+"years", "years must be between 1 and 10, got %d", in.Years)
	}
	switch o.Action {
	case "", ActionRegister:
		o.Action = ActionRegister
		if in.AuthCode != "" {
			return nil, domain.Invalid("auth_code_not_allowed", field+"auth_code", "auth_code is only for action transfer")
		}
	case ActionTransfer:
		if strings.TrimSpace(in.AuthCode) == "" {
			return nil, domain.Invalid("auth_code_required", field+"auth_code", "a transfer needs the domain's auth (EPP) code")
		}
		if len(in.AuthCode) > 64 {
			return nil, domain.Invalid("invalid_auth_code", field+"auth_code", "auth_code is at most 64 characters")
		}
	default:
		return nil, domain.Invalid("invalid_action", field+"action", "action must be register or transfer")
	}
	c, err := parseContact(in.Contact, field+"contact")
	if err != nil {
		return nil, err
	}
	o.Contact = c
	return o, nil
}

// parseContact decodes and checks the contact object strictly.
func parseContact(raw json.RawMessage, field string) (Contact, error) {
	var c Contact
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return c, domain.Invalid("contact_required", field, "a domain item needs the registrant contact")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, domain.Invalid("invalid_contact", field, "contact: %v", err)
	}
	required := []struct{ name, v string }{
		{"first_name", c.FirstName}, {"last_name", c.LastName}, {"email", c.Email}, {"phone", c.Phone},
		{"address1", c.Address1}, {"city", c.City}, {"country_code", c.CountryCode},
	}
	for _, r := range required {
		if strings.TrimSpace(r.v) == "" {
			return c, domain.Invalid("invalid_contact", field+"."+r.name, "contact.%s is required", r.name)
		}
	}
	if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
		return c, domain.Invalid("invalid_contact", field+".email", "contact.email is not an email address")
	}
	if !phonePattern.MatchString(c.Phone) {
		return c, domain.Invalid("invalid_contact", field+".phone", "contact.phone must be +CC.NUMBER, e.g. +1.2025550100")
	}
	if !countryPattern.MatchString(c.CountryCode) {
		return c, domain.Invalid("invalid_contact", field+".country_code", "contact.country_code must be an ISO 3166-1 alpha-2 code in capitals")
	}
	return c, nil
}

// PaidItem names the paid session item an order belongs to.
type PaidItem struct {
	ItemID     string
	SessionID  string
	MerchantID int64
	Mode       store.KeyMode
}

// opParams are an operation's stored inputs.
type opParams struct {
	Contact     *Contact                 `json:"contact,omitempty"`
	Nameservers []string                 `json:"nameservers,omitempty"`
	Changes     []registrar.RecordChange `json:"changes,omitempty"`
	Locked      *bool                    `json:"locked,omitempty"`
	// Expiry is the domain's expiry when a renewal was asked, to guard
	// against renewing twice and to reconcile.
	Expiry  *time.Time `json:"expiry,omitempty"`
	Purpose string     `json:"purpose,omitempty"` // "mail_dns", "hosting"
}

// EnqueueTx stores the domain and its registration (or transfer) operation
// and enqueues the job that makes the registrar call, in the caller's
// transaction (the one that records the payment). Calling it again for the
// same item changes nothing: one paid item is one domain and one
// registration.
func (s *Service) EnqueueTx(ctx context.Context, tx bun.Tx, it PaidItem, o *Order) error {
	r := s.store.InTx(tx)
	if _, err := r.DomainByItem(ctx, it.ItemID); err == nil {
		return nil
	}
	now := s.now()
	d := &store.Domain{
		ID: domain.NewDomainID(), MerchantID: it.MerchantID, Mode: it.Mode, Name: o.Name, RegistrarID: o.Product.Registrar,
		Status: StatusPending, Action: o.Action, Years: o.Years, SessionID: it.SessionID, ItemID: it.ItemID,
		ContactEmail: o.Contact.Email, Nameservers: "[]", HostingNameservers: "[]", MailDNS: o.Product.MailDNS,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := r.InsertDomain(ctx, d); err != nil {
		if store.IsUniqueViolation(err) {
			return domain.Conflict("domain_in_use", "%s is already held or being registered", o.Name)
		}
		return err
	}
	c := o.Contact
	op := s.newOp(d, o.Action, o.Action+":"+it.ItemID, opParams{Contact: &c}, "session:"+it.SessionID)
	op.Years = o.Years
	if o.Action == ActionTransfer {
		enc, err := s.sealAuthCode(op.ID, o.AuthCode)
		if err != nil {
			return err
		}
		op.AuthCodeEnc = enc
	}
	return s.insertOpTx(ctx, r, tx, op)
}

// HostingReadyTx records where a hosting account for a session's domain
// lives (its server's IP, or the nameservers to delegate to) once the
// account exists. If the domain is already registered, the records (or
// nameservers) are changed now; otherwise right after it is. A session
// without a domain item of that name is left alone. The caller holds the
// session's lock (the event transaction that records the account does),
// which orders it with the registration's own write (lockDomainTx).
func (s *Service) HostingReadyTx(ctx context.Context, tx bun.Tx, sessionID, name, ip string, nameservers []string) error {
	r := s.store.InTx(tx)
	ds, err := r.ListDomains(ctx, store.DomainFilter{SessionID: sessionID})
	if err != nil {
		return err
	}
	norm, err := NormalizeName(name)
	if err != nil {
		return nil
	}
	for _, d := range ds {
		if d.Name != norm || d.Status == StatusFailed {
			continue
		}
		d.HostingIP = ip
		d.HostingNameservers = jsonList(nameservers)
		d.UpdatedAt = s.now()
		if err := r.UpdateDomain(ctx, d); err != nil {
			return err
		}
		if d.Status == StatusActive {
			return s.pointAtHostingTx(ctx, r, tx, d)
		}
	}
	return nil
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func parseList(s string) []string {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil || v == nil {
		return []string{}
	}
	return v
}

// Sealing the auth code: the owner binds it to its operation row.
func (s *Service) sealAuthCode(opID, code string) (string, error) {
	if s.keyring == nil {
		return "", fmt.Errorf("domains: secrets.keys is empty: configure a keyring to accept transfers")
	}
	return s.keyring.Encrypt([]byte(code), authCodeOwner(opID))
}
