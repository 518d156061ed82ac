package canonical

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
)

// DecodeOrder validates data against paklog.order.v1 and decodes it. The
// error is Problems when the document is malformed or invalid.
//
// Unlike json.Unmarshal, which matches keys case-insensitively, decoding
// matches keys exactly as the schema does: an unknown "SKU" key is ignored
// by both, never read into Line.SKU.
func DecodeOrder(data []byte) (Order, error) { return decode[Order](SchemaOrder, data) }

// DecodeOrderCancel validates data against paklog.order_cancel.v1 and
// decodes it, as DecodeOrder does.
func DecodeOrderCancel(data []byte) (OrderCancel, error) {
	return decode[OrderCancel](SchemaOrderCancel, data)
}

// DecodeShipment validates data against paklog.shipment.v1 and decodes it,
// as DecodeOrder does.
func DecodeShipment(data []byte) (Shipment, error) { return decode[Shipment](SchemaShipment, data) }

// DecodeLabel validates data against paklog.label.v1 and decodes it, as
// DecodeOrder does.
func DecodeLabel(data []byte) (Label, error) { return decode[Label](SchemaLabel, data) }

// DecodeShipConfirm validates data against paklog.ship_confirm.v1 and
// decodes it, as DecodeOrder does.
func DecodeShipConfirm(data []byte) (ShipConfirm, error) {
	return decode[ShipConfirm](SchemaShipConfirm, data)
}

// DecodeInventoryAdvice validates data against paklog.inventory_advice.v1
// and decodes it, as DecodeOrder does.
func DecodeInventoryAdvice(data []byte) (InventoryAdvice, error) {
	return decode[InventoryAdvice](SchemaInventoryAdvice, data)
}

// Validate encodes o and checks it against paklog.order.v1; the error is
// Problems naming the JSON paths ("lines[0].sku") of everything wrong.
func (o Order) Validate() error { return validateMessage(SchemaOrder, o) }

// Validate checks c against paklog.order_cancel.v1, as Order.Validate does.
func (c OrderCancel) Validate() error { return validateMessage(SchemaOrderCancel, c) }

// Validate checks s against paklog.shipment.v1, as Order.Validate does.
func (s Shipment) Validate() error { return validateMessage(SchemaShipment, s) }

// Validate checks l against paklog.label.v1, as Order.Validate does.
func (l Label) Validate() error { return validateMessage(SchemaLabel, l) }

// Validate checks c against paklog.ship_confirm.v1, as Order.Validate does.
func (c ShipConfirm) Validate() error { return validateMessage(SchemaShipConfirm, c) }

// Validate checks a against paklog.inventory_advice.v1, as Order.Validate
// does.
func (a InventoryAdvice) Validate() error { return validateMessage(SchemaInventoryAdvice, a) }

func validateMessage(name string, m any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	return Validate(name, b)
}

func decode[T any](name string, data []byte) (T, error) {
	var out T
	v, err := validate(name, data)
	if err != nil {
		return out, err
	}
	var path []pathToken
	if err := assign(reflect.ValueOf(&out).Elem(), v, &path); err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

var timeType = reflect.TypeFor[time.Time]()

// assign stores the decoded JSON value src in dst, matching object keys to
// json tags exactly. The schemas type every field the Go types know, so
// after validation a mismatch means the two disagree: it is reported as a
// Problem rather than a panic.
func assign(dst reflect.Value, src any, path *[]pathToken) error {
	mismatch := func(want string) error {
		return Problems{{Path: formatPath(*path), Message: fmt.Sprintf("must be %s, got %s", want, jsonKind(src))}}
	}
	if dst.Type() == timeType {
		s, ok := src.(string)
		if !ok {
			return mismatch("a string")
		}
		t, err := parseTime(s)
		if err != nil {
			return Problems{{Path: formatPath(*path), Message: fmt.Sprintf("must be an RFC 3339 date-time, got %s", display(s))}}
		}
		dst.Set(reflect.ValueOf(t))
		return nil
	}
	switch dst.Kind() {
	case reflect.String:
		s, ok := src.(string)
		if !ok {
			return mismatch("a string")
		}
		dst.SetString(s)
	case reflect.Float64:
		f, ok := src.(float64)
		if !ok {
			return mismatch("a number")
		}
		dst.SetFloat(f)
	case reflect.Pointer:
		if src == nil {
			return nil
		}
		p := reflect.New(dst.Type().Elem())
		if err := assign(p.Elem(), src, path); err != nil {
			return err
		}
		dst.Set(p)
	case reflect.Struct:
		obj, ok := src.(map[string]any)
		if !ok {
			return mismatch("an object")
		}
		for _, f := range fieldsOf(dst.Type()) {
			v, ok := obj[f.name]
			if !ok {
				continue
			}
			*path = append(*path, pathToken{key: f.name, index: -1})
			if err := assign(dst.Field(f.index), v, path); err != nil {
				return err
			}
			*path = (*path)[:len(*path)-1]
		}
	case reflect.Slice:
		arr, ok := src.([]any)
		if !ok {
			return mismatch("an array")
		}
		s := reflect.MakeSlice(dst.Type(), len(arr), len(arr))
		for i, v := range arr {
			*path = append(*path, pathToken{index: i})
			if err := assign(s.Index(i), v, path); err != nil {
				return err
			}
			*path = (*path)[:len(*path)-1]
		}
		dst.Set(s)
	case reflect.Map:
		obj, ok := src.(map[string]any)
		if !ok {
			return mismatch("an object")
		}
		m := reflect.MakeMapWithSize(dst.Type(), len(obj))
		for k, v := range obj {
			e := reflect.New(dst.Type().Elem()).Elem()
			*path = append(*path, pathToken{key: k, index: -1})
			if err := assign(e, v, path); err != nil {
				return err
			}
			*path = (*path)[:len(*path)-1]
			m.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), e)
		}
		dst.Set(m)
	default:
		return fmt.Errorf("canonical: cannot decode into %s", dst.Type())
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

type field struct {
	name  string
	index int
}

var fieldCache sync.Map // reflect.Type → []field

// fieldsOf lists the JSON names of a struct's fields.
func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fs = append(fs, field{name: name, index: i})
	}
	fieldCache.Store(t, fs)
	return fs
}
