package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/sdk/meta"
)

func pluginsTestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "test ID",
		Short: "Launch one plugin instance and check its credentials against its upstream (TestConnection)",
		Long: "Launches the instance exactly as serve would, calls its TestConnection (a WHM token, SMTP " +
			"credentials, a registrar's keys …; nothing is changed upstream) and prints the result. A " +
			"provider without a connection test reports its health check instead. For a provisioner that " +
			"lists packages, the packages are shown, and each --package and the package of each product of " +
			"the file provisioned by it must exist, named exactly. " +
			"Exits non-zero when the test fails or a package is missing. A disabled instance is not " +
			"launched: enable it (for example through its env: switch) to test it.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			packages, _ := cmd.Flags().GetStringArray("package")
			products := productPackages(cfg, args[0])
			for _, p := range products {
				if !slices.Contains(packages, p.pkg) {
					packages = append(packages, p.pkg)
				}
			}
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
			return report.failure(products)
		},
	}
	cmd.Flags().StringArray("package", nil, "provisioners: a package that must exist (exact name; repeatable)")
	addJSONFlag(cmd)
	return cmd
}

// testPlugin launches instance id alone, as serve would, and runs the
// host's connection test (the same one the console's button runs).
// Errors are for problems before the plugin could be asked (an unknown or
// disabled id, a plugin that does not start); a failed test is in the
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
	report, err := h.Test(ctx, id, packages)
	if err != nil {
		return nil, err
	}
	return &pluginTestReport{report}, nil
}

// pluginTestReport prints the host's report for the terminal.
type pluginTestReport struct{ *pluginhost.TestReport }

// MarshalJSON keeps --json the report's own shape.
func (r *pluginTestReport) MarshalJSON() ([]byte, error) { return json.Marshal(r.TestReport) }

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

// productPackage is a product of the file that instance id provisions.
type productPackage struct{ sku, pkg string }

// productPackages lists the file's products provisioned by instance id:
// their packages are checked like --package, so the check serve makes at
// start can be made before it.
func productPackages(cfg *config.Config, id string) []productPackage {
	var out []productPackage
	for _, p := range cfg.Products {
		if p.Fulfillment.Provisioner == id && p.Fulfillment.Package != "" {
			out = append(out, productPackage{sku: p.SKU, pkg: p.Fulfillment.Package})
		}
	}
	return out
}

// failure is the command's error when the test did not pass; a missing
// package names the file's products that use it.
func (r *pluginTestReport) failure(products []productPackage) error {
	switch {
	case r.Error != nil:
		return fmt.Errorf("plugin %s: connection test failed (%s)", r.ID, r.Error.Category)
	case !r.OK:
		var missing, users []string
		for _, c := range r.Checked {
			if !c.Found {
				missing = append(missing, c.Name)
			}
		}
		for _, p := range products {
			if slices.Contains(missing, p.pkg) {
				users = append(users, fmt.Sprintf("products (sku %s) uses package %q", p.sku, p.pkg))
			}
		}
		msg := fmt.Sprintf("plugin %s: package(s) not found: %s", r.ID, strings.Join(missing, ", "))
		if len(users) > 0 {
			msg += "; " + strings.Join(users, "; ")
		}
		return errors.New(msg)
	}
	return nil
}
