package pluginhost

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// TestReport is the outcome of Test: what `switchyard plugins test`
// prints (--json: this shape) and what the console's "test connection"
// button shows.
type TestReport struct {
	ID      string    `json:"id"`
	Kind    meta.Kind `json:"kind"`
	Name    string    `json:"name,omitempty"`
	Version string    `json:"version,omitempty"`
	OK      bool      `json:"ok"`
	// Method says how the plugin was checked: "test_connection", or
	// "health" for a provider without a connection test.
	Method  string            `json:"method"`
	Message string            `json:"message,omitempty"`
	Details map[string]string `json:"details,omitempty"`
	Error   *TestError        `json:"error,omitempty"`
	// Packages are the provisioner's packages, when it lists them.
	Packages []string       `json:"packages,omitempty"`
	Checked  []PackageCheck `json:"checked_packages,omitempty"`
}

// TestError is why a test failed, in the SDK's terms.
type TestError struct {
	Category sdkerr.Category `json:"category"`
	Code     string          `json:"code,omitempty"`
	Message  string          `json:"message"`
}

// PackageCheck says whether a wanted package exists.
type PackageCheck struct {
	Name  string `json:"name"`
	Found bool   `json:"found"`
}

func newTestError(err error) *TestError {
	out := &TestError{Category: sdkerr.CategoryOf(err), Message: err.Error()}
	if e, ok := sdkerr.As(err); ok {
		out.Code, out.Message = e.Code, e.Message
	}
	return out
}

// Test runs instance id's connection test (TestConnection; a provider
// without one reports its health check instead) and, for a provisioner,
// checks that each wanted package exists by exact name. Errors are for
// problems before the plugin could be asked (an unknown id, packages asked
// of another kind); a failed test is in the report.
func (h *Host) Test(ctx context.Context, id string, packages []string) (*TestReport, error) {
	info, ok := h.Instance(id)
	if !ok {
		return nil, errNoInstance(id)
	}
	if len(packages) > 0 && info.Kind != meta.KindProvisioner {
		return nil, fmt.Errorf("packages apply to provisioners; %q is a %s", id, info.Kind)
	}
	report := &TestReport{ID: id, Kind: info.Kind, Name: info.Name, Version: info.Version, Method: "test_connection"}

	res, err := h.TestConnection(ctx, id)
	if sdkerr.CategoryOf(err) == sdkerr.CategoryUnimplemented && info.Kind == meta.KindProvider {
		report.Method = "health"
		res, err = h.healthAsResult(ctx, id)
	}
	if err != nil {
		report.Error = newTestError(err)
		return report, nil
	}
	report.OK, report.Message, report.Details = true, res.Message, res.Details

	if info.Kind == meta.KindProvisioner {
		if err := h.checkPackages(ctx, id, packages, report); err != nil {
			return nil, err
		}
	}
	return report, nil
}

// healthAsResult reports a provider's own health as the test result.
func (h *Host) healthAsResult(ctx context.Context, id string) (meta.TestResult, error) {
	health, err := h.CheckHealth(ctx, id)
	if err != nil {
		return meta.TestResult{}, err
	}
	msg := "the provider has no connection test; its health check says " + string(health.Status)
	if health.Message != "" {
		msg += ": " + health.Message
	}
	if health.Status != meta.HealthOK {
		return meta.TestResult{}, sdkerr.Unavailable("%s", msg)
	}
	return meta.TestResult{Message: msg}, nil
}

// checkPackages lists the provisioner's packages and checks the wanted
// ones by exact name.
func (h *Host) checkPackages(ctx context.Context, id string, wanted []string, report *TestReport) error {
	p, err := h.Provisioner(id)
	if err != nil {
		return err
	}
	pkgs, err := p.(provisioner.PackageLister).ListPackages(ctx)
	if sdkerr.CategoryOf(err) == sdkerr.CategoryUnimplemented {
		if len(wanted) > 0 {
			report.OK = false
			report.Error = &TestError{Category: sdkerr.CategoryUnimplemented, Message: "this provisioner cannot list packages, so packages cannot be checked"}
		}
		return nil
	}
	if err != nil {
		report.OK = false
		report.Error = newTestError(err)
		return nil
	}
	report.Packages = make([]string, 0, len(pkgs))
	for _, pkg := range pkgs {
		report.Packages = append(report.Packages, pkg.Name)
	}
	for _, name := range wanted {
		found := provisioner.HasPackage(pkgs, name)
		report.Checked = append(report.Checked, PackageCheck{Name: name, Found: found})
		if !found {
			report.OK = false
		}
	}
	return nil
}
