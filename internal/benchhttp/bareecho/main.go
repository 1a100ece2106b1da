// Command bareecho is the baseline of `make bench-http`: a bare echo/v4
// server whose POST /v1/sessions decodes the same JSON body as Switchyard's
// session create (the same fields, unknown fields refused) and answers 201
// with a JSON object of the same shape, and does nothing else — no
// authentication, no database, no middleware. It prints "listening on
// ADDR" once it accepts connections and stops on SIGTERM or SIGINT.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
)

// request has the fields of payments.CreateSessionRequest.
type request struct {
	Domain        string            `json:"domain"`
	Amount        json.RawMessage   `json:"amount,omitempty"`
	Currency      string            `json:"currency"`
	OrderID       string            `json:"order_id"`
	ReturnURL     string            `json:"return_url,omitempty"`
	CancelURL     string            `json:"cancel_url,omitempty"`
	CustomerEmail string            `json:"customer_email,omitempty"`
	IPNURL        string            `json:"ipn_url,omitempty"`
	Method        string            `json:"method,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
}

// response has the fields of the session create answer.
type response struct {
	SessionID   string          `json:"session_id"`
	CheckoutURL string          `json:"checkout_url"`
	Status      string          `json:"status"`
	OrderID     string          `json:"order_id"`
	Amount      json.RawMessage `json:"amount"`
	Currency    string          `json:"currency"`
	Method      *string         `json:"method"`
	ExpiresAt   string          `json:"expires_at"`
	CreatedAt   string          `json:"created_at"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "bareecho:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/v1/sessions", create)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	fmt.Println("listening on", ln.Addr().String())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

func create(c echo.Context) error {
	var req request
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	now := time.Now().UTC()
	return c.JSON(http.StatusCreated, response{
		SessionID:   "cs_01JBAREECHO0000000000000000",
		CheckoutURL: "http://127.0.0.1/checkout/cs_01JBAREECHO0000000000000000",
		Status:      "open",
		OrderID:     req.OrderID,
		Amount:      req.Amount,
		Currency:    req.Currency,
		ExpiresAt:   now.Add(24 * time.Hour).Format(time.RFC3339),
		CreatedAt:   now.Format(time.RFC3339),
	})
}
