package fulfillment

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// ServiceView is a service as the admin API, the CLI and service events
// show it. It never carries the password.
type ServiceView struct {
	ID            string               `json:"id"`
	MerchantID    int64                `json:"merchant_id"`
	Mode          string               `json:"mode"`
	SessionID     string               `json:"session_id"`
	ItemID        string               `json:"item_id"`
	ClientID      *string              `json:"client_id"`
	SKU           string               `json:"sku"`
	Kind          string               `json:"kind"`
	Provisioner   string               `json:"provisioner"`
	Package       string               `json:"package"`
	Domain        string               `json:"domain"`
	Username      string               `json:"username"`
	Status        domain.ServiceStatus `json:"status"`
	Paused        bool                 `json:"paused"`
	PauseReason   *string              `json:"pause_reason"`
	SuspendReason *string              `json:"suspend_reason"`
	// LastError is why the service is failed: the action and the panel's
	// reason.
	LastError    *string  `json:"last_error"`
	Server       *string  `json:"server"`
	IP           *string  `json:"ip"`
	Nameservers  []string `json:"nameservers"`
	CreatedAt    string   `json:"created_at"`
	UpdatedAt    string   `json:"updated_at"`
	ActivatedAt  *string  `json:"activated_at"`
	SuspendedAt  *string  `json:"suspended_at"`
	TerminatedAt *string  `json:"terminated_at"`
}

// ActionView is one action of a service.
type ActionView struct {
	ID        string               `json:"id"`
	Action    domain.ServiceAction `json:"action"`
	Status    domain.ActionStatus  `json:"status"`
	Source    string               `json:"source"`
	Reason    string               `json:"reason"`
	Package   *string              `json:"package"`
	Attempts  int                  `json:"attempts"`
	LastError *string              `json:"last_error"`
	NotBefore *string              `json:"not_before"`
	CreatedAt string               `json:"created_at"`
	UpdatedAt string               `json:"updated_at"`
}

// ServiceDetail is a service with its actions, oldest first.
type ServiceDetail struct {
	*ServiceView
	Actions []ActionView `json:"actions"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func serviceView(svc *store.Service) *ServiceView {
	v := &ServiceView{
		ID: svc.ID, MerchantID: svc.MerchantID, Mode: string(svc.Mode), SessionID: svc.SessionID, ItemID: svc.ItemID,
		ClientID: optString(svc.ClientID), SKU: svc.SKU, Kind: string(svc.Kind), Provisioner: svc.Provisioner,
		Package: svc.Package, Domain: svc.Domain, Username: svc.Username, Status: svc.Status, Paused: svc.Paused,
		PauseReason: optString(svc.PauseReason), SuspendReason: optString(svc.SuspendReason), LastError: optString(svc.LastError),
		Server: optString(svc.Server), IP: optString(svc.IP), Nameservers: []string{},
		CreatedAt: formatTime(svc.CreatedAt), UpdatedAt: formatTime(svc.UpdatedAt),
		ActivatedAt: optTime(svc.ActivatedAt), SuspendedAt: optTime(svc.SuspendedAt), TerminatedAt: optTime(svc.TerminatedAt),
	}
	if svc.Nameservers != "" {
		v.Nameservers = strings.Split(svc.Nameservers, ",")
	}
	return v
}

func actionView(a *store.ServiceAction) ActionView {
	return ActionView{ID: a.ID, Action: a.Action, Status: a.Status, Source: a.Source, Reason: a.Reason,
		Package: optString(a.Package), Attempts: a.Attempts, LastError: optString(a.LastError), NotBefore: optTime(a.NotBefore),
		CreatedAt: formatTime(a.CreatedAt), UpdatedAt: formatTime(a.UpdatedAt)}
}

func renderService(svc *store.Service) ([]byte, error) {
	b, err := json.Marshal(serviceView(svc))
	if err != nil {
		return nil, fmt.Errorf("render service: %w", err)
	}
	return b, nil
}

func passwordOwner(serviceID string) secrets.Owner {
	return secrets.Owner{Table: "services", Row: serviceID, Field: "password"}
}

// ServiceListRequest filters ListServices.
type ServiceListRequest struct {
	MerchantID int64
	Status     string
	SessionID  string
	After      string
	Limit      int
}

// Listing bounds.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// ListServices lists services for operators, oldest first.
func (s *Service) ListServices(ctx context.Context, in ServiceListRequest) ([]*ServiceView, error) {
	f := store.ServiceFilter{MerchantID: in.MerchantID, SessionID: in.SessionID, AfterID: in.After, Limit: in.Limit}
	if in.Status != "" {
		st, err := domain.ParseServiceStatus(in.Status)
		if err != nil {
			return nil, err
		}
		f.Status = st
	}
	if f.Limit <= 0 {
		f.Limit = DefaultListLimit
	}
	if f.Limit > MaxListLimit {
		return nil, domain.Invalid("invalid_limit", "limit", "limit must be between 1 and %d", MaxListLimit)
	}
	rows, err := s.store.ListServices(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]*ServiceView, 0, len(rows))
	for _, row := range rows {
		out = append(out, serviceView(row))
	}
	return out, nil
}

// GetService returns a service with its actions.
func (s *Service) GetService(ctx context.Context, id string) (*ServiceDetail, error) {
	if !domain.ValidServiceID(id) {
		return nil, domain.NotFound("service")
	}
	svc, err := s.store.GetService(ctx, id)
	if err != nil {
		return nil, err
	}
	acts, err := s.store.ServiceActions(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &ServiceDetail{ServiceView: serviceView(svc), Actions: make([]ActionView, 0, len(acts))}
	for _, a := range acts {
		d.Actions = append(d.Actions, actionView(a))
	}
	return d, nil
}

// OperatorRequest is an operator's action on a service.
type OperatorRequest struct {
	// Reason is kept with the action (suspend: shown in the panel).
	Reason string
	// Package is the new package (change-package).
	Package string
	// Operator names who asked ("cli", "api:alice").
	Operator string
}

const maxReason = 500

// Suspend queues a suspension; it runs even while the service is paused.
func (s *Service) Suspend(ctx context.Context, id string, in OperatorRequest) (*ServiceDetail, error) {
	return s.operatorAction(ctx, id, domain.ActionSuspend, in)
}

// Unsuspend queues lifting a suspension.
func (s *Service) Unsuspend(ctx context.Context, id string, in OperatorRequest) (*ServiceDetail, error) {
	return s.operatorAction(ctx, id, domain.ActionUnsuspend, in)
}

// Terminate queues removing the account (final).
func (s *Service) Terminate(ctx context.Context, id string, in OperatorRequest) (*ServiceDetail, error) {
	return s.operatorAction(ctx, id, domain.ActionTerminate, in)
}

// ChangePackage queues moving the account to another package, which must
// be one the panel lists (checked now, with the running plugin).
func (s *Service) ChangePackage(ctx context.Context, id string, in OperatorRequest) (*ServiceDetail, error) {
	if strings.TrimSpace(in.Package) == "" {
		return nil, domain.Invalid("missing_field", "package", "package is required")
	}
	return s.operatorAction(ctx, id, domain.ActionChangePackage, in)
}

func (s *Service) operatorAction(ctx context.Context, id string, act domain.ServiceAction, in OperatorRequest) (*ServiceDetail, error) {
	if !domain.ValidServiceID(id) {
		return nil, domain.NotFound("service")
	}
	if len(in.Reason) > maxReason {
		return nil, domain.Invalid("invalid_reason", "reason", "reason must be at most %d characters", maxReason)
	}
	first, err := s.store.GetService(ctx, id)
	if err != nil {
		return nil, err
	}
	if act == domain.ActionChangePackage {
		if err := s.CheckPackage(ctx, first.Provisioner, in.Package); err != nil {
			if de, ok := domain.AsError(err); ok && de.Field != "" {
				c := *de
				c.Field = "package"
				return nil, &c
			}
			return nil, err
		}
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		reason = "by operator"
	}
	err = s.inTx(ctx, func(ctx context.Context, r *store.Repo, tx bun.Tx) error {
		svc, err := r.LockService(ctx, id)
		if err != nil {
			return err
		}
		if err := domain.ServiceTransition(svc.Status, act); err != nil {
			return err
		}
		return s.enqueueAction(ctx, r, tx, svc, newAction{action: act, source: operatorSource(in.Operator), reason: reason, pkg: in.Package})
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "service action queued by operator", "service_id", id, "action", act, "operator", in.Operator)
	return s.GetService(ctx, id)
}

func operatorSource(name string) string {
	if name = strings.TrimSpace(name); name == "" {
		return SourceOperator
	}
	return SourceOperator + ":" + name
}

// Retry queues again the failed actions of a failed service, after the
// operator fixed the cause (a package, a token, a full disk). Anything
// else is 409 service_not_failed.
func (s *Service) Retry(ctx context.Context, id string, in OperatorRequest) (*ServiceDetail, error) {
	if !domain.ValidServiceID(id) {
		return nil, domain.NotFound("service")
	}
	err := s.inTx(ctx, func(ctx context.Context, r *store.Repo, tx bun.Tx) error {
		svc, err := r.LockService(ctx, id)
		if err != nil {
			return err
		}
		if svc.Status != domain.ServiceFailed {
			return domain.Conflict("service_not_failed", "service %s is %s; only a failed service is retried", id, svc.Status)
		}
		failed, err := r.ServiceActions(ctx, id, domain.ActionFailed)
		if err != nil {
			return err
		}
		for _, a := range failed {
			if isMail(a.Action) {
				continue
			}
			a.Status, a.UpdatedAt = domain.ActionCanceled, s.now()
			a.LastError = strings.TrimSpace(a.LastError + " (retried by operator)")
			if err := r.UpdateServiceAction(ctx, a); err != nil {
				return err
			}
			src := operatorSource(in.Operator)
			if graceSuspend(a) {
				// Still a suspension for non-payment: a renewal lifts it.
				src = SourceSubscription
			}
			if err := s.enqueueAction(ctx, r, tx, svc, newAction{action: a.Action, source: src,
				reason: a.Reason, pkg: a.Package}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetService(ctx, id)
}

// Resume lifts a pause (a dispute): the paused actions are queued again,
// in order. A service that is not paused is 409 service_not_paused.
func (s *Service) Resume(ctx context.Context, id string, in OperatorRequest) (*ServiceDetail, error) {
	if !domain.ValidServiceID(id) {
		return nil, domain.NotFound("service")
	}
	err := s.inTx(ctx, func(ctx context.Context, r *store.Repo, tx bun.Tx) error {
		svc, err := r.LockService(ctx, id)
		if err != nil {
			return err
		}
		if !svc.Paused {
			return domain.Conflict("service_not_paused", "service %s is not paused", id)
		}
		now := s.now()
		svc.Paused, svc.PauseReason, svc.UpdatedAt = false, "", now
		if err := r.UpdateService(ctx, svc); err != nil {
			return err
		}
		paused, err := r.ServiceActions(ctx, id, domain.ActionPaused)
		if err != nil {
			return err
		}
		for _, a := range paused {
			a.Status, a.UpdatedAt = domain.ActionPending, now
			if err := r.UpdateServiceAction(ctx, a); err != nil {
				return err
			}
			if err := s.enqueueJob(ctx, tx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "service resumed by operator", "service_id", id, "operator", in.Operator)
	return s.GetService(ctx, id)
}

// LoginURL is a one-time panel login link for a service, made by its
// provisioner now (create_user_session on WHM). The link is a credential:
// it is returned, never logged or stored.
func (s *Service) LoginURL(ctx context.Context, id, service string) (provisioner.LoginURL, error) {
	if !domain.ValidServiceID(id) {
		return provisioner.LoginURL{}, domain.NotFound("service")
	}
	svc, err := s.store.GetService(ctx, id)
	if err != nil {
		return provisioner.LoginURL{}, err
	}
	if svc.Status != domain.ServiceActive && svc.Status != domain.ServiceSuspended {
		return provisioner.LoginURL{}, domain.Conflict("invalid_service_state", "service %s is %s: it has no account to log in to", id, svc.Status)
	}
	return s.loginURL(ctx, svc, service)
}

func (s *Service) loginURL(ctx context.Context, svc *store.Service, service string) (provisioner.LoginURL, error) {
	p, err := s.provisioners.Provisioner(svc.Provisioner)
	if err != nil {
		return provisioner.LoginURL{}, err
	}
	ll, ok := p.(provisioner.LoginLinker)
	if !ok {
		return provisioner.LoginURL{}, domain.Unprocessable("login_url_unsupported", "", "provisioner %s cannot make login links", svc.Provisioner)
	}
	u, err := ll.LoginURL(ctx, provisioner.LoginURLRequest{Username: svc.Username, Service: service})
	if err != nil {
		return provisioner.LoginURL{}, panelError(err)
	}
	return u, nil
}

// panelError turns a plugin error met on an operator's synchronous call
// into the API's categories.
func panelError(err error) error {
	msg := oneLine(err.Error())
	switch sdkerr.CategoryOf(err) {
	case sdkerr.CategoryNotFound:
		return &domain.Error{Kind: domain.ErrNotFound, Code: "account_missing", Message: msg}
	case sdkerr.CategoryUnimplemented:
		return domain.Unprocessable("login_url_unsupported", "", "%s", msg)
	case sdkerr.CategoryUnavailable, sdkerr.CategoryRetryable, sdkerr.CategoryInternal:
		return &domain.Error{Kind: domain.ErrUnavailable, Code: "provisioner_unavailable", Message: msg}
	}
	return domain.Unprocessable("panel_refused", "", "%s", msg)
}

// mail is the service mail of svc.
func (s *Service) mail(ctx context.Context, svc *store.Service) (ServiceMail, error) {
	sess, err := s.store.GetSession(ctx, svc.SessionID)
	if err != nil {
		return ServiceMail{}, err
	}
	it, err := s.store.GetSessionItem(ctx, svc.ItemID)
	if err != nil {
		return ServiceMail{}, err
	}
	m := ServiceMail{MerchantID: svc.MerchantID, Mode: domain.Mode(svc.Mode), SessionID: svc.SessionID, OrderID: sess.OrderID,
		ServiceID: svc.ID, To: sess.CustomerEmail, SKU: svc.SKU, Product: it.Name, Domain: svc.Domain, Username: svc.Username,
		Package: svc.Package, Server: svc.Server, IP: svc.IP}
	if svc.Nameservers != "" {
		m.Nameservers = strings.Split(svc.Nameservers, ",")
	}
	if svc.ClientID != "" {
		if c, err := s.store.GetClient(ctx, svc.ClientID); err == nil {
			m.CustomerName = c.Name
		}
	}
	return m, nil
}

// sendReadyMail sends the service-ready mail with the login details.
func (s *Service) sendReadyMail(ctx context.Context, svc *store.Service) (outcome, error) {
	if s.mailer == nil {
		return outcome{note: "no mailer is wired; nothing sent"}, nil
	}
	m, err := s.mail(ctx, svc)
	if err != nil {
		return outcome{}, err
	}
	if m.To == "" {
		return outcome{note: "the session has no customer email; nothing sent"}, nil
	}
	if svc.Password != "" {
		b, err := s.keyring.Decrypt(svc.Password, passwordOwner(svc.ID))
		if err != nil {
			return outcome{}, fmt.Errorf("decrypt password: %w", err)
		}
		m.Password = string(b)
	}
	spec, err := itemSpec(ctx, s.store.Repo, svc.ItemID)
	if err != nil {
		return outcome{}, err
	}
	if spec.LoginLinkInEmail {
		u, err := s.loginURL(ctx, svc, provisioner.LoginServicePanel)
		if err != nil {
			s.log.WarnContext(ctx, "no login link for the service-ready mail", "service_id", svc.ID, "err", oneLine(err.Error()))
		} else {
			m.LoginURL = u.URL
		}
	}
	m.IdempotencyKey = "switchyard_ready_" + svc.ID
	if err := s.mailer.ServiceReady(ctx, m); err != nil {
		return outcome{}, err
	}
	return outcome{}, nil
}

// sendSuspendedMail tells the customer the service was suspended.
func (s *Service) sendSuspendedMail(ctx context.Context, svc *store.Service, a *store.ServiceAction) (outcome, error) {
	if s.mailer == nil {
		return outcome{note: "no mailer is wired; nothing sent"}, nil
	}
	m, err := s.mail(ctx, svc)
	if err != nil {
		return outcome{}, err
	}
	if m.To == "" {
		return outcome{note: "the session has no customer email; nothing sent"}, nil
	}
	m.Reason, m.IdempotencyKey = a.Reason, "switchyard_mail_"+a.ID
	if svc.SuspendedAt != nil {
		m.SuspendedAt = *svc.SuspendedAt
	}
	return outcome{}, s.mailer.ServiceSuspended(ctx, m)
}
