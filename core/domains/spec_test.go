package domains_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/internal/testbin"
)

// checkDomainEvents validates the webhook body of every domain.* event of
// a session against docs/openapi.yaml, and returns how many there were.
func checkDomainEvents(t *testing.T, st *store.Store, sessionID string) int {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join(testbin.RepoRoot(t), "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := st.SessionEvents(ctxT(t), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if !strings.HasPrefix(ev.Type, "domain.") {
			continue
		}
		n++
		item := doc.Webhooks[ev.Type]
		if item == nil || item.Post == nil {
			t.Errorf("%s is not in docs/openapi.yaml", ev.Type)
			continue
		}
		body, err := webhooks.Envelope(ev)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		_ = json.Unmarshal(body, &v)
		schema := item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
		if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s body %s\ndoes not match the spec: %v", ev.Type, body, err)
		}
	}
	return n
}
