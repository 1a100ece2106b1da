package stripeprovider

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"

	stripe "github.com/stripe/stripe-go/v76"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Metadata keys this plugin writes on Checkout Sessions and their payment
// intents, so that webhooks about either name the Switchyard session.
const (
	MetaSessionID = "switchyard_session_id"
	MetaAttemptID = "switchyard_attempt_id"
)

// Stripe's metadata limits (https://docs.stripe.com/api/metadata).
const (
	maxMetadataKeys     = 50
	maxMetadataKeyLen   = 40
	maxMetadataValueLen = 500
)

// checkoutSessionPlaceholder is replaced by Stripe with the Checkout Session
// id when it redirects the shopper back.
const checkoutSessionPlaceholder = "{CHECKOUT_SESSION_ID}"

// refSep separates the connected account from the Checkout Session id in a
// ProviderRef. GetPayment and Refund receive only the ref, yet a Connect
// Standard payment lives on the merchant's account and can only be read
// with its Stripe-Account header, so the account travels inside the ref:
// "cs_…" for the platform account, "acct_…/cs_…" for a connected one.
const refSep = "/"

func makeRef(account, sessionID string) string {
	if account == "" {
		return sessionID
	}
	return account + refSep + sessionID
}

// parseRef splits a ProviderRef. Anything that is not a Checkout Session id
// cannot be a payment of this plugin: it is reported as not found without
// a call to Stripe.
func parseRef(ref string) (account, sessionID string, err error) {
	account, sessionID, found := strings.Cut(ref, refSep)
	if !found {
		account, sessionID = "", ref
	}
	if !strings.HasPrefix(sessionID, "cs_") || (found && !validAccountID(account)) || strings.Contains(sessionID, refSep) {
		return "", "", sdk.NotFound("%q is not a stripe checkout session reference", ref)
	}
	return account, sessionID, nil
}

func validAccountID(a string) bool {
	if !strings.HasPrefix(a, "acct_") || len(a) <= len("acct_") || len(a) > 255 {
		return false
	}
	for _, r := range a {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func absoluteURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// withSessionPlaceholder appends Stripe's {CHECKOUT_SESSION_ID} template to
// Switchyard's return URL, so the return page can show the shopper which
// Stripe payment it is waiting for. Only UX: status comes from webhooks.
func withSessionPlaceholder(raw string) string {
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + "stripe_checkout_session=" + checkoutSessionPlaceholder
}

func validatePayment(inst *instance, req provider.CreatePaymentRequest) ([]string, int64, error) {
	types, ok := inst.methodTypes[req.Method]
	if !ok {
		return nil, 0, sdk.Invalid("method %q is not offered by stripe", req.Method).WithField("method").WithCode("invalid_method")
	}
	amount, err := toStripeAmount(req.Amount, req.Currency)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case req.SessionID == "":
		return nil, 0, sdk.Invalid("session id is required").WithField("session_id")
	case req.AttemptID == "":
		return nil, 0, sdk.Invalid("attempt id is required").WithField("attempt_id")
	case !absoluteURL(req.ReturnURL):
		return nil, 0, sdk.Invalid("return url %q is not an absolute http(s) url", req.ReturnURL).WithField("return_url")
	case req.CancelURL != "" && !absoluteURL(req.CancelURL):
		return nil, 0, sdk.Invalid("cancel url %q is not an absolute http(s) url", req.CancelURL).WithField("cancel_url")
	case req.MerchantAccount != "" && !validAccountID(req.MerchantAccount):
		return nil, 0, sdk.Invalid("merchant account %q is not a stripe account id (acct_…)", req.MerchantAccount).
			WithField("merchant_account")
	}
	return types, amount, nil
}

// paymentMetadata is the merchant's metadata that fits Stripe's limits plus
// Switchyard's own keys, which always win. Merchant keys beyond the limits
// are left out in key order, deterministically, so a retried call sends the
// same parameters under the same idempotency key.
func paymentMetadata(req provider.CreatePaymentRequest) map[string]string {
	md := map[string]string{}
	keys := make([]string, 0, len(req.Metadata))
	for k := range req.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := req.Metadata[k]
		if len(md) >= maxMetadataKeys-2 || k == "" || len(k) > maxMetadataKeyLen || len(v) > maxMetadataValueLen ||
			strings.HasPrefix(k, "switchyard_") {
			continue
		}
		md[k] = v
	}
	md[MetaSessionID] = req.SessionID
	md[MetaAttemptID] = req.AttemptID
	return md
}

// bankTransferType picks Stripe's bank transfer funding type for a
// customer_balance payment in cur.
func bankTransferType(cur, euCountry string) (*stripe.CheckoutSessionPaymentMethodOptionsCustomerBalanceBankTransferParams, error) {
	bt := &stripe.CheckoutSessionPaymentMethodOptionsCustomerBalanceBankTransferParams{}
	switch cur {
	case "USD":
		bt.Type = stripe.String("us_bank_transfer")
	case "GBP":
		bt.Type = stripe.String("gb_bank_transfer")
	case "JPY":
		bt.Type = stripe.String("jp_bank_transfer")
	case "MXN":
		bt.Type = stripe.String("mx_bank_transfer")
	case "EUR":
		if euCountry == "" {
			return nil, sdk.Invalid("EUR bank transfers need the %s setting", SettingEUBankCountry).
				WithField("currency").WithCode("currency_not_supported")
		}
		bt.Type = stripe.String("eu_bank_transfer")
		bt.EUBankTransfer = &stripe.CheckoutSessionPaymentMethodOptionsCustomerBalanceBankTransferEUBankTransferParams{
			Country: stripe.String(euCountry),
		}
	default:
		return nil, sdk.Invalid("stripe bank transfers do not support %s", cur).WithField("currency").WithCode("currency_not_supported")
	}
	return bt, nil
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// CreatePayment implements provider.Provider: it creates a Checkout Session
// in payment mode and sends the shopper to it.
func (p *Provider) CreatePayment(ctx context.Context, req provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	if err := ctx.Err(); err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	inst, err := p.instance()
	if err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	types, amount, err := validatePayment(inst, req)
	if err != nil {
		return provider.CreatePaymentResponse{}, err
	}

	name := req.Description
	if name == "" {
		name = "Order " + req.SessionID
	}
	md := paymentMetadata(req)
	params := &stripe.CheckoutSessionParams{
		Mode:               stripe.String(string(stripe.CheckoutSessionModePayment)),
		SuccessURL:         stripe.String(withSessionPlaceholder(req.ReturnURL)),
		ClientReferenceID:  stripe.String(req.SessionID),
		PaymentMethodTypes: stripe.StringSlice(types),
		Metadata:           md,
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(strings.ToLower(req.Currency)),
				UnitAmount:  stripe.Int64(amount),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(name)},
			},
		}},
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{
			Metadata:    md,
			Description: stripe.String(name),
		},
	}
	if req.CancelURL != "" {
		params.CancelURL = stripe.String(req.CancelURL)
	}
	if req.CustomerEmail != "" {
		params.CustomerEmail = stripe.String(req.CustomerEmail)
	}
	if d := inst.statementDescriptor; d != "" {
		// Stripe only allows a dynamic suffix on card statements; the full
		// descriptor applies to the other payment method types.
		if contains(types, "card") {
			params.PaymentIntentData.StatementDescriptorSuffix = stripe.String(d)
		} else {
			params.PaymentIntentData.StatementDescriptor = stripe.String(d)
		}
	}
	if contains(types, "customer_balance") {
		bt, err := bankTransferType(req.Currency, inst.euBankCountry)
		if err != nil {
			return provider.CreatePaymentResponse{}, err
		}
		// customer_balance funds a Customer's balance, so Checkout must
		// create one.
		params.CustomerCreation = stripe.String("always")
		params.PaymentMethodOptions = &stripe.CheckoutSessionPaymentMethodOptionsParams{
			CustomerBalance: &stripe.CheckoutSessionPaymentMethodOptionsCustomerBalanceParams{
				FundingType:  stripe.String("bank_transfer"),
				BankTransfer: bt,
			},
		}
	}
	params.Context = ctx
	params.IdempotencyKey = stripe.String(idempotencyKey(req))
	if req.MerchantAccount != "" {
		params.StripeAccount = stripe.String(req.MerchantAccount)
	}

	cs, err := inst.api.CheckoutSessions.New(params)
	if err != nil {
		return provider.CreatePaymentResponse{}, mapError(ctx, "create checkout session", err)
	}
	if cs.ID == "" || !absoluteURL(cs.URL) {
		return provider.CreatePaymentResponse{}, sdk.Unavailable("stripe returned a checkout session without id or url")
	}
	return provider.CreatePaymentResponse{
		ProviderRef: makeRef(req.MerchantAccount, cs.ID),
		Status:      provider.StatusPending,
		NextAction:  provider.NextAction{Type: provider.NextActionRedirect, URL: cs.URL},
	}, nil
}

// idempotencyKey is the host's key (derived from session and attempt). A
// host that sends none still gets a deterministic key from the same inputs,
// never a random one, so a retry after a crash cannot open a second
// Checkout Session.
func idempotencyKey(req provider.CreatePaymentRequest) string {
	if req.IdempotencyKey != "" {
		return req.IdempotencyKey
	}
	return "switchyard:" + req.SessionID + ":" + req.AttemptID
}

// GetPayment implements provider.Provider.
func (p *Provider) GetPayment(ctx context.Context, req provider.GetPaymentRequest) (provider.Payment, error) {
	if err := ctx.Err(); err != nil {
		return provider.Payment{}, err
	}
	inst, err := p.instance()
	if err != nil {
		return provider.Payment{}, err
	}
	account, id, err := parseRef(req.ProviderRef)
	if err != nil {
		return provider.Payment{}, err
	}
	cs, err := inst.retrieveSession(ctx, account, id)
	if err != nil {
		return provider.Payment{}, err
	}
	cur := sessionCurrency(cs)
	total := cs.AmountTotal
	if total == 0 && cs.PaymentIntent != nil {
		total = cs.PaymentIntent.Amount
	}
	// For a captured payment the amount is what Stripe received, which the
	// host compares with the session before settling it.
	if pi := cs.PaymentIntent; pi != nil && pi.Status == stripe.PaymentIntentStatusSucceeded && pi.AmountReceived > 0 &&
		(pi.Currency == "" || strings.EqualFold(string(pi.Currency), cur)) {
		total = pi.AmountReceived
	}
	amount, _ := fromStripeAmount(total, cur)
	pay := provider.Payment{
		ProviderRef: req.ProviderRef,
		Status:      sessionStatus(cs),
		Amount:      amount,
		Currency:    cur,
	}
	if pi := cs.PaymentIntent; pi != nil && pi.LatestCharge != nil {
		pay.AmountRefunded, _ = fromStripeAmount(pi.LatestCharge.AmountRefunded, cur)
	}
	return pay, nil
}

func (inst *instance) retrieveSession(ctx context.Context, account, id string) (*stripe.CheckoutSession, error) {
	params := &stripe.CheckoutSessionParams{}
	params.Context = ctx
	params.AddExpand("payment_intent.latest_charge")
	if account != "" {
		params.StripeAccount = stripe.String(account)
	}
	cs, err := inst.api.CheckoutSessions.Get(id, params)
	if err != nil {
		return nil, mapError(ctx, "retrieve checkout session", err)
	}
	return cs, nil
}

// sessionCurrency is the session's currency, upper-case, falling back to
// its payment intent's.
func sessionCurrency(cs *stripe.CheckoutSession) string {
	cur := string(cs.Currency)
	if cur == "" && cs.PaymentIntent != nil {
		cur = string(cs.PaymentIntent.Currency)
	}
	return strings.ToUpper(cur)
}

// sessionStatus folds a Checkout Session and its payment intent into the
// SDK's payment states.
func sessionStatus(cs *stripe.CheckoutSession) provider.PaymentStatus {
	if pi := cs.PaymentIntent; pi != nil {
		switch pi.Status {
		case stripe.PaymentIntentStatusSucceeded:
			return provider.StatusSucceeded
		case stripe.PaymentIntentStatusProcessing:
			return provider.StatusProcessing
		case stripe.PaymentIntentStatusCanceled:
			return provider.StatusFailed
		}
	}
	switch {
	case cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid,
		cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusNoPaymentRequired:
		return provider.StatusSucceeded
	case cs.Status == stripe.CheckoutSessionStatusExpired:
		return provider.StatusFailed
	case cs.Status == stripe.CheckoutSessionStatusComplete:
		// Complete but unpaid: an asynchronous method (bank transfer) is
		// still settling.
		return provider.StatusProcessing
	}
	return provider.StatusPending
}

// Refund implements provider.Refunder. Refunds are created on the
// session's payment intent, on the connected account when there is one.
func (p *Provider) Refund(ctx context.Context, req provider.RefundRequest) (provider.RefundResult, error) {
	if err := ctx.Err(); err != nil {
		return provider.RefundResult{}, err
	}
	inst, err := p.instance()
	if err != nil {
		return provider.RefundResult{}, err
	}
	if req.Amount < 0 {
		return provider.RefundResult{}, sdk.Invalid("refund amount must not be negative").WithField("amount").WithCode("invalid_amount")
	}
	if req.IdempotencyKey == "" {
		return provider.RefundResult{}, sdk.Invalid("refunds need an idempotency key").WithField("idempotency_key")
	}
	account, id, err := parseRef(req.ProviderRef)
	if err != nil {
		return provider.RefundResult{}, err
	}
	cs, err := inst.retrieveSession(ctx, account, id)
	if err != nil {
		return provider.RefundResult{}, err
	}
	cur := sessionCurrency(cs)
	if req.Currency != "" && req.Currency != cur {
		return provider.RefundResult{}, sdk.Invalid("refund currency %s does not match payment currency %s", req.Currency, cur).
			WithField("currency")
	}
	if cs.PaymentIntent == nil || cs.PaymentIntent.ID == "" {
		return provider.RefundResult{}, sdk.Invalid("checkout session %s has no payment to refund", id).WithCode("payment_not_succeeded")
	}

	params := &stripe.RefundParams{PaymentIntent: stripe.String(cs.PaymentIntent.ID)}
	if req.Amount > 0 {
		amount, err := toStripeAmount(req.Amount, cur)
		if err != nil {
			return provider.RefundResult{}, err
		}
		params.Amount = stripe.Int64(amount)
	}
	switch req.Reason {
	case "":
	case string(stripe.RefundReasonDuplicate), string(stripe.RefundReasonFraudulent), string(stripe.RefundReasonRequestedByCustomer):
		params.Reason = stripe.String(req.Reason)
	default:
		// Stripe's reason is an enum; a free-text reason is kept as metadata.
		params.AddMetadata("switchyard_reason", truncate(req.Reason, maxMetadataValueLen))
	}
	params.AddMetadata(MetaSessionID, firstNonEmpty(cs.ClientReferenceID, req.SessionID))
	params.Context = ctx
	params.IdempotencyKey = stripe.String(req.IdempotencyKey)
	if account != "" {
		params.StripeAccount = stripe.String(account)
	}
	re, err := inst.api.Refunds.New(params)
	if err != nil {
		return provider.RefundResult{}, mapError(ctx, "create refund", err)
	}
	amount, _ := fromStripeAmount(re.Amount, cur)
	res := provider.RefundResult{RefundRef: re.ID, Status: refundStatus(re.Status), Amount: amount}
	if res.Status == provider.RefundFailed {
		res.FailureMessage = "stripe refund " + string(re.Status)
		if re.FailureReason != "" {
			res.FailureMessage += ": " + string(re.FailureReason)
		}
	}
	return res, nil
}

func refundStatus(s stripe.RefundStatus) provider.RefundStatus {
	switch s {
	case stripe.RefundStatusSucceeded:
		return provider.RefundSucceeded
	case stripe.RefundStatusFailed, stripe.RefundStatusCanceled:
		return provider.RefundFailed
	}
	return provider.RefundPending
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// mapError turns a stripe-go error into a categorized SDK error. Stripe's
// own message is kept where it explains bad input (it never contains the
// full key), but not for authentication failures.
func mapError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return sdk.Unavailable("stripe %s: %w", op, ctxErr)
	}
	var se *stripe.Error
	if !errors.As(err, &se) {
		return sdk.Unavailable("stripe %s: %w", op, err)
	}
	code := string(se.Code)
	switch {
	case se.HTTPStatusCode == http.StatusUnauthorized:
		return sdk.Unauthorized("stripe %s: the API key was rejected", op).WithCode("authentication_failed")
	case se.HTTPStatusCode == http.StatusForbidden:
		return sdk.Unauthorized("stripe %s: permission denied (%s)", op, se.Msg).WithCode(nonEmpty(code, "permission_denied"))
	case se.Type == stripe.ErrorTypeCard || se.HTTPStatusCode == http.StatusPaymentRequired:
		return sdk.Declined("stripe %s: %s", op, se.Msg).WithCode(nonEmpty(string(se.DeclineCode), code))
	case se.HTTPStatusCode == http.StatusNotFound || se.Code == stripe.ErrorCodeResourceMissing:
		return sdk.NotFound("stripe %s: %s", op, se.Msg).WithCode(nonEmpty(code, "resource_missing"))
	case se.Type == stripe.ErrorTypeIdempotency:
		return sdk.Invalid("stripe %s: idempotency key reused with different parameters", op).WithCode("idempotency_mismatch")
	case se.HTTPStatusCode == http.StatusConflict || se.HTTPStatusCode == http.StatusTooManyRequests:
		return sdk.Retryable("stripe %s: %s", op, se.Msg).WithCode(nonEmpty(code, "rate_limited"))
	case se.HTTPStatusCode >= 500 || se.Type == stripe.ErrorTypeAPI:
		return sdk.Unavailable("stripe %s: %s (status %d)", op, se.Msg, se.HTTPStatusCode)
	case se.HTTPStatusCode == http.StatusBadRequest:
		e := sdk.Invalid("stripe %s: %s", op, se.Msg).WithCode(nonEmpty(code, "invalid_request"))
		if se.Param != "" {
			e = e.WithField(se.Param)
		}
		return e
	}
	return sdk.Internal("stripe %s: unexpected status %d: %s", op, se.HTTPStatusCode, se.Msg)
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
