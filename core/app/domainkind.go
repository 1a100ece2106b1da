package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/store"
)

var (
	_ payments.EventSink = (*hostingReady)(nil)
)

// hostingReady points a session's domain at its hosting account: when
// fulfillment emits service.activated (in the transaction that records
// the account), the account's IP and nameservers go to
// domains.HostingReadyTx, which changes the records now or right after
// the registration succeeds. d is set once the domains service is built
// (it needs the payments service, which needs this sink).
type hostingReady struct{ d *domains.Service }

// EventsInserted implements payments.EventSink.
func (h *hostingReady) EventsInserted(ctx context.Context, tx bun.Tx, sess *store.Session, events ...*store.Event) error {
	for _, ev := range events {
		if domain.DomainEvent(ev.Type) != domain.EventServiceActivated || h.d == nil {
			continue
		}
		var svc struct {
			Domain      string   `json:"domain"`
			IP          *string  `json:"ip"`
			Nameservers []string `json:"nameservers"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &svc); err != nil {
			return fmt.Errorf("hosting ready: decode %s: %w", ev.Type, err)
		}
		if strings.TrimSpace(svc.Domain) == "" {
			continue
		}
		ip := ""
		if svc.IP != nil {
			ip = *svc.IP
		}
		if err := h.d.HostingReadyTx(ctx, tx, sess.ID, svc.Domain, ip, svc.Nameservers); err != nil {
			return fmt.Errorf("hosting ready: %w", err)
		}
	}
	return nil
}
