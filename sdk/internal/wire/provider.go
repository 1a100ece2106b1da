package wire

import (
	"net/http"

	"github.com/switchyard/switchyard/sdk/meta"
	providerv1 "github.com/switchyard/switchyard/sdk/proto/provider/v1"
	"github.com/switchyard/switchyard/sdk/provider"
)

func hv(values []string) *providerv1.HeaderValues { return &providerv1.HeaderValues{Values: values} }

// ProviderHeaderToProto converts headers for the provider service.
func ProviderHeaderToProto(h http.Header) map[string]*providerv1.HeaderValues {
	return headerToProto(h, hv)
}

// DescriptionToProto converts a provider description.
func DescriptionToProto(d provider.Description) *providerv1.DescribeResponse {
	out := &providerv1.DescribeResponse{Info: InfoToProto(d.Info, meta.KindProvider), PageOrigins: d.PageOrigins, TestOnly: d.TestOnly}
	for _, m := range d.Methods {
		pm := &providerv1.Method{
			Method: m.Method, Label: m.Label, Currencies: m.Currencies, Countries: m.Countries,
		}
		for _, l := range m.Limits {
			pm.Limits = append(pm.Limits, &providerv1.AmountLimit{Currency: l.Currency, Min: l.Min, Max: l.Max})
		}
		out.Methods = append(out.Methods, pm)
	}
	return out
}

// DescriptionFromProto converts a provider description.
func DescriptionFromProto(p *providerv1.DescribeResponse) provider.Description {
	d := provider.Description{Info: InfoFromProto(p.GetInfo()), PageOrigins: p.GetPageOrigins(), TestOnly: p.GetTestOnly()}
	for _, pm := range p.GetMethods() {
		m := provider.Method{
			Method: pm.GetMethod(), Label: pm.GetLabel(),
			Currencies: pm.GetCurrencies(), Countries: pm.GetCountries(),
		}
		for _, l := range pm.GetLimits() {
			m.Limits = append(m.Limits, provider.AmountLimit{Currency: l.GetCurrency(), Min: l.GetMin(), Max: l.GetMax()})
		}
		d.Methods = append(d.Methods, m)
	}
	return d
}

// CreatePaymentRequestToProto converts a payment request.
func CreatePaymentRequestToProto(r provider.CreatePaymentRequest) *providerv1.CreatePaymentRequest {
	return &providerv1.CreatePaymentRequest{
		SessionId: r.SessionID, AttemptId: r.AttemptID, IdempotencyKey: r.IdempotencyKey,
		Amount: r.Amount, Currency: r.Currency, Method: r.Method,
		CustomerEmail: r.CustomerEmail, Description: r.Description,
		ReturnUrl: r.ReturnURL, CancelUrl: r.CancelURL, WebhookUrl: r.WebhookURL,
		ProviderBaseUrl: r.ProviderBaseURL, Metadata: r.Metadata, MerchantAccount: r.MerchantAccount,
		MerchantName: r.MerchantName,
	}
}

// CreatePaymentRequestFromProto converts a payment request.
func CreatePaymentRequestFromProto(p *providerv1.CreatePaymentRequest) provider.CreatePaymentRequest {
	return provider.CreatePaymentRequest{
		SessionID: p.GetSessionId(), AttemptID: p.GetAttemptId(), IdempotencyKey: p.GetIdempotencyKey(),
		Amount: p.GetAmount(), Currency: p.GetCurrency(), Method: p.GetMethod(),
		CustomerEmail: p.GetCustomerEmail(), Description: p.GetDescription(),
		ReturnURL: p.GetReturnUrl(), CancelURL: p.GetCancelUrl(), WebhookURL: p.GetWebhookUrl(),
		ProviderBaseURL: p.GetProviderBaseUrl(), Metadata: p.GetMetadata(), MerchantAccount: p.GetMerchantAccount(),
		MerchantName: p.GetMerchantName(),
	}
}

// CreatePaymentResponseToProto converts a payment response.
func CreatePaymentResponseToProto(r provider.CreatePaymentResponse) *providerv1.CreatePaymentResponse {
	return &providerv1.CreatePaymentResponse{
		ProviderRef: r.ProviderRef,
		Status:      string(r.Status),
		NextAction:  &providerv1.NextAction{Type: string(r.NextAction.Type), Url: r.NextAction.URL},
	}
}

// CreatePaymentResponseFromProto converts a payment response.
func CreatePaymentResponseFromProto(p *providerv1.CreatePaymentResponse) provider.CreatePaymentResponse {
	na := provider.NextAction{
		Type: provider.NextActionType(p.GetNextAction().GetType()),
		URL:  p.GetNextAction().GetUrl(),
	}
	if na.Type == "" {
		na.Type = provider.NextActionNone
	}
	return provider.CreatePaymentResponse{
		ProviderRef: p.GetProviderRef(), Status: provider.PaymentStatus(p.GetStatus()), NextAction: na,
	}
}

// GetPaymentRequestToProto converts a lookup.
func GetPaymentRequestToProto(r provider.GetPaymentRequest) *providerv1.GetPaymentRequest {
	return &providerv1.GetPaymentRequest{ProviderRef: r.ProviderRef, SessionId: r.SessionID}
}

// GetPaymentRequestFromProto converts a lookup.
func GetPaymentRequestFromProto(p *providerv1.GetPaymentRequest) provider.GetPaymentRequest {
	return provider.GetPaymentRequest{ProviderRef: p.GetProviderRef(), SessionID: p.GetSessionId()}
}

// PaymentToProto converts a payment.
func PaymentToProto(r provider.Payment) *providerv1.Payment {
	return &providerv1.Payment{
		ProviderRef: r.ProviderRef, Status: string(r.Status), Amount: r.Amount,
		Currency: r.Currency, AmountRefunded: r.AmountRefunded,
	}
}

// PaymentFromProto converts a payment.
func PaymentFromProto(p *providerv1.Payment) provider.Payment {
	return provider.Payment{
		ProviderRef: p.GetProviderRef(), Status: provider.PaymentStatus(p.GetStatus()), Amount: p.GetAmount(),
		Currency: p.GetCurrency(), AmountRefunded: p.GetAmountRefunded(),
	}
}

// RefundRequestToProto converts a refund request.
func RefundRequestToProto(r provider.RefundRequest) *providerv1.RefundRequest {
	return &providerv1.RefundRequest{
		ProviderRef: r.ProviderRef, Amount: r.Amount, Currency: r.Currency,
		IdempotencyKey: r.IdempotencyKey, Reason: r.Reason, SessionId: r.SessionID, PaymentData: r.PaymentData,
	}
}

// RefundRequestFromProto converts a refund request.
func RefundRequestFromProto(p *providerv1.RefundRequest) provider.RefundRequest {
	return provider.RefundRequest{
		ProviderRef: p.GetProviderRef(), Amount: p.GetAmount(), Currency: p.GetCurrency(),
		IdempotencyKey: p.GetIdempotencyKey(), Reason: p.GetReason(), SessionID: p.GetSessionId(),
		PaymentData: p.GetPaymentData(),
	}
}

// RefundResultToProto converts a refund result.
func RefundResultToProto(r provider.RefundResult) *providerv1.RefundResult {
	return &providerv1.RefundResult{
		RefundRef: r.RefundRef, Status: string(r.Status), Amount: r.Amount, FailureMessage: r.FailureMessage,
	}
}

// RefundResultFromProto converts a refund result.
func RefundResultFromProto(p *providerv1.RefundResult) provider.RefundResult {
	return provider.RefundResult{
		RefundRef: p.GetRefundRef(), Status: provider.RefundStatus(p.GetStatus()), Amount: p.GetAmount(),
		FailureMessage: p.GetFailureMessage(),
	}
}

// WebhookRequestToProto converts an inbound webhook.
func WebhookRequestToProto(r provider.WebhookRequest) *providerv1.WebhookRequest {
	return &providerv1.WebhookRequest{
		Method: r.Method, Path: r.Path, Query: r.Query, Headers: ProviderHeaderToProto(r.Headers),
		Body: r.Body, RemoteAddr: r.RemoteAddr,
	}
}

// WebhookRequestFromProto converts an inbound webhook.
func WebhookRequestFromProto(p *providerv1.WebhookRequest) provider.WebhookRequest {
	return provider.WebhookRequest{
		Method: p.GetMethod(), Path: p.GetPath(), Query: p.GetQuery(), Headers: headerFromProto(p.GetHeaders()),
		Body: p.GetBody(), RemoteAddr: p.GetRemoteAddr(),
	}
}

// EventToProto converts a normalized event.
func EventToProto(e provider.Event) *providerv1.Event {
	return &providerv1.Event{
		Type: string(e.Type), ProviderEventId: e.ProviderEventID, ProviderRef: e.ProviderRef,
		SessionId: e.SessionID, Amount: e.Amount, Currency: e.Currency,
		OccurredAt: timeToProto(e.OccurredAt), RawType: e.RawType, Data: e.Data,
	}
}

// EventFromProto converts a normalized event.
func EventFromProto(p *providerv1.Event) provider.Event {
	return provider.Event{
		Type: provider.EventType(p.GetType()), ProviderEventID: p.GetProviderEventId(),
		ProviderRef: p.GetProviderRef(), SessionID: p.GetSessionId(), Amount: p.GetAmount(),
		Currency: p.GetCurrency(), OccurredAt: timeFromProto(p.GetOccurredAt()), RawType: p.GetRawType(),
		Data: p.GetData(),
	}
}

// WebhookResponseToProto converts a webhook result.
func WebhookResponseToProto(r provider.WebhookResponse) *providerv1.WebhookResponse {
	out := &providerv1.WebhookResponse{Response: HTTPResponseToProto(r.Response)}
	for _, e := range r.Events {
		out.Events = append(out.Events, EventToProto(e))
	}
	return out
}

// WebhookResponseFromProto converts a webhook result.
func WebhookResponseFromProto(p *providerv1.WebhookResponse) provider.WebhookResponse {
	out := provider.WebhookResponse{Response: HTTPResponseFromProto(p.GetResponse())}
	for _, e := range p.GetEvents() {
		out.Events = append(out.Events, EventFromProto(e))
	}
	return out
}

// HTTPRequestToProto converts a request for /p/{provider_id}/….
func HTTPRequestToProto(r provider.HTTPRequest) *providerv1.HTTPRequest {
	return &providerv1.HTTPRequest{
		Method: r.Method, Path: r.Path, Query: r.Query, Headers: ProviderHeaderToProto(r.Headers),
		Body: r.Body, RemoteAddr: r.RemoteAddr, BaseUrl: r.BaseURL,
	}
}

// HTTPRequestFromProto converts a request for /p/{provider_id}/….
func HTTPRequestFromProto(p *providerv1.HTTPRequest) provider.HTTPRequest {
	return provider.HTTPRequest{
		Method: p.GetMethod(), Path: p.GetPath(), Query: p.GetQuery(), Headers: headerFromProto(p.GetHeaders()),
		Body: p.GetBody(), RemoteAddr: p.GetRemoteAddr(), BaseURL: p.GetBaseUrl(),
	}
}

// HTTPResponseToProto converts an HTTP response.
func HTTPResponseToProto(r provider.HTTPResponse) *providerv1.HTTPResponse {
	out := &providerv1.HTTPResponse{
		Status: int32(r.Status), Headers: ProviderHeaderToProto(r.Headers), Body: r.Body,
	}
	for _, e := range r.Events {
		out.Events = append(out.Events, EventToProto(e))
	}
	return out
}

// HTTPResponseFromProto converts an HTTP response.
func HTTPResponseFromProto(p *providerv1.HTTPResponse) provider.HTTPResponse {
	out := provider.HTTPResponse{
		Status: int(p.GetStatus()), Headers: headerFromProto(p.GetHeaders()), Body: p.GetBody(),
	}
	for _, e := range p.GetEvents() {
		out.Events = append(out.Events, EventFromProto(e))
	}
	return out
}
