package app_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/licenses"
)

// TestLicensesTimeoutReachesKeygen checks that licenses.timeout is the
// timeout of the key generator calls the app makes.
func TestLicensesTimeoutReachesKeygen(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  time.Duration // 0: leave the default
		want time.Duration
	}{
		{"default", 0, licenses.DefaultTimeout},
		{"configured", 3 * time.Second, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			if tc.set != 0 {
				cfg.Licenses.Timeout = tc.set
			}
			a, err := app.New(context.Background(), cfg, app.Options{LogOutput: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = a.Close(context.Background()) })
			if got := a.Licenses.Timeout(); got != tc.want {
				t.Fatalf("keygen timeout = %s, want %s", got, tc.want)
			}
		})
	}
}
