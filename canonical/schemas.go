package canonical

import (
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schemas/*.json
var schemaFS embed.FS

// schemaNames lists every message, in the order of CANONICAL.md.
var schemaNames = []string{
	SchemaOrder,
	SchemaOrderCancel,
	SchemaShipment,
	SchemaLabel,
	SchemaShipConfirm,
	SchemaInventoryAdvice,
}

// SchemaNames returns the name of every canonical message schema
// ("paklog.order.v1", …). The slice is the caller's to keep.
func SchemaNames() []string {
	return slices.Clone(schemaNames)
}

// SchemaDocument returns the JSON Schema (draft 2020-12) document of the
// named message, as served at /api/v1/schemas/<name>.json. The name may
// carry the ".json" suffix. The bytes are the caller's to keep.
func SchemaDocument(name string) ([]byte, bool) {
	name = strings.TrimSuffix(name, ".json")
	if !slices.Contains(schemaNames, name) {
		return nil, false
	}
	b, err := schemaFS.ReadFile("schemas/" + name + ".json")
	if err != nil {
		return nil, false
	}
	return b, true
}

// schemaID is the $id of the named schema document.
func schemaID(name string) string { return "urn:paklog:schema:" + name }

// compiled holds every schema, compiled on first use.
var compiled = sync.OnceValues(compileAll)

func compileAll() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Formats are assertions here, and they accept exactly what the Go
	// types accept, so that a document that validates always decodes.
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "date-time", Validate: checkDateTime})
	c.RegisterFormat(&jsonschema.Format{Name: "date", Validate: checkDate})
	for _, name := range schemaNames {
		doc, _ := SchemaDocument(name)
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
		if err != nil {
			return nil, fmt.Errorf("reading schema %s: %w", name, err)
		}
		if err := c.AddResource(schemaID(name), v); err != nil {
			return nil, fmt.Errorf("adding schema %s: %w", name, err)
		}
	}
	out := make(map[string]*jsonschema.Schema, len(schemaNames))
	for _, name := range schemaNames {
		s, err := c.Compile(schemaID(name))
		if err != nil {
			return nil, fmt.Errorf("compiling schema %s: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
}

// parseTime is how every time in a canonical message is read.
func parseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339, s)
}

func checkDateTime(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	_, err := parseTime(s)
	return err
}

func checkDate(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	_, err := time.Parse(DateLayout, s)
	return err
}
