package wire

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/registrar"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

func TestStatusRoundTrip(t *testing.T) {
	for _, c := range sdkerr.Categories() {
		t.Run(string(c), func(t *testing.T) {
			in := sdkerr.New(c, "went %s", "wrong").WithCode("c1").WithField("f1")
			st, _ := status.FromError(ToStatus(in))
			if st.Code() != codeFor(c) {
				t.Errorf("code %s, want %s", st.Code(), codeFor(c))
			}
			out, ok := sdkerr.As(FromStatus(st.Err()))
			if !ok || out.Category != c || out.Code != "c1" || out.Field != "f1" || out.Message != "went wrong" {
				t.Errorf("round trip gave %+v", out)
			}
		})
	}
}

// TestForeignStatus covers servers that send bare gRPC codes (a plugin in
// another language without the ErrorInfo detail) and transport failures.
func TestForeignStatus(t *testing.T) {
	cases := []struct {
		err  error
		want sdkerr.Category
	}{
		{status.Error(codes.PermissionDenied, "x"), sdkerr.CategoryUnauthorized},
		{status.Error(codes.ResourceExhausted, "x"), sdkerr.CategoryRetryable},
		{status.Error(codes.FailedPrecondition, "x"), sdkerr.CategoryInvalidInput},
		{status.Error(codes.AlreadyExists, "x"), sdkerr.CategoryAlreadyExists},
		{status.Error(codes.Unavailable, "connection refused"), sdkerr.CategoryUnavailable},
		{status.Error(codes.Unknown, "x"), sdkerr.CategoryInternal},
		{status.Error(codes.DeadlineExceeded, "x"), sdkerr.CategoryUnavailable},
		{errors.New("not a status"), sdkerr.CategoryInternal},
		{fmt.Errorf("dial: %w", context.DeadlineExceeded), sdkerr.CategoryUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.err.Error(), func(t *testing.T) {
			if got := sdkerr.CategoryOf(FromStatus(tc.err)); got != tc.want {
				t.Errorf("category %q, want %q", got, tc.want)
			}
		})
	}
	if !errors.Is(FromStatus(status.Error(codes.DeadlineExceeded, "x")), context.DeadlineExceeded) {
		t.Error("deadline status lost errors.Is(context.DeadlineExceeded)")
	}
}

func TestToStatusContextErrors(t *testing.T) {
	if st, _ := status.FromError(ToStatus(context.Canceled)); st.Code() != codes.Canceled {
		t.Errorf("context.Canceled became %s", st.Code())
	}
	if st, _ := status.FromError(ToStatus(fmt.Errorf("upstream: %w", context.DeadlineExceeded))); st.Code() != codes.DeadlineExceeded {
		t.Errorf("deadline became %s", st.Code())
	}
	if ToStatus(nil) != nil {
		t.Error("nil error became a status")
	}
}

func TestRegistrarContactsAndTimes(t *testing.T) {
	in := registrar.RegisterRequest{
		Domain: "example.com", Years: 2, Registrant: registrar.Contact{Email: "r@x.test"},
		Tech: &registrar.Contact{Email: "t@x.test"},
	}
	out := RegisterRequestFromProto(RegisterRequestToProto(in))
	if out.Admin != nil || out.Tech == nil || out.Tech.Email != "t@x.test" || out.Registrant.Email != "r@x.test" || out.Years != 2 {
		t.Errorf("contacts changed in transit: %+v", out)
	}
	op := OperationFromProto(OperationToProto(registrar.Operation{ID: "1", SubmittedAt: time.Unix(5, 7).UTC()}))
	if !op.SubmittedAt.Equal(time.Unix(5, 7)) || !op.UpdatedAt.IsZero() {
		t.Errorf("times changed in transit: %+v", op)
	}
}

func TestRefundRoundTrip(t *testing.T) {
	in := provider.RefundRequest{
		ProviderRef: "attempt_1", SessionID: "cs_1", Amount: 1250, Currency: "USD", IdempotencyKey: "switchyard_refund_re_1",
		Reason: "duplicate", PaymentData: map[string]string{"order_id": "18304429", "order_item_id": "55"},
	}
	out := RefundRequestFromProto(RefundRequestToProto(in))
	if !reflect.DeepEqual(out, in) {
		t.Errorf("refund request changed in transit:\n got %+v\nwant %+v", out, in)
	}
	res := provider.RefundResult{RefundRef: "re_1", Status: provider.RefundFailed, Amount: 1250, FailureMessage: "card expired"}
	if got := RefundResultFromProto(RefundResultToProto(res)); got != res {
		t.Errorf("refund result changed in transit: %+v", got)
	}
}

func TestRecordChangesRoundTrip(t *testing.T) {
	in := registrar.ChangeRecordsRequest{Domain: "example.com", Changes: []registrar.RecordChange{
		{Action: registrar.RecordMerge, Record: registrar.Record{Name: "@", Type: "TXT", Values: []string{"v=spf1 include:mxlogin.com ~all"}}},
		{Action: registrar.RecordDelete, Record: registrar.Record{Name: "old", Type: "A", TTL: 60}},
	}}
	out := ChangeRecordsRequestFromProto(ChangeRecordsRequestToProto(in))
	if !reflect.DeepEqual(in, out) {
		t.Errorf("changes altered in transit:\n got %+v\nwant %+v", out, in)
	}
	recs := RecordsFromProto(RecordsToProto([]registrar.Record{{Name: "www", Type: "CNAME", TTL: 300, Values: []string{"example.com."}}}))
	if len(recs) != 1 || recs[0].Name != "www" || recs[0].TTL != 300 || recs[0].Values[0] != "example.com." {
		t.Errorf("records altered in transit: %+v", recs)
	}
}

// TestCreatePaymentRequestRoundTrip sets every field of the request to a
// distinct value by reflection, so a field added to the Go type but not to
// the converters (MerchantName once) fails here instead of arriving empty.
func TestCreatePaymentRequestRoundTrip(t *testing.T) {
	var in provider.CreatePaymentRequest
	v := reflect.ValueOf(&in).Elem()
	for i := 0; i < v.NumField(); i++ {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.String:
			f.SetString(name + " value")
		case reflect.Int64:
			f.SetInt(int64(1000 + i))
		case reflect.Map:
			f.Set(reflect.ValueOf(map[string]string{name: "v"}))
		default:
			t.Fatalf("field %s has kind %s: teach this test to fill it", name, f.Kind())
		}
	}
	out := CreatePaymentRequestFromProto(CreatePaymentRequestToProto(in))
	if !reflect.DeepEqual(out, in) {
		t.Errorf("payment request changed in transit:\n got %+v\nwant %+v", out, in)
	}
}
