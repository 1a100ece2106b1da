package sdk_test

import (
	"context"
	"testing"

	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// BenchmarkCreatePayment compares a direct in-process call with the same
// call through the real gRPC adapters (harness: in-process server, unix
// socket); the difference is the SDK's per-call overhead.
func BenchmarkCreatePayment(b *testing.B) {
	req := provider.CreatePaymentRequest{
		SessionID: "cs_bench", Amount: 4995, Currency: "USD", Method: "card",
		ReturnURL: "https://r.test/", Metadata: map[string]string{"order_id": "1"},
	}
	run := func(b *testing.B, p provider.Provider) {
		ctx := context.Background()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := p.CreatePayment(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("in_process", func(b *testing.B) { run(b, &scripted{}) })
	b.Run("grpc_adapters", func(b *testing.B) { run(b, sdktest.ProviderClient(b, &scripted{})) })
}
