package mail_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/servetest"
	"github.com/switchyard/switchyard/plugins/smtp/smtptest"
)

// TestServeReceiptsEndToEnd runs the real switchyard binary with the real
// sandbox and smtp plugin binaries against the in-process SMTP server
// (STARTTLS on a test certificate, AUTH PLAIN): receipts are turned on
// with the CLI, overrides are managed over the admin API, a shopper pays
// on the sandbox's page and the payment receipt arrives; the merchant
// refunds part of it and the refund receipt arrives.
func TestServeReceiptsEndToEnd(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		srv := smtptest.New(t, smtptest.Options{})
		instance, procEnv := servetest.SMTPInstance(t, "mailtest", srv)
		e := servetest.New(t, servetest.Options{DSN: dsn, Plugins: []string{"smtp"}, Instances: instance, Env: procEnv})
		e.CLI(t, "migrate")
		var m struct{ ID int64 }
		if err := json.Unmarshal(e.CLI(t, "merchants", "create", "--name", "Café Ünïcode ✓", "--plan", "free",
			"--domain", "shop.test", "--contact-email", "ops@shop.test", "--json"), &m); err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprint(m.ID)
		var k struct{ Key string }
		if err := json.Unmarshal(e.CLI(t, "keys", "create", "--merchant", id, "--json"), &k); err != nil {
			t.Fatal(err)
		}
		// A mailer that is not configured is refused and changes nothing.
		if _, stderr, err := e.TryCLI("merchants", "mail", "set", id, "--receipts=true", "--mailer", "nope"); err == nil ||
			!strings.Contains(stderr, "not a configured mailer") {
			t.Fatalf("unknown mailer accepted: %v %s", err, stderr)
		}
		var settings struct {
			ReceiptsEnabled bool   `json:"receipts_enabled"`
			Mailer          string `json:"mailer"`
		}
		if err := json.Unmarshal(e.CLI(t, "merchants", "mail", "show", id, "--json"), &settings); err != nil || settings.ReceiptsEnabled {
			t.Fatalf("after a refused change: %+v %v", settings, err)
		}
		e.CLI(t, "merchants", "mail", "set", id, "--receipts=true", "--mailer", "mailtest", "--from", "Café Shop <billing@shop.example>")

		p := e.Serve(t)
		admin := p.Admin + "/admin/v1/merchants/" + id + "/mail/templates/"
		code, raw := servetest.Call(t, "PUT", admin+"refund_receipt", servetest.AdminToken,
			map[string]string{"subject": "Erstattung {{.Amount}} {{.Currency}}", "html": "<p>{{.Customer.Nickname}}</p>"}, nil)
		if code != http.StatusBadRequest || !strings.Contains(string(raw), `"code":"invalid_template"`) || !strings.Contains(string(raw), `"field":"html"`) {
			t.Fatalf("bad override: %d %s", code, raw)
		}
		var view struct {
			Overridden []string `json:"overridden"`
		}
		if code, raw := servetest.Call(t, "GET", admin+"refund_receipt", servetest.AdminToken, nil, &view); code != http.StatusOK || len(view.Overridden) != 0 {
			t.Fatalf("after a refused override: %d %s", code, raw)
		}
		if code, raw := servetest.Call(t, "PUT", admin+"refund_receipt", servetest.AdminToken,
			map[string]string{"subject": "Erstattung {{.Amount}} {{.Currency}} – {{.OrderID}}"}, &view); code != http.StatusOK || strings.Join(view.Overridden, ",") != "subject" {
			t.Fatalf("override: %d %s", code, raw)
		}

		var sess struct {
			SessionID string `json:"session_id"`
		}
		if code, raw := servetest.Call(t, "POST", p.Public+"/v1/sessions", k.Key, map[string]string{"domain": "shop.test", "amount": "49.95",
			"currency": "USD", "order_id": "E2E-A1", "customer_email": "zoe@customer.example"}, &sess); code != http.StatusCreated {
			t.Fatalf("create session: %d %s", code, raw)
		}
		servetest.PayWithSandbox(t, p, sess.SessionID)

		env := &env{srv: srv, logs: &syncBuffer{}}
		msg := env.waitMessages(t, 1)[0]
		if !msg.TLS || msg.AuthUser != srv.Username() || msg.From != srv.Username() || strings.Join(msg.To, ",") != "zoe@customer.example" {
			t.Fatalf("envelope: TLS %v, auth %q, from %q, to %v", msg.TLS, msg.AuthUser, msg.From, msg.To)
		}
		r := parse(t, msg)
		if want := "[TEST] Receipt from Café Ünïcode ✓: 49.95 USD for order E2E-A1"; r.subject != want {
			t.Fatalf("subject %q, want %q", r.subject, want)
		}
		if !strings.Contains(r.header.Get("From"), "billing@shop.example") || !strings.Contains(r.header.Get("To"), "zoe@customer.example") ||
			r.header.Get("X-Switchyard-Template") != "payment_receipt" || r.header.Get("Message-Id") == "" || r.header.Get("Mime-Version") != "1.0" {
			t.Fatalf("headers: %v", r.header)
		}
		if !strings.Contains(r.text, "Amount paid:  49.95 USD") || !strings.Contains(r.text, sess.SessionID) ||
			!strings.Contains(r.html, "<td>49.95 USD</td>") || !strings.Contains(r.html, "<strong>Café Ünïcode ✓</strong>") {
			t.Fatalf("bodies:\n%s\n%s", r.text, r.html)
		}

		var rf struct {
			RefundID string `json:"refund_id"`
		}
		if code, raw := servetest.Call(t, "POST", p.Public+"/v1/sessions/"+sess.SessionID+"/refunds", k.Key,
			map[string]string{"amount": "10.00"}, &rf); code != http.StatusCreated {
			t.Fatalf("refund: %d %s", code, raw)
		}
		r = parse(t, env.waitMessages(t, 2)[1])
		if r.subject != "Erstattung 10.00 USD – E2E-A1" || r.header.Get("X-Switchyard-Template") != "refund_receipt" {
			t.Fatalf("refund receipt subject %q", r.subject)
		}
		if !strings.Contains(r.text, "Refunded:     10.00 USD") || !strings.Contains(r.text, rf.RefundID) || !strings.Contains(r.html, rf.RefundID) {
			t.Fatalf("refund receipt:\n%s", r.text)
		}
	})
}
