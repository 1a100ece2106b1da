package sdktest

import (
	"context"
	"maps"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/currency"
	"google.golang.org/grpc/metadata"

	"github.com/switchyard/switchyard/sdk/internal/grpcplugin"
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

// checkUnknownSetting: Configure with one key too many must be refused,
// naming the key, and the real settings must still be accepted afterwards.
func checkUnknownSetting(t *testing.T, configure func(context.Context, map[string]string) error, settings map[string]string) {
	t.Helper()
	withUnknown := maps.Clone(settings)
	if withUnknown == nil {
		withUnknown = map[string]string{}
	}
	withUnknown[unknownSetting] = "1"
	err := configure(callCtx(t), withUnknown)
	wantCategory(t, "Configure with the unknown setting "+unknownSetting+
		" must be refused with sdk.Invalid (sdk.DecodeSettings does this), so a typo in the operator's YAML fails at start", err, sdkerr.CategoryInvalidInput)
	if e, ok := sdkerr.As(err); ok && e.Field != unknownSetting {
		t.Errorf("Configure with an unknown setting: Field %q, want %q: name the offending key in the error's Field", e.Field, unknownSetting)
	}
	if err := configure(callCtx(t), settings); err != nil {
		t.Fatalf("Configure(settings) after a refused Configure: %v (a refused Configure must leave the plugin configurable)", err)
	}
}

// checkCancelledInPlugin makes a call whose context the plugin's own server
// cancels before the implementation runs (the host's side is still live),
// so it tests the implementation, not the host-side client: it must fail
// promptly with the context's error instead of doing the work.
func checkCancelledInPlugin(t *testing.T, what string, fn func(ctx context.Context) error) {
	t.Helper()
	ctx := metadata.AppendToOutgoingContext(callCtx(t), grpcplugin.CancelBeforeCallKey, "1")
	err := fn(ctx)
	if err == nil {
		t.Fatalf("%s with a cancelled context succeeded: check ctx.Err() before doing work and pass ctx to every upstream call, "+
			"so a call the host gave up on does nothing (this check needs the host-side client from ProviderClient/Launch*, "+
			"and a plugin built with this SDK)", what)
	}
	if c := sdkerr.CategoryOf(err); c != sdkerr.CategoryUnavailable {
		t.Errorf("%s with a cancelled context: %v: return ctx.Err() (or wrap it with %%w) so the host sees category %q, got %q",
			what, err, sdkerr.CategoryUnavailable, c)
	}
}

func absoluteURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.IsAbs() && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http")
}
