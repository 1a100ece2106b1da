package servetest

import (
	"os"
	"strings"
	"testing"
)

// SetProducts replaces the example file's empty product list with
// products (YAML starting "products:").
func (e *Env) SetProducts(t *testing.T, products string) {
	t.Helper()
	b, err := os.ReadFile(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "\nproducts: []\n"
	if !strings.Contains(string(b), anchor) {
		t.Fatal("the example configuration no longer has products: []")
	}
	if err := os.WriteFile(e.Config, []byte(strings.Replace(string(b), anchor, "\n"+products, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}
