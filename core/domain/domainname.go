package domain

import "time"

// Domain lifecycle events (issue 16). Each is numbered in the sequence of
// the session whose item bought the domain; data is the domain object.
const (
	EventDomainRegistered  DomainEvent = "domain.registered"
	EventDomainTransferred DomainEvent = "domain.transferred"
	EventDomainRenewed     DomainEvent = "domain.renewed"
	// EventDomainFailed: a registration or transfer ended without the
	// domain (nothing was bought; the item can be refunded).
	EventDomainFailed  DomainEvent = "domain.failed"
	EventDomainExpired DomainEvent = "domain.expired"
)

// domainLifecycleEvents are the domain.* events in catalog order.
func domainLifecycleEvents() []DomainEvent {
	return []DomainEvent{EventDomainRegistered, EventDomainTransferred, EventDomainRenewed, EventDomainFailed, EventDomainExpired}
}

// Domain id prefixes: dom_ domains, dop_ domain operations.
const (
	DomainIDPrefix          = "dom_"
	DomainOperationIDPrefix = "dop_"
)

// NewDomainID returns a domain id "dom_…".
func NewDomainID() string { return newID(DomainIDPrefix, time.Now()) }

// NewDomainOperationID returns a domain operation id "dop_…".
func NewDomainOperationID() string { return newID(DomainOperationIDPrefix, time.Now()) }
