package sdk_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
)

// A plugin's main is one call; report what Serve returns.
func ExampleServe() {
	var gateway provider.Provider = &scripted{} // your provider.Provider
	if err := sdk.Serve(sdk.ServeOpts{Provider: gateway}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Configure decodes its settings into a tagged struct, then checks what the
// tags cannot say with InvalidSetting.
func ExampleDecodeSettings() {
	type config struct {
		APIKey   string            `setting:"api_key,required,secret"`
		APIBase  url.URL           `setting:"api_base" default:"https://api.acme.test"`
		Timeout  time.Duration     `setting:"timeout" default:"10s"`
		Methods  []string          `setting:"methods" default:"card"`
		Products map[string]int64  `setting:"product_*"`
		Labels   map[string]string `setting:"label_*"`
	}
	var c config
	err := sdk.DecodeSettings(map[string]string{
		"api_key": "k_test_1", "timeout": "30s", "methods": "card, wallet", "product_card": "68452",
	}, &c)
	fmt.Println(err, c.APIBase.Host, c.Timeout, c.Methods, c.Products["card"])

	err = sdk.DecodeSettings(map[string]string{"api_key": "k", "timeuot": "30s"}, &c)
	e, _ := sdk.AsError(err)
	fmt.Println(e.Category, e.Code, e.Field)
	fmt.Println(e.Message)
	// Output:
	// <nil> api.acme.test 30s [card wallet] 68452
	// invalid_input invalid_setting timeuot
	// unknown setting "timeuot"
}

// InvalidSetting reports a value that decoded but cannot be used.
func ExampleInvalidSetting() {
	err := sdk.InvalidSetting("mode", "a live key needs mode %q", "live")
	fmt.Println(err)
	// Output:
	// invalid_input (invalid_setting): setting mode: a live key needs mode "live" [field mode]
}

// Logger(ctx) is the plugin's logger inside a call; in a unit test that
// calls the implementation directly, put one in the context with WithLogger.
func ExampleLogger() {
	l := hclog.New(&hclog.LoggerOptions{Output: os.Stdout, DisableTime: true})
	ctx := sdk.WithLogger(context.Background(), l.With("rpc", "CreatePayment"))
	sdk.Logger(ctx).Info("creating checkout", "session", "cs_1")
	// Output:
	// [INFO]  creating checkout: rpc=CreatePayment session=cs_1
}

// Errors carry a category across the process boundary; the host reads it
// with CategoryOf.
func ExampleDeclined() {
	err := sdk.Declined("card declined by the issuer").WithCode("insufficient_funds")
	fmt.Println(sdk.CategoryOf(err), err.Code)
	// Output:
	// declined insufficient_funds
}
