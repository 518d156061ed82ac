package config_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/paklog/integration-hub/internal/config"
)

func noEnv(string) string { return "" }

// TestExampleYAML: the example file loads, validates, and is the default
// configuration (so its comments cannot drift from Default).
func TestExampleYAML(t *testing.T) {
	cfg, err := config.Parse("hub.example.yaml", config.ExampleYAML(), noEnv)
	if err != nil {
		t.Fatalf("the example does not load:\n%v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Store.Postgres.DSN.Source(); got != "env:PAKLOG_POSTGRES_DSN" {
		t.Errorf("example dsn source = %q, want env:PAKLOG_POSTGRES_DSN", got)
	}
	want := config.Default()
	want.Store.Postgres.DSN = cfg.Store.Postgres.DSN
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("the example differs from Default():\n%+v\nwant\n%+v", cfg, want)
	}

	// With the variable set, the example runs on PostgreSQL as documented.
	cfg, err = config.Parse("hub.example.yaml", config.ExampleYAML(), func(k string) string {
		return map[string]string{config.EnvStoreDriver: "postgres", config.EnvPostgresDSN: "postgres://x"}[k]
	})
	if err != nil || cfg.Store.Postgres.DSN.Value() != "postgres://x" {
		t.Errorf("example on postgres: %v", err)
	}
}

// TestExampleYAMLDocumentsEveryField: every field of Config is in the
// example, with a comment above it or on its line.
func TestExampleYAMLDocumentsEveryField(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(config.ExampleYAML(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, path := range fieldPaths(reflect.TypeFor[config.Config](), "") {
		key := findKey(doc.Content[0], path)
		if key == nil {
			t.Errorf("the example lacks %s", path)
			continue
		}
		if key.HeadComment == "" && key.LineComment == "" {
			t.Errorf("the example does not comment %s (line %d)", path, key.Line)
		}
	}
	// ExampleYAML returns a copy.
	b := config.ExampleYAML()
	b[0] = 'X'
	if config.ExampleYAML()[0] == 'X' {
		t.Error("ExampleYAML shares its buffer")
	}
}

// fieldPaths lists the yaml paths of t's fields, sections included.
func fieldPaths(t reflect.Type, prefix string) []string {
	var paths []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		paths = append(paths, path)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[config.Secret]() {
			paths = append(paths, fieldPaths(f.Type, path)...)
		}
	}
	return paths
}

// findKey returns the key node of the dotted path under the mapping n.
func findKey(n *yaml.Node, path string) *yaml.Node {
	var key *yaml.Node
	for name := range strings.SplitSeq(path, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var value *yaml.Node
		key = nil
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				key, value = n.Content[i], n.Content[i+1]
				break
			}
		}
		if key == nil {
			return nil
		}
		n = value
	}
	return key
}

func ExampleParse() {
	file := `
stroe:
  driver: postgres
http:
  max_body_bytes: 2GiB
  read_timeout: 30
store:
  driver: postgres
`
	_, err := config.Parse("hub.yaml", []byte(file), noEnv)
	fmt.Println(err)
	// Output:
	// hub.yaml:2: stroe: unknown field (did you mean "store"?)
	// hub.yaml:5: http.max_body_bytes: must be between 1KiB and 1GiB, got "2GiB"
	// hub.yaml:6: http.read_timeout: must be a duration such as "250ms", "30s" or "1m30s" (a unit is required: ns, us, ms, s, m or h), got "30"
	// hub.yaml:7: store.postgres.dsn: is required when store.driver is "postgres"
}

func ExampleSecret() {
	getenv := func(name string) string {
		return map[string]string{"PG_DSN": "postgres://paklog:hunter2@db/paklog"}[name]
	}
	cfg, err := config.Parse("hub.yaml", []byte("store:\n  driver: postgres\n  postgres:\n    dsn: {env: PG_DSN}\n"), getenv)
	if err != nil {
		panic(err)
	}
	dsn := cfg.Store.Postgres.DSN
	fmt.Println(dsn)
	fmt.Printf("%+v\n", cfg.Store.Postgres)
	fmt.Println(len(dsn.Value()) > 0)
	// Output:
	// [REDACTED env:PG_DSN]
	// {DSN:[REDACTED env:PG_DSN] MaxConns:16}
	// true
}

func ExampleParseSize() {
	for _, s := range []string{"1MiB", "1536KiB", "4096", "1MB"} {
		size, err := config.ParseSize(s)
		fmt.Println(size, err)
	}
	// Output:
	// 1MiB <nil>
	// 1536KiB <nil>
	// 4KiB <nil>
	// 0B unit "MB" is ambiguous: use MiB (1048576 bytes), got "1MB"
}
