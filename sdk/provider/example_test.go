package provider_test

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/sdk/provider"
)

// refunding implements Refunder on top of the required methods (elided).
type refunding struct{ provider.Provider }

func (refunding) Refund(context.Context, provider.RefundRequest) (provider.RefundResult, error) {
	return provider.RefundResult{Status: provider.RefundSucceeded}, nil
}

func (refunding) HandleHTTP(context.Context, provider.HTTPRequest) (provider.HTTPResponse, error) {
	return provider.HTTPResponse{}, nil
}

// Capabilities follow from the optional interfaces a provider implements;
// the SDK reports them to the host. Guard each one at compile time.
func ExampleCapabilities() {
	var (
		_ provider.Refunder    = refunding{}
		_ provider.HTTPHandler = refunding{}
	)
	fmt.Println(provider.Capabilities(refunding{}))
	// Output:
	// [http refunds]
}
