package servetest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/plugins/smtp/smtptest"
	"github.com/switchyard/switchyard/plugins/whm/whmfake"
)

// The instances below are Options.Instances entries for the fakes of the
// provisioner and mailer plugins, each with the environment its secret is
// read from (add it to Options.Env).

// WHMInstance is a provisioner instance id of the whm binary against fake
// (HTTPS, its certificate pinned by fingerprint); its API token is read
// from WHMTEST_API_TOKEN, which env holds.
func WHMInstance(id string, fake *whmfake.Server) (instance string, env []string) {
	return fmt.Sprintf(`    - id: %s
      kind: provisioner
      binary: whm
      settings:
        host: %s
        port: "%s"
        username: root
        api_token: env:WHMTEST_API_TOKEN
        tls_fingerprint_sha256: %s
        timeout: 20s
`, id, fake.Host(), fake.Port(), fake.Fingerprint()), []string{"WHMTEST_API_TOKEN=" + fake.Token()}
}

// SMTPInstance is a mailer instance id of the smtp binary against srv
// (STARTTLS on srv's test CA, AUTH PLAIN); its password is read from
// MAILTEST_SMTP_PASSWORD, which env holds.
func SMTPInstance(t *testing.T, id string, srv *smtptest.Server) (instance string, env []string) {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte(srv.CAPEM()), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`    - id: %s
      kind: mailer
      binary: smtp
      settings:
        host: %s
        port: "%d"
        security: starttls
        auth: plain
        username: %s
        password: env:MAILTEST_SMTP_PASSWORD
        from: %s
        from_name: Switchyard Test
        tls_ca_pem: file:%s
        timeout: 10s
`, id, srv.Host(), srv.Port(), srv.Username(), srv.Username(), ca), []string{"MAILTEST_SMTP_PASSWORD=" + srv.Password()}
}
