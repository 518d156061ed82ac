package canonical

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestValidateOtherMessages breaks the valid example of each other message.
func TestValidateOtherMessages(t *testing.T) {
	tests := []struct {
		schema string
		name   string
		mutate func(m map[string]any)
		want   []string
	}{
		{SchemaOrderCancel, "whole order", func(m map[string]any) { delete(m, "lines") }, nil},
		{SchemaOrderCancel, "bad lines", func(m map[string]any) {
			m["lines"] = []any{map[string]any{"sku": "A", "quantity": 0}}
			delete(m, "source")
		}, []string{"lines[0].line_number: is required", "lines[0].quantity: must be > 0", "source: is required"}},
		{SchemaShipment, "packages", func(m map[string]any) {
			pkg := m["packages"].([]any)[0].(map[string]any)
			pkg["weight"] = map[string]any{"value": 0, "unit": "lbs"}
			pkg["dimensions"] = map[string]any{"length": 10, "width": 5, "unit": "in"}
			m["label_format"] = "GIF"
			delete(obj(m, "ship_from"), "address1")
		}, []string{
			`label_format: must be one of "PDF", "ZPL", "PNG", got "GIF"`,
			"packages[0].dimensions.height: is required",
			"packages[0].weight.unit: must be one of \"lb\", \"kg\", \"oz\", \"g\", got \"lbs\"",
			"packages[0].weight.value: must be > 0",
			"ship_from.address1: is required",
		}},
		{SchemaShipment, "no packages", func(m map[string]any) { m["packages"] = []any{} },
			[]string{"packages: must have at least 1 item"}},
		{SchemaLabel, "label", func(m map[string]any) {
			m["packages"].([]any)[0].(map[string]any)["tracking_number"] = ""
			m["cost"] = map[string]any{"amount": "18.42"}
			m["created_at"] = "2024-10-15 09:12:44"
		}, []string{
			"cost.currency: is required",
			`created_at: must be an RFC 3339 date-time such as "2024-05-01T14:30:00Z", got "2024-10-15 09:12:44"`,
			"packages[0].tracking_number: must not be empty",
		}},
		{SchemaShipConfirm, "ship confirm", func(m map[string]any) {
			m["lines_short"].([]any)[0].(map[string]any)["quantity_shipped"] = -1
			m["packages"].([]any)[0].(map[string]any)["lines"].([]any)[1].(map[string]any)["quantity"] = "2"
			delete(m, "shipped_at")
		}, []string{
			"lines_short[0].quantity_shipped: must be >= 0",
			"packages[0].lines[1].quantity: must be a number, got string",
			"shipped_at: is required",
		}},
		{SchemaInventoryAdvice, "inventory", func(m map[string]any) {
			item := m["items"].([]any)[0].(map[string]any)
			delete(item, "quantity_on_hand")
			item["quantity_available"] = -3 // oversold is allowed
			item["sku"] = ""
		}, []string{"items[0].sku: must not be empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.schema+"/"+tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(readTestdata(t, tt.schema+".valid.json"), &m); err != nil {
				t.Fatal(err)
			}
			tt.mutate(m)
			doc, _ := json.Marshal(m)
			err := Validate(tt.schema, doc)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var got []string
			for _, p := range problems(t, err) {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A quantity that was not reported stays nil; zero stays zero.
func TestInventoryQuantities(t *testing.T) {
	a, err := DecodeInventoryAdvice([]byte(`{"schema":"paklog.inventory_advice.v1","partner":"p","as_of":"2024-10-15T06:00:00Z",
		"items":[{"sku":"A","quantity_available":0}]}`))
	if err != nil {
		t.Fatal(err)
	}
	it := a.Items[0]
	if it.QuantityOnHand != nil || it.QuantityAvailable == nil || *it.QuantityAvailable != 0 {
		t.Errorf("got on hand %v, available %v", it.QuantityOnHand, it.QuantityAvailable)
	}
	b, _ := json.Marshal(a)
	want := `{"schema":"paklog.inventory_advice.v1","partner":"p","as_of":"2024-10-15T06:00:00Z","items":[{"sku":"A","quantity_available":0}]}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
}

func TestDate(t *testing.T) {
	d := DateOf(mustTime(t, "2024-02-29T23:30:00-08:00"))
	if d != "2024-02-29" {
		t.Errorf("DateOf: %s", d)
	}
	tm, err := d.Time()
	if err != nil || tm.Format(DateLayout) != "2024-02-29" {
		t.Errorf("Time: %v %v", tm, err)
	}
	if _, err := Date("29/02/2024").Time(); err == nil {
		t.Error("bad date parsed")
	}
}
