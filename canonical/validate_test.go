package canonical

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// validOrder returns the full valid example order as a JSON tree to break.
func validOrder(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readTestdata(t, SchemaOrder+".valid.json"), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func obj(v any, key string) map[string]any { return v.(map[string]any)[key].(map[string]any) }
func line(o map[string]any, i int) map[string]any {
	return o["lines"].([]any)[i].(map[string]any)
}

// problems returns err as Problems, failing the test when it is not.
func problems(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v (%T) is not Problems", err, err)
	}
	return ps
}

func TestValidateOrderProblems(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(o map[string]any)
		want   []string // Problem.String()s, in order
	}{
		{
			name:   "quantity zero",
			mutate: func(o map[string]any) { line(o, 1)["quantity"] = 0 },
			want:   []string{"lines[1].quantity: must be > 0"},
		},
		{
			name: "several at once",
			mutate: func(o map[string]any) {
				o["lines"] = append(o["lines"].([]any), map[string]any{"line_number": "3", "sku": "X", "quantity": -2})
				obj(o, "ship_to")["country"] = "usa"
				delete(obj(o, "ship_to"), "city")
				line(o, 0)["quantity"] = "4"
			},
			want: []string{
				"lines[0].quantity: must be a number, got string",
				"lines[2].quantity: must be > 0",
				"ship_to.city: is required",
				`ship_to.country: must match ^[A-Z]{2}$ (ISO 3166-1 alpha-2), got "usa"`,
			},
		},
		{
			name:   "no lines",
			mutate: func(o map[string]any) { o["lines"] = []any{} },
			want:   []string{"lines: must have at least 1 item"},
		},
		{
			name:   "lines not an array",
			mutate: func(o map[string]any) { o["lines"] = map[string]any{"sku": "A"} },
			want:   []string{"lines: must be an array, got object"},
		},
		{
			name:   "empty object",
			mutate: func(o map[string]any) { clear(o) },
			want: []string{
				"lines: is required",
				"order_id: is required",
				"schema: is required",
				"ship_to: is required",
				"source: is required",
			},
		},
		{
			name: "ship_to missing and empty fields",
			mutate: func(o map[string]any) {
				o["ship_to"] = map[string]any{"name": "", "address1": "1 Main St", "country": ""}
			},
			want: []string{
				"ship_to.city: is required",
				`ship_to.country: must match ^[A-Z]{2}$ (ISO 3166-1 alpha-2), got ""`,
				"ship_to.name: must not be empty",
			},
		},
		{
			name: "bill_to is checked but nothing is required",
			mutate: func(o map[string]any) {
				o["bill_to"] = map[string]any{"country": "Canada", "city": 7}
			},
			want: []string{
				"bill_to.city: must be a string, got number",
				`bill_to.country: must match ^[A-Z]{2}$ (ISO 3166-1 alpha-2), got "Canada"`,
			},
		},
		{
			name: "source",
			mutate: func(o map[string]any) {
				o["source"] = map[string]any{"channel": "ebay", "partner": "", "received_at": "yesterday"}
			},
			want: []string{
				`source.channel: must be one of "shopify", "magento", "custom", "edi", "erp", "csv", "api", got "ebay"`,
				"source.external_id: is required",
				"source.partner: must not be empty",
				`source.received_at: must be an RFC 3339 date-time such as "2024-05-01T14:30:00Z", got "yesterday"`,
			},
		},
		{
			name: "received_at without time zone",
			mutate: func(o map[string]any) {
				obj(o, "source")["received_at"] = "2024-10-14T15:04:05"
			},
			want: []string{`source.received_at: must be an RFC 3339 date-time such as "2024-05-01T14:30:00Z", got "2024-10-14T15:04:05"`},
		},
		{
			name: "schema and id",
			mutate: func(o map[string]any) {
				o["schema"] = "paklog.order.v2"
				o["order_id"] = "ord_01j9zk3m4n5p6q7r8s9t0vwxyz"
			},
			want: []string{
				`order_id: must match ^ord_[0-9A-HJKMNP-TV-Z]{26}$ ("ord_" and a 26-character ULID), got "ord_01j9zk3m4n5p6q7r8s9t0vwxyz"`,
				`schema: must be "paklog.order.v1", got "paklog.order.v2"`,
			},
		},
		{
			name: "dates",
			mutate: func(o map[string]any) {
				o["order_date"] = "2024-13-01"
				obj(o, "shipping")["requested_ship_date"] = "10/15/2024"
			},
			want: []string{
				`order_date: must be a date YYYY-MM-DD, got "2024-13-01"`,
				`shipping.requested_ship_date: must be a date YYYY-MM-DD, got "10/15/2024"`,
			},
		},
		{
			name: "money and currency",
			mutate: func(o map[string]any) {
				line(o, 0)["unit_price"] = map[string]any{"amount": 249.0}
				line(o, 1)["unit_price"] = map[string]any{"amount": "1,20", "currency": "usd"}
				o["currency"] = "US$"
			},
			want: []string{
				`currency: must match ^[A-Z]{3}$ (ISO 4217), got "US$"`,
				"lines[0].unit_price.amount: must be a string, got number",
				"lines[0].unit_price.currency: is required",
				`lines[1].unit_price.amount: must match ^-?[0-9]+(\.[0-9]+)?$ (a decimal string such as "12.50"), got "1,20"`,
				`lines[1].unit_price.currency: must match ^[A-Z]{3}$ (ISO 4217), got "usd"`,
			},
		},
		{
			name: "line without sku or number",
			mutate: func(o map[string]any) {
				o["lines"] = []any{map[string]any{"quantity": 1}, map[string]any{"line_number": "", "sku": "", "quantity": 1}}
			},
			want: []string{
				"lines[0].line_number: is required",
				"lines[0].sku: is required",
				"lines[1].line_number: must not be empty",
				"lines[1].sku: must not be empty",
			},
		},
		{
			name: "indexes sort as numbers",
			mutate: func(o map[string]any) {
				var lines []any
				for range 12 {
					lines = append(lines, map[string]any{"line_number": "n", "sku": "S", "quantity": 1})
				}
				lines[2].(map[string]any)["quantity"] = 0
				lines[10].(map[string]any)["quantity"] = 0
				o["lines"] = lines
			},
			want: []string{"lines[2].quantity: must be > 0", "lines[10].quantity: must be > 0"},
		},
		{
			name: "service level and attributes",
			mutate: func(o map[string]any) {
				obj(o, "shipping")["service_level"] = "overnight"
				o["attributes"] = map[string]any{"store number": 42, "dept": "ok"}
			},
			want: []string{
				`attributes["store number"]: must be a string, got number`,
				`shipping.service_level: must be one of "ground", "economy", "two_day", "next_day", "same_day", "freight", "pickup", "", got "overnight"`,
			},
		},
		{
			name: "null is not absent",
			mutate: func(o map[string]any) {
				o["notes"] = nil
				o["customer"] = nil
			},
			want: []string{"customer: must be an object, got null", "notes: must be a string, got null"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOrder(t)
			tt.mutate(o)
			doc, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			ps := problems(t, Validate(SchemaOrder, doc))
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.want)
			}
			// DecodeOrder reports the same problems.
			if _, err := DecodeOrder(doc); !slices.Equal(problems(t, err), ps) {
				t.Errorf("DecodeOrder: %v, Validate: %v", err, ps)
			}
		})
	}
}

func TestValidateMalformed(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "", "(root): invalid JSON: the document is empty"},
		{"blank", " \n\t", "(root): invalid JSON: the document is empty"},
		{"bad value", "{\n  \"lines\": }", "(root): invalid JSON at line 2, column 12 (byte 13): invalid character '}' looking for beginning of value"},
		{"truncated", `{"lines":[1]`, "(root): invalid JSON at line 1, column 12 (byte 11): unexpected end of JSON input"},
		{"trailing data", `{} {}`, "(root): invalid JSON at line 1, column 4 (byte 3): invalid character '{' after top-level value"},
		{"number too large", `{"lines":[{"quantity":1e400}]}`, "(root): invalid JSON at line 1, column 23 (byte 22): number 1e400 is out of range"},
		{"not an object", `["ord_1"]`, "(root): must be an object, got array"},
		{"null", `null`, "(root): must be an object, got null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := problems(t, Validate(SchemaOrder, []byte(tt.doc)))
			if len(ps) != 1 || ps[0].String() != tt.want {
				t.Errorf("got %q\nwant %q", ps.Error(), tt.want)
			}
		})
	}
}

func TestValidateUnknownSchema(t *testing.T) {
	err := Validate("paklog.order.v9", []byte(`{}`))
	var ps Problems
	if err == nil || errors.As(err, &ps) {
		t.Fatalf("got %v, want a plain error", err)
	}
	if !strings.Contains(err.Error(), `"paklog.order.v9"`) || !strings.Contains(err.Error(), SchemaOrder) {
		t.Errorf("error %q should name the schema and the known ones", err)
	}
}

func TestProblemsError(t *testing.T) {
	ps := Problems{{Path: "lines[0].sku", Message: "is required"}, {Message: "must be an object, got array"}}
	want := "2 problems: lines[0].sku: is required; (root): must be an object, got array"
	if ps.Error() != want {
		t.Errorf("got %q, want %q", ps.Error(), want)
	}
	if got := ps[:1].Error(); got != "lines[0].sku: is required" {
		t.Errorf("one problem: got %q", got)
	}
}

// Readers ignore unknown fields, and keys match exactly: "SKU" is not "sku".
func TestUnknownFieldsIgnored(t *testing.T) {
	o := validOrder(t)
	o["gift_wrap"] = true
	o["ORDER_ID"] = 42
	line(o, 0)["SKU"] = 5
	line(o, 0)["Quantity"] = "lots"
	obj(o, "ship_to")["plus_code"] = map[string]any{"global": "849VCWC8+R9"}
	doc, _ := json.Marshal(o)
	got, err := DecodeOrder(doc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lines[0].SKU != "TENT-2P-GRN" || got.Lines[0].Quantity != 1 || got.OrderID != "ord_01J9ZK3M4N5P6Q7R8S9T0VWXYZ" {
		t.Errorf("unknown keys leaked into known fields: %+v", got.Lines[0])
	}
}

func TestOrderValidate(t *testing.T) {
	var o Order
	o.OrderID = NewOrderID()
	o.Source = Source{Channel: ChannelAPI, Partner: "acme", ExternalID: "A-1"}
	o.ShipTo = Address{Name: "Ann", Address1: "1 Main St", City: "Reno", Country: "US"}
	o.Lines = []Line{{LineNumber: "1", SKU: "A", Quantity: 0}}
	ps := problems(t, o.Validate())
	want := Problems{
		{Path: "lines[0].quantity", Message: "must be > 0"},
		{Path: "source.received_at", Message: "is required"},
	}
	if !slices.Equal(ps, want) {
		t.Errorf("got %v\nwant %v", ps, want)
	}

	o.Lines[0].Quantity = 2
	o.Source.ReceivedAt = mustTime(t, "2024-10-14T15:04:05Z")
	if err := o.Validate(); err != nil {
		t.Errorf("valid order: %v", err)
	}
	b, _ := json.Marshal(o)
	if !strings.HasPrefix(string(b), `{"schema":"paklog.order.v1",`) {
		t.Errorf("MarshalJSON should fill in the schema: %s", b)
	}
}

func TestNewOrderID(t *testing.T) {
	const n = 2000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = NewOrderID()
	}
	if !slices.IsSorted(ids) {
		t.Error("ids made one after another are not in order")
	}
	// Concurrent callers get distinct, valid ids.
	ch := make(chan string, n)
	for range 4 {
		go func() {
			for range n / 4 {
				ch <- NewOrderID()
			}
		}()
	}
	for range n {
		ids = append(ids, <-ch)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 2*n {
		t.Error("duplicate ids")
	}
	for _, id := range ids[:10] {
		o := validOrder(t)
		o["order_id"] = id
		doc, _ := json.Marshal(o)
		if err := Validate(SchemaOrder, doc); err != nil {
			t.Errorf("id %s: %v", id, err)
		}
	}
}

func TestSchemaDocument(t *testing.T) {
	if _, ok := SchemaDocument("paklog.nope.v1"); ok {
		t.Error("unknown schema found")
	}
	a, ok1 := SchemaDocument(SchemaOrder)
	b, ok2 := SchemaDocument(SchemaOrder + ".json")
	if !ok1 || !ok2 || string(a) != string(b) {
		t.Error(`SchemaDocument should accept the name with and without ".json"`)
	}
	names := SchemaNames()
	names[0] = "changed"
	if SchemaNames()[0] != SchemaOrder {
		t.Error("SchemaNames returned its own slice")
	}
}

func TestValidateConcurrently(t *testing.T) {
	good := readTestdata(t, SchemaOrder+".valid.json")
	o := validOrder(t)
	line(o, 0)["quantity"] = 0
	bad, _ := json.Marshal(o)
	done := make(chan error)
	for range 4 {
		go func() {
			for range 50 {
				if err := Validate(SchemaOrder, good); err != nil {
					done <- err
					return
				}
				if err := Validate(SchemaOrder, bad); err == nil || err.Error() != "lines[0].quantity: must be > 0" {
					done <- fmt.Errorf("bad order: %v", err)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkValidateOrder(b *testing.B) {
	doc := readTestdata(b, SchemaOrder+".valid.json")
	if err := Validate(SchemaOrder, doc); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if err := Validate(SchemaOrder, doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeOrder(b *testing.B) {
	doc := readTestdata(b, SchemaOrder+".valid.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := DecodeOrder(doc); err != nil {
			b.Fatal(err)
		}
	}
}
