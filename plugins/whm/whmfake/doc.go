// Package whmfake is a local HTTPS stand-in for a cPanel & WHM server's
// API 1 (json-api, api.version=1), for tests that cannot reach a real WHM.
//
// It follows WHM API 1's documented wire format: POST or GET
// /json-api/<function> with api.version=1, the "Authorization: whm
// USER:TOKEN" header, and answers {"metadata": {"command", "result",
// "reason", "version"}, "data": …}. Failures carry the reasons WHM's own
// code uses where they are known ("Account does not exist.", "API failure:
// (XID …) You do not have a user named “x”.", create_user_session's
// messages, the password-strength phrase); a wrong token gets cpsrvd's
// HTTP 403 {"cpanelresult": {"error": "Access denied", …}}. Two shapes are
// the fake's own choices and documented as such: a token whose ACL lacks a
// function's privilege gets metadata result 0 with reason "Access denied",
// and createacct's "already exists" wording.
//
// State is an in-memory set of accounts and packages. Protocol slips by the
// client — a missing api.version, an unknown parameter, a missing required
// one — fail the test (t.Errorf) as well as the call, so the plugin's
// requests are checked, not only its handling of answers. Faults can be
// injected per function: an outage (HTTP 503), a connection dropped after
// the function ran (an answer lost in transit), or a result-0 reason.
package whmfake
