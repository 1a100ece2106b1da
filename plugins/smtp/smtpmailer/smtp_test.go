package smtpmailer_test

import (
	"bytes"
	"context"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/plugins/smtp/smtpmailer"
	"github.com/switchyard/switchyard/plugins/smtp/smtptest"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

func configured(t *testing.T, settings map[string]string) mailer.Mailer {
	t.Helper()
	m := sdktest.MailerClient(t, smtpmailer.New())
	if err := m.Configure(context.Background(), settings); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return m
}

func with(base map[string]string, kv ...string) map[string]string {
	out := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func wantErr(t *testing.T, what string, err error, cat sdk.Category, code string) *sdk.Error {
	t.Helper()
	if sdk.CategoryOf(err) != cat {
		t.Fatalf("%s: %v, want category %s", what, err, cat)
	}
	e, _ := sdk.AsError(err)
	if code != "" && e.Code != code {
		t.Fatalf("%s: code %q (%v), want %q", what, e.Code, err, code)
	}
	return e
}

func TestConformance(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	sdktest.RunMailerConformance(t, sdktest.MailerClient(t, smtpmailer.New()), sdktest.ConformanceConfig{
		Settings:         srv.Settings("Shop"),
		RequiredSettings: []string{smtpmailer.SettingHost, smtpmailer.SettingFrom},
	})
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("conformance sent %d messages", n)
	}
}

// TestWhatArrives sends a UTF-8 text+HTML mail and checks it as the
// server received it: envelope, TLS, login, headers, both parts and their
// encoding.
func TestWhatArrives(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	m := configured(t, srv.Settings("Café Hosting ✓"))
	text := "Grüße! Ihr Dienst ist bereit.\nBenutzer: shopuser\n" + strings.Repeat("lange Zeile ", 20) + "\n"
	html := "<p>Grüße! Ihr Dienst ist <b>bereit</b> – <a href=\"https://panel.example/login?a=1&amp;b=2\">anmelden</a>.</p>"
	res, err := m.Send(context.Background(), mailer.Message{
		To:      []string{"Jürgen Müller <juergen@kunde.example>"},
		Cc:      []string{"ops@kunde.example"},
		Bcc:     []string{"archive@shop.example"},
		ReplyTo: []string{"Support <support@shop.example>"},
		Subject: "Ihr Hosting ist bereit – café ✓",
		Text:    text,
		HTML:    html,
		Headers: map[string]string{"X-Switchyard-Event": "service.activated", "List-Unsubscribe": "<mailto:unsub@shop.example>"},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages arrived", len(msgs))
	}
	got := msgs[0]
	if got.From != srv.Username() || !slices.Equal(got.To, []string{"juergen@kunde.example", "ops@kunde.example", "archive@shop.example"}) {
		t.Errorf("envelope: from %q to %v", got.From, got.To)
	}
	if !got.TLS || got.AuthUser != srv.Username() {
		t.Errorf("TLS %v, logged in as %q", got.TLS, got.AuthUser)
	}
	for i, line := range bytes.Split(got.Data, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d is %d octets long", i, len(line))
		}
		for _, b := range line {
			if b >= 0x80 {
				t.Fatalf("line %d carries raw 8-bit data: %q", i, line)
			}
		}
	}

	msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subject != "Ihr Hosting ist bereit – café ✓" || h.Get("Subject") == subject {
		t.Errorf("Subject %q decodes to %q (%v)", h.Get("Subject"), subject, err)
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Café Hosting ✓" || from[0].Address != srv.Username() {
		t.Errorf("From %q: %v %v", h.Get("From"), from, err)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Jürgen Müller" || to[0].Address != "juergen@kunde.example" {
		t.Errorf("To %q: %v %v", h.Get("To"), to, err)
	}
	if cc, _ := h.AddressList("Cc"); len(cc) != 1 || cc[0].Address != "ops@kunde.example" {
		t.Errorf("Cc %q", h.Get("Cc"))
	}
	if rt, _ := h.AddressList("Reply-To"); len(rt) != 1 || rt[0].Address != "support@shop.example" {
		t.Errorf("Reply-To %q", h.Get("Reply-To"))
	}
	if h.Get("Bcc") != "" || bytes.Contains(got.Data, []byte("archive@shop.example")) {
		t.Error("the Bcc recipient shows in the message")
	}
	if h.Get("X-Switchyard-Event") != "service.activated" || h.Get("List-Unsubscribe") != "<mailto:unsub@shop.example>" {
		t.Errorf("extra headers: %q %q", h.Get("X-Switchyard-Event"), h.Get("List-Unsubscribe"))
	}
	if h.Get("Message-Id") != res.MessageID || !strings.HasSuffix(res.MessageID, "@shop.example>") {
		t.Errorf("Message-ID %q, Send returned %q", h.Get("Message-Id"), res.MessageID)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if h.Get("Mime-Version") != "1.0" {
		t.Errorf("MIME-Version %q", h.Get("Mime-Version"))
	}

	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q", h.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	wantParts := []struct{ typ, body string }{{"text/plain", text}, {"text/html", html}}
	for i, want := range wantParts {
		part, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		pt, pp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if pt != want.typ || !strings.EqualFold(pp["charset"], "utf-8") {
			t.Errorf("part %d Content-Type %q", i, part.Header.Get("Content-Type"))
		}
		if cte := part.Header.Get("Content-Transfer-Encoding"); !strings.EqualFold(cte, "quoted-printable") {
			t.Errorf("part %d Content-Transfer-Encoding %q", i, cte)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(part))
		if err != nil {
			t.Fatal(err)
		}
		if norm := strings.ReplaceAll(string(body), "\r\n", "\n"); norm != want.body {
			t.Errorf("part %d body %q, want %q", i, norm, want.body)
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("more than two parts: %v", err)
	}
}

func TestSingleParts(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	m := configured(t, srv.Settings(""))
	ctx := context.Background()
	for _, tc := range []struct{ text, html, want string }{{"only text", "", "text/plain"}, {"", "<p>only html</p>", "text/html"}} {
		if _, err := m.Send(ctx, mailer.Message{To: []string{"a@kunde.example"}, Subject: "s", Text: tc.text, HTML: tc.html}); err != nil {
			t.Fatal(err)
		}
		msgs := srv.Messages()
		msg, _ := mail.ReadMessage(bytes.NewReader(msgs[len(msgs)-1].Data))
		if mt, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); mt != tc.want {
			t.Errorf("Content-Type %q, want %s", msg.Header.Get("Content-Type"), tc.want)
		}
		if from, _ := msg.Header.AddressList("From"); len(from) != 1 || from[0].Address != srv.Username() || from[0].Name != "" {
			t.Errorf("From %q", msg.Header.Get("From"))
		}
	}
}

func TestMessageIDFollowsIdempotencyKey(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	m := configured(t, srv.Settings("Shop"))
	ctx := context.Background()
	send := func(key string) string {
		res, err := m.Send(ctx, mailer.Message{To: []string{"a@kunde.example"}, Subject: "x", Text: "y", IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return res.MessageID
	}
	a, b, c := send("svc_1:ready"), send("svc_1:ready"), send("svc_2:ready")
	if a != b || a == c {
		t.Errorf("Message-IDs %s %s %s: the same key must give the same id, another key another", a, b, c)
	}
	if d, e := send(""), send(""); d == e {
		t.Error("two keyless mails share a Message-ID")
	}
}

func TestBadCredentials(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	m := configured(t, with(srv.Settings("Shop"), smtpmailer.SettingPassword, "wrong-password-123"))
	ctx := context.Background()
	_, err := m.TestConnection(ctx)
	e := wantErr(t, "TestConnection with a wrong password", err, sdk.CategoryUnauthorized, "auth_failed")
	if strings.Contains(e.Message, "wrong-password-123") || strings.Contains(e.Message, srv.Password()) {
		t.Errorf("the error echoes a password: %s", e.Message)
	}
	_, err = m.Send(ctx, mailer.Message{To: []string{"a@kunde.example"}, Subject: "x", Text: "y"})
	wantErr(t, "Send with a wrong password", err, sdk.CategoryUnauthorized, "auth_failed")
	if h, _ := m.CheckHealth(ctx); h.Status != meta.HealthDegraded {
		t.Errorf("health after refused credentials: %+v", h)
	}
	if len(srv.Messages()) != 0 || slices.Contains(srv.Commands(), "MAIL") {
		t.Error("mail was attempted after a failed login")
	}

	// A mechanism the server does not offer (it offers PLAIN only).
	m = configured(t, with(srv.Settings("Shop"), smtpmailer.SettingAuth, "login"))
	_, err = m.TestConnection(ctx)
	wantErr(t, "AUTH LOGIN against a PLAIN-only server", err, sdk.CategoryUnauthorized, "auth_unsupported")
}

func TestTLSIsRequired(t *testing.T) {
	ctx := context.Background()
	plain := smtptest.New(t, smtptest.Options{NoTLS: true})
	m := configured(t, plain.Settings("Shop"))
	_, err := m.Send(ctx, mailer.Message{To: []string{"a@kunde.example"}, Subject: "x", Text: "y"})
	wantErr(t, "server without STARTTLS", err, sdk.CategoryUnavailable, "tls_required")
	if len(plain.AuthAttempts()) != 0 || len(plain.Commands()) != 0 {
		t.Errorf("credentials or mail went out in clear: auth %v, commands %v", plain.AuthAttempts(), plain.Commands())
	}

	srv := smtptest.New(t, smtptest.Options{})
	m = configured(t, with(srv.Settings("Shop"), smtpmailer.SettingTLSCAPEM, ""))
	_, err = m.TestConnection(ctx)
	wantErr(t, "untrusted certificate", err, sdk.CategoryUnavailable, "tls_untrusted")
	if len(srv.AuthAttempts()) != 0 {
		t.Error("credentials were sent to an unverified server")
	}
}

func TestImplicitTLS(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{ImplicitTLS: true})
	m := configured(t, srv.Settings("Shop"))
	res, err := m.TestConnection(context.Background())
	if err != nil || res.Details["security"] != smtpmailer.SecurityTLS || !strings.HasPrefix(res.Details["tls_version"], "TLS 1.") {
		t.Fatalf("TestConnection = %+v, %v", res, err)
	}
	if _, err := m.Send(context.Background(), mailer.Message{To: []string{"a@kunde.example"}, Subject: "x", Text: "y"}); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || !msgs[0].TLS {
		t.Errorf("messages %+v", msgs)
	}
}

func TestTestConnectionSendsNothing(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	m := configured(t, srv.Settings("Shop"))
	res, err := m.TestConnection(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Details["username"] != srv.Username() || res.Details["security"] != smtpmailer.SecuritySTARTTLS || res.Details["tls_version"] == "" {
		t.Errorf("result %+v", res)
	}
	if !slices.Equal(srv.AuthAttempts(), []string{srv.Username()}) || len(srv.Commands()) != 0 {
		t.Errorf("auth %v, commands %v", srv.AuthAttempts(), srv.Commands())
	}
}

func TestRecipientReplies(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	srv.Reject("gone@kunde.example", 550, "No such user")
	srv.Reject("grey@kunde.example", 450, "Greylisted, try again later")
	m := configured(t, srv.Settings("Shop"))
	ctx := context.Background()
	_, err := m.Send(ctx, mailer.Message{To: []string{"gone@kunde.example"}, Subject: "x", Text: "y"})
	wantErr(t, "550 recipient", err, sdk.CategoryDeclined, "recipient_rejected")
	_, err = m.Send(ctx, mailer.Message{To: []string{"grey@kunde.example"}, Subject: "x", Text: "y"})
	wantErr(t, "450 recipient", err, sdk.CategoryRetryable, "deferred")
	if h, _ := m.CheckHealth(ctx); h.Status != meta.HealthOK {
		t.Errorf("a refused recipient made the mailer unhealthy: %+v", h)
	}
	if len(srv.Messages()) != 0 {
		t.Error("a refused mail arrived")
	}
}

func TestMessageValidation(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	m := configured(t, srv.Settings("Shop"))
	base := mailer.Message{To: []string{"a@kunde.example"}, Subject: "x", Text: "y"}
	cases := []struct {
		name   string
		mutate func(*mailer.Message)
		field  string
	}{
		{"no recipients", func(m *mailer.Message) { m.To = nil }, "to"},
		{"bad to", func(m *mailer.Message) { m.To = []string{"not an address"} }, "to"},
		{"bad cc", func(m *mailer.Message) { m.Cc = []string{"@"} }, "cc"},
		{"bad from", func(m *mailer.Message) { m.From = "nobody" }, "from"},
		{"no body", func(m *mailer.Message) { m.Text = "" }, "text"},
		{"subject injection", func(m *mailer.Message) { m.Subject = "hi\r\nBcc: victim@x.example" }, "subject"},
		{"header injection", func(m *mailer.Message) { m.Headers = map[string]string{"X-A": "a\r\nBcc: victim@x.example"} }, "headers"},
		{"header overriding Subject", func(m *mailer.Message) { m.Headers = map[string]string{"subject": "other"} }, "headers"},
		{"header overriding From", func(m *mailer.Message) { m.Headers = map[string]string{"From": "evil@x.example"} }, "headers"},
		{"content header", func(m *mailer.Message) { m.Headers = map[string]string{"Content-Disposition": "attachment"} }, "headers"},
		{"bad header name", func(m *mailer.Message) { m.Headers = map[string]string{"X A": "b"} }, "headers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := base
			tc.mutate(&msg)
			_, err := m.Send(context.Background(), msg)
			if e := wantErr(t, tc.name, err, sdk.CategoryInvalidInput, "invalid_message"); e.Field != tc.field {
				t.Errorf("field %q, want %q", e.Field, tc.field)
			}
		})
	}
	if len(srv.Messages()) != 0 || len(srv.Commands()) != 0 {
		t.Error("an invalid message reached the server")
	}
}

func TestSettings(t *testing.T) {
	good := map[string]string{
		smtpmailer.SettingHost: "heracles.mxrouting.net", smtpmailer.SettingUsername: "billing@yourdomain.com",
		smtpmailer.SettingPassword: "secret-pass", smtpmailer.SettingFrom: "billing@yourdomain.com",
		smtpmailer.SettingFromName: "Your Company",
	}
	if err := smtpmailer.New().Configure(context.Background(), good); err != nil {
		t.Fatalf("the MXRoute example: %v", err)
	}
	cases := []struct{ name, key, value, field string }{
		{"no host", smtpmailer.SettingHost, "", smtpmailer.SettingHost},
		{"url host", smtpmailer.SettingHost, "smtp://mail.example", smtpmailer.SettingHost},
		{"port", smtpmailer.SettingPort, "0", smtpmailer.SettingPort},
		{"security", smtpmailer.SettingSecurity, "ssl", smtpmailer.SettingSecurity},
		{"plaintext with a password", smtpmailer.SettingSecurity, smtpmailer.SecurityNone, smtpmailer.SettingSecurity},
		{"password without user", smtpmailer.SettingUsername, "", smtpmailer.SettingPassword},
		{"auth", smtpmailer.SettingAuth, "kerberos", smtpmailer.SettingAuth},
		{"no from", smtpmailer.SettingFrom, "", smtpmailer.SettingFrom},
		{"from with name", smtpmailer.SettingFrom, "Shop <billing@yourdomain.com>", smtpmailer.SettingFrom},
		{"two-line name", smtpmailer.SettingFromName, "a\nb", smtpmailer.SettingFromName},
		{"timeout", smtpmailer.SettingTimeout, "1ms", smtpmailer.SettingTimeout},
		{"ca", smtpmailer.SettingTLSCAPEM, "not pem", smtpmailer.SettingTLSCAPEM},
		{"typo", "pasword", "x", "pasword"},
		{"no verify switch", "tls_skip_verify", "true", "tls_skip_verify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := smtpmailer.New().Configure(context.Background(), with(good, tc.key, tc.value))
			e := wantErr(t, tc.name, err, sdk.CategoryInvalidInput, "")
			if e.Field != tc.field {
				t.Errorf("field %q, want %q", e.Field, tc.field)
			}
			if strings.Contains(e.Message, "secret-pass") {
				t.Error("the password is echoed")
			}
		})
	}
	relay := map[string]string{smtpmailer.SettingHost: "127.0.0.1", smtpmailer.SettingPort: "25",
		smtpmailer.SettingSecurity: smtpmailer.SecurityNone, smtpmailer.SettingFrom: "noreply@shop.example"}
	if err := smtpmailer.New().Configure(context.Background(), relay); err != nil {
		t.Errorf("an unauthenticated local relay: %v", err)
	}
}

// TestPasswordIsUsedAsGiven: settings are trimmed, but a password is a
// credential and goes to the server byte for byte.
func TestPasswordIsUsedAsGiven(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{Password: " pass with spaces "})
	m := configured(t, srv.Settings("Shop"))
	if _, err := m.TestConnection(context.Background()); err != nil {
		t.Fatalf("login with a password that has surrounding spaces: %v", err)
	}
}
