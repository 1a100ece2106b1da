package domain

import (
	"fmt"
	"strings"
	"time"
)

// Fulfillment (issue 15): what a paid session delivers. Products say how an
// item of a sku is fulfilled; a session's items name products; services are
// what provisioning made of an item (a hosting account).

// Id prefixes of fulfillment records.
const (
	ProductIDPrefix = "prod_"
	ItemIDPrefix    = "itm_"
	ClientIDPrefix  = "cli_"
	ServiceIDPrefix = "svc_"
	ActionIDPrefix  = "sva_"
)

// NewProductID returns "prod_" + ULID.
func NewProductID() string { return newID(ProductIDPrefix, time.Now()) }

// NewItemID returns "itm_" + ULID.
func NewItemID() string { return newID(ItemIDPrefix, time.Now()) }

// NewClientID returns "cli_" + ULID.
func NewClientID() string { return newID(ClientIDPrefix, time.Now()) }

// NewServiceID returns "svc_" + ULID.
func NewServiceID() string { return newID(ServiceIDPrefix, time.Now()) }

// NewActionID returns "sva_" + ULID.
func NewActionID() string { return newID(ActionIDPrefix, time.Now()) }

// ValidProductID reports whether s is a well-formed product id.
func ValidProductID(s string) bool { return validPrefixed(s, ProductIDPrefix) }

// ValidServiceID reports whether s is a well-formed service id.
func ValidServiceID(s string) bool { return validPrefixed(s, ServiceIDPrefix) }

// ValidClientID reports whether s is a well-formed client id.
func ValidClientID(s string) bool { return validPrefixed(s, ClientIDPrefix) }

// FulfillmentKind says what a paid item of a product does.
type FulfillmentKind string

const (
	// KindProvision creates a hosting account through a provisioner plugin.
	KindProvision FulfillmentKind = "provision"
	// KindRegisterDomain registers or transfers a domain through a
	// registrar plugin (issue 16 handles it through fulfillment.Kind).
	KindRegisterDomain FulfillmentKind = "register_domain"
	// KindNone: the item is only recorded.
	KindNone FulfillmentKind = "none"
)

// FulfillmentKinds lists every kind.
func FulfillmentKinds() []FulfillmentKind {
	return []FulfillmentKind{KindProvision, KindRegisterDomain, KindNone}
}

// ItemInput is one entry of a session create body's `items`, as sent.
// AuthCode is a secret: it is never echoed back, logged or put in events.
type ItemInput struct {
	SKU      string            `json:"sku"`
	Quantity *int              `json:"quantity,omitempty"`
	Domain   string            `json:"domain,omitempty"`
	Username string            `json:"username,omitempty"`
	Years    *int              `json:"years,omitempty"`
	Action   string            `json:"action,omitempty"`
	AuthCode string            `json:"auth_code,omitempty"`
	Contact  map[string]string `json:"contact,omitempty"`
}

// Domain item actions.
const (
	ItemActionRegister = "register"
	ItemActionTransfer = "transfer"
)

// MaxItems bounds a session's items.
const MaxItems = 20

// ServiceStatus is the state of a service (a provisioned account).
type ServiceStatus string

const (
	// ServicePending: paid, the account is not created yet.
	ServicePending ServiceStatus = "pending"
	// ServiceActive: the account exists and is usable.
	ServiceActive ServiceStatus = "active"
	// ServiceSuspended: the account exists, suspended at the panel.
	ServiceSuspended ServiceStatus = "suspended"
	// ServiceTerminated: the account was removed (final).
	ServiceTerminated ServiceStatus = "terminated"
	// ServiceFailed: an action kept failing; LastError says why. An
	// operator fixes the cause and retries.
	ServiceFailed ServiceStatus = "failed"
)

// ServiceStatuses lists every status.
func ServiceStatuses() []ServiceStatus {
	return []ServiceStatus{ServicePending, ServiceActive, ServiceSuspended, ServiceTerminated, ServiceFailed}
}

// ParseServiceStatus accepts a status exactly as spelled above.
func ParseServiceStatus(s string) (ServiceStatus, error) {
	for _, st := range ServiceStatuses() {
		if string(st) == s {
			return st, nil
		}
	}
	names := make([]string, 0, 5)
	for _, st := range ServiceStatuses() {
		names = append(names, string(st))
	}
	return "", Invalid("invalid_status", "status", "status must be one of %s", strings.Join(names, ", "))
}

// ServiceAction is one change a job makes to a service at its panel.
type ServiceAction string

const (
	ActionCreate        ServiceAction = "create"
	ActionSuspend       ServiceAction = "suspend"
	ActionUnsuspend     ServiceAction = "unsuspend"
	ActionTerminate     ServiceAction = "terminate"
	ActionChangePackage ServiceAction = "change_package"
	// ActionMailReady sends the service-ready mail once the account exists.
	ActionMailReady ServiceAction = "mail_ready"
	// ActionMailSuspended tells the customer the service was suspended.
	ActionMailSuspended ServiceAction = "mail_suspended"
)

// ActionStatus is the state of one queued service action.
type ActionStatus string

const (
	ActionPending  ActionStatus = "pending"
	ActionPaused   ActionStatus = "paused"
	ActionDone     ActionStatus = "done"
	ActionFailed   ActionStatus = "failed"
	ActionCanceled ActionStatus = "canceled"
)

// RefundPolicy is what a full refund does to a product's service.
type RefundPolicy string

const (
	RefundSuspend   RefundPolicy = "suspend"
	RefundTerminate RefundPolicy = "terminate"
)

// Fulfillment events.
const (
	EventClientCreated      DomainEvent = "client.created"
	EventClientUpdated      DomainEvent = "client.updated"
	EventServiceActivated   DomainEvent = "service.activated"
	EventServiceSuspended   DomainEvent = "service.suspended"
	EventServiceUnsuspended DomainEvent = "service.unsuspended"
	EventServiceTerminated  DomainEvent = "service.terminated"
	EventServiceFailed      DomainEvent = "service.failed"
	// EventServiceUpdated: the package changed.
	EventServiceUpdated DomainEvent = "service.updated"
)

// FulfillmentEvents lists the fulfillment event types.
func FulfillmentEvents() []DomainEvent {
	return []DomainEvent{
		EventClientCreated, EventClientUpdated, EventServiceActivated, EventServiceSuspended,
		EventServiceUnsuspended, EventServiceTerminated, EventServiceFailed, EventServiceUpdated,
	}
}

// ServiceTransition checks an operator's or a job's action against a
// service's status: terminated is final; suspend needs an account
// (active or suspended), and so on.
func ServiceTransition(st ServiceStatus, a ServiceAction) error {
	bad := func() error {
		return Conflict("invalid_service_state", "cannot %s a service that is %s", strings.ReplaceAll(string(a), "_", " "), st)
	}
	switch {
	case st == ServiceTerminated:
		return bad()
	case a == ActionCreate:
		if st != ServicePending && st != ServiceFailed {
			return bad()
		}
	case a == ActionSuspend, a == ActionUnsuspend, a == ActionChangePackage, a == ActionTerminate:
		if st == ServicePending {
			return bad()
		}
	case a == ActionMailReady, a == ActionMailSuspended:
	default:
		return fmt.Errorf("unknown service action %q", a)
	}
	return nil
}

// FulfillmentSpec is how a product's items are fulfilled: the same shape in
// the YAML file (products[].fulfillment) and in the admin API.
type FulfillmentSpec struct {
	Kind FulfillmentKind `json:"kind"`
	// provision
	Provisioner      string       `json:"provisioner,omitempty"`
	Package          string       `json:"package,omitempty"`
	OnRefund         RefundPolicy `json:"on_refund,omitempty"`
	LoginLinkInEmail bool         `json:"login_link_in_email,omitempty"`
	// GracePeriod is how long after a failed subscription charge the
	// service is suspended, as a Go duration ("72h"); "" means at once.
	GracePeriod string `json:"grace_period,omitempty"`
	// register_domain
	Registrar string   `json:"registrar,omitempty"`
	TLDs      []string `json:"tlds,omitempty"`
	// MailDNS asks for the mail records (SPF, DKIM, DMARC of the domains
	// configuration) once the domain is registered.
	MailDNS bool `json:"mail_dns,omitempty"`
}

// MaxGracePeriod bounds grace_period.
const MaxGracePeriod = 90 * 24 * time.Hour

// Grace is GracePeriod parsed (0 when unset or invalid; Check refuses an
// invalid one).
func (s FulfillmentSpec) Grace() time.Duration {
	d, _ := time.ParseDuration(s.GracePeriod)
	return d
}

// Normalize fills defaults: on_refund suspend for provision.
func (s *FulfillmentSpec) Normalize() {
	if s.Kind == KindProvision && s.OnRefund == "" {
		s.OnRefund = RefundSuspend
	}
}

// Check validates the spec's shape and its plugin references. instanceKind
// returns the kind ("provisioner", "registrar" …) of a configured plugin
// instance, "" for an unknown id. Fields are relative to the product
// ("fulfillment.package"). Whether the package exists at the panel is
// checked by core/fulfillment against the running plugin.
func (s FulfillmentSpec) Check(instanceKind func(id string) string) []*Error {
	var errs []*Error
	add := func(field, format string, args ...any) {
		errs = append(errs, Invalid("invalid_fulfillment", "fulfillment."+field, format, args...))
	}
	ref := func(field, id, want string) {
		switch k := instanceKind(id); {
		case id == "":
			add(field, "%s is required for kind %s", field, s.Kind)
		case k == "":
			add(field, "%q is not a configured plugin instance (plugins.instances)", id)
		case k != want:
			add(field, "%q is a %s instance, want a %s", id, k, want)
		}
	}
	switch s.Kind {
	case KindProvision:
		ref("provisioner", s.Provisioner, "provisioner")
		if strings.TrimSpace(s.Package) == "" {
			add("package", "package is required for kind provision (exactly as the panel lists it)")
		}
		if s.OnRefund != "" && s.OnRefund != RefundSuspend && s.OnRefund != RefundTerminate {
			add("on_refund", "on_refund must be suspend or terminate")
		}
		if s.GracePeriod != "" {
			d, err := time.ParseDuration(s.GracePeriod)
			if err != nil || d < 0 || d > MaxGracePeriod {
				add("grace_period", "grace_period must be a duration such as 72h, between 0s and %s", MaxGracePeriod)
			}
		}
		if s.Registrar != "" || len(s.TLDs) > 0 || s.MailDNS {
			add("registrar", "registrar, tlds and mail_dns belong to kind register_domain")
		}
	case KindRegisterDomain:
		ref("registrar", s.Registrar, "registrar")
		if s.Provisioner != "" || s.Package != "" {
			add("provisioner", "provisioner and package belong to kind provision")
		}
	case KindNone:
		if s.Provisioner != "" || s.Package != "" || s.Registrar != "" {
			add("kind", "kind none takes no provisioner, package or registrar")
		}
	default:
		add("kind", "kind must be provision, register_domain or none")
	}
	return errs
}

// ValidSKU reports whether s is a usable sku: 1-64 characters of letters,
// digits and . _ : -.
func ValidSKU(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}
