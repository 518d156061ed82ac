package shopify

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/transforms/internal/mappingtest"
)

// paidOrder returns testdata/paid.webhook.json decoded, numbers kept as
// json.Number, for a test to change.
func paidOrder(t *testing.T) map[string]any {
	t.Helper()
	return mappingtest.DecodeNumbers(t, readBody(t, "testdata/paid.webhook.json"))
}

func encode(t *testing.T, doc map[string]any) []byte { return mappingtest.Encode(t, doc) }

func items(doc map[string]any) []any { return doc["line_items"].([]any) }

func item(doc map[string]any, i int) map[string]any { return items(doc)[i].(map[string]any) }

func TestReleaseRules(t *testing.T) {
	tests := []struct {
		name   string
		topic  string
		opts   Options
		change func(map[string]any)
		want   string // "order", "cancel" or the Skip text's start
	}{
		{"paid", TopicOrdersCreate, Options{}, nil, "order"},
		{"orders/paid", TopicOrdersPaid, Options{}, nil, "order"},
		{"pending skipped", TopicOrdersCreate, Options{}, func(d map[string]any) { d["financial_status"] = "pending" }, `financial_status "pending" is not released`},
		{"authorized skipped by default", TopicOrdersUpdated, Options{}, func(d map[string]any) { d["financial_status"] = "authorized" }, `financial_status "authorized"`},
		{"authorized released", TopicOrdersUpdated, Options{ReleaseFinancialStatuses: []string{"authorized", "paid"}}, func(d map[string]any) { d["financial_status"] = "authorized" }, "order"},
		{"paid not in custom list", TopicOrdersUpdated, Options{ReleaseFinancialStatuses: []string{"authorized"}}, nil, `financial_status "paid"`},
		{"partially refunded released", TopicOrdersUpdated, Options{}, func(d map[string]any) { d["financial_status"] = "partially_refunded" }, "order"},
		{"refunded skipped", TopicOrdersUpdated, Options{}, func(d map[string]any) { d["financial_status"] = "refunded" }, `financial_status "refunded"`},
		{"no financial status skipped", TopicOrdersUpdated, Options{}, func(d map[string]any) { delete(d, "financial_status") }, `financial_status ""`},
		{"test order skipped", TopicOrdersCreate, Options{}, func(d map[string]any) { d["test"] = true }, "test order"},
		{"test order released", TopicOrdersCreate, Options{ReleaseTestOrders: true}, func(d map[string]any) { d["test"] = true }, "order"},
		{"cancelled test order skipped", TopicOrdersCancelled, Options{}, func(d map[string]any) { d["test"] = true }, "test order"},
		{"orders/cancelled", TopicOrdersCancelled, Options{}, nil, "cancel"},
		{"cancelled_at on orders/updated", TopicOrdersUpdated, Options{}, func(d map[string]any) { d["cancelled_at"] = "2026-11-21T09:00:00Z" }, "cancel"},
		{"cancel of an unpaid order", TopicOrdersUpdated, Options{}, func(d map[string]any) {
			d["cancelled_at"] = "2026-11-21T09:00:00Z"
			d["financial_status"] = "voided"
		}, "cancel"},
		{"no line requires shipping", TopicOrdersCreate, Options{}, func(d map[string]any) {
			item(d, 0)["requires_shipping"] = false
			item(d, 1)["requires_shipping"] = false
		}, "no shippable lines"},
		{"digital only without address", TopicOrdersCreate, Options{}, func(d map[string]any) {
			item(d, 0)["requires_shipping"] = false
			item(d, 1)["requires_shipping"] = false
			d["shipping_address"] = nil
		}, "no shippable lines"},
		{"everything fulfilled", TopicOrdersUpdated, Options{}, func(d map[string]any) {
			item(d, 0)["fulfillable_quantity"] = 0
			item(d, 1)["fulfillable_quantity"] = 0
		}, "no shippable lines"},
		{"no line items", TopicOrdersCreate, Options{}, func(d map[string]any) { delete(d, "line_items") }, "no shippable lines"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := paidOrder(t)
			if tc.change != nil {
				tc.change(doc)
			}
			res, err := OrderFromWebhook(tc.topic, encode(t, doc), "acme", tc.opts)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			checkResult(t, res, err)
			switch {
			case tc.want == "order" && res.Order == nil, tc.want == "cancel" && res.Cancel == nil:
				t.Fatalf("want %s, got %+v", tc.want, res)
			case tc.want != "order" && tc.want != "cancel" && !strings.HasPrefix(res.Skip, tc.want):
				t.Fatalf("want skip %q, got %+v", tc.want, res)
			}
			if res.ExternalID != "5812345678901" {
				t.Errorf("ExternalID = %q", res.ExternalID)
			}
			if res.Cancel != nil && (res.Cancel.Source.Document != tc.topic || res.Cancel.OrderNumber != "#1042") {
				t.Errorf("cancel = %+v", res.Cancel)
			}
		})
	}
}

func TestMapping(t *testing.T) {
	t.Run("fulfillable quantity, else quantity", func(t *testing.T) {
		doc := paidOrder(t)
		item(doc, 0)["quantity"] = 5
		item(doc, 0)["fulfillable_quantity"] = 3
		delete(item(doc, 1), "fulfillable_quantity")
		item(doc, 1)["quantity"] = 4
		res, err := OrderFromWebhook(TopicOrdersCreate, encode(t, doc), "acme", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if q := []float64{res.Order.Lines[0].Quantity, res.Order.Lines[1].Quantity}; !slices.Equal(q, []float64{3, 4}) {
			t.Errorf("quantities = %v, want [3 4]", q)
		}
	})
	t.Run("ids above 2^53 kept exactly", func(t *testing.T) {
		body := bytes.Replace(readBody(t, "testdata/paid.webhook.json"), []byte(`"id": 5812345678901`), []byte(`"id": 9223372036854775807`), 1)
		body = bytes.Replace(body, []byte(`"id": 14123456789012`), []byte(`"id": 9007199254740993`), 1)
		res, err := OrderFromWebhook(TopicOrdersCreate, body, "acme", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExternalID != "9223372036854775807" || res.Order.Source.ExternalID != res.ExternalID {
			t.Errorf("ExternalID = %q / %q", res.ExternalID, res.Order.Source.ExternalID)
		}
		if got := res.Order.Lines[0].LineNumber; got != "9007199254740993" {
			t.Errorf("line_number = %q", got)
		}
	})
	t.Run("id as a string", func(t *testing.T) {
		doc := paidOrder(t)
		doc["id"] = "9007199254740993"
		res, err := OrderFromWebhook(TopicOrdersCreate, encode(t, doc), "acme", Options{})
		if err != nil || res.ExternalID != "9007199254740993" {
			t.Fatalf("ExternalID = %q, err %v", res.ExternalID, err)
		}
	})
	t.Run("updated_at falls back to created_at", func(t *testing.T) {
		doc := paidOrder(t)
		delete(doc, "updated_at")
		res, err := OrderFromWebhook(TopicOrdersCreate, encode(t, doc), "acme", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 11, 21, 2, 25, 43, 0, time.UTC); !res.UpdatedAt.Equal(want) || res.UpdatedAt.Location() != time.UTC {
			t.Errorf("UpdatedAt = %v, want %v", res.UpdatedAt, want)
		}
	})
	t.Run("service level from code, then title, options override", func(t *testing.T) {
		tests := []struct {
			title, code string
			opts        Options
			want        canonical.ServiceLevel
		}{
			{"Standard Shipping", "Standard", Options{}, canonical.ServiceGround},
			{"Overnight", "custom-code", Options{}, canonical.ServiceNextDay},
			{"Overnight", "custom-code", Options{ServiceLevels: map[string]canonical.ServiceLevel{" CUSTOM-code ": canonical.ServiceSameDay}}, canonical.ServiceSameDay},
			{"Standard", "", Options{ServiceLevels: map[string]canonical.ServiceLevel{"standard": ""}}, canonical.ServiceNone},
			{"Drone", "", Options{}, canonical.ServiceNone},
		}
		for _, tc := range tests {
			doc := paidOrder(t)
			sl := doc["shipping_lines"].([]any)[0].(map[string]any)
			sl["title"], sl["code"] = tc.title, tc.code
			res, err := OrderFromWebhook(TopicOrdersCreate, encode(t, doc), "acme", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Order.Shipping.ServiceLevel; got != tc.want {
				t.Errorf("%q/%q %v: service level %q, want %q", tc.title, tc.code, tc.opts.ServiceLevels, got, tc.want)
			}
		}
	})
}

// TestErrors checks that every problem is reported at once, each at its
// place in the Shopify body and with its rule.
func TestErrors(t *testing.T) {
	type want struct {
		field string
		err   error
	}
	tests := []struct {
		name   string
		topic  string
		body   []byte // used instead of the paid order when set
		shop   string
		change func(map[string]any)
		want   []want
		// problems are canonical problem paths expected after the
		// mapping errors.
		problems []string
	}{
		{name: "unknown topic", topic: "orders/delete", want: []want{{"", ErrTopic}}},
		{name: "not an object", body: []byte(`[1,2]`), want: []want{{"", ErrMalformed}}},
		{name: "truncated", body: []byte(`{"id": 1`), want: []want{{"", ErrMalformed}}},
		{name: "trailing data", body: []byte(`{"id": 1} {}`), want: []want{{"", ErrMalformed}}},
		{name: "no id", change: func(d map[string]any) { delete(d, "id") }, want: []want{{"id", ErrMissingField}}},
		{name: "fractional id", change: func(d map[string]any) { d["id"] = json.Number("1.5") }, want: []want{{"id", ErrInvalidValue}}},
		{name: "id beyond int64", change: func(d map[string]any) { d["id"] = json.Number("9223372036854775808") }, want: []want{{"id", ErrInvalidValue}}},
		{name: "id an object", change: func(d map[string]any) { d["id"] = map[string]any{} }, want: []want{{"id", ErrInvalidValue}}},
		{name: "missing SKU", change: func(d map[string]any) { item(d, 1)["sku"] = "  " }, want: []want{{"line_items[1].sku", ErrMissingSKU}}},
		{name: "every line broken", change: func(d map[string]any) {
			item(d, 0)["sku"] = nil
			delete(item(d, 1), "sku")
		}, want: []want{{"line_items[0].sku", ErrMissingSKU}, {"line_items[1].sku", ErrMissingSKU}}},
		{name: "bad price", change: func(d map[string]any) { item(d, 0)["price"] = "12,50" }, want: []want{{"line_items[0].price", ErrInvalidValue}}},
		{name: "quantity a string", change: func(d map[string]any) { item(d, 0)["fulfillable_quantity"] = "2" }, want: []want{{"line_items[0].fulfillable_quantity", ErrInvalidValue}}},
		{name: "negative quantity", change: func(d map[string]any) { item(d, 0)["fulfillable_quantity"] = -1 }, want: []want{{"line_items[0].fulfillable_quantity", ErrInvalidValue}}},
		{name: "no quantity", change: func(d map[string]any) {
			delete(item(d, 0), "fulfillable_quantity")
			delete(item(d, 0), "quantity")
		}, want: []want{{"line_items[0].quantity", ErrMissingField}}},
		{name: "line without id", change: func(d map[string]any) { delete(item(d, 0), "id") }, want: []want{{"line_items[0].id", ErrMissingField}}},
		{name: "line not an object", change: func(d map[string]any) { items(d)[1] = "x" }, want: []want{{"line_items[1]", ErrInvalidValue}}},
		{name: "no shipping address", change: func(d map[string]any) { d["shipping_address"] = nil }, want: []want{{"shipping_address", ErrNoShippingAddress}}},
		{name: "shipping address not an object", change: func(d map[string]any) { d["shipping_address"] = "1 Main St" }, want: []want{{"shipping_address", ErrInvalidValue}}},
		{name: "incomplete shipping address", change: func(d map[string]any) {
			a := d["shipping_address"].(map[string]any)
			a["country_code"] = nil
			a["city"] = ""
			a["name"], a["first_name"], a["last_name"] = nil, nil, nil
		}, want: []want{{"shipping_address.name", ErrMissingField}, {"shipping_address.city", ErrMissingField}, {"shipping_address.country_code", ErrMissingField}}},
		{name: "country name instead of code", change: func(d map[string]any) { d["shipping_address"].(map[string]any)["country_code"] = "USA" }, want: []want{{"shipping_address.country_code", ErrInvalidValue}}},
		{name: "no currency", change: func(d map[string]any) { delete(d, "currency") }, want: []want{{"currency", ErrMissingField}}},
		{name: "bad currency", change: func(d map[string]any) { d["currency"] = "usd" }, want: []want{{"currency", ErrInvalidValue}}},
		{name: "bad created_at", change: func(d map[string]any) { d["created_at"] = "yesterday" }, want: []want{{"created_at", ErrInvalidValue}}},
		{name: "tags not a string", change: func(d map[string]any) { d["tags"] = []any{"a"} }, want: []want{{"tags", ErrInvalidValue}}},
		{name: "cancel with a bad name", topic: TopicOrdersCancelled, change: func(d map[string]any) { d["name"] = 1042 }, want: []want{{"name", ErrInvalidValue}}},
		{name: "all collected", change: func(d map[string]any) {
			d["currency"] = "dollars"
			item(d, 0)["sku"] = ""
			d["shipping_address"].(map[string]any)["country_code"] = "usa"
		}, want: []want{{"currency", ErrInvalidValue}, {"line_items[0].sku", ErrMissingSKU}, {"shipping_address.country_code", ErrInvalidValue}}},
		{name: "canonical problems too", shop: " ", change: func(d map[string]any) { item(d, 0)["sku"] = "" },
			want: []want{{"line_items[0].sku", ErrMissingSKU}}, problems: []string{"source.partner"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if body == nil {
				doc := paidOrder(t)
				if tc.change != nil {
					tc.change(doc)
				}
				body = encode(t, doc)
			}
			topic, shop := tc.topic, tc.shop
			if topic == "" {
				topic = TopicOrdersCreate
			}
			if shop == "" {
				shop = "acme"
			} else {
				shop = strings.TrimSpace(shop)
			}
			res, err := OrderFromWebhook(topic, body, shop, Options{})
			if err == nil {
				t.Fatalf("no error; result %+v", res)
			}
			checkResult(t, res, err)
			var got []want
			var problems []string
			for _, e := range flatten(err) {
				var me *MappingError
				var ps canonical.Problems
				switch {
				case errors.As(e, &me):
					got = append(got, want{me.Field, me.Err})
					if !errors.Is(err, me.Err) || me.Detail == "" {
						t.Errorf("%v: not errors.Is its sentinel, or no detail", me)
					}
				case errors.As(e, &ps):
					problems = append(problems, ps[0].Path)
				default:
					t.Errorf("error of type %T: %v", e, e)
				}
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(problems, tc.problems) {
				t.Errorf("got %v problems %v, want %v problems %v\nerror: %v", got, problems, tc.want, tc.problems, err)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string // substrings of the error, one per problem
	}{
		{"zero value", Options{}, nil},
		{"all set", Options{ReleaseFinancialStatuses: []string{"authorized", "paid"}, ReleaseTestOrders: true, SKUFallback: "variant_id",
			ServiceLevels: map[string]canonical.ServiceLevel{"Express": canonical.ServiceNextDay, "Whatever": ""}}, nil},
		{"unknown status", Options{ReleaseFinancialStatuses: []string{"paid", "Paid"}}, []string{`release_financial_statuses[1]: "Paid"`}},
		{"unknown fallback", Options{SKUFallback: "barcode"}, []string{`sku_fallback: "barcode"`}},
		{"bad levels", Options{ServiceLevels: map[string]canonical.ServiceLevel{"": canonical.ServiceGround, "Express": "fast"}},
			[]string{"service_levels: empty", `service_levels["Express"]: "fast"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if _, err := OrderFromWebhook(TopicOrdersCreate, []byte(`{}`), "acme", tc.opts); err == nil {
				t.Error("OrderFromWebhook accepted invalid options")
			}
		})
	}
}
