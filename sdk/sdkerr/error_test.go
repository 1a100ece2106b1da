package sdkerr_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/switchyard/switchyard/sdk/sdkerr"
)

func TestCategoryOf(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want sdkerr.Category
	}{
		{"nil", nil, ""},
		{"plain", errors.New("boom"), sdkerr.CategoryInternal},
		{"declined", sdkerr.Declined("card declined"), sdkerr.CategoryDeclined},
		{"wrapped", fmt.Errorf("create: %w", sdkerr.NotFound("no payment")), sdkerr.CategoryNotFound},
		{"deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), sdkerr.CategoryUnavailable},
		{"cancelled", context.Canceled, sdkerr.CategoryUnavailable},
		{"sdk error wins over its cause", sdkerr.Invalid("bad: %w", context.Canceled), sdkerr.CategoryInvalidInput},
		{"unknown category", &sdkerr.Error{Category: "weird"}, sdkerr.CategoryInternal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := sdkerr.CategoryOf(tc.err); got != tc.want {
				t.Errorf("CategoryOf(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestConstructors(t *testing.T) {
	cases := []struct {
		build func(string, ...any) *sdkerr.Error
		want  sdkerr.Category
	}{
		{sdkerr.Invalid, sdkerr.CategoryInvalidInput},
		{sdkerr.Declined, sdkerr.CategoryDeclined},
		{sdkerr.Unauthorized, sdkerr.CategoryUnauthorized},
		{sdkerr.NotFound, sdkerr.CategoryNotFound},
		{sdkerr.AlreadyExists, sdkerr.CategoryAlreadyExists},
		{sdkerr.Unavailable, sdkerr.CategoryUnavailable},
		{sdkerr.Retryable, sdkerr.CategoryRetryable},
		{sdkerr.Unimplemented, sdkerr.CategoryUnimplemented},
		{sdkerr.Internal, sdkerr.CategoryInternal},
	}
	for _, tc := range cases {
		t.Run(string(tc.want), func(t *testing.T) {
			e := tc.build("thing %d failed", 7)
			if e.Category != tc.want || e.Message != "thing 7 failed" {
				t.Errorf("got %+v", e)
			}
			if !tc.want.Valid() {
				t.Errorf("%q not Valid", tc.want)
			}
		})
	}
	if len(sdkerr.Categories()) != len(cases) {
		t.Errorf("Categories() has %d entries, constructors cover %d", len(sdkerr.Categories()), len(cases))
	}
}

func TestWrappingAndDetails(t *testing.T) {
	e := sdkerr.Unavailable("upstream: %w", io.ErrUnexpectedEOF).WithCode("upstream_eof").WithField("api_url")
	if !errors.Is(e, io.ErrUnexpectedEOF) {
		t.Error("cause lost")
	}
	if got, want := e.Error(), "unavailable (upstream_eof): upstream: unexpected EOF [field api_url]"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	base := sdkerr.Declined("no")
	_ = base.WithCode("x")
	if base.Code != "" {
		t.Error("WithCode mutated the receiver")
	}
	if sdkerr.Wrap(sdkerr.CategoryInternal, nil) != nil {
		t.Error("Wrap(nil) should be nil")
	}
}
