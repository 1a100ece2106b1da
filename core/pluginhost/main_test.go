package pluginhost_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// pluginsDir holds the plugin binaries every test launches: testprovider,
// and sandbox when its source exists. It is built once per test binary.
var pluginsDir string

// sandboxErr says why the sandbox binary is missing, if it is.
var sandboxErr error

// echoSocketEnv, when set, turns this test binary into the out-of-process
// gRPC echo server BenchmarkGRPCEchoUnixProcess talks to.
const echoSocketEnv = "PLUGINHOST_BENCH_ECHO_SOCKET"

func TestMain(m *testing.M) {
	if sock := os.Getenv(echoSocketEnv); sock != "" {
		os.Exit(serveEcho(sock))
	}
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pluginhost-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	pluginsDir = filepath.Join(dir, "plugins")
	if err := os.Mkdir(pluginsDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := providePlugin("testprovider", "./internal/testprovider/cmd/testprovider"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The sandbox is another package's work; only the benchmarks need it,
	// and they report why they skip.
	if err := providePlugin("sandbox", "../../plugins/sandbox"); err != nil {
		sandboxErr = err
	}
	return m.Run()
}

// providePlugin copies bin/plugins/<name> from SWITCHYARD_BIN_DIR when make
// built it, or builds pkg. The copy keeps every test inside one plugin dir.
func providePlugin(name, pkg string) error {
	dst := filepath.Join(pluginsDir, name)
	if bin := os.Getenv("SWITCHYARD_BIN_DIR"); bin != "" {
		if src := filepath.Join(bin, "plugins", name); isFile(src) {
			return copyFile(src, dst)
		}
	}
	if _, err := os.Stat(filepath.FromSlash(pkg)); err != nil {
		return fmt.Errorf("no %s binary and no source at %s", name, pkg)
	}
	out, err := exec.Command("go", "build", "-o", dst, pkg).CombinedOutput()
	if err != nil {
		return fmt.Errorf("build %s: %v\n%s", name, err, out)
	}
	return nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}
