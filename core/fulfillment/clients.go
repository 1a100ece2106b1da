package fulfillment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// ClientView is a client as the API and events show it.
type ClientView struct {
	ID         string            `json:"id"`
	MerchantID int64             `json:"merchant_id"`
	Mode       string            `json:"mode"`
	Email      string            `json:"email"`
	Name       string            `json:"name"`
	Contact    map[string]string `json:"contact"`
	CreatedAt  string            `json:"created_at"`
	UpdatedAt  string            `json:"updated_at"`
}

func clientView(c *store.Client) ClientView {
	v := ClientView{ID: c.ID, MerchantID: c.MerchantID, Mode: string(c.Mode), Email: c.Email, Name: c.Name,
		Contact: map[string]string{}, CreatedAt: formatTime(c.CreatedAt), UpdatedAt: formatTime(c.UpdatedAt)}
	_ = json.Unmarshal([]byte(c.Contact), &v.Contact)
	return v
}

// recordClient finds or creates the paid session's client by the
// customer's email and takes the contact details its items carry (the
// first item with a contact). client.created or, when the details
// changed, client.updated is emitted in the session's sequence.
func (s *Service) recordClient(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, items []Item) (string, error) {
	contact := map[string]string{}
	for _, it := range items {
		if len(it.Contact) > 0 {
			contact = it.Contact
			break
		}
	}
	name := contact["name"]
	now := s.now()
	c, err := r.ClientByEmail(ctx, sess.MerchantID, sess.Mode, sess.CustomerEmail)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		b, err := json.Marshal(contact)
		if err != nil {
			return "", fmt.Errorf("encode contact: %w", err)
		}
		c = &store.Client{ID: domain.NewClientID(), MerchantID: sess.MerchantID, Mode: sess.Mode, Email: sess.CustomerEmail,
			Name: name, Contact: string(b), CreatedAt: now, UpdatedAt: now}
		if err := r.InsertClient(ctx, c); err != nil {
			return "", err
		}
		return c.ID, s.clientEvent(ctx, r, tx, sess, c, domain.EventClientCreated)
	case err != nil:
		return "", err
	}
	old := clientView(c)
	merged := maps.Clone(old.Contact)
	maps.Copy(merged, contact)
	if maps.Equal(merged, old.Contact) && (name == "" || name == c.Name) {
		return c.ID, nil
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return "", fmt.Errorf("encode contact: %w", err)
	}
	if name != "" {
		c.Name = name
	}
	c.Contact, c.UpdatedAt = string(b), now
	if err := r.UpdateClient(ctx, c); err != nil {
		return "", err
	}
	return c.ID, s.clientEvent(ctx, r, tx, sess, c, domain.EventClientUpdated)
}

func (s *Service) clientEvent(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, c *store.Client, typ domain.DomainEvent) error {
	if s.sessions == nil {
		return nil
	}
	data, err := json.Marshal(clientView(c))
	if err != nil {
		return fmt.Errorf("render client: %w", err)
	}
	return s.sessions.AppendEventTx(ctx, r, tx, sess, typ, data, s.now())
}

// ListClients lists clients for operators.
func (s *Service) ListClients(ctx context.Context, f store.ClientFilter) ([]ClientView, error) {
	cs, err := s.store.ListClients(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]ClientView, 0, len(cs))
	for _, c := range cs {
		out = append(out, clientView(c))
	}
	return out, nil
}
