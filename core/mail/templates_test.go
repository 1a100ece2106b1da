package mail_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/mail"
)

func templates(t *testing.T) *mail.Templates {
	t.Helper()
	tpl, err := mail.NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// hostile is a customer or merchant name written to break out of HTML and
// of the Subject header.
const hostile = "<script>alert(\"x\")</script> & Eve\r\nBcc: victim@evil.example"

func hostileData(name mail.Name) any {
	m := mail.Merchant{ID: 7, Name: hostile, ContactEmail: "ops@shop.example"}
	c := mail.Customer{Email: "ann@customer.example", Name: hostile}
	at := time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC)
	switch name {
	case mail.PaymentReceipt:
		return mail.PaymentReceiptData{Merchant: m, Customer: c, SessionID: "cs_1", OrderID: "<b>o1</b>", Site: "shop.example",
			Amount: "49.95", Currency: "USD", Method: "card", PaidAt: at}
	case mail.RefundReceipt:
		return mail.RefundReceiptData{Merchant: m, Customer: c, SessionID: "cs_1", OrderID: "<b>o1</b>", RefundID: "re_1",
			Amount: "10.00", Currency: "USD", PaidAmount: "49.95", RefundedAt: at}
	case mail.ServiceReady:
		return mail.ServiceReadyData{Merchant: m, Customer: c, ServiceID: "svc_1", Domain: "ann.example", Username: "ann",
			Password: "p<a>ss&\"w0rd", PanelURL: "javascript:alert(1)", LoginURL: "https://panel.example/login?a=1&b=<2>"}
	case mail.ServiceSuspended:
		return mail.ServiceSuspendedData{Merchant: m, Customer: c, ServiceID: "svc_1", Domain: "ann.example", Username: "ann",
			Reason: hostile, SuspendedAt: at}
	case mail.DomainRenewalReminder:
		return mail.DomainRenewalData{Merchant: m, Customer: c, DomainID: "dom_1", Domain: "<b>ann</b>.example", ExpiresAt: at}
	default:
		return mail.WebhookNoticeData{Merchant: m, DeliveryID: "whd_1", EventID: "evt_1", EventType: "session.paid",
			URL: "https://shop.example/hooks?<x>", Attempts: 3, LastError: hostile, At: at}
	}
}

func TestBuiltinTemplatesRender(t *testing.T) {
	tpl := templates(t)
	wants := map[mail.Name][]string{
		mail.PaymentReceipt:          {"49.95 USD", "A-1001", "Acme Hosting", "5 Dec 2026 14:03 UTC", "cs_01JEXAMPLE"},
		mail.RefundReceipt:           {"10.00 USD", "49.95 USD", "re_01JEXAMPLE", "A-1001"},
		mail.ServiceReady:            {"annexam", "S4mple-Passw0rd!", "https://panel.acme.example:2083", "ann.example", "ns1.acme.example, ns2.acme.example"},
		mail.ServiceSuspended:        {"ann.example", "annexam", "5 Dec 2026 14:03 UTC"},
		mail.DomainRenewalReminder:   {"ann.example", "5 Jan 2027", "dom_01JEXAMPLE", "support@acme.example"},
		mail.WebhookDeliveryFailed:   {"evt_01JEXAMPLE", "session.paid", "switchyard deliveries resend whd_01JEXAMPLE", "8 attempts"},
		mail.WebhookEndpointDisabled: {"410 Gone", "https://shop.acme.example/hooks", "whd_01JEXAMPLE"},
	}
	if len(wants) != len(mail.Names()) {
		t.Fatalf("test covers %d templates, there are %d", len(wants), len(mail.Names()))
	}
	for _, name := range mail.Names() {
		t.Run(string(name), func(t *testing.T) {
			sample, err := mail.Sample(name)
			if err != nil {
				t.Fatal(err)
			}
			m, err := tpl.Render(name, mail.Source{}, sample)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") {
				t.Fatalf("subject %q", m.Subject)
			}
			if _, err := html.Parse(strings.NewReader(m.HTML)); err != nil || !strings.HasPrefix(m.HTML, "<!DOCTYPE html>") {
				t.Fatalf("html: %v\n%s", err, m.HTML)
			}
			for _, w := range wants[name] {
				if !strings.Contains(m.Text, w) || !strings.Contains(m.HTML, w) {
					t.Errorf("%q missing from text or html:\n%s\n%s", w, m.Text, m.HTML)
				}
			}
			if strings.Contains(m.Text, "<no value>") || strings.Contains(m.HTML, "<no value>") {
				t.Errorf("a value is missing:\n%s", m.Text)
			}
		})
	}
}

func TestOptionalValuesAreLeftOut(t *testing.T) {
	tpl := templates(t)
	at := time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC)
	// Without a login link, the service-ready mail says nothing about one.
	m, err := tpl.Render(mail.ServiceReady, mail.Source{}, mail.ServiceReadyData{Merchant: mail.Merchant{Name: "Acme"},
		Domain: "a.example", Username: "a", Password: "pw", PanelURL: "https://panel.example:2083"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, "Sign in once") || strings.Contains(m.HTML, "Sign in once") || !strings.HasPrefix(m.Text, "Hello,") {
		t.Fatalf("optional parts rendered:\n%s", m.Text)
	}
	exp := at.Add(time.Hour)
	m, err = tpl.Render(mail.ServiceReady, mail.Source{}, mail.ServiceReadyData{Merchant: mail.Merchant{Name: "Acme"},
		Domain: "a.example", Username: "a", Password: "pw", PanelURL: "https://panel.example:2083",
		LoginURL: "https://panel.example:2083/login", LoginURLExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "https://panel.example:2083/login") || !strings.Contains(m.Text, "until 5 Dec 2026 10:30 UTC") {
		t.Fatalf("login link missing:\n%s", m.Text)
	}
	// A test-mode receipt says so, in the subject too.
	m, err = tpl.Render(mail.PaymentReceipt, mail.Source{}, mail.PaymentReceiptData{Merchant: mail.Merchant{Name: "Acme"},
		OrderID: "o", Amount: "1.00", Currency: "EUR", PaidAt: at, Test: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Subject, "[TEST] ") || !strings.Contains(m.Text, "TEST MODE") {
		t.Fatalf("test receipt: %q\n%s", m.Subject, m.Text)
	}
}

func TestHostileValuesAreEscaped(t *testing.T) {
	tpl := templates(t)
	for _, name := range mail.Names() {
		t.Run(string(name), func(t *testing.T) {
			m, err := tpl.Render(name, mail.Source{}, hostileData(name))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<b>") || strings.Contains(m.HTML, "<x>") {
				t.Fatalf("markup from data reached the HTML:\n%s", m.HTML)
			}
			if !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Eve") {
				t.Fatalf("name not escaped as text:\n%s", m.HTML)
			}
			if strings.ContainsAny(m.Subject, "\r\n") {
				t.Fatalf("subject has a line break: %q", m.Subject)
			}
			// The text part is plain text: the value as given.
			if !strings.Contains(m.Text, "<script>alert(\"x\")</script> & Eve") {
				t.Fatalf("text part changed the value:\n%s", m.Text)
			}
			if name == mail.ServiceReady {
				// A javascript: URL never becomes a link; the password is
				// escaped in HTML and intact in text.
				if strings.Contains(m.HTML, `href="javascript:`) || !strings.Contains(m.HTML, "#ZgotmplZ") {
					t.Fatalf("unsafe URL in html:\n%s", m.HTML)
				}
				if !strings.Contains(m.HTML, "p&lt;a&gt;ss&amp;&#34;w0rd") || !strings.Contains(m.Text, "p<a>ss&\"w0rd") {
					t.Fatalf("password:\n%s\n%s", m.HTML, m.Text)
				}
			}
		})
	}
}

func TestUTF8Subjects(t *testing.T) {
	tpl := templates(t)
	d := mail.PaymentReceiptData{Merchant: mail.Merchant{Name: "Café Über – ✓ 日本"}, OrderID: "Bestellung-Ä1",
		Amount: "500", Currency: "JPY", PaidAt: time.Now()}
	m, err := tpl.Render(mail.PaymentReceipt, mail.Source{}, d)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Receipt from Café Über – ✓ 日本: 500 JPY for order Bestellung-Ä1" {
		t.Fatalf("subject %q", m.Subject)
	}
	// A long subject is cut at a character, never inside one.
	d.Merchant.Name = strings.Repeat("ü", 400)
	m, err = tpl.Render(mail.PaymentReceipt, mail.Source{}, d)
	if err != nil {
		t.Fatal(err)
	}
	if r := []rune(m.Subject); len(r) != mail.MaxSubject || !strings.HasSuffix(m.Subject, "ü…") {
		t.Fatalf("long subject: %d runes %q", len(r), m.Subject)
	}
}

func TestCheckOverride(t *testing.T) {
	tpl := templates(t)
	cases := []struct {
		name      string
		tmpl      mail.Name
		src       mail.Source
		wantCode  string
		wantField string
		wantMsg   string
	}{
		{"subject only", mail.PaymentReceipt, mail.Source{Subject: "Danke, {{.Customer.Name}}! {{.Amount}} {{.Currency}}"}, "", "", ""},
		{"all parts", mail.ServiceReady, mail.Source{Subject: "Ready: {{.Domain}}", Text: "{{.Username}} / {{.Password}}",
			HTML: "<p>{{.Username}}{{with .LoginURL}} <a href=\"{{.}}\">login</a>{{end}}</p>"}, "", "", ""},
		{"parse error", mail.PaymentReceipt, mail.Source{Text: "Paid {{.Amount"}, "invalid_template", "text", "text template: template: payment_receipt.txt:1:"},
		{"unknown field", mail.RefundReceipt, mail.Source{HTML: "<p>{{.Customer.Nickname}}</p>"}, "invalid_template", "html", "can't evaluate field Nickname"},
		{"unknown function", mail.PaymentReceipt, mail.Source{Subject: "{{upper .OrderID}}"}, "invalid_template", "subject", `function "upper" not defined`},
		{"field of another template", mail.PaymentReceipt, mail.Source{Text: "{{.Password}}"}, "invalid_template", "text", "can't evaluate field Password"},
		{"nil on the sample without optional values", mail.ServiceReady, mail.Source{Text: "{{.LoginURLExpiresAt.Year}}"}, "invalid_template", "text", "nil *Time pointer"},
		{"subject renders empty", mail.PaymentReceipt, mail.Source{Subject: "{{if false}}x{{end}}"}, "invalid_template", "subject", "renders empty"},
		{"html in an unsafe context", mail.PaymentReceipt, mail.Source{HTML: "<script>var x = {{.OrderID}}</script><a href='{{.Site}}"}, "invalid_template", "html", ""},
		{"endless output", mail.PaymentReceipt, mail.Source{Text: "{{range 100000000}}xxxxxxxxxx{{end}}"}, "invalid_template", "text", "longer than"},
		{"empty", mail.PaymentReceipt, mail.Source{}, "empty_override", "", ""},
		{"only white space", mail.PaymentReceipt, mail.Source{HTML: " \n "}, "invalid_template", "html", "white space"},
		{"too large", mail.PaymentReceipt, mail.Source{Text: strings.Repeat("x", mail.MaxBodySource+1)}, "template_too_large", "text", ""},
		{"subject too large", mail.PaymentReceipt, mail.Source{Subject: strings.Repeat("x", mail.MaxSubjectSource+1)}, "template_too_large", "subject", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tpl.Check(tc.tmpl, tc.src)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			de, ok := domain.AsError(err)
			if !ok || !errors.Is(err, domain.ErrInvalid) || de.Code != tc.wantCode || de.Field != tc.wantField || !strings.Contains(de.Message, tc.wantMsg) {
				t.Fatalf("got %#v, want %s on %q containing %q", err, tc.wantCode, tc.wantField, tc.wantMsg)
			}
		})
	}
	if err := tpl.Check("nope", mail.Source{Text: "x"}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown template: %v", err)
	}
}

// Every variable the docs and the admin API list can be used in an
// override of its template.
func TestVariablesAreUsable(t *testing.T) {
	tpl := templates(t)
	for _, name := range mail.Names() {
		vars := mail.Variables(name)
		if len(vars) < 5 {
			t.Fatalf("%s lists %d variables", name, len(vars))
		}
		var b strings.Builder
		for _, v := range vars {
			if v.Description == "" {
				t.Errorf("%s: %s has no description", name, v.Name)
			}
			b.WriteString("{{" + v.Name + "}}\n")
		}
		if err := tpl.Check(name, mail.Source{Text: b.String()}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
