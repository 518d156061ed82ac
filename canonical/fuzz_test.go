package canonical

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// FuzzValidate checks that Validate never panics, always explains a
// rejection, agrees with DecodeOrder, and that a decoded order encodes to a
// document that is still valid and decodes to the same order.
// Seeds: the valid example here and testdata/fuzz/FuzzValidate.
func FuzzValidate(f *testing.F) {
	f.Add(readTestdata(f, SchemaOrder+".valid.json"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		verr := Validate(SchemaOrder, doc)
		order, derr := DecodeOrder(doc)
		if (verr == nil) != (derr == nil) {
			t.Fatalf("Validate: %v\nDecodeOrder: %v", verr, derr)
		}
		if verr != nil {
			var vps, dps Problems
			if !errors.As(verr, &vps) || !errors.As(derr, &dps) {
				t.Fatalf("errors are not Problems: %v / %v", verr, derr)
			}
			if len(vps) == 0 || !slices.Equal(vps, dps) {
				t.Fatalf("Validate: %v\nDecodeOrder: %v", vps, dps)
			}
			for _, p := range vps {
				if p.Message == "" {
					t.Fatalf("problem without a message: %+v", p)
				}
			}
			return
		}
		if err := order.Validate(); err != nil {
			t.Fatalf("decoded order no longer validates: %v", err)
		}
		once, err := json.Marshal(order)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeOrder(once)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", once, err)
		}
		twice, _ := json.Marshal(again)
		if !bytes.Equal(once, twice) {
			t.Fatalf("encode → decode → encode changed the order:\n%s\n%s", once, twice)
		}
	})
}
