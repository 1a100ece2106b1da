package stripefake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Event is a Stripe event as Stripe delivers it to a webhook endpoint:
// the JSON body (data.object, and data.previous_attributes when previous
// is not nil) and its headers, Stripe-Signature made with the endpoint's
// secret as Stripe makes it (v1: HMAC-SHA256 of "timestamp.body"). It is
// signed here, not with the plugin's own code, so a test checks the
// plugin's verification against Stripe's scheme.
func Event(secret, id, typ string, object, previous map[string]any) (http.Header, []byte) {
	data := map[string]any{"object": object}
	if previous != nil {
		data["previous_attributes"] = previous
	}
	now := time.Now()
	body, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "api_version": "2023-10-16",
		"created": now.Unix(), "livemode": false, "data": data,
	})
	if err != nil {
		panic("stripefake: event not encodable: " + err.Error()) // maps of JSON values always are
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return http.Header{
		"Content-Type":     {"application/json"},
		"Stripe-Signature": {"t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))},
	}, body
}
