package app_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/internal/redistest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/webhook"
)

// Scale-out limits of TestThreeInstances.
const (
	scaleRate        = 20 // api.rate_limit.requests_per_second
	scaleBurst       = 40 // api.rate_limit.burst
	scaleSessions    = 1000
	scaleKeys        = 25 // creates are spread over keys so the limit admits them
	scaleSecret      = "scale-sandbox-signing-secret"
	scaleAdminToken  = "scale-test-operator-token-0123456789"
	scalePollSeconds = 10 // jobs.poll_interval: far above any wake-up by NOTIFY
)

// scaleCluster is three `switchyard serve` processes on one PostgreSQL
// schema and one Redis.
type scaleCluster struct {
	bin, cfg string
	env      []string
	nodes    []*scaleNode
}

type scaleNode struct {
	cmd           *exec.Cmd
	public, admin string
}

// TestThreeInstances runs three real `switchyard serve` processes, with
// the real sandbox plugin, on one PostgreSQL and one Redis: a key's
// accepted rate across the three stays within rate + burst; a key revoked
// on one is refused by the other two within a second (their auth cache
// TTL is a minute); 1,000 sessions created, paid and delivered through a
// mix of instances give every session once and every delivery attempt
// once, each delivered well before the job poll interval; and `plugins
// list` shows the breakers of all three.
func TestThreeInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three switchyard serve processes")
	}
	dsn := os.Getenv(storetest.EnvPostgresDSN)
	if dsn == "" {
		storetest.ForPostgres(t, func(*testing.T, *store.Store) {}) // reports skip or required failure
		return
	}
	redisURL := redistest.URL(t)
	c := newScaleCluster(t, dsn, redisURL)
	keys := c.merchantKeys(t, scaleKeys)
	for range 3 {
		c.start(t)
	}

	t.Run("shared rate limit", func(t *testing.T) { c.rateLimit(t, keys[0]) })
	t.Run("revocation reaches every instance", func(t *testing.T) { c.revocation(t, keys[1]) })
	t.Run("1000 sessions paid and delivered once", func(t *testing.T) { c.sessions(t, keys[2:]) })
	t.Run("plugins list shows every instance's breaker", func(t *testing.T) { c.breakers(t) })
}

func newScaleCluster(t *testing.T, dsn, redisURL string) *scaleCluster {
	t.Helper()
	sandboxBin := bins.Plugin(t, "sandbox")
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "scale_" + hex.EncodeToString(b)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if st, err := store.Open(ctx, dsn, store.Options{}); err == nil {
			_, _ = st.DB().ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			_ = st.Close()
		}
	})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sy.yaml")
	yaml := `public: {addr: "127.0.0.1:0"}
admin: {addr: "127.0.0.1:0", tokens: ["` + scaleAdminToken + `"]}
log: {level: warn}
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
plugins:
  dir: "` + filepath.Dir(sandboxBin) + `"
  instances:
    - {id: sandbox, kind: provider, binary: sandbox, settings: {signing_secret: ` + scaleSecret + `}}
routing:
  rules:
    - method: card
      providers: [{id: sandbox, weight: 100}]
api:
  rate_limit: {requests_per_second: ` + strconv.Itoa(scaleRate) + `, burst: ` + strconv.Itoa(scaleBurst) + `, redis_failure: closed}
  auth_cache_ttl: 1m
jobs: {poll_interval: ` + strconv.Itoa(scalePollSeconds) + `s}
webhooks: {allow_private_targets: true}
# Every provider callback comes from 127.0.0.1: the per-source limit on
# /hooks would refuse a fast host's callbacks, and it is not under test here.
hooks: {rate_limit: {requests_per_second: 100000, burst: 100000}}
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &scaleCluster{bin: bins.Switchyard(t), cfg: cfg, env: append(hermeticEnv(),
		"SWITCHYARD_STORE_DSN="+dsn+sep+"search_path="+schema,
		"SWITCHYARD_API__RATE_LIMIT__REDIS_URL="+redisURL,
	)}
	c.cli(t, "migrate")
	return c
}

func (c *scaleCluster) cli(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(c.bin, append(args, "--config", c.cfg)...)
	cmd.Env = c.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("switchyard %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

type scaleKey struct {
	id     int64
	secret string
}

// merchantKeys creates one merchant and n API keys.
func (c *scaleCluster) merchantKeys(t *testing.T, n int) []scaleKey {
	t.Helper()
	var m struct{ ID int64 }
	if err := json.Unmarshal(c.cli(t, "merchants", "create", "--name", "Scale", "--plan", "free",
		"--domain", "shop.test", "--contact-email", "ops@shop.test", "--json"), &m); err != nil {
		t.Fatal(err)
	}
	keys := make([]scaleKey, n)
	for i := range keys {
		var k struct {
			ID  int64
			Key string
		}
		if err := json.Unmarshal(c.cli(t, "keys", "create", "--merchant", strconv.FormatInt(m.ID, 10), "--json"), &k); err != nil {
			t.Fatal(err)
		}
		keys[i] = scaleKey{k.ID, k.Key}
	}
	return keys
}

func (c *scaleCluster) start(t *testing.T) *scaleNode {
	t.Helper()
	cmd := exec.Command(c.bin, "serve", "--config", c.cfg)
	cmd.Env = c.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &scaleNode{cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("serve stderr:\n%s", stderr.String())
		}
	})
	sc := bufio.NewScanner(stdout)
	for (n.public == "" || n.admin == "") && sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "public listener: "); ok {
			n.public = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(sc.Text(), "admin listener:"); ok {
			n.admin = strings.TrimSpace(v)
		}
	}
	if n.public == "" || n.admin == "" {
		t.Fatalf("serve printed no listener addresses: %s", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	c.nodes = append(c.nodes, n)
	return n
}

var scaleClient = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport:     &http.Transport{MaxIdleConnsPerHost: 64},
}

func scaleDo(t *testing.T, method, url, token, contentType, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := scaleClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return 0, nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// rateLimit sends a key's requests to all three instances at once, as fast
// as they answer, for about a second: what they accept together stays
// within the burst plus the refill (per-instance buckets would take 3×).
func (c *scaleCluster) rateLimit(t *testing.T, k scaleKey) {
	var accepted, limited, other atomic.Int64
	start := time.Now()
	deadline := start.Add(time.Second)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := c.nodes[i%3]
			for time.Now().Before(deadline) {
				code, _, _ := scaleDo(t, http.MethodGet, n.public+"/v1/me", k.secret, "", "")
				switch code {
				case http.StatusOK:
					accepted.Add(1)
				case http.StatusTooManyRequests:
					limited.Add(1)
				default:
					other.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	max := int64(scaleBurst) + int64(elapsed.Seconds()*scaleRate) + 1
	t.Logf("in %s: %d accepted, %d limited, %d other", elapsed.Round(time.Millisecond), accepted.Load(), limited.Load(), other.Load())
	if other.Load() != 0 {
		t.Fatalf("%d answers were neither 200 nor 429", other.Load())
	}
	if limited.Load() == 0 || accepted.Load() < scaleBurst || accepted.Load() > max {
		t.Fatalf("three instances accepted %d requests of one key in %s, want %d..%d (burst %d + %d/s)",
			accepted.Load(), elapsed, scaleBurst, max, scaleBurst, scaleRate)
	}
}

// revocation warms the key in every instance's cache (TTL one minute),
// revokes it through instance one's admin API and expects the other two
// to refuse it within a second.
func (c *scaleCluster) revocation(t *testing.T, k scaleKey) {
	for _, n := range c.nodes {
		if code, _, body := scaleDo(t, http.MethodGet, n.public+"/v1/me", k.secret, "", ""); code != http.StatusOK {
			t.Fatalf("before revocation: %d %s", code, body)
		}
	}
	code, _, body := scaleDo(t, http.MethodPost, c.nodes[0].admin+"/admin/v1/keys/"+strconv.FormatInt(k.id, 10)+"/revoke", scaleAdminToken, "", "")
	if code != http.StatusOK {
		t.Fatalf("revoke: %d %s", code, body)
	}
	revoked := time.Now()
	for _, n := range c.nodes[1:] {
		for {
			code, _, _ := scaleDo(t, http.MethodGet, n.public+"/v1/me", k.secret, "", "")
			if code == http.StatusUnauthorized {
				break
			}
			if time.Since(revoked) > time.Second {
				t.Fatalf("instance %s still answers %d more than 1s after the revocation", n.public, code)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("refused by the other two instances %s after the revocation", time.Since(revoked).Round(time.Millisecond))
}

// delivery is one webhook attempt the receiver got.
type delivery struct {
	header http.Header
	body   []byte
	at     time.Time
}

// sessions creates scaleSessions sessions, each on one instance, starts
// its card payment on the next and posts the sandbox's signed callback to
// the third; every session must end paid exactly once, and every event's
// delivery attempt must reach the receiver exactly once.
func (c *scaleCluster) sessions(t *testing.T, keys []scaleKey) {
	var mu sync.Mutex
	var got []delivery
	rc := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, delivery{r.Header.Clone(), b, time.Now()})
		mu.Unlock()
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = rc.Serve(ln) }()
	defer rc.Close()

	var ep struct{ ID, Secret string }
	code, _, body := scaleDo(t, http.MethodPost, c.nodes[0].admin+"/admin/v1/endpoints", scaleAdminToken, "application/json",
		`{"merchant_id": 1, "url": "http://`+ln.Addr().String()+`/hooks"}`)
	if code != http.StatusCreated || json.Unmarshal(body, &ep) != nil {
		t.Fatalf("create endpoint: %d %s", code, body)
	}

	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= scaleSessions || t.Failed() {
					return
				}
				c.payOne(t, i, keys[i%len(keys)])
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d sessions created and paid in %s", scaleSessions, time.Since(start).Round(time.Millisecond))

	// Two events per session (session.created, session.paid), each one
	// delivery attempt to the endpoint.
	want := 2 * scaleSessions
	deadline := time.Now().Add(2 * time.Minute)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries arrived", n, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show up
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]int{}
	events := map[string]int{}
	var slowest time.Duration
	for _, d := range got {
		if err := webhook.Verify(webhook.ProfileStandard, []string{ep.Secret}, d.header, d.body, time.Hour); err != nil {
			t.Fatalf("delivery signature: %v", err)
		}
		var ev webhook.Event
		if err := json.Unmarshal(d.body, &ev); err != nil {
			t.Fatal(err)
		}
		seen[d.header.Get("webhook-id")+"/"+d.header.Get("X-Switchyard-Attempt")]++
		events[ev.Event]++
		if lag := d.at.Sub(ev.CreatedAt); lag > slowest {
			slowest = lag
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("delivery attempt %s arrived %d times", k, n)
		}
	}
	if len(got) != want || events["session.created"] != scaleSessions || events["session.paid"] != scaleSessions {
		t.Fatalf("%d deliveries (%v), want %d: one session.created and one session.paid per session", len(got), events, want)
	}
	t.Logf("slowest delivery %s after its event (job poll interval %ds)", slowest.Round(time.Millisecond), scalePollSeconds)

	st, err := store.Open(context.Background(), envValue(c.env, "SWITCHYARD_STORE_DSN"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var sessions, paid, attempts int
	q := `SELECT count(*), count(*) FILTER (WHERE status = 'paid') FROM sessions WHERE order_id LIKE 'SCALE-%'`
	if err := st.DB().QueryRowContext(context.Background(), q).Scan(&sessions, &paid); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM payment_attempts`).Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if sessions != scaleSessions || paid != scaleSessions || attempts != scaleSessions {
		t.Fatalf("database: %d sessions, %d paid, %d payment attempts; want %d of each", sessions, paid, attempts, scaleSessions)
	}
}

// payOne is one shopper: create on instance i, pay on i+1, the provider's
// callback on i+2.
func (c *scaleCluster) payOne(t *testing.T, i int, k scaleKey) {
	node := func(j int) *scaleNode { return c.nodes[(i+j)%3] }
	code, _, body := scaleDo(t, http.MethodPost, node(0).public+"/v1/sessions", k.secret, "application/json",
		fmt.Sprintf(`{"domain":"shop.test","amount":"12.34","currency":"USD","order_id":"SCALE-%d"}`, i))
	var s struct {
		SessionID string `json:"session_id"`
	}
	if code != http.StatusCreated || json.Unmarshal(body, &s) != nil {
		t.Errorf("create %d: %d %s", i, code, body)
		return
	}
	code, hdr, body := scaleDo(t, http.MethodPost, node(1).public+"/checkout/"+s.SessionID+"/pay",
		"", "application/x-www-form-urlencoded", "method=card")
	loc, err := url.Parse(hdr.Get("Location"))
	if code != http.StatusSeeOther || err != nil {
		t.Errorf("pay %d: %d %s", i, code, body)
		return
	}
	q := loc.Query()
	amount, _ := strconv.ParseInt(q.Get("amount"), 10, 64)
	form := sandbox.SignCallback(scaleSecret, sandbox.Callback{Choice: sandbox.ChoiceSucceed, Ref: q.Get("ref"),
		SessionID: q.Get("session_id"), Amount: amount, Currency: q.Get("currency"), TS: time.Now()})
	code, _, body = scaleDo(t, http.MethodPost, node(2).public+"/hooks/sandbox/sandbox", "", "application/x-www-form-urlencoded", form.Encode())
	if code != http.StatusOK {
		t.Errorf("callback %d: %d %s", i, code, body)
	}
}

// breakers expects `plugins list --json` to show the sandbox's breaker as
// reported by each of the three instances.
func (c *scaleCluster) breakers(t *testing.T) {
	var list []struct {
		ID       string
		Breakers []struct {
			InstanceID string `json:"instance_id"`
			State      string
		}
	}
	out := c.cli(t, "plugins", "list", "--json")
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("plugins list: %v\n%s", err, out)
	}
	for _, p := range list {
		if p.ID != "sandbox" {
			continue
		}
		instances := map[string]bool{}
		for _, b := range p.Breakers {
			if b.State != "closed" {
				t.Errorf("breaker on %s is %s", b.InstanceID, b.State)
			}
			instances[b.InstanceID] = true
		}
		if len(instances) != 3 {
			t.Fatalf("sandbox breakers from %d instances, want 3: %s", len(instances), out)
		}
		return
	}
	t.Fatalf("plugins list has no sandbox: %s", out)
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}
