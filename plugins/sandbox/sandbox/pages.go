package sandbox

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bojanz/currency"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
)

var refPattern = regexp.MustCompile(`^sbx_[0-9a-f]{24}$`)

// HandleHTTP implements provider.HTTPHandler: it serves the pay page at
// GET /pay/{ref}.
func (p *Provider) HandleHTTP(ctx context.Context, req provider.HTTPRequest) (provider.HTTPResponse, error) {
	if err := ctx.Err(); err != nil {
		return provider.HTTPResponse{}, err
	}
	ref, ok := strings.CutPrefix(req.Path, "/pay/")
	if !ok || !refPattern.MatchString(ref) {
		return page(http.StatusNotFound, "Not found", "There is no sandbox page here."), nil
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		resp := page(http.StatusMethodNotAllowed, "Method not allowed", "The pay page only answers GET.")
		resp.Headers.Set("Allow", "GET, HEAD")
		return resp, nil
	}
	cfg, err := p.config()
	if err != nil {
		return provider.HTTPResponse{}, err
	}
	q := req.QueryValues()
	if q.Get(fieldRef) != ref || !verify(cfg.secret, purposePayLink, q) {
		return page(http.StatusBadRequest, "Invalid payment link",
			"This payment link is invalid or was altered. Start again from the shop."), nil
	}
	amount, err := strconv.ParseInt(q.Get(fieldAmount), 10, 64)
	if err != nil {
		return page(http.StatusBadRequest, "Invalid payment link", "The amount in this link is not a number."), nil
	}
	ts := p.now().UTC()
	base := Callback{
		Ref: ref, SessionID: q.Get(fieldSession), Amount: amount, Currency: q.Get(fieldCurrency),
		ReturnURL: q.Get(fieldReturnURL), TS: ts,
	}
	data := payPageData{
		Label:    cfg.label,
		Ref:      ref,
		Amount:   formatAmount(amount, base.Currency),
		Method:   q.Get(fieldMethod),
		Session:  base.SessionID,
		Action:   q.Get(fieldWebhookURL),
		Deadline: ts.Add(cfg.callbackTTL).Format(time.RFC1123),
	}
	for _, c := range []struct{ choice, label, help string }{
		{ChoiceSucceed, "Succeed", "The payment is captured at once."},
		{ChoiceDecline, "Decline", "The payment fails as if the card were declined."},
		{ChoiceProcessingThenSucceed, "Processing, then succeed", "The payment is first reported as processing, then as succeeded."},
	} {
		cb := base
		cb.Choice = c.choice
		data.Choices = append(data.Choices, choiceForm{Label: c.label, Help: c.help, Fields: fields(SignCallback(string(cfg.secret), cb))})
	}
	var body bytes.Buffer
	if err := payPage.Execute(&body, data); err != nil {
		return provider.HTTPResponse{}, sdk.Internal("render pay page: %w", err)
	}
	return provider.HTTPResponse{Status: http.StatusOK, Headers: htmlHeaders(), Body: body.Bytes()}, nil
}

// HandleWebhook implements provider.Provider: it verifies a pay page form
// post and turns the shopper's choice into normalized events.
func (p *Provider) HandleWebhook(ctx context.Context, req provider.WebhookRequest) (provider.WebhookResponse, error) {
	if err := ctx.Err(); err != nil {
		return provider.WebhookResponse{}, err
	}
	reject := func(msg string) (provider.WebhookResponse, error) {
		return provider.WebhookResponse{Response: page(http.StatusBadRequest, "Payment not confirmed", msg)}, nil
	}
	if req.Method != http.MethodPost {
		return reject("Sandbox callbacks are form posts.")
	}
	cfg, err := p.config()
	if err != nil {
		return provider.WebhookResponse{}, err
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil || !verify(cfg.secret, purposeCallback, form) {
		return reject("This confirmation is not signed by the sandbox. Start again from the shop.")
	}
	cb, err := parseCallback(form)
	if err != nil {
		return reject("This confirmation is malformed.")
	}
	now := p.now().UTC()
	if age := now.Sub(cb.TS); age > cfg.callbackTTL || age < -clockSkew {
		return reject("This payment page has expired. Start again from the shop.")
	}

	event := func(t provider.EventType, raw string, at time.Time) provider.Event {
		return provider.Event{
			Type: t,
			// Derived from the signed fields, so a double submit of the
			// same form yields the same id and the host applies it once.
			ProviderEventID: "sbxevt_" + sign(cfg.secret, "event", url.Values{
				"cb": {form.Get(fieldSig)}, "type": {string(t)},
			})[:32],
			ProviderRef: cb.Ref, SessionID: cb.SessionID, Amount: cb.Amount, Currency: cb.Currency,
			OccurredAt: at, RawType: raw,
		}
	}
	var events []provider.Event
	outcome := provider.StatusSucceeded
	switch cb.Choice {
	case ChoiceSucceed:
		events = append(events, event(provider.PaymentSucceeded, "sandbox.succeed", now))
	case ChoiceDecline:
		e := event(provider.PaymentFailed, "sandbox.decline", now)
		e.Data = map[string]string{"failure_code": "card_declined", "failure_message": "declined in the sandbox"}
		events = append(events, e)
		outcome = provider.StatusFailed
	case ChoiceProcessingThenSucceed:
		events = append(events,
			event(provider.PaymentProcessing, "sandbox.processing", now),
			event(provider.PaymentSucceeded, "sandbox.succeed_after_processing", now.Add(time.Millisecond)),
		)
	default:
		return reject("Unknown choice.")
	}
	// Recorded before the events leave: a payment the host is told about
	// is one the sandbox can refund, across restarts when it has a ledger.
	if err := p.markPaid(cb.Ref, outcome); err != nil {
		return provider.WebhookResponse{}, ledgerError(err)
	}

	resp := provider.WebhookResponse{Events: events}
	if cb.ReturnURL != "" {
		h := http.Header{}
		h.Set("Location", cb.ReturnURL)
		h.Set("Cache-Control", "no-store")
		resp.Response = provider.HTTPResponse{Status: http.StatusSeeOther, Headers: h}
	} else {
		resp.Response = page(http.StatusOK, "Payment submitted", "You can close this window.")
	}
	return resp, nil
}

func parseCallback(form url.Values) (Callback, error) {
	amount, err := strconv.ParseInt(form.Get(fieldAmount), 10, 64)
	if err != nil {
		return Callback{}, err
	}
	ts, err := strconv.ParseInt(form.Get(fieldTS), 10, 64)
	if err != nil {
		return Callback{}, err
	}
	return Callback{
		Choice: form.Get(fieldChoice), Ref: form.Get(fieldRef), SessionID: form.Get(fieldSession),
		Amount: amount, Currency: form.Get(fieldCurrency), ReturnURL: form.Get(fieldReturnURL),
		TS: time.Unix(ts, 0).UTC(),
	}, nil
}

// formatAmount renders minor units with the currency's decimals.
func formatAmount(minor int64, code string) string {
	scale := 2
	if d, ok := currency.GetDigits(code); ok {
		scale = int(d)
	}
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := strconv.FormatInt(minor, 10)
	if scale > 0 {
		for len(s) <= scale {
			s = "0" + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s + " " + code
}

type field struct{ Name, Value string }

// fields lists form values in a stable order for the template.
func fields(v url.Values) []field {
	var out []field
	for _, k := range []string{fieldChoice, fieldRef, fieldSession, fieldAmount, fieldCurrency, fieldReturnURL, fieldTS, fieldSig} {
		out = append(out, field{Name: k, Value: v.Get(k)})
	}
	return out
}

type choiceForm struct {
	Label, Help string
	Fields      []field
}

type payPageData struct {
	Label, Ref, Amount, Method, Session, Action, Deadline string
	Choices                                               []choiceForm
}

func htmlHeaders() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	return h
}

func page(status int, title, msg string) provider.HTTPResponse {
	var body bytes.Buffer
	_ = messagePage.Execute(&body, struct{ Title, Message string }{title, msg})
	return provider.HTTPResponse{Status: status, Headers: htmlHeaders(), Body: body.Bytes()}
}

// The templates are parsed once; they are immutable after parsing.
var (
	payPage = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Label}}: pay {{.Amount}}</title>
</head>
<body>
<main>
<h1>{{.Label}}</h1>
<p>This is a simulated payment. No money moves; choose how it should end.</p>
<dl>
<dt>Amount</dt><dd>{{.Amount}}</dd>
<dt>Method</dt><dd>{{.Method}}</dd>
<dt>Payment</dt><dd>{{.Ref}}</dd>
<dt>Session</dt><dd>{{.Session}}</dd>
</dl>
{{range $i, $c := .Choices}}
<form method="post" action="{{$.Action}}" aria-describedby="choice-help-{{$i}}">
{{range $c.Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<button type="submit">{{$c.Label}}</button>
<p id="choice-help-{{$i}}">{{$c.Help}}</p>
</form>
{{end}}
<p>This page is valid until {{.Deadline}}.</p>
</main>
</body>
</html>
`))
	messagePage = template.Must(template.New("message").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
</main>
</body>
</html>
`))
)
