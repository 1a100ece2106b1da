package payproprovider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Custom checkout fields (PayPro's x- parameters, returned in every IPN's
// ORDER_CUSTOM_FIELDS and CHECKOUT_QUERY_STRING). The shopper can edit the
// checkout URL, so FieldToken binds the others together: without it a
// shopper could pay 0.01 for someone else's session.
const (
	FieldSession  = "x-switchyard-session"
	FieldRef      = "x-switchyard-ref"
	FieldAmount   = "x-switchyard-amount"
	FieldCurrency = "x-switchyard-currency"
	FieldToken    = "x-switchyard-token"
)

// checkoutRef is what a checkout URL promises: which session and attempt,
// and the price in minor units.
type checkoutRef struct {
	session  string
	ref      string
	amount   int64
	currency string
}

// token is a truncated HMAC-SHA256 over the checkout fields, keyed by a key
// derived from the validation key (so no extra secret to manage; rotating
// the validation key orphans checkouts still open, which then need an
// operator — see the provider doc).
func (c checkoutRef) token(validationKey string) string {
	k := hmac.New(sha256.New, []byte("switchyard/paypro/checkout-token/v1"))
	k.Write([]byte(validationKey))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(c.session + "\x00" + c.ref + "\x00" + strconv.FormatInt(c.amount, 10) + "\x00" + c.currency))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// checkoutURL builds the PayPro checkout redirect for one attempt. Keys
// are written in a fixed order so the URL is stable across retries.
func checkoutURL(s settings, req provider.CreatePaymentRequest, product string, c checkoutRef) (string, error) {
	price, err := ipn.FormatAmount(req.Amount, req.Currency)
	if err != nil {
		return "", err
	}
	var q []string
	add := func(k, v string) { q = append(q, url.QueryEscape(k)+"="+url.QueryEscape(v)) }
	add("products[1][id]", product)
	if s.dynamicPrice {
		add("products[1][price]["+req.Currency+"][amount]", price)
	}
	add("currency", req.Currency)
	if req.CustomerEmail != "" {
		add("billing-email", req.CustomerEmail)
	}
	add(FieldSession, c.session)
	add(FieldRef, c.ref)
	add(FieldAmount, strconv.FormatInt(c.amount, 10))
	add(FieldCurrency, c.currency)
	add(FieldToken, c.token(s.keys.validation))
	if s.ipnDomain != "" {
		add("ipn-domain", s.ipnDomain)
	}
	if s.testMode {
		add("use-test-mode", "true")
		add("secret-key", s.keys.secret)
	}
	u := *s.checkoutBase
	u.RawQuery = strings.Join(q, "&")
	return u.String(), nil
}

// link recovers the session an IPN belongs to from its custom fields. It
// returns the zero checkoutRef and a reason when the IPN does not name a
// session or names one without a valid token. Whether the amount paid is
// the session's is not decided here: the event reports the order total
// (confirmedAmount) and the host compares it with the session.
func link(n *ipn.IPN, validationKey string) (checkoutRef, string) {
	session := n.CustomField(FieldSession)
	if session == "" {
		return checkoutRef{}, "the order carries no " + FieldSession + " (not created through Switchyard)"
	}
	amount, err := strconv.ParseInt(n.CustomField(FieldAmount), 10, 64)
	if err != nil {
		return checkoutRef{}, "the order's " + FieldAmount + " is malformed"
	}
	c := checkoutRef{session: session, ref: n.CustomField(FieldRef), amount: amount, currency: n.CustomField(FieldCurrency)}
	if !hmac.Equal([]byte(c.token(validationKey)), []byte(n.CustomField(FieldToken))) {
		return checkoutRef{}, "the order's checkout token does not match its session fields (edited checkout URL?)"
	}
	return c, ""
}
