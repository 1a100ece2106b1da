package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
)

// prepareHookEvents creates n sessions through the merchant API, starts a
// card payment on each through the hosted checkout (the sandbox plugin
// creates the attempt and its signed pay link), and returns one signed
// "succeed" callback per session, form-encoded, one per line: what the
// sandbox pay page posts to /hooks, signed as the plugin signs it.
func prepareHookEvents(ctx context.Context, in *instance, n int, prefix string) ([]byte, error) {
	client := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: 32},
	}
	lines := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				line, err := oneHookEvent(ctx, client, in, fmt.Sprintf("%s-%d", prefix, i))
				if err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
				lines[i] = line
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return []byte(strings.Join(lines, "\n") + "\n"), nil
}

func oneHookEvent(ctx context.Context, c *http.Client, in *instance, order string) (string, error) {
	body, _ := json.Marshal(map[string]string{"domain": "shop.test", "amount": "49.95", "currency": "USD", "order_id": order})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, in.public+"/v1/sessions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+in.key)
	status, _, raw, err := do(c, req)
	if err != nil {
		return "", err
	}
	var s struct {
		SessionID string `json:"session_id"`
	}
	if status != http.StatusCreated || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("create session for intake: %d %s", status, raw)
	}

	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, in.public+"/checkout/"+s.SessionID+"/pay", strings.NewReader("method=card"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, hdr, raw, err := do(c, req)
	if err != nil {
		return "", err
	}
	loc, err := url.Parse(hdr.Get("Location"))
	if status != http.StatusSeeOther || err != nil || !strings.Contains(loc.Path, "/p/sandbox/pay/") {
		return "", fmt.Errorf("checkout pay: %d, Location %q: %s", status, hdr.Get("Location"), raw)
	}
	q := loc.Query()
	amount, err := strconv.ParseInt(q.Get("amount"), 10, 64)
	if err != nil {
		return "", fmt.Errorf("pay link amount %q: %w", q.Get("amount"), err)
	}
	form := sandbox.SignCallback(benchSigningSecret, sandbox.Callback{
		Choice: sandbox.ChoiceSucceed, Ref: q.Get("ref"), SessionID: q.Get("session_id"),
		Amount: amount, Currency: q.Get("currency"), TS: time.Now(),
	})
	return form.Encode(), nil
}

func do(c *http.Client, req *http.Request) (int, http.Header, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}
