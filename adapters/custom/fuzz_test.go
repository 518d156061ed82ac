package custom_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/paklog/integration-hub/adapters/custom"
	"github.com/paklog/integration-hub/canonical"
)

// FuzzMap feeds bodies to the handler's parse and map path for both sample
// channels. Seeds: the samples and testdata/fuzz/FuzzMap. Whatever the body,
// Map returns a Delivery or a typed error, never panics; an order it returns
// is valid, and encoding and decoding it gives it back.
func FuzzMap(f *testing.F) {
	f.Add(read(f, "woocommerce.json"))
	f.Add(read(f, "homegrown.json"))
	var chans []*custom.Channel
	for _, cfg := range []custom.ChannelConfig{wooChannel(f), kioskChannel(f)} {
		ch, err := custom.Compile(cfg)
		if err != nil {
			f.Fatal(err)
		}
		chans = append(chans, ch)
	}
	header := map[string][]string{"X-Event-Id": {"evt-1"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, ch := range chans {
			d, err := ch.Map(context.Background(), body, header)
			if err != nil {
				var pe *custom.PayloadError
				var me *custom.MappingError
				switch {
				case errors.As(err, &pe):
					if pe.Offset < 0 || pe.Offset > int64(len(body)) || pe.Line < 1 || pe.Column < 1 {
						t.Fatalf("%s: bad position in %v", ch.Name(), err)
					}
				case errors.As(err, &me):
					if me.Err == nil && len(me.Problems) == 0 {
						t.Fatalf("%s: a mapping error with neither cause nor problems", ch.Name())
					}
					_ = me.Error()
				default:
					t.Fatalf("%s: untyped error %v", ch.Name(), err)
				}
				continue
			}
			if !d.Release {
				continue
			}
			if d.Key == "" {
				t.Fatalf("%s: released without a key", ch.Name())
			}
			if err := d.Order.Validate(); err != nil {
				t.Fatalf("%s: mapped order invalid: %v", ch.Name(), err)
			}
			data, err := d.Order.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			back, err := canonical.DecodeOrder(data)
			if err != nil {
				t.Fatalf("%s: decoding the mapped order: %v", ch.Name(), err)
			}
			if !reflect.DeepEqual(back, d.Order) {
				t.Fatalf("%s: round trip differs:\n%+v\n%+v", ch.Name(), back, d.Order)
			}
		}
	})
}
