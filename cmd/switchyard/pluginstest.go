package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

func pluginsTestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "test ID",
		Short: "Launch one plugin instance and check its credentials against its upstream (TestConnection)",
		Long: "Launches the instance exactly as serve would, calls its TestConnection (a WHM token, SMTP " +
			"credentials, a registrar's keys …; nothing is changed upstream) and prints the result. A " +
			"provider without a connection test reports its health check instead. For a provisioner that " +
			"lists packages, the packages are shown and each --package must exist, named exactly. " +
			"Exits non-zero when the test fails or a package is missing. A disabled instance is not " +
			"launched: enable it (for example through its env: switch) to test it.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			packages, _ := cmd.Flags().GetStringArray("package")
			report, err := testPlugin(cmd, cfg, args[0], packages)
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				if err := printJSON(cmd.OutOrStdout(), report); err != nil {
					return err
				}
			} else {
				report.print(cmd.OutOrStdout())
			}
			return report.failure()
		},
	}
	cmd.Flags().StringArray("package", nil, "provisioners: a package that must exist (exact name; repeatable)")
	addJSONFlag(cmd)
	return cmd
}

// pluginTestReport is what `plugins test` prints (--json: this shape).
type pluginTestReport struct {
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
	Error   *reportError      `json:"error,omitempty"`
	// Packages are the provisioner's packages, when it lists them.
	Packages []string       `json:"packages,omitempty"`
	Checked  []packageCheck `json:"checked_packages,omitempty"`
}

type reportError struct {
	Category sdkerr.Category `json:"category"`
	Code     string          `json:"code,omitempty"`
	Message  string          `json:"message"`
}

type packageCheck struct {
	Name  string `json:"name"`
	Found bool   `json:"found"`
}

func newReportError(err error) *reportError {
	out := &reportError{Category: sdkerr.CategoryOf(err), Message: err.Error()}
	if e, ok := sdkerr.As(err); ok {
		out.Code, out.Message = e.Code, e.Message
	}
	return out
}

// testPlugin launches instance id alone and runs its connection test.
// Errors are for problems before the plugin could be asked (an unknown
// or disabled id, a plugin that does not start); a failed test is in the
// report.
func testPlugin(cmd *cobra.Command, cfg *config.Config, id string, packages []string) (*pluginTestReport, error) {
	i := slices.IndexFunc(cfg.Plugins.Instances, func(in config.PluginInstance) bool { return in.ID == id })
	if i < 0 {
		return nil, &exitError{code: 2, err: fmt.Errorf("no plugin instance %q in plugins.instances", id)}
	}
	inst := cfg.Plugins.Instances[i]
	if !inst.IsEnabled() {
		return nil, fmt.Errorf("plugin instance %q is disabled (enabled: false or an unset env: switch); enable it to test it", id)
	}
	if len(packages) > 0 && inst.Kind != string(meta.KindProvisioner) {
		return nil, &exitError{code: 2, err: fmt.Errorf("--package applies to provisioners; %q is a %s", id, inst.Kind)}
	}
	only := cfg.Plugins
	only.Instances = []config.PluginInstance{inst}
	h, err := quietHost(cmd, cfg.Log, only)
	if err != nil {
		return nil, err
	}
	ctx := cmd.Context()
	defer closeHost(ctx, h)
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("start plugin %s: %w", id, err)
	}
	info, _ := h.Instance(id)
	report := &pluginTestReport{ID: id, Kind: info.Kind, Name: info.Name, Version: info.Version, Method: "test_connection"}

	res, err := h.TestConnection(ctx, id)
	if sdkerr.CategoryOf(err) == sdkerr.CategoryUnimplemented && info.Kind == meta.KindProvider {
		report.Method = "health"
		res, err = healthAsResult(ctx, h, id)
	}
	if err != nil {
		report.Error = newReportError(err)
		return report, nil
	}
	report.OK, report.Message, report.Details = true, res.Message, res.Details

	if info.Kind == meta.KindProvisioner {
		if err := checkPackages(ctx, h, id, packages, report); err != nil {
			return nil, err
		}
	}
	return report, nil
}

// healthAsResult reports a provider's own health as the test result.
func healthAsResult(ctx context.Context, h *pluginhost.Host, id string) (meta.TestResult, error) {
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
func checkPackages(ctx context.Context, h *pluginhost.Host, id string, wanted []string, report *pluginTestReport) error {
	p, err := h.Provisioner(id)
	if err != nil {
		return err
	}
	pkgs, err := p.(provisioner.PackageLister).ListPackages(ctx)
	if sdkerr.CategoryOf(err) == sdkerr.CategoryUnimplemented {
		if len(wanted) > 0 {
			report.OK = false
			report.Error = &reportError{Category: sdkerr.CategoryUnimplemented, Message: "this provisioner cannot list packages, so --package cannot be checked"}
		}
		return nil
	}
	if err != nil {
		report.OK = false
		report.Error = newReportError(err)
		return nil
	}
	report.Packages = make([]string, 0, len(pkgs))
	for _, pkg := range pkgs {
		report.Packages = append(report.Packages, pkg.Name)
	}
	for _, name := range wanted {
		found := provisioner.HasPackage(pkgs, name)
		report.Checked = append(report.Checked, packageCheck{Name: name, Found: found})
		if !found {
			report.OK = false
		}
	}
	return nil
}

func (r *pluginTestReport) print(w io.Writer) {
	what := string(r.Kind)
	if r.Name != "" {
		what += " " + r.Name + " " + r.Version
	}
	status := "connection OK"
	if r.Error != nil {
		status = "connection test FAILED"
	}
	fmt.Fprintf(w, "plugin %s (%s): %s\n", r.ID, what, status)
	if r.Message != "" {
		fmt.Fprintf(w, "  %s\n", r.Message)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Details)) {
		fmt.Fprintf(w, "  %s: %s\n", k, r.Details[k])
	}
	if r.Error != nil {
		code := ""
		if r.Error.Code != "" {
			code = ", " + r.Error.Code
		}
		fmt.Fprintf(w, "  error (%s%s): %s\n", r.Error.Category, code, r.Error.Message)
	}
	if r.Packages != nil {
		fmt.Fprintf(w, "packages (%d): %s\n", len(r.Packages), strings.Join(r.Packages, ", "))
	}
	for _, c := range r.Checked {
		if c.Found {
			fmt.Fprintf(w, "package %q: found\n", c.Name)
		} else {
			fmt.Fprintf(w, "package %q: NOT FOUND (names are exact, reseller prefix included)\n", c.Name)
		}
	}
}

// failure is the command's error when the test did not pass.
func (r *pluginTestReport) failure() error {
	switch {
	case r.Error != nil:
		return fmt.Errorf("plugin %s: connection test failed (%s)", r.ID, r.Error.Category)
	case !r.OK:
		var missing []string
		for _, c := range r.Checked {
			if !c.Found {
				missing = append(missing, c.Name)
			}
		}
		return fmt.Errorf("plugin %s: package(s) not found: %s", r.ID, strings.Join(missing, ", "))
	}
	return nil
}
