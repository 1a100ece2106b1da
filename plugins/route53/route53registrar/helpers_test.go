package route53registrar_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/switchyard/switchyard/plugins/route53/awsfake"
	"github.com/switchyard/switchyard/plugins/route53/route53registrar"
	"github.com/switchyard/switchyard/sdk/registrar"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

const (
	testKeyID  = "AKIAFAKEROUTE53TEST1"
	testSecret = "fakeSecretKey/0123456789abcdefghijklmnop"
)

func settings(fake *awsfake.Server) map[string]string {
	return map[string]string{
		route53registrar.SettingAccessKeyID:     testKeyID,
		route53registrar.SettingSecretAccessKey: testSecret,
		route53registrar.SettingDomainsEndpoint: fake.URL(),
		route53registrar.SettingRoute53Endpoint: fake.URL(),
	}
}

// shortBackoff keeps the SDK's retry decisions but not its seconds-long
// waits.
var shortBackoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 5 * time.Millisecond, nil })

// setup returns a fake and a registrar configured against it.
func setup(t *testing.T) (*awsfake.Server, *route53registrar.Registrar) {
	t.Helper()
	fake := awsfake.New(t, testKeyID, testSecret)
	r := route53registrar.New(route53registrar.WithRetryBackoff(shortBackoff))
	if err := r.Configure(context.Background(), settings(fake)); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	t.Cleanup(func() {
		if f := fake.AuthFailures(); len(f) > 0 && !t.Failed() {
			t.Errorf("the fake refused signatures: %v", f)
		}
	})
	return fake, r
}

func wantErr(t *testing.T, what string, err error, cat sdkerr.Category, code string) {
	t.Helper()
	e, ok := sdkerr.As(err)
	if !ok || e.Category != cat || e.Code != code {
		t.Fatalf("%s: got %v, want category %s code %q", what, err, cat, code)
	}
}

// follow polls GetOperation until the operation is final and returns the
// statuses seen, in order.
func follow(t *testing.T, r registrar.Registrar, id string) (registrar.Operation, []registrar.OperationStatus) {
	t.Helper()
	var seen []registrar.OperationStatus
	for range 10 {
		op, err := r.GetOperation(context.Background(), registrar.GetOperationRequest{OperationID: id})
		if err != nil {
			t.Fatalf("GetOperation(%s): %v", id, err)
		}
		seen = append(seen, op.Status)
		if op.Status.Final() {
			return op, seen
		}
	}
	t.Fatalf("operation %s not final after 10 polls: %v", id, seen)
	return registrar.Operation{}, nil
}

func contact() registrar.Contact {
	return registrar.Contact{
		FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.org", Phone: "+44.2071234567",
		Address1: "12 St James's Square", City: "London", PostalCode: "SW1Y 4JH", CountryCode: "GB",
	}
}
