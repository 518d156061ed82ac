package canonical

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// messages pairs each schema with its Go type and decoder.
var messages = []struct {
	name   string
	typ    reflect.Type
	decode func([]byte) (any, error)
}{
	{SchemaOrder, reflect.TypeFor[Order](), func(b []byte) (any, error) { return DecodeOrder(b) }},
	{SchemaOrderCancel, reflect.TypeFor[OrderCancel](), func(b []byte) (any, error) { return DecodeOrderCancel(b) }},
	{SchemaShipment, reflect.TypeFor[Shipment](), func(b []byte) (any, error) { return DecodeShipment(b) }},
	{SchemaLabel, reflect.TypeFor[Label](), func(b []byte) (any, error) { return DecodeLabel(b) }},
	{SchemaShipConfirm, reflect.TypeFor[ShipConfirm](), func(b []byte) (any, error) { return DecodeShipConfirm(b) }},
	{SchemaInventoryAdvice, reflect.TypeFor[InventoryAdvice](), func(b []byte) (any, error) { return DecodeInventoryAdvice(b) }},
}

func TestSchemasCompile(t *testing.T) {
	schemas, err := compiled()
	if err != nil {
		t.Fatal(err)
	}
	if len(messages) != len(SchemaNames()) {
		t.Fatalf("the test knows %d messages, SchemaNames has %d", len(messages), len(SchemaNames()))
	}
	for i, name := range SchemaNames() {
		if messages[i].name != name {
			t.Errorf("message %d: test has %s, SchemaNames has %s", i, messages[i].name, name)
		}
		if schemas[name] == nil {
			t.Errorf("%s: not compiled", name)
		}
		doc, ok := SchemaDocument(name)
		if !ok {
			t.Fatalf("%s: no document", name)
		}
		var s map[string]any
		if err := json.Unmarshal(doc, &s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" || s["title"] != name {
			t.Errorf("%s: $schema %v, title %v", name, s["$schema"], s["title"])
		}
		if c := s["properties"].(map[string]any)["schema"].(map[string]any)["const"]; c != name {
			t.Errorf("%s: schema const is %v", name, c)
		}
	}
}

// TestValidExamples checks that the full example of each message
// validates, sets every field of its Go type, and survives
// decode → encode unchanged.
func TestValidExamples(t *testing.T) {
	for _, m := range messages {
		t.Run(m.name, func(t *testing.T) {
			doc := readTestdata(t, m.name+".valid.json")
			if err := Validate(m.name, doc); err != nil {
				t.Fatal(err)
			}
			v, err := m.decode(doc)
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(v) != m.typ {
				t.Fatalf("decoded a %T", v)
			}
			for _, f := range unsetFields(reflect.ValueOf(v), m.typ.Name()) {
				t.Errorf("the example leaves %s unset: make it a full example", f)
			}
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			_ = json.Unmarshal(doc, &want)
			_ = json.Unmarshal(out, &got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip changed the message:\n got %s\nwant %s", out, compact(doc))
			}
			if err := v.(interface{ Validate() error }).Validate(); err != nil {
				t.Errorf("%T.Validate: %v", v, err)
			}
		})
	}
}

func compact(b []byte) string {
	var m any
	_ = json.Unmarshal(b, &m)
	out, _ := json.Marshal(m)
	return string(out)
}

// unsetFields lists the zero fields of v, looking into the first element of
// slices and into structs.
func unsetFields(v reflect.Value, path string) []string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return []string{path}
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == timeType:
		if v.IsZero() {
			return []string{path}
		}
	case v.Kind() == reflect.Struct:
		var out []string
		for i := range v.NumField() {
			out = append(out, unsetFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return out
	case v.Kind() == reflect.Slice:
		if v.Len() == 0 {
			return []string{path}
		}
		return unsetFields(v.Index(0), path+"[0]")
	case v.Kind() == reflect.Float64:
		// Zero is a value worth testing (quantity_available 0).
	case v.IsZero():
		return []string{path}
	}
	return nil
}

// TestTypesMatchSchemas checks that every JSON field of the Go types is
// described, with a compatible type, by its schema: decoding relies on the
// schema having checked every field it reads.
func TestTypesMatchSchemas(t *testing.T) {
	for _, m := range messages {
		t.Run(m.name, func(t *testing.T) {
			doc, _ := SchemaDocument(m.name)
			var root map[string]any
			if err := json.Unmarshal(doc, &root); err != nil {
				t.Fatal(err)
			}
			checkType(t, root, root, m.typ, "")
		})
	}
}

func checkType(t *testing.T, root, node map[string]any, typ reflect.Type, path string) {
	node = resolve(t, root, node)
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	want := map[reflect.Kind]string{
		reflect.String: "string", reflect.Float64: "number", reflect.Struct: "object",
		reflect.Slice: "array", reflect.Map: "object",
	}[typ.Kind()]
	if typ == timeType {
		want = "string"
		if node["format"] != "date-time" {
			t.Errorf("%s: a time.Time needs format date-time", path)
		}
	}
	if typ == reflect.TypeFor[Date]() && node["format"] != "date" {
		t.Errorf("%s: a Date needs format date", path)
	}
	switch {
	case node["type"] != nil:
		if node["type"] != want {
			t.Errorf("%s: schema type %v, Go type %s", path, node["type"], typ)
		}
	case node["enum"] != nil || node["const"] != nil:
		values, _ := node["enum"].([]any)
		values = append(values, node["const"])
		for _, v := range values {
			if _, ok := v.(string); !ok && v != nil && want == "string" {
				t.Errorf("%s: enum value %v is not a string", path, v)
			}
		}
	default:
		t.Errorf("%s: schema does not constrain the type", path)
	}
	if typ == timeType {
		return
	}
	switch typ.Kind() {
	case reflect.Struct:
		props, _ := node["properties"].(map[string]any)
		for _, f := range fieldsOf(typ) {
			p, ok := props[f.name].(map[string]any)
			if !ok {
				t.Errorf("%s.%s: not in the schema", path, f.name)
				continue
			}
			checkType(t, root, p, typ.Field(f.index).Type, strings.TrimPrefix(path+"."+f.name, "."))
		}
	case reflect.Slice:
		items, ok := node["items"].(map[string]any)
		if !ok {
			t.Errorf("%s: no items schema", path)
			return
		}
		checkType(t, root, items, typ.Elem(), path+"[]")
	case reflect.Map:
		ap, ok := node["additionalProperties"].(map[string]any)
		if !ok {
			t.Errorf("%s: no additionalProperties schema", path)
			return
		}
		checkType(t, root, ap, typ.Elem(), path+"{}")
	}
}

// resolve merges a local "$ref" into node; properties of both are merged.
func resolve(t *testing.T, root, node map[string]any) map[string]any {
	ref, ok := node["$ref"].(string)
	if !ok {
		return node
	}
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok {
		t.Fatalf("unexpected $ref %s", ref)
	}
	target := resolve(t, root, root["$defs"].(map[string]any)[name].(map[string]any))
	merged := map[string]any{}
	for k, v := range target {
		merged[k] = v
	}
	for k, v := range node {
		if k == "properties" {
			continue
		}
		merged[k] = v
	}
	delete(merged, "$ref")
	// Local property schemas only add constraints (minLength): the type
	// comes from the referenced definition.
	return merged
}
