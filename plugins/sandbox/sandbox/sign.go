package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"time"
)

// Signature purposes keep a pay-link signature from being replayed as a
// callback signature and vice versa.
const (
	purposePayLink  = "switchyard-sandbox-paylink-v1"
	purposeCallback = "switchyard-sandbox-callback-v1"
)

// The shopper's choices on the pay page.
const (
	ChoiceSucceed               = "succeed"
	ChoiceDecline               = "decline"
	ChoiceProcessingThenSucceed = "processing_then_succeed"
	fieldSig                    = "sig"
	fieldTS                     = "ts"
	fieldChoice                 = "choice"
	fieldRef                    = "ref"
	fieldSession                = "session_id"
	fieldAmount                 = "amount"
	fieldCurrency               = "currency"
	fieldMethod                 = "method"
	fieldReturnURL              = "return_url"
	fieldWebhookURL             = "webhook_url"
	fieldMerchant               = "merchant"
)

// Callback is what the pay page posts back through the webhook intake.
type Callback struct {
	Choice    string
	Ref       string
	SessionID string
	Amount    int64
	Currency  string
	ReturnURL string
	// TS is when the pay page was rendered; callbacks older than the
	// instance's callback_ttl are refused.
	TS time.Time
}

func (c Callback) values() url.Values {
	return url.Values{
		fieldChoice:    {c.Choice},
		fieldRef:       {c.Ref},
		fieldSession:   {c.SessionID},
		fieldAmount:    {strconv.FormatInt(c.Amount, 10)},
		fieldCurrency:  {c.Currency},
		fieldReturnURL: {c.ReturnURL},
		fieldTS:        {strconv.FormatInt(c.TS.Unix(), 10)},
	}
}

// SignCallback returns the form fields of a callback signed with secret, as
// the pay page would post them. Tests use it to play the shopper.
func SignCallback(secret string, c Callback) url.Values {
	v := c.values()
	v.Set(fieldSig, sign([]byte(secret), purposeCallback, v))
	return v
}

// payLink are the signed query fields of a pay page URL.
type payLink struct {
	Ref        string
	SessionID  string
	Amount     int64
	Currency   string
	Method     string
	ReturnURL  string
	WebhookURL string
	// Merchant is whom the shopper pays (CreatePaymentRequest.MerchantName),
	// shown on the page; signed like the rest so a link cannot be edited to
	// name another shop.
	Merchant string
}

func (l payLink) values() url.Values {
	return url.Values{
		fieldMerchant:   {l.Merchant},
		fieldRef:        {l.Ref},
		fieldSession:    {l.SessionID},
		fieldAmount:     {strconv.FormatInt(l.Amount, 10)},
		fieldCurrency:   {l.Currency},
		fieldMethod:     {l.Method},
		fieldReturnURL:  {l.ReturnURL},
		fieldWebhookURL: {l.WebhookURL},
	}
}

// sign is HMAC-SHA256 over the purpose and the fields in url.Values.Encode
// order (sorted, escaped), which makes the encoding unambiguous. The sig
// field itself is never covered.
func sign(secret []byte, purpose string, v url.Values) string {
	covered := url.Values{}
	for k, vs := range v {
		if k != fieldSig {
			covered[k] = vs
		}
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(purpose))
	mac.Write([]byte{'\n'})
	mac.Write([]byte(covered.Encode()))
	return hex.EncodeToString(mac.Sum(nil))
}

// verify checks v's sig field in constant time.
func verify(secret []byte, purpose string, v url.Values) bool {
	got, err := hex.DecodeString(v.Get(fieldSig))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	want, _ := hex.DecodeString(sign(secret, purpose, v))
	return hmac.Equal(got, want)
}
