package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
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
		CSS:      template.CSS(pageCSS),
		Label:    cfg.label,
		Merchant: q.Get(fieldMerchant),
		Amount:   formatAmount(amount, base.Currency),
		Method:   methodLabel(q.Get(fieldMethod)),
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

// methodLabel is how the page names a method: "bank_transfer" reads "bank
// transfer".
func methodLabel(m string) string { return strings.ReplaceAll(m, "_", " ") }

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
	CSS                                               template.CSS
	Label, Merchant, Amount, Method, Action, Deadline string
	Choices                                           []choiceForm
}

type messagePageData struct {
	CSS                                     template.CSS
	Label, Merchant, Amount, Title, Message string
}

func htmlHeaders() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", pageCSP)
	return h
}

func page(status int, title, msg string) provider.HTTPResponse {
	var body bytes.Buffer
	_ = messagePage.Execute(&body, messagePageData{CSS: template.CSS(pageCSS), Label: "Sandbox", Title: title, Message: msg})
	return provider.HTTPResponse{Status: status, Headers: htmlHeaders(), Body: body.Bytes()}
}

// pageCSS is the pages' stylesheet, inlined; pageCSP allows exactly it
// (by hash) and nothing else to load. Both are fixed at build time.
//
//go:embed page.css
var pageCSS string

var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src data:; " +
		"frame-ancestors 'none'; base-uri 'none'"
}()

// The templates are parsed once; they are immutable after parsing. The
// layout is the hosted checkout's: the merchant and total on top, then the
// page's content; internal ids (the payment ref, the session id) are in
// the forms only, never shown.
var (
	pageTemplates = template.Must(template.New("layout").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="color-scheme" content="light dark">
<title>{{block "title" .}}{{end}}</title>
<link rel="icon" href="data:,">
<style>{{.CSS}}</style>
</head>
<body>
<div class="page">
<main class="panel" id="main">
{{- if .Merchant}}
<header class="summary">
<p class="merchant">{{.Merchant}}</p>
{{- if .Amount}}
<p class="total"><span class="total-label">Total</span> <span class="amount">{{.Amount}}</span></p>
{{- end}}
</header>
{{- end}}
<div class="body">
{{block "content" .}}{{end}}
</div>
</main>
<footer class="footer">
<p>{{.Label}} · test payments only</p>
</footer>
</div>
</body>
</html>
`))
	payPage = template.Must(template.Must(pageTemplates.Clone()).Parse(`{{define "title"}}Pay {{.Amount}}{{if .Merchant}} · {{.Merchant}}{{end}}{{end}}
{{define "content"}}
<h1>Test payment{{with .Method}} by {{.}}{{end}}</h1>
<p class="note" id="note">This is a simulated payment: no money moves. Choose how it should end.</p>
{{- range $i, $c := .Choices}}
<form method="post" action="{{$.Action}}" class="choice">
{{range $c.Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<button class="button {{if eq $i 0}}button-primary{{else}}button-secondary{{end}}" type="submit" aria-describedby="choice-help-{{$i}} note">{{$c.Label}}</button>
<p id="choice-help-{{$i}}">{{$c.Help}}</p>
</form>
{{- end}}
<p class="secondary">This page is valid until {{.Deadline}}.</p>
{{end}}`))
	messagePage = template.Must(template.Must(pageTemplates.Clone()).Parse(`{{define "title"}}{{.Title}}{{end}}
{{define "content"}}
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{end}}`))
)
