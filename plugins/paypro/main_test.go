package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/plugins/paypro/payprofake"
	"github.com/switchyard/switchyard/plugins/paypro/payproprovider"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

const (
	validationKey = "vk_binary_5e1f2a"
	secretKey     = "sk_binary_91bc"
	vendorID      = 150138
	apiSecret     = "9b1c2f0e-binary-api-secret"
)

// TestBinaryConformance builds the real plugin binary and runs the provider
// conformance suite against it as the host runs it: launched by go-plugin,
// spoken to over gRPC.
func TestBinaryConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "paypro")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fake := payprofake.New(t, vendorID, apiSecret)
	var orders atomic.Int64
	p := sdktest.LaunchProvider(t, bin, host.Options{})
	sdktest.RunProviderConformance(t, p, sdktest.ProviderConformanceConfig{
		Settings: map[string]string{
			payproprovider.SettingValidationKey:   validationKey,
			payproprovider.SettingSecretKey:       secretKey,
			payproprovider.SettingDefaultProduct:  "68452",
			payproprovider.SettingVendorAccountID: strconv.Itoa(vendorID),
			payproprovider.SettingAPISecretKey:    apiSecret,
			payproprovider.SettingAPIBase:         fake.URL(),
		},
		RequiredSettings: []string{payproprovider.SettingValidationKey},
		SignedWebhook: func(t testing.TB, _ provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest {
			return chargedIPN(t, resp, nil)
		},
		// PayPro charges an order (its own order and item ids, one pair per
		// payment here) and says so in the OrderCharged IPN, whose Data the
		// host hands back to Refund; the fake API learns of the order so
		// DoRefund and DoPartialRefund can refund it.
		PayUpstream: func(t testing.TB, p provider.Client, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) map[string]string {
			order := 70000000 + orders.Add(1)
			item := order + 10000000
			ids := []string{ipn.FieldOrderID + "=" + strconv.FormatInt(order, 10), "ORDER_ITEM_ID=" + strconv.FormatInt(item, 10)}
			data := sdktest.PayWithWebhook(func(t testing.TB, _ provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest {
				return chargedIPN(t, resp, ids)
			})(t, p, req, resp)
			fake.AddOrder(payprofake.Order{ID: order, ItemID: item, Total: req.Amount, Currency: req.Currency})
			return data
		},
	})
}

// chargedIPN is PayPro's signed OrderCharged IPN for the checkout resp
// redirected to, from one of PayPro's addresses; fields override defaults.
func chargedIPN(t testing.TB, resp provider.CreatePaymentResponse, fields []string) provider.WebhookRequest {
	t.Helper()
	v, err := ipn.Simulation{Type: ipn.OrderCharged, CheckoutURL: resp.NextAction.URL, Fields: fields,
		Keys: ipn.Keys{ValidationKey: validationKey, SecretKey: secretKey}}.Build()
	if err != nil {
		t.Fatal(err)
	}
	return provider.WebhookRequest{
		Method: http.MethodPost, Path: "/hooks/paypro/prv_conformance",
		Headers:    http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body:       []byte(v.Encode()),
		RemoteAddr: "157.230.8.40:39012",
	}
}
