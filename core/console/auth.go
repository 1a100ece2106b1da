package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// Operator is who a token logs in as.
type Operator struct {
	Name string
	Role string
	// digest is the token's SHA-256, compared in constant time.
	digest [32]byte
	// fp identifies the token in stored sessions, so a session ends when
	// its token is rotated out of the configuration.
	fp string
}

// CanAct reports whether the role may change anything.
func (o Operator) CanAct() bool { return o.Role == config.RoleOperator }

// Session is a logged-in operator's console session.
type Session struct {
	// ID is the SHA-256 of the cookie secret; it never leaves the server.
	ID         string
	Operator   Operator
	CSRF       string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// Flash is the notice left for this page by the previous action, if
	// any; Resume has already cleared it from the store.
	Flash *Flash
}

// Flash is a one-time notice shown on the page after an action.
type Flash struct {
	// Error marks a failure (shown as an alert); otherwise a success.
	Error   bool   `json:"error,omitempty"`
	Message string `json:"message"`
}

// CheckCSRF reports whether token is this session's form token.
func (s *Session) CheckCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) == 1
}

// Client is what is recorded about the browser that logged in.
type Client struct {
	RemoteAddr string
	UserAgent  string
}

// AuthOptions configures Auth.
type AuthOptions struct {
	// Operators are the admin tokens with defaults filled in
	// (config.AdminConfig.Operators).
	Operators   []config.AdminToken
	IdleTimeout time.Duration
	MaxAge      time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Auth logs operators in and out and resumes their sessions.
type Auth struct {
	store     *store.Store
	operators []Operator
	idle      time.Duration
	maxAge    time.Duration
	now       func() time.Time
}

// touchEvery bounds how often a session's last use is written: the idle
// timeout is enforced to within this.
const touchEvery = 15 * time.Second

// Errors of Login and Resume. Both are domain.ErrUnauthorized.
var (
	ErrBadToken  = &domain.Error{Kind: domain.ErrUnauthorized, Code: "invalid_token", Message: "that token is not an operator token"}
	ErrNoSession = &domain.Error{Kind: domain.ErrUnauthorized, Code: "session_expired", Message: "your console session has ended; sign in again"}
)

// NewAuth builds the login service.
func NewAuth(st *store.Store, opts AuthOptions) *Auth {
	a := &Auth{store: st, idle: opts.IdleTimeout, maxAge: opts.MaxAge, now: opts.Now}
	if a.now == nil {
		a.now = time.Now
	}
	if a.idle <= 0 {
		a.idle = 30 * time.Minute
	}
	if a.maxAge <= 0 {
		a.maxAge = 12 * time.Hour
	}
	for _, t := range opts.Operators {
		if t.Value() == "" {
			continue
		}
		a.operators = append(a.operators, Operator{Name: t.Name, Role: t.Role,
			digest: sha256.Sum256([]byte(t.Value())), fp: fingerprint(t.Value())})
	}
	return a
}

// IdleTimeout is how long an unused session lives.
func (a *Auth) IdleTimeout() time.Duration { return a.idle }

// fingerprint names a token without revealing it: a domain-separated
// SHA-256, shortened. Tokens have at least 16 characters, so it cannot be
// reversed by guessing.
func fingerprint(token string) string {
	sum := sha256.Sum256([]byte("switchyard console token\x00" + token))
	return hex.EncodeToString(sum[:12])
}

// Identify returns the operator a token belongs to. Every configured
// token is compared, in constant time, so timing says nothing about which
// (or whether one) matched.
func (a *Auth) Identify(token string) (Operator, bool) {
	d := sha256.Sum256([]byte(token))
	found := -1
	for i, op := range a.operators {
		if subtle.ConstantTimeCompare(d[:], op.digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 || token == "" {
		return Operator{}, false
	}
	return a.operators[found], true
}

// Login exchanges an operator token for a new session. It returns the
// session and the secret for the cookie (shown nowhere else).
func (a *Auth) Login(ctx context.Context, token string, client Client) (*Session, string, error) {
	op, ok := a.Identify(token)
	if !ok {
		return nil, "", ErrBadToken
	}
	secret, err := randomToken()
	if err != nil {
		return nil, "", err
	}
	csrf, err := randomToken()
	if err != nil {
		return nil, "", err
	}
	now := a.now().UTC().Truncate(time.Microsecond)
	row := &store.ConsoleSession{
		ID: sessionID(secret), Operator: op.Name, TokenFP: op.fp, CSRF: csrf,
		RemoteAddr: client.RemoteAddr, UserAgent: clipUA(client.UserAgent),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(a.maxAge),
	}
	// Logins are rare: a good moment to drop sessions that ended.
	if _, err := a.store.DeleteStaleConsoleSessions(ctx, now, now.Add(-a.idle)); err != nil {
		return nil, "", err
	}
	if err := a.store.InsertConsoleSession(ctx, row); err != nil {
		return nil, "", err
	}
	return a.session(row, op), secret, nil
}

// Resume returns the live session a cookie secret names and records its
// use. A session that is unknown, past its maximum age, idle too long, or
// whose operator's token is no longer configured (rotated, removed) is
// ErrNoSession; the ended ones are deleted.
func (a *Auth) Resume(ctx context.Context, secret string) (*Session, error) {
	if secret == "" {
		return nil, ErrNoSession
	}
	row, err := a.store.GetConsoleSession(ctx, sessionID(secret))
	if errors.Is(err, domain.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	now := a.now().UTC().Truncate(time.Microsecond)
	op, ok := a.operatorFor(row)
	if !ok || !now.Before(row.ExpiresAt) || now.Sub(row.LastSeenAt) >= a.idle {
		if err := a.store.DeleteConsoleSession(ctx, row.ID); err != nil {
			return nil, err
		}
		return nil, ErrNoSession
	}
	if now.Sub(row.LastSeenAt) >= touchEvery {
		if err := a.store.TouchConsoleSession(ctx, row.ID, now); err != nil {
			return nil, err
		}
		row.LastSeenAt = now
	}
	sess := a.session(row, op)
	if row.Flash != "" {
		var f Flash
		if json.Unmarshal([]byte(row.Flash), &f) == nil && f.Message != "" {
			sess.Flash = &f
		}
		if err := a.store.SetConsoleFlash(ctx, row.ID, ""); err != nil {
			return nil, err
		}
	}
	return sess, nil
}

// SetFlash leaves a notice for the session's next page.
func (a *Auth) SetFlash(ctx context.Context, s *Session, f Flash) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return a.store.SetConsoleFlash(ctx, s.ID, string(b))
}

// Logout ends the session a cookie secret names; an unknown one is fine.
func (a *Auth) Logout(ctx context.Context, secret string) error {
	if secret == "" {
		return nil
	}
	return a.store.DeleteConsoleSession(ctx, sessionID(secret))
}

// operatorFor finds the configured operator that logged the session in:
// same name, same token. Its role is read from the configuration now, so
// a role change applies to running sessions.
func (a *Auth) operatorFor(row *store.ConsoleSession) (Operator, bool) {
	for _, op := range a.operators {
		if op.Name == row.Operator && subtle.ConstantTimeCompare([]byte(op.fp), []byte(row.TokenFP)) == 1 {
			return op, true
		}
	}
	return Operator{}, false
}

func (a *Auth) session(row *store.ConsoleSession, op Operator) *Session {
	return &Session{ID: row.ID, Operator: op, CSRF: row.CSRF, CreatedAt: row.CreatedAt,
		LastSeenAt: row.LastSeenAt, ExpiresAt: row.ExpiresAt}
}

// sessionID is what the store keys a session by: the cookie secret's
// SHA-256, so reading the table does not yield usable cookies.
func sessionID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// randomToken is 32 random bytes, base64url without padding.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewToken returns a fresh random token (for the login form's cookie).
func NewToken() (string, error) { return randomToken() }

func clipUA(s string) string {
	if len(s) > 300 {
		return s[:300]
	}
	return s
}

// IdentifyToken is Identify in the shape the admin API's access check
// takes (httpapi.IdentifyFunc).
func (a *Auth) IdentifyToken(token string) (name, role string, ok bool) {
	op, ok := a.Identify(token)
	return op.Name, op.Role, ok
}
