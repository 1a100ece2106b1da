package wire

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of Switchyard plugin errors.
const ErrorDomain = "switchyard.dev"

// codeFor is the gRPC code a category travels as, chosen so a generic gRPC
// client (or a plugin in another language that sends no details) still gets
// the meaning right.
func codeFor(c sdkerr.Category) codes.Code {
	switch c {
	case sdkerr.CategoryInvalidInput:
		return codes.InvalidArgument
	case sdkerr.CategoryDeclined:
		return codes.FailedPrecondition
	case sdkerr.CategoryUnauthorized:
		return codes.Unauthenticated
	case sdkerr.CategoryNotFound:
		return codes.NotFound
	case sdkerr.CategoryAlreadyExists:
		return codes.AlreadyExists
	case sdkerr.CategoryUnavailable:
		return codes.Unavailable
	case sdkerr.CategoryRetryable:
		return codes.Aborted
	case sdkerr.CategoryUnimplemented:
		return codes.Unimplemented
	default:
		return codes.Internal
	}
}

// categoryFor is the fallback when a status carries no ErrorInfo detail.
// FailedPrecondition without our detail is not assumed to be a decline: a
// generic server uses it for many things, so it stays InvalidInput.
func categoryFor(c codes.Code) sdkerr.Category {
	switch c {
	case codes.InvalidArgument, codes.OutOfRange, codes.FailedPrecondition:
		return sdkerr.CategoryInvalidInput
	case codes.AlreadyExists:
		return sdkerr.CategoryAlreadyExists
	case codes.Unauthenticated, codes.PermissionDenied:
		return sdkerr.CategoryUnauthorized
	case codes.NotFound:
		return sdkerr.CategoryNotFound
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return sdkerr.CategoryUnavailable
	case codes.Aborted, codes.ResourceExhausted:
		return sdkerr.CategoryRetryable
	case codes.Unimplemented:
		return sdkerr.CategoryUnimplemented
	default:
		return sdkerr.CategoryInternal
	}
}

// ToStatus turns an implementation's error into a gRPC status error carrying
// the category, code and field. Context errors become the matching gRPC
// codes so the client sees a deadline as a deadline.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok && !isSDKError(err) {
		// Already a status (an implementation calling gRPC itself): keep it.
		return err
	}
	e, ok := sdkerr.As(err)
	if !ok {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return status.Error(codes.DeadlineExceeded, err.Error())
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, err.Error())
		}
		e = sdkerr.Wrap(sdkerr.CategoryInternal, err)
	}
	cat := e.Category
	if !cat.Valid() {
		cat = sdkerr.CategoryInternal
	}
	st := status.New(codeFor(cat), e.Message)
	info := &errdetails.ErrorInfo{Domain: ErrorDomain, Reason: string(cat)}
	if e.Code != "" || e.Field != "" {
		info.Metadata = map[string]string{}
		if e.Code != "" {
			info.Metadata["code"] = e.Code
		}
		if e.Field != "" {
			info.Metadata["field"] = e.Field
		}
	}
	if withDetails, derr := st.WithDetails(info); derr == nil {
		st = withDetails
	}
	return st.Err()
}

func isSDKError(err error) bool {
	_, ok := sdkerr.As(err)
	return ok
}

// FromStatus turns an error returned by a gRPC call into a *sdkerr.Error with
// the category the plugin meant. Deadline and cancellation keep the context
// error as cause, so errors.Is(err, context.DeadlineExceeded) holds on the
// host.
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := sdkerr.As(err); ok {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		switch {
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			return sdkerr.Wrap(sdkerr.CategoryUnavailable, err)
		}
		return sdkerr.Wrap(sdkerr.CategoryInternal, err)
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		return sdkerr.New(sdkerr.CategoryUnavailable, "plugin call: %s: %w", st.Message(), context.DeadlineExceeded)
	case codes.Canceled:
		return sdkerr.New(sdkerr.CategoryUnavailable, "plugin call: %s: %w", st.Message(), context.Canceled)
	}
	e := &sdkerr.Error{Category: categoryFor(st.Code()), Message: st.Message()}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok || info.GetDomain() != ErrorDomain {
			continue
		}
		if c := sdkerr.Category(info.GetReason()); c.Valid() {
			e.Category = c
		}
		e.Code = info.GetMetadata()["code"]
		e.Field = info.GetMetadata()["field"]
	}
	return e
}
