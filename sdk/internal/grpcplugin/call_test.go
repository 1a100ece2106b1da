package grpcplugin

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc"

	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// refusingConn fails the test if any RPC reaches it.
type refusingConn struct{ t *testing.T }

func (c refusingConn) Invoke(context.Context, string, any, any, ...grpc.CallOption) error {
	c.t.Error("RPC sent to a plugin known to have exited")
	return errors.New("unexpected rpc")
}

func (c refusingConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	c.t.Error("stream opened to a plugin known to have exited")
	return nil, errors.New("unexpected stream")
}

func TestCallsFailFastAfterPluginExit(t *testing.T) {
	done, exited := context.WithCancel(context.Background())
	exited()
	p := NewProviderClient(done, refusingConn{t})
	_, err := p.CreatePayment(context.Background(), provider.CreatePaymentRequest{})
	if sdkerr.CategoryOf(err) != sdkerr.CategoryUnavailable {
		t.Errorf("call after exit: %v, want unavailable", err)
	}
	if err := p.Configure(context.Background(), nil); sdkerr.CategoryOf(err) != sdkerr.CategoryUnavailable {
		t.Errorf("Configure after exit: %v, want unavailable", err)
	}
}
