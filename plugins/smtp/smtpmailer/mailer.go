package smtpmailer

import (
	"context"
	"crypto/tls"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	gomail "github.com/wneessen/go-mail"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
)

// Version is the plugin's version, reported by Describe.
const Version = "1.0.0"

// Mailer sends mail through one SMTP server. Build it with New; it is
// unusable until Configure succeeds and safe for concurrent use afterwards:
// every Send uses its own connection.
type Mailer struct {
	log hclog.Logger
	now func() time.Time

	mu      sync.RWMutex
	s       *settings
	lastErr *failure
}

var _ mailer.Mailer = (*Mailer)(nil)

type failure struct {
	at  time.Time
	err error
}

// Option adjusts a Mailer.
type Option func(*Mailer)

// WithLogger sets the logger (hclog JSON on stderr under sdk.Serve).
func WithLogger(l hclog.Logger) Option { return func(m *Mailer) { m.log = l } }

// New returns an unconfigured mailer.
func New(opts ...Option) *Mailer {
	m := &Mailer{log: hclog.NewNullLogger(), now: time.Now}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Describe implements mailer.Mailer.
func (m *Mailer) Describe(context.Context) (meta.Info, error) {
	return meta.Info{Name: "smtp", Version: Version, Kind: meta.KindMailer}, nil
}

// Configure implements mailer.Mailer. It checks the settings and connects
// to nothing: TestConnection (`switchyard plugins test`) does.
func (m *Mailer) Configure(_ context.Context, in map[string]string) error {
	s, err := parseSettings(in)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.s, m.lastErr = &s, nil
	m.mu.Unlock()
	return nil
}

// CheckHealth implements mailer.Mailer from the latest real connection
// rather than by polling the server.
func (m *Mailer) CheckHealth(context.Context) (meta.Health, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	switch {
	case m.s == nil:
		return meta.Health{Status: meta.HealthDown, Message: "not configured"}, nil
	case m.lastErr != nil:
		return meta.Health{Status: meta.HealthDegraded, Message: fmt.Sprintf("last SMTP attempt failed at %s: %v",
			m.lastErr.at.UTC().Format(time.RFC3339), m.lastErr.err)}, nil
	}
	return meta.Health{Status: meta.HealthOK, Message: "configured for " + m.s.host}, nil
}

func (m *Mailer) settings() (*settings, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.s == nil {
		return nil, sdk.Unavailable("smtp plugin is not configured")
	}
	return m.s, nil
}

// record keeps the outcome of a connection for CheckHealth: failures to
// reach or log in to the server count, refusals on the merits do not.
func (m *Mailer) record(ctx context.Context, s *settings, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.s != s {
		return
	}
	switch sdk.CategoryOf(err) {
	case sdk.CategoryUnavailable, sdk.CategoryUnauthorized:
		if ctx.Err() == nil {
			m.lastErr = &failure{at: m.now(), err: err}
		}
	default:
		m.lastErr = nil
	}
}

// client builds a go-mail client for one connection.
func (s *settings) client() (*gomail.Client, error) {
	tlsCfg := &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12, RootCAs: s.roots}
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(tlsCfg),
	}
	switch s.security {
	case SecurityTLS:
		opts = append(opts, gomail.WithSSL())
	case SecuritySTARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case SecurityNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.helo != "" {
		opts = append(opts, gomail.WithHELO(s.helo))
	}
	if s.username != "" {
		mech := map[string]gomail.SMTPAuthType{
			"auto": gomail.SMTPAuthAutoDiscover, "plain": gomail.SMTPAuthPlain, "login": gomail.SMTPAuthLogin,
			"cram-md5": gomail.SMTPAuthCramMD5, "scram-sha-256": gomail.SMTPAuthSCRAMSHA256,
		}[s.auth]
		opts = append(opts, gomail.WithSMTPAuth(mech), gomail.WithUsername(s.username), gomail.WithPassword(s.password))
	}
	return gomail.NewClient(s.host, opts...)
}

// TestConnection implements mailer.Mailer: it connects, upgrades to TLS,
// logs in and quits, sending nothing.
func (m *Mailer) TestConnection(ctx context.Context) (meta.TestResult, error) {
	s, err := m.settings()
	if err != nil {
		return meta.TestResult{}, err
	}
	c, err := s.client()
	if err != nil {
		return meta.TestResult{}, sdk.Invalid("smtp client: %v", err)
	}
	conn, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		err = classifyDial(ctx, s, err)
		m.record(ctx, s, err)
		return meta.TestResult{}, err
	}
	details := map[string]string{"host": s.host, "port": strconv.Itoa(s.port), "security": s.security}
	tlsNote := "without TLS"
	if st, terr := conn.GetTLSConnectionState(); terr == nil && st.HandshakeComplete {
		details["tls_version"] = tls.VersionName(st.Version)
		tlsNote = "over " + tls.VersionName(st.Version)
	}
	authNote := "without AUTH"
	if s.username != "" {
		details["username"] = s.username
		authNote = "logged in as " + s.username
	}
	_ = c.CloseWithSMTPClient(conn)
	m.record(ctx, s, nil)
	return meta.TestResult{
		Message: fmt.Sprintf("connected to %s:%d %s, %s", s.host, s.port, tlsNote, authNote),
		Details: details,
	}, nil
}

// Send implements mailer.Mailer.
func (m *Mailer) Send(ctx context.Context, msg mailer.Message) (mailer.SendResult, error) {
	s, err := m.settings()
	if err != nil {
		return mailer.SendResult{}, err
	}
	gm, id, err := s.build(msg)
	if err != nil {
		return mailer.SendResult{}, err
	}
	c, err := s.client()
	if err != nil {
		return mailer.SendResult{}, sdk.Invalid("smtp client: %v", err)
	}
	conn, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		err = classifyDial(ctx, s, err)
		m.record(ctx, s, err)
		return mailer.SendResult{}, err
	}
	// go-mail bounds each command by the timeout setting but knows
	// nothing of ctx after dialing; closing the connection when ctx ends
	// honours the host's deadline mid-transaction.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	err = c.SendWithSMTPClient(conn, gm)
	stop()
	_ = c.CloseWithSMTPClient(conn)
	if err != nil {
		err = classifySend(ctx, err)
		m.record(ctx, s, err)
		return mailer.SendResult{}, err
	}
	m.record(ctx, s, nil)
	m.log.Info("mail sent", "message_id", id, "recipients", len(msg.To)+len(msg.Cc)+len(msg.Bcc))
	return mailer.SendResult{MessageID: id}, nil
}
