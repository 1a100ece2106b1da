package sdktest

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/currency"

	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// callTimeout bounds every call the suites make, so a plugin that ignores
// its context fails the test instead of hanging it.
const callTimeout = 10 * time.Second

func callCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

var (
	machineName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
)

func checkInfo(t *testing.T, info meta.Info, want meta.Kind) {
	t.Helper()
	if info.Name == "" {
		t.Error("Describe: empty Name")
	}
	if info.Version == "" {
		t.Error("Describe: empty Version")
	}
	if info.Kind != want {
		t.Errorf("Describe: Kind = %q, want %q", info.Kind, want)
	}
}

// validCurrency reports whether code is an upper-case ISO 4217 code.
func validCurrency(code string) bool {
	if len(code) != 3 || code != strings.ToUpper(code) {
		return false
	}
	_, err := currency.ParseISO(code)
	return err == nil
}

// wantCategory fails unless err carries one of the categories.
func wantCategory(t *testing.T, what string, err error, want ...sdkerr.Category) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want category %v", what, want)
		return
	}
	got := sdkerr.CategoryOf(err)
	for _, w := range want {
		if got == w {
			return
		}
	}
	t.Errorf("%s: category %q (%v), want one of %v", what, got, err, want)
}

func checkConfigure(t *testing.T, configure func(context.Context, map[string]string) error, settings map[string]string, required []string) {
	t.Helper()
	for _, key := range required {
		partial := map[string]string{}
		for k, v := range settings {
			if k != key {
				partial[k] = v
			}
		}
		err := configure(callCtx(t), partial)
		wantCategory(t, "Configure without required setting "+key, err, sdkerr.CategoryInvalidInput)
	}
	if err := configure(callCtx(t), settings); err != nil {
		t.Fatalf("Configure(settings): %v", err)
	}
}

func checkHealthy(t *testing.T, check func(context.Context) (meta.Health, error)) {
	t.Helper()
	h, err := check(callCtx(t))
	if err != nil {
		t.Fatalf("CheckHealth: %v", err)
	}
	if h.Status != meta.HealthOK {
		t.Errorf("CheckHealth after Configure = %q (%s), want %q", h.Status, h.Message, meta.HealthOK)
	}
}

// checkCancelled calls fn with an already cancelled context: it must fail,
// with the cancellation visible to the host.
func checkCancelled(t *testing.T, fn func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := fn(ctx)
	if err == nil {
		t.Fatal("call with a cancelled context succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("call with a cancelled context: %v, want errors.Is(err, context.Canceled)", err)
	}
	if c := sdkerr.CategoryOf(err); c != sdkerr.CategoryUnavailable {
		t.Errorf("call with a cancelled context: category %q, want %q", c, sdkerr.CategoryUnavailable)
	}
}

func absoluteURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.IsAbs() && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http")
}
