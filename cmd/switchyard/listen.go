package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/webhook"
)

// listenCmd is a local webhook receiver, like `stripe listen`: it
// registers a temporary endpoint through the admin API pointing at its own
// listener, verifies and prints every delivery, optionally relays it to
// the merchant's app, and deletes the endpoint when interrupted.
func listenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Receive, verify and print this server's webhooks locally (optionally relay them)",
		Long: `listen registers a temporary webhook endpoint with a running switchyard serve
(through the admin API) that points at a local listener, verifies every
delivery's signature, pretty-prints it and, with --forward-to, relays the
exact request to your app, answering Switchyard with your app's status. The
endpoint is deleted on exit (Ctrl-C).

The server must allow loopback targets (webhooks.allow_private_targets: true,
as in the example config).`,
		Args: cobra.NoArgs,
		RunE: runListen,
	}
	f := cmd.Flags()
	f.String("admin", "", "admin API base URL (default: http:// + admin.addr from the config)")
	f.String("token", "", "operator token (default: $SWITCHYARD_ADMIN_TOKEN, then the first admin.tokens entry)")
	f.Int64("merchant", 0, "merchant whose events to receive (required)")
	f.String("forward-to", "", "relay each verified delivery to this URL")
	f.String("addr", "127.0.0.1:0", "local listen address")
	f.StringArray("event", nil, "event type or prefix to receive (repeatable; default: all)")
	f.String("profile", webhook.ProfileStandard, "signing profile of the temporary endpoint")
	return cmd
}

// adminClient calls the admin API with an operator token.
type adminClient struct {
	base, token string
	http        *http.Client
}

func (c *adminClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("admin API %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("admin API %s %s: %d %s: %s", method, path, resp.StatusCode, e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("admin API %s %s: %d", method, path, resp.StatusCode)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func runListen(cmd *cobra.Command, _ []string) error {
	f := cmd.Flags()
	base, _ := f.GetString("admin")
	token, _ := f.GetString("token")
	merchant, _ := f.GetInt64("merchant")
	forward, _ := f.GetString("forward-to")
	addr, _ := f.GetString("addr")
	events, _ := f.GetStringArray("event")
	profile, _ := f.GetString("profile")
	if merchant <= 0 {
		return &exitError{code: 2, err: errors.New("--merchant is required")}
	}
	if token == "" {
		token = os.Getenv("SWITCHYARD_ADMIN_TOKEN")
	}
	if base == "" || token == "" {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return err
		}
		if base == "" {
			base = "http://" + cfg.Admin.Addr
		}
		if token == "" && len(cfg.Admin.Tokens) > 0 {
			token = cfg.Admin.Tokens[0].Value()
		}
	}
	if token == "" {
		return &exitError{code: 2, err: errors.New("no operator token: pass --token, set SWITCHYARD_ADMIN_TOKEN or configure admin.tokens")}
	}
	admin := &adminClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	defer ln.Close()
	target := "http://" + ln.Addr().String() + "/webhooks"

	ctx := cmd.Context()
	var ep struct {
		ID      string `json:"id"`
		Secret  string `json:"secret"`
		Profile string `json:"profile"`
	}
	err = admin.do(ctx, http.MethodPost, "/admin/v1/endpoints", map[string]any{
		"merchant_id": merchant, "url": target, "event_types": events, "profile": profile,
		"description": "switchyard listen (temporary)",
	}, &ep)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := admin.do(dctx, http.MethodDelete, "/admin/v1/endpoints/"+ep.ID, nil, nil); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "could not delete temporary endpoint %s: %v\n", ep.ID, err)
			return
		}
		fmt.Fprintf(cmd.OutOrStdout(), "temporary endpoint %s deleted\n", ep.ID)
	}()

	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "Ready: endpoint %s (%s) for merchant %d → %s\n", ep.ID, ep.Profile, merchant, target)
	if forward != "" {
		fmt.Fprintf(out, "Forwarding verified deliveries to %s\n", forward)
	}
	fmt.Fprintln(out, "Waiting for webhooks (Ctrl-C to stop)…")

	relay := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: &listenHandler{
			profile: ep.Profile, secret: ep.Secret, forward: forward, relay: relay, out: out,
		},
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// listenHandler verifies, prints and optionally relays each delivery.
type listenHandler struct {
	profile, secret, forward string
	relay                    *http.Client

	mu  sync.Mutex // deliveries arrive concurrently; print each whole
	out io.Writer
}

func (h *listenHandler) print(b *bytes.Buffer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, _ = h.out.Write(b.Bytes())
}

func (h *listenHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	verr := webhook.Verify(h.profile, []string{h.secret}, r.Header, body, 0)
	var ev webhook.Event
	_ = json.Unmarshal(body, &ev)
	var log bytes.Buffer
	defer h.print(&log)
	mark := "verified"
	if verr != nil {
		mark = "SIGNATURE INVALID: " + verr.Error()
	}
	fmt.Fprintf(&log, "\n%s  %s  %s  seq %d  attempt %s  [%s]\n", time.Now().Format("15:04:05"), ev.Event, ev.ID, ev.Sequence,
		r.Header.Get("X-Switchyard-Attempt"), mark)
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "  ", "  ") == nil {
		fmt.Fprintf(&log, "  %s\n", pretty.String())
	} else {
		fmt.Fprintf(&log, "  %s\n", body)
	}
	if verr != nil {
		// Never relay what did not verify: the app behind must be able to
		// trust what listen hands it.
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	if h.forward == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, h.forward, bytes.NewReader(body))
	if err != nil {
		http.Error(w, "bad --forward-to", http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := h.relay.Do(req)
	if err != nil {
		fmt.Fprintf(&log, "  → forward failed: %v\n", err)
		http.Error(w, "forward failed", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	fmt.Fprintf(&log, "  → %s answered %d\n", h.forward, resp.StatusCode)
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}
