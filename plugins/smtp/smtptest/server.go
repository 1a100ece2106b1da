package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/switchyard/switchyard/plugins/smtp/smtpmailer"
)

// Options configure a test server.
type Options struct {
	// Username and Password are the only credentials AUTH PLAIN accepts
	// (defaults: billing@shop.example and a fixed test password).
	Username, Password string
	// ImplicitTLS serves TLS from the first byte (port 465 style) instead
	// of offering STARTTLS.
	ImplicitTLS bool
	// NoTLS offers neither STARTTLS nor TLS: a server a careful client
	// must refuse to log in to.
	NoTLS bool
}

// Message is one accepted mail.
type Message struct {
	// From and To are the envelope (MAIL FROM, RCPT TO).
	From string
	To   []string
	// Data is the message as received (headers and body).
	Data []byte
	// TLS tells whether the transaction ran over TLS; AuthUser who logged in.
	TLS      bool
	AuthUser string
}

// Server is the running test server.
type Server struct {
	opts Options
	srv  *smtp.Server
	addr *net.TCPAddr
	ca   []byte

	mu        sync.Mutex
	messages  []Message
	rejects   map[string]*smtp.SMTPError
	authTries []string
	commands  []string
}

// DefaultPassword is the password a server accepts unless Options say.
const DefaultPassword = "test-smtp-password-1"

// New starts a server on 127.0.0.1 for the duration of t.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Username == "" {
		opts.Username = "billing@shop.example"
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	caPEM, cert, err := testCertificate()
	if err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	s := &Server{opts: opts, ca: caPEM, rejects: map[string]*smtp.SMTPError{}}
	srv := smtp.NewServer(s)
	srv.Domain = "mx.smtptest.invalid"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.ErrorLog = discard{}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if !opts.NoTLS && !opts.ImplicitTLS {
		srv.TLSConfig = tlsCfg
	}
	s.srv = srv
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.addr = l.Addr().(*net.TCPAddr)
	if opts.ImplicitTLS {
		l = tls.NewListener(l, tlsCfg)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return s
}

type discard struct{}

func (discard) Printf(string, ...interface{}) {}
func (discard) Println(...interface{})        {}

// Host is the address the server listens on.
func (s *Server) Host() string { return s.addr.IP.String() }

// Port is its TCP port.
func (s *Server) Port() int { return s.addr.Port }

// CAPEM is the PEM certificate of the CA that issued the server's
// certificate; trust it (tls_ca_pem) to verify the server.
func (s *Server) CAPEM() string { return string(s.ca) }

// Username and Password are the credentials the server accepts.
func (s *Server) Username() string { return s.opts.Username }

// Password is the accepted password.
func (s *Server) Password() string { return s.opts.Password }

// Settings are smtp plugin settings that reach this server and log in,
// sending as the server's username (an address) with fromName.
func (s *Server) Settings(fromName string) map[string]string {
	out := map[string]string{
		smtpmailer.SettingHost:     s.Host(),
		smtpmailer.SettingPort:     strconv.Itoa(s.Port()),
		smtpmailer.SettingUsername: s.opts.Username,
		smtpmailer.SettingPassword: s.opts.Password,
		smtpmailer.SettingFrom:     s.opts.Username,
		smtpmailer.SettingFromName: fromName,
		smtpmailer.SettingTLSCAPEM: s.CAPEM(),
		smtpmailer.SettingTimeout:  "10s",
	}
	if s.opts.ImplicitTLS {
		out[smtpmailer.SettingSecurity] = smtpmailer.SecurityTLS
	}
	return out
}

// Reject makes RCPT TO:<addr> fail with code and message (550 for a
// permanent refusal, 450 for greylisting).
func (s *Server) Reject(addr string, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects[strings.ToLower(addr)] = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: message}
}

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	copy(out, s.messages)
	return out
}

// AuthAttempts returns the usernames AUTH was tried with, in order.
func (s *Server) AuthAttempts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.authTries...)
}

// Commands returns the transaction commands seen (MAIL, RCPT, DATA), in
// order, for tests that check nothing was sent.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{srv: s, conn: c}, nil
}

type session struct {
	srv      *Server
	conn     *smtp.Conn
	authUser string
	from     string
	to       []string
}

var _ smtp.AuthSession = (*session)(nil)

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		se.srv.mu.Lock()
		se.srv.authTries = append(se.srv.authTries, username)
		se.srv.mu.Unlock()
		if (identity != "" && identity != username) || username != se.srv.opts.Username || password != se.srv.opts.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		se.authUser = username
		return nil
	}), nil
}

func (se *session) record(cmd string) {
	se.srv.mu.Lock()
	se.srv.commands = append(se.srv.commands, cmd)
	se.srv.mu.Unlock()
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	se.record("MAIL")
	if se.authUser == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.record("RCPT")
	se.srv.mu.Lock()
	rej := se.srv.rejects[strings.ToLower(to)]
	se.srv.mu.Unlock()
	if rej != nil {
		return rej
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	se.record("DATA")
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	_, tlsOK := se.conn.TLSConnectionState()
	se.srv.mu.Lock()
	se.srv.messages = append(se.srv.messages, Message{From: se.from, To: append([]string(nil), se.to...),
		Data: buf.Bytes(), TLS: tlsOK, AuthUser: se.authUser})
	se.srv.mu.Unlock()
	return nil
}

func (se *session) Reset() {
	se.from, se.to = "", nil
}

func (se *session) Logout() error { return nil }

// testCertificate makes a throwaway CA and a server certificate for
// 127.0.0.1 and localhost, valid for a day.
func testCertificate() (caPEM []byte, cert tls.Certificate, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, cert, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, cert, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, cert, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, cert, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, cert, err
	}
	if len(leafDER) == 0 {
		return nil, cert, errors.New("empty certificate")
	}
	cert = tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), cert, nil
}
