package webhooks

import (
	"context"
	"time"
)

// EndpointHealth is an endpoint that needs an operator's eye: disabled,
// or with deliveries since a time that failed for good or are retrying.
type EndpointHealth struct {
	Endpoint *Endpoint `json:"endpoint"`
	// Deliveries, Failed and Retrying count the deliveries created since.
	Deliveries int64 `json:"deliveries"`
	Failed     int64 `json:"failed"`
	Retrying   int64 `json:"retrying"`
}

// FailingEndpoints lists the endpoints that are disabled or whose
// deliveries created at or after since failed or are being retried, by
// endpoint id.
func (s *Service) FailingEndpoints(ctx context.Context, since time.Time) ([]*EndpointHealth, error) {
	stats, err := s.store.EndpointDeliveryStats(ctx, since)
	if err != nil {
		return nil, err
	}
	eps, err := s.store.ListWebhookEndpoints(ctx, 0)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]int, len(stats))
	for i, st := range stats {
		byID[st.EndpointID] = i
	}
	out := []*EndpointHealth{}
	for _, ep := range eps {
		h := &EndpointHealth{Endpoint: endpointView(ep)}
		if i, ok := byID[ep.ID]; ok {
			h.Deliveries, h.Failed, h.Retrying = stats[i].Total, stats[i].Failed, stats[i].Retrying
		}
		if !ep.Enabled || h.Failed > 0 || h.Retrying > 0 {
			out = append(out, h)
		}
	}
	return out, nil
}
