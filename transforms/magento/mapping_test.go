package magento

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/transforms/internal/mappingtest"
)

// paidOrder returns testdata/paid.order.json decoded, numbers kept as
// json.Number, for a test to change.
func paidOrder(t *testing.T) map[string]any {
	t.Helper()
	return mappingtest.DecodeNumbers(t, readBody(t, "testdata/paid.order.json"))
}

func encode(t *testing.T, doc map[string]any) []byte { return mappingtest.Encode(t, doc) }

func item0(doc map[string]any) map[string]any { return doc["items"].([]any)[0].(map[string]any) }

func shipAddr(doc map[string]any) map[string]any {
	sa := doc["extension_attributes"].(map[string]any)["shipping_assignments"].([]any)[0].(map[string]any)
	return sa["shipping"].(map[string]any)["address"].(map[string]any)
}

func TestReleaseRules(t *testing.T) {
	state := func(st, status string) func(map[string]any) {
		return func(d map[string]any) { d["state"], d["status"] = st, status }
	}
	tests := []struct {
		name   string
		opts   Options
		change func(map[string]any)
		want   string // "order", "cancel" or the Skip text's start
	}{
		{"processing", Options{}, nil, "order"},
		{"new skipped", Options{}, state("new", "pending"), `state "new" is not released`},
		{"new released", Options{ReleaseStates: []string{"new"}}, state("new", "pending"), "order"},
		{"holded skipped", Options{}, state("holded", "holded"), `state "holded"`},
		{"payment review skipped", Options{}, state("payment_review", "fraud"), `state "payment_review"`},
		{"complete skipped", Options{}, state("complete", "complete"), `state "complete"`},
		{"canceled", Options{}, state("canceled", "canceled"), "cancel"},
		{"canceled wins over release", Options{ReleaseStates: []string{"new"}}, state("canceled", "canceled"), "cancel"},
		{"closed skipped by default", Options{}, state("closed", "closed"), `state "closed"`},
		{"closed cancels when configured", Options{CancelStates: []string{"canceled", "closed"}}, state("closed", "closed"), "cancel"},
		{"skip status", Options{SkipStatuses: []string{"fraud"}}, state("processing", "fraud"), `status "fraud" is skipped`},
		{"release statuses", Options{ReleaseStatuses: []string{"ready_to_ship"}}, state("processing", "ready_to_ship"), "order"},
		{"release statuses narrow", Options{ReleaseStatuses: []string{"ready_to_ship"}}, nil, `status "processing" is not released`},
		{"all shipped", Options{}, func(d map[string]any) {
			for _, it := range d["items"].([]any) {
				it.(map[string]any)["qty_shipped"] = it.(map[string]any)["qty_ordered"]
			}
		}, "no shippable items"},
		{"all canceled in processing", Options{}, func(d map[string]any) {
			for _, it := range d["items"].([]any) {
				it.(map[string]any)["qty_canceled"] = it.(map[string]any)["qty_ordered"]
			}
		}, "no shippable items"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := paidOrder(t)
			if tc.change != nil {
				tc.change(doc)
			}
			res, err := OrderFromREST(encode(t, doc), "s", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, err)
			switch {
			case tc.want == "order" && res.Order == nil, tc.want == "cancel" && res.Cancel == nil:
				t.Fatalf("want %s, got %+v", tc.want, res)
			case tc.want != "order" && tc.want != "cancel" && !strings.HasPrefix(res.Skip, tc.want):
				t.Fatalf("want skip %q…, got %+v", tc.want, res)
			}
		})
	}
}

func TestMappingErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(map[string]any)
		want   []string // "field|sentinel" of every MappingError, in order
	}{
		{"no entity_id", func(d map[string]any) { delete(d, "entity_id") }, []string{"entity_id|" + ErrMissingField.Error()}},
		{"entity_id not a number", func(d map[string]any) { d["entity_id"] = "x1" }, []string{"entity_id|" + ErrInvalidValue.Error()}},
		{"sku null", func(d map[string]any) { item0(d)["sku"] = nil }, []string{"items[0].sku|" + ErrMissingSKU.Error()}},
		{"qty wrong type", func(d map[string]any) { item0(d)["qty_ordered"] = true }, []string{"items[0].qty_ordered|" + ErrInvalidValue.Error()}},
		{"qty missing", func(d map[string]any) { delete(item0(d), "qty_ordered") }, []string{"items[0].qty_ordered|" + ErrMissingField.Error()}},
		{"price not a number", func(d map[string]any) { item0(d)["price"] = "cheap" }, []string{"items[0].price|" + ErrInvalidValue.Error()}},
		{"item not an object", func(d map[string]any) { d["items"].([]any)[1] = "x" }, []string{"items[1]|" + ErrInvalidValue.Error()}},
		{"no extension_attributes", func(d map[string]any) { delete(d, "extension_attributes") },
			[]string{shippingAddressPath + "|" + ErrNoShippingAddress.Error()}},
		{"empty shipping_assignments", func(d map[string]any) {
			d["extension_attributes"] = map[string]any{"shipping_assignments": []any{}}
		}, []string{shippingAddressPath + "|" + ErrNoShippingAddress.Error()}},
		{"address without street and country", func(d map[string]any) {
			delete(shipAddr(d), "street")
			shipAddr(d)["country_id"] = ""
		}, []string{shippingAddressPath + ".street[0]|" + ErrMissingField.Error(), shippingAddressPath + ".country_id|" + ErrMissingField.Error()}},
		{"lowercase country", func(d map[string]any) { shipAddr(d)["country_id"] = "us" },
			[]string{shippingAddressPath + ".country_id|" + ErrInvalidValue.Error()}},
		{"bad updated_at", func(d map[string]any) { d["updated_at"] = "yesterday" }, []string{"updated_at|" + ErrInvalidValue.Error()}},
		{"bad bundle shipment type", func(d map[string]any) {
			item0(d)["product_type"] = "bundle"
			item0(d)["product_options"] = map[string]any{"shipment_type": "2"}
		}, []string{"items[0].product_options.shipment_type|" + ErrInvalidValue.Error()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := paidOrder(t)
			tc.change(doc)
			res, err := OrderFromREST(encode(t, doc), "s", Options{})
			checkResult(t, res, err)
			var got []string
			for _, e := range flatten(err) {
				var me *MappingError
				if !errors.As(e, &me) {
					t.Fatalf("not a *MappingError: %v", e)
				}
				got = append(got, me.Field+"|"+me.Err.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("errors:\n%s\nwant:\n%s\n(%v)", strings.Join(got, "\n"), strings.Join(tc.want, "\n"), err)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	err := Options{
		ReleaseStates:  []string{"processing", "shipped", "canceled"},
		CancelStates:   []string{"cancelled"},
		SkipStatuses:   []string{" "},
		BundleShipment: "apart",
		ServiceLevels:  map[string]canonical.ServiceLevel{"ups_GND": "slow"},
	}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`release_states[1]: "shipped" is not a Magento order state`,
		`cancel_states[0]: "cancelled" is not a Magento order state`,
		`skip_statuses[0]: empty status`,
		`bundle_shipment: "apart"`,
		`service_levels["ups_GND"]: "slow" is not a service level`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if err := (Options{}).Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := OrderFromREST([]byte(`{}`), "s", Options{BundleShipment: "x"}); err == nil || !strings.Contains(err.Error(), "checking magento options") {
		t.Fatalf("invalid options accepted: %v", err)
	}
}

func TestQuantities(t *testing.T) {
	doc := paidOrder(t)
	it := item0(doc)
	it["qty_ordered"], it["qty_shipped"], it["qty_refunded"], it["qty_canceled"] = "5.0000", json.Number("1"), json.Number("2"), json.Number("1")
	res, err := OrderFromREST(encode(t, doc), "s", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 5 ordered - max(1 shipped, 2 refunded) - 1 canceled = 2.
	if q := res.Order.Lines[0].Quantity; q != 2 {
		t.Fatalf("quantity %v, want 2", q)
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)
	frac := want.Add(123456 * time.Microsecond)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-11-20 18:00:00", want}, // Magento core
		{"2026-11-20 18:00:00.123456", frac},
		{"2026-11-20T18:00:00Z", want},
		{"2026-11-20T18:00:00+00:00", want},
		{"2026-11-20T18:00:00.123456Z", frac},
		{"2026-11-20T18:00:00.123456+00:00", frac},
		{"2026-11-20T19:00:00.123456+01:00", frac},
		{"2026-11-20T13:00:00-05:00", want},
		{"2026-11-20T13:00:00-0500", want}, // PHP's DATE_ISO8601
		{"2026-11-20T18:00:00+0000", want},
		{"2026-11-20T18:00:00", want}, // no zone: UTC
		{"2026-11-20T18:00:00.123456", frac},
		{"2026-11-20 18:00:00+00:00", want}, // PHP's "Y-m-d H:i:sP"
		{"2026-11-20t18:00:00z", want},
		{" 2026-11-20T18:00:00Z ", want},
	} {
		got, err := ParseTime(tc.in)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v; want %v UTC", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00+01:00", "0000-01-01 00:00:00"} {
		if got, err := ParseTime(in); err == nil || !strings.Contains(err.Error(), "outside 1 to 9999") {
			t.Errorf("ParseTime(%q) = %v, %v; want a year out of range", in, got, err)
		}
	}
	for _, in := range []string{
		"", "yesterday", "2026-11-20", "18:00:00", "20/11/2026 18:00", "1795716000",
		"2026-11-20T18:00:00 UTC", "2026-11-20T18:00:00+25:00", "2026-13-01 00:00:00",
		"2026-11-20T18:00", "2026-11-20T18:00:00Zjunk", "2026-11-20 18:00:00 +00:00",
	} {
		if got, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", in, got)
		} else if !strings.Contains(err.Error(), strconv.Quote(in)) || !strings.Contains(err.Error(), `"YYYY-MM-DD hh:mm:ss"`) {
			t.Errorf("ParseTime(%q): error %q does not quote the value and the accepted forms", in, err)
		}
	}
}

// TestTimeVariants: updated_at and created_at in any accepted form give the
// same Result.UpdatedAt and order_date (the UTC date); garbage is a
// MappingError naming the field, the value and the accepted forms.
func TestTimeVariants(t *testing.T) {
	for _, tc := range []struct {
		created, updated string
		date             string
		updatedAt        time.Time
	}{
		{"2026-11-20 21:14:05", "2026-11-21 08:02:17", "2026-11-20", time.Date(2026, 11, 21, 8, 2, 17, 0, time.UTC)},
		{"2026-11-20T21:14:05Z", "2026-11-21T08:02:17+00:00", "2026-11-20", time.Date(2026, 11, 21, 8, 2, 17, 0, time.UTC)},
		{"2026-11-21T02:14:05+05:00", "2026-11-21T03:02:17.5-05:00", "2026-11-20", time.Date(2026, 11, 21, 8, 2, 17, 5e8, time.UTC)},
		{"2026-11-20T23:59:59.999", "", "2026-11-20", time.Date(2026, 11, 20, 23, 59, 59, 999e6, time.UTC)},
	} {
		doc := paidOrder(t)
		doc["created_at"], doc["updated_at"] = tc.created, tc.updated
		res, err := OrderFromREST(encode(t, doc), "s", Options{})
		if err != nil {
			t.Fatalf("%q, %q: %v", tc.created, tc.updated, err)
		}
		if !res.UpdatedAt.Equal(tc.updatedAt) || res.UpdatedAt.Location() != time.UTC || string(res.Order.OrderDate) != tc.date {
			t.Errorf("%q, %q: updated %v, order_date %v; want %v, %s", tc.created, tc.updated, res.UpdatedAt, res.Order.OrderDate, tc.updatedAt, tc.date)
		}
	}

	doc := paidOrder(t)
	doc["created_at"], doc["updated_at"] = "2026-11-20", json.Number("1795716000")
	_, err := OrderFromREST(encode(t, doc), "s", Options{})
	errs := flatten(err)
	if len(errs) != 2 {
		t.Fatalf("errors %v, want one per time", err)
	}
	for i, want := range []struct{ field, value string }{{"created_at", `"2026-11-20"`}, {"updated_at", `"1795716000"`}} {
		var me *MappingError
		if !errors.As(errs[i], &me) || me.Field != want.field || me.Value != want.value || !errors.Is(me, ErrInvalidValue) ||
			!strings.Contains(me.Error(), `"YYYY-MM-DD hh:mm:ss" (Magento core, UTC) or ISO 8601 / RFC 3339`) {
			t.Errorf("error %d: %#v", i, errs[i])
		}
	}
}
