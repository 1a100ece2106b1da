package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/core/refunds"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
)

// consoleFakes stand in for the services behind the console pages and
// count every call, so tests can tell whether a request reached them.
type consoleFakes struct {
	mu         sync.Mutex
	calls      map[string]int
	lastRefund refundCall
}

func newConsoleFakes() *consoleFakes { return &consoleFakes{calls: map[string]int{}} }

func (f *consoleFakes) hit(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[name]++
}

func (f *consoleFakes) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

func (f *consoleFakes) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = map[string]int{}
}

var fakeTime = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

const fakeSessionID = "cs_01M936VRT35K7S00R0JZK8FHSC4TFR7T34DGGZ1N04"

func fakeMerchant(id int64) *store.Merchant {
	return &store.Merchant{ID: id, Name: "Demo Store", Plan: domain.PlanPro, Status: store.MerchantActive,
		ContactEmail: "ops@shop.example", CreatedAt: fakeTime, Sites: []*store.Site{{ID: 1, MerchantID: id, Domain: "shop.example", CreatedAt: fakeTime}}}
}

func (f *consoleFakes) CreateMerchant(_ context.Context, in merchants.NewMerchant) (*store.Merchant, error) {
	f.hit("CreateMerchant")
	if in.Name == "" {
		return nil, domain.Invalid("invalid_name", "name", "name is required")
	}
	return fakeMerchant(7), nil
}

func (f *consoleFakes) GetMerchant(_ context.Context, id int64) (*store.Merchant, error) {
	f.hit("GetMerchant")
	return fakeMerchant(id), nil
}

func (f *consoleFakes) ListMerchants(context.Context, store.Page) ([]*store.Merchant, error) {
	f.hit("ListMerchants")
	return []*store.Merchant{fakeMerchant(1)}, nil
}

func (f *consoleFakes) AddSite(_ context.Context, id int64, d string) (*store.Site, error) {
	f.hit("AddSite")
	return &store.Site{ID: 2, MerchantID: id, Domain: d}, nil
}

func (f *consoleFakes) ListSites(context.Context, int64) ([]*store.Site, error) {
	f.hit("ListSites")
	return nil, nil
}

func (f *consoleFakes) CreateKey(_ context.Context, in merchants.NewKey) (*merchants.CreatedKey, error) {
	f.hit("CreateKey")
	return &merchants.CreatedKey{APIKey: &store.APIKey{ID: 3, MerchantID: in.MerchantID, Prefix: "sk_test_ABCD", Mode: store.ModeTest,
		Scopes: store.Scopes{"sessions:write"}, CreatedAt: fakeTime}, Secret: "sk_test_ABCDsecretsecretsecret"}, nil
}

func (f *consoleFakes) ListKeys(context.Context, int64) ([]*store.APIKey, error) {
	f.hit("ListKeys")
	return []*store.APIKey{{ID: 3, MerchantID: 1, Prefix: "sk_test_ABCD", Mode: store.ModeTest, Scopes: store.Scopes{"sessions:write"}, CreatedAt: fakeTime}}, nil
}

func (f *consoleFakes) RevokeKey(_ context.Context, id int64) (*store.APIKey, error) {
	f.hit("RevokeKey")
	now := fakeTime
	return &store.APIKey{ID: id, MerchantID: 1, Prefix: "sk_test_ABCD", RevokedAt: &now}, nil
}

func (f *consoleFakes) SetMerchantStatus(_ context.Context, id int64, st store.MerchantStatus) (*store.Merchant, error) {
	f.hit("SetMerchantStatus")
	m := fakeMerchant(id)
	m.Status = st
	return m, nil
}

func fakeEndpoint(id string) *webhooks.Endpoint {
	return &webhooks.Endpoint{ID: id, MerchantID: 1, Kind: store.EndpointURL, URL: "https://shop.example/hooks", EventTypes: []string{},
		Profile: "standard", Schedule: "svix", Enabled: true, CreatedAt: fakeTime, UpdatedAt: fakeTime}
}

func fakeDelivery(id string) *webhooks.Delivery {
	code := 200
	ep := "ep_1"
	return &webhooks.Delivery{ID: id, EventID: "evt_1", EventType: "session.paid", MerchantID: 1, EndpointID: &ep,
		URL: "https://shop.example/hooks", Status: store.DeliverySucceeded, Attempts: 1, LastStatusCode: &code, CreatedAt: fakeTime, UpdatedAt: fakeTime,
		AttemptLog: []*webhooks.Attempt{{N: 1, Cause: "auto", State: "succeeded", ScheduledAt: fakeTime, StatusCode: &code}}}
}

func fakeEvent() *webhooks.Event {
	return &webhooks.Event{ID: "evt_1", Event: "session.paid", CreatedAt: fakeTime, TenantID: 1, Mode: "test",
		SessionID: fakeSessionID, Sequence: 2, Data: []byte(`{"session_id":"` + fakeSessionID + `"}`)}
}

func (f *consoleFakes) CreateEndpoint(_ context.Context, in webhooks.NewEndpoint) (*webhooks.EndpointWithSecret, error) {
	f.hit("CreateEndpoint")
	if in.URL == "" && !in.IPN {
		return nil, domain.Invalid("invalid_url", "url", "url is required")
	}
	return &webhooks.EndpointWithSecret{Endpoint: fakeEndpoint("ep_9"), Secret: "whsec_fakesecret"}, nil
}

func (f *consoleFakes) GetEndpoint(_ context.Context, id string) (*webhooks.Endpoint, error) {
	f.hit("GetEndpoint")
	return fakeEndpoint(id), nil
}

func (f *consoleFakes) ListEndpoints(context.Context, int64) ([]*webhooks.Endpoint, error) {
	f.hit("ListEndpoints")
	return []*webhooks.Endpoint{fakeEndpoint("ep_1")}, nil
}

func (f *consoleFakes) RotateSecret(_ context.Context, id string, _ time.Duration) (*webhooks.EndpointWithSecret, error) {
	f.hit("RotateSecret")
	return &webhooks.EndpointWithSecret{Endpoint: fakeEndpoint(id), Secret: "whsec_rotated"}, nil
}

func (f *consoleFakes) SetEnabled(_ context.Context, id string, enabled bool, reason string) (*webhooks.Endpoint, error) {
	f.hit("SetEnabled")
	ep := fakeEndpoint(id)
	ep.Enabled, ep.DisabledReason = enabled, reason
	return ep, nil
}

func (f *consoleFakes) DeleteEndpoint(context.Context, string) error {
	f.hit("DeleteEndpoint")
	return nil
}

func (f *consoleFakes) TestEndpoint(context.Context, string) (*webhooks.TestResult, error) {
	f.hit("TestEndpoint")
	return &webhooks.TestResult{EventID: "evt_test", Succeeded: true, StatusCode: 200, LatencyMS: 12}, nil
}

func (f *consoleFakes) ListEvents(context.Context, store.EventFilter) ([]*webhooks.Event, error) {
	f.hit("ListEvents")
	return []*webhooks.Event{fakeEvent()}, nil
}

func (f *consoleFakes) GetEvent(context.Context, string) (*webhooks.EventDetail, error) {
	f.hit("GetEvent")
	return &webhooks.EventDetail{Event: fakeEvent(), Deliveries: []*webhooks.Delivery{fakeDelivery("whd_1")}}, nil
}

func (f *consoleFakes) ListDeliveries(context.Context, store.DeliveryFilter) ([]*webhooks.Delivery, error) {
	f.hit("ListDeliveries")
	return []*webhooks.Delivery{fakeDelivery("whd_1"), fakeDelivery("whd_2")}, nil
}

func (f *consoleFakes) GetDelivery(_ context.Context, id string) (*webhooks.Delivery, error) {
	f.hit("GetDelivery")
	return fakeDelivery(id), nil
}

func (f *consoleFakes) Resend(_ context.Context, id string) (*webhooks.Delivery, error) {
	f.hit("Resend")
	if id == "whd_pending" {
		return nil, domain.Conflict("delivery_pending", "delivery %s already has an attempt scheduled", id)
	}
	return fakeDelivery(id), nil
}

func (f *consoleFakes) Recover(context.Context, webhooks.RecoverRequest) (*webhooks.RecoverResult, error) {
	f.hit("Recover")
	return &webhooks.RecoverResult{Resent: 2, ResentFailed: 2}, nil
}

func (f *consoleFakes) FailingEndpoints(context.Context, time.Time) ([]*webhooks.EndpointHealth, error) {
	f.hit("FailingEndpoints")
	ep := fakeEndpoint("ep_2")
	ep.Enabled, ep.DisabledReason = false, "410 Gone from the receiver"
	return []*webhooks.EndpointHealth{{Endpoint: ep, Deliveries: 3, Failed: 1}}, nil
}

func fakeOperatorSession() *payments.OperatorSession {
	m := "card"
	return &payments.OperatorSession{MerchantID: 1, SessionView: &payments.SessionView{SessionID: fakeSessionID, Status: domain.StatusPaid,
		Mode: domain.ModeTest, OrderID: "ORDER-1001", Domain: "shop.example", Amount: "49.95", Currency: "USD", AmountRefunded: "0.00",
		Method: &m, Metadata: []byte("{}"), CreatedAt: "2026-12-05T09:00:00Z", ExpiresAt: "2026-12-06T09:00:00Z"}}
}

func (f *consoleFakes) FindSessions(_ context.Context, q payments.SessionQuery) (*payments.SessionPage, error) {
	f.hit("FindSessions")
	if q.Status == "bogus" {
		return nil, domain.Invalid("invalid_status", "status", "unknown session status %q", q.Status)
	}
	return &payments.SessionPage{Sessions: []*payments.OperatorSession{fakeOperatorSession()}, Next: fakeSessionID}, nil
}

func (f *consoleFakes) AdminSession(_ context.Context, id string) (*payments.SessionDetail, error) {
	f.hit("AdminSession")
	if id != fakeSessionID {
		return nil, domain.NotFound("session")
	}
	status := 200
	return &payments.SessionDetail{Session: fakeOperatorSession().SessionView, MerchantID: 1, Reviews: []*payments.ReviewView{fakeReview()},
		Attempts: []*payments.AttemptRecord{{ID: "pa_1", Seq: 1, ProviderID: "sandbox", Method: "card", Status: "succeeded",
			Reason: "rule card: sandbox (weight 100)", CreatedAt: fakeTime.Add(-50 * time.Minute)}},
		ProviderEvents: []*payments.ProviderEventView{{ProviderID: "sandbox", ProviderEventID: "sbx_1", Type: "payment.succeeded",
			RawType: "payment.succeeded", Outcome: "applied", ReceivedAt: fakeTime.Add(-49 * time.Minute), Payload: `{"amount":4995}`,
			Request: &payments.RawRequestView{ID: 1, Method: "POST", Path: "/hooks/sandbox/sandbox", Body: `{"secret":"[redacted]"}`,
				Verified: true, ResponseStatus: &status, ReceivedAt: fakeTime.Add(-49 * time.Minute)}}},
	}, nil
}

const fakeReviewID = "rv_01M936VRT35K7S00R0JZK8FHSC"

func fakeReview() *payments.ReviewView {
	return &payments.ReviewView{ID: fakeReviewID, SessionID: fakeSessionID, MerchantID: 1, Mode: "test", Reason: domain.ReviewAmountMismatch,
		Status: domain.ReviewOpen, Event: "payment.succeeded", ProviderID: "sandbox", ProviderEventID: "sbx_1", ExpectedAmount: "49.95",
		ExpectedCurrency: "USD", ReceivedAmount: "40.00", ReceivedCurrency: "USD", Detail: "less than asked", CreatedAt: "2026-12-05T09:11:00Z"}
}

func (f *consoleFakes) ListReviews(context.Context, payments.ReviewListRequest) ([]*payments.ReviewView, error) {
	f.hit("ListReviews")
	return []*payments.ReviewView{fakeReview()}, nil
}

func (f *consoleFakes) GetReview(context.Context, string) (*payments.ReviewView, error) {
	f.hit("GetReview")
	return fakeReview(), nil
}

func (f *consoleFakes) ResolveReview(_ context.Context, _ string, in payments.ResolveReviewRequest) (*payments.ReviewView, error) {
	f.hit("ResolveReview")
	if _, err := domain.ParseReviewAction(in.Action); err != nil {
		return nil, err
	}
	rv := fakeReview()
	rv.Status = domain.ReviewResolved
	by := in.Operator
	rv.ResolvedBy = &by
	return rv, nil
}

func (f *consoleFakes) AttemptVolume(context.Context, time.Time) ([]*payments.VolumeRow, error) {
	f.hit("AttemptVolume")
	return []*payments.VolumeRow{{ProviderID: "sandbox", Method: "card", Attempts: 4, Succeeded: 3, Failed: 1, Volume: []string{"USD 149.85"}}}, nil
}

func (f *consoleFakes) Instances() []pluginhost.InstanceInfo {
	f.hit("Instances")
	return []pluginhost.InstanceInfo{
		{ID: "sandbox", Kind: meta.KindProvider, Binary: "sandbox", Mode: "test", Name: "sandbox", Version: "1.0.0",
			Methods: []provider.Method{{Method: "card"}}, Health: pluginhost.Health{State: pluginhost.StateHealthy, Since: fakeTime}},
		{ID: "whm", Kind: meta.KindProvisioner, Binary: "whm", Restarts: 3, LastError: "connection refused", LastErrAt: fakeTime,
			Health: pluginhost.Health{State: pluginhost.StateUnhealthy, Message: "crashed", Since: fakeTime}},
	}
}

func (f *consoleFakes) Test(_ context.Context, id string, _ []string) (*pluginhost.TestReport, error) {
	f.hit("Test")
	return &pluginhost.TestReport{ID: id, Kind: meta.KindProvider, OK: true, Method: "health", Message: "ok"}, nil
}

const fakeRefundID = "re_01M936VRT35K7S00R0JZK8FHSC"

func fakeRefund(status domain.RefundStatus) *refunds.RefundView {
	ref, msg := "sbx_re_1", "card declined the refund"
	v := &refunds.RefundView{RefundID: fakeRefundID, SessionID: fakeSessionID, Status: status, Amount: "10.00", Currency: "USD",
		Reason: domain.RefundOther, Source: domain.RefundSourceOperator, Metadata: []byte("{}"), Mode: domain.ModeTest, CreatedAt: "2026-12-05T09:30:00Z"}
	switch status {
	case domain.RefundSucceeded:
		v.ProviderReference = &ref
	case domain.RefundFailed:
		code := "declined"
		v.FailureCode, v.FailureMessage = &code, &msg
	}
	return v
}

// refundCall is what the last Create got.
type refundCall struct {
	Caller    refunds.Caller
	SessionID string
	Amount    string
	Reason    string
	IdemKey   string
}

func (f *consoleFakes) Create(_ context.Context, c refunds.Caller, sessionID string, req *refunds.CreateRequest, idemKey string) (*payments.Response, error) {
	f.hit("CreateRefund")
	f.mu.Lock()
	f.lastRefund = refundCall{Caller: c, SessionID: sessionID, Amount: string(req.Amount), Reason: req.Reason, IdemKey: idemKey}
	f.mu.Unlock()
	if _, err := domain.ParseRefundReason(req.Reason); err != nil {
		return nil, err
	}
	if string(req.Amount) == `"999.00"` {
		return nil, domain.Unprocessable("amount_exceeds_refundable", "amount", "amount exceeds what is left to refund (39.95 USD)")
	}
	v := fakeRefund(domain.RefundPending)
	if len(req.Amount) > 0 {
		_ = json.Unmarshal(req.Amount, &v.Amount)
	} else {
		v.Amount = "49.95"
	}
	body, _ := json.Marshal(v)
	return &payments.Response{Status: http.StatusCreated, Body: body, SessionID: sessionID, Replayed: idemKey == "replayed"}, nil
}

func (f *consoleFakes) Get(context.Context, refunds.Caller, string) (*refunds.RefundView, error) {
	f.hit("GetRefund")
	return fakeRefund(domain.RefundSucceeded), nil
}

func (f *consoleFakes) ListSession(context.Context, refunds.Caller, string, refunds.ListParams) (*refunds.ListView, error) {
	f.hit("ListSessionRefunds")
	return &refunds.ListView{Data: []*refunds.RefundView{fakeRefund(domain.RefundSucceeded), fakeRefund(domain.RefundFailed)}}, nil
}

func (f *consoleFakes) List(context.Context, refunds.ListParams) (*refunds.ListView, error) {
	f.hit("ListRefunds")
	return &refunds.ListView{}, nil
}
