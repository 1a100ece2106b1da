package main

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/plugins/paypro/ipn"
)

// Environment variables the PayPro simulator reads its keys from, so they
// need not appear on the command line (and in shell history).
const (
	envPayProValidationKey = "PAYPRO_VALIDATION_KEY"
	envPayProSecretKey     = "PAYPRO_SECRET_KEY"
)

// simulateCmd groups the provider webhook simulators.
func simulateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Send simulated provider webhooks to an endpoint",
	}
	cmd.AddCommand(simulatePayProCmd())
	return cmd
}

func simulatePayProCmd() *cobra.Command {
	var (
		typ, target, checkoutURL, validationKey, secretKey, orderID string
		fields                                                      []string
		resent, test, dryRun                                        bool
		timeout                                                     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "paypro --type TYPE --url URL [--field KEY=VALUE …]",
		Short: "Send a correctly signed PayPro Global IPN",
		Long: `Send a PayPro Global IPN of any type, signed with SIGNATURE (validation key)
and HASH (secret key), with realistic default fields like PayPro's own IPN
simulator, and print the endpoint's answer.

Types are given by name or number: ` + typeList() + `.

--checkout-url makes the IPN describe an order placed through a checkout
redirect URL that Switchyard returned (session fields, product, currency,
price, email, test mode). --field overrides any field last; "KEY" alone
removes it. Keys default to $` + envPayProValidationKey + ` and $` + envPayProSecretKey + `.

Every run is a new PayPro order with a fresh ORDER_ID (printed with the
answer), as PayPro numbers each order: Switchyard de-duplicates IPNs by
order and type, so a constant id would make a second session's OrderCharged
look like a repeat of the first. To send further IPNs about the same order
(a refund, a chargeback, a resend), pass its id with --order-id.

The exit status is 0 when the endpoint answered 2xx, 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := ipn.ParseType(typ)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if validationKey == "" {
				validationKey = os.Getenv(envPayProValidationKey)
			}
			if secretKey == "" {
				secretKey = os.Getenv(envPayProSecretKey)
			}
			if validationKey == "" {
				return &exitError{code: 2, err: fmt.Errorf("a validation key is required: --validation-key or $%s", envPayProValidationKey)}
			}
			order, err := simulatedOrderID(orderID, fields)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			orderFields := []string{ipn.FieldOrderID + "=" + order}
			if t == ipn.TrialCharge {
				orderFields = append(orderFields, "SUBSCRIPTION_INITIAL_ORDER_ID="+order)
			}
			sim := ipn.Simulation{
				Type: t, CheckoutURL: checkoutURL, Fields: append(orderFields, fields...), Resent: resent, Test: test,
				Keys: ipn.Keys{ValidationKey: validationKey, SecretKey: secretKey},
			}
			values, err := sim.Build()
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if dryRun {
				fmt.Fprintln(cmd.OutOrStdout(), values.Encode())
				return nil
			}
			if target == "" {
				return &exitError{code: 2, err: fmt.Errorf("--url is required")}
			}
			if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return &exitError{code: 2, err: fmt.Errorf("--url %q is not an absolute http(s) URL", target)}
			}
			client := &http.Client{Timeout: timeout}
			resp, err := ipn.Post(cmd.Context(), client, target, values)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s %s → %d %s\n", t, values.Get(ipn.FieldOrderID), resp.Status, http.StatusText(resp.Status))
			if len(resp.Body) > 0 {
				fmt.Fprintln(out, strings.TrimRight(string(resp.Body), "\n"))
			}
			if resp.Status < 200 || resp.Status > 299 {
				return &exitError{code: 1, err: fmt.Errorf("the endpoint answered %d", resp.Status)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&typ, "type", "OrderCharged", "IPN type, by name or number")
	f.StringVar(&target, "url", "", "IPN endpoint, e.g. https://pay.example.com/hooks/paypro/prv_…")
	f.StringVar(&checkoutURL, "checkout-url", "", "describe an order placed through this checkout redirect URL")
	f.StringVar(&orderID, "order-id", "", "ORDER_ID of the order the IPN is about (default: a fresh one per run)")
	f.StringArrayVar(&fields, "field", nil, "override a field: KEY=VALUE (repeatable)")
	f.StringVar(&validationKey, "validation-key", "", "PayPro validation key, for SIGNATURE (default $"+envPayProValidationKey+")")
	f.StringVar(&secretKey, "secret-key", "", "PayPro secret key, for HASH (default $"+envPayProSecretKey+")")
	f.BoolVar(&resent, "resent", false, "mark the IPN as resent (IS_RESENT=1)")
	f.BoolVar(&test, "test-order", false, "mark the IPN as a test order (TEST_MODE=1)")
	f.BoolVar(&dryRun, "dry-run", false, "print the signed form body instead of sending it")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for the endpoint")
	return cmd
}

func typeList() string {
	names := make([]string, 0, len(ipn.Types()))
	for _, t := range ipn.Types() {
		names = append(names, fmt.Sprintf("%d %s", int(t), t))
	}
	return strings.Join(names, ", ")
}

// simulatedOrderID is the order the simulated IPN is about: --order-id, an
// ORDER_ID given with --field (which is applied last anyway), or a fresh
// random 9-digit id.
func simulatedOrderID(flag string, fields []string) (string, error) {
	if flag != "" {
		if n, err := strconv.ParseInt(flag, 10, 64); err != nil || n <= 0 {
			return "", fmt.Errorf("--order-id %q is not a positive integer", flag)
		}
		return flag, nil
	}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok && strings.TrimSpace(k) == ipn.FieldOrderID {
			return v, nil
		}
	}
	n, err := rand.Int(rand.Reader, big.NewInt(900_000_000))
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(100_000_000+n.Int64(), 10), nil
}
