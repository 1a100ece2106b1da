// Package webhook verifies the signed webhooks Switchyard sends, for
// merchants' own Go code. It is also the one implementation of every signing
// profile that Switchyard's delivery worker uses to sign, so what the worker
// sends and what this package accepts cannot drift apart.
//
// A receiver reads the raw body (before any JSON decoding), then:
//
//	err := webhook.Verify(webhook.ProfileStandard, []string{secret}, r.Header, body, 5*time.Minute)
//	if err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
//	var ev webhook.Event
//	_ = json.Unmarshal(body, &ev)
//
// Profiles:
//
//   - standard (default): Standard Webhooks. Headers webhook-id,
//     webhook-timestamp (Unix seconds) and webhook-signature, a space
//     separated list of "v1,<base64 HMAC-SHA256>" over "id.timestamp.body",
//     keyed with the base64-decoded part of the whsec_ secret. During a
//     secret rotation it carries one signature per valid secret.
//   - proe: X-PROE-Signature, lowercase hex HMAC-SHA256 of the raw body.
//   - pgapp: X-Signature-Timestamp (Unix seconds) and
//     X-Signature-HMAC-SHA256, lowercase hex HMAC-SHA256 of
//     "timestamp.body".
//   - ecomtrade: X-Signature "sha256=<hex HMAC-SHA256 of the raw body>";
//     X-Ecomtrade24-Signature and X-Webhook-Signature, with or without the
//     sha256= prefix, are accepted too.
//
// The three legacy profiles key the HMAC with the secret string exactly as
// shown (whsec_ prefix included), which is what PHP's
// hash_hmac('sha256', $body, $secret) does with the pasted secret.
//
// Only standard and pgapp sign a timestamp, so only they resist replays;
// proe and ecomtrade receivers should de-duplicate on the event id.
package webhook
