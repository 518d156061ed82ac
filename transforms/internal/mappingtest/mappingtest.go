// Package mappingtest holds the test helpers the JSON order transforms
// (transforms/shopify, transforms/magento) share: golden-file comparison,
// the contract every result is held to, and flattening joined errors.
package mappingtest

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
)

// Golden encodes v as indented JSON (HTML left unescaped) and compares it
// byte for byte with the golden file at path, or rewrites the file when
// update is set.
func Golden(t testing.TB, path string, v any, update bool) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("output differs from %s; run go test -run TestGolden -update and review the diff.\ngot:\n%s", path, buf.Bytes())
	}
}

// Flatten lists the errors joined in err: each *mapping.Error, and each
// canonical.Problem as an error of its own.
func Flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Flatten(e)...)
		}
		return out
	}
	if ps, ok := err.(canonical.Problems); ok {
		var out []error
		for _, p := range ps {
			out = append(out, canonical.Problems{p})
		}
		return out
	}
	return []error{err}
}

// Outcome is what CheckResult looks at in a transform's Result.
type Outcome struct {
	// Result is the whole result, for failure messages.
	Result     any
	Order      *canonical.Order
	Cancel     *canonical.OrderCancel
	Skip       string
	ExternalID string
}

// CheckResult holds a result to the transforms' contract: exactly one
// outcome, and a published message valid once the hub fills in its id and
// receipt time.
func CheckResult(t testing.TB, res Outcome, err error) {
	t.Helper()
	outcomes := 0
	for _, set := range []bool{res.Order != nil, res.Cancel != nil, res.Skip != ""} {
		if set {
			outcomes++
		}
	}
	if err != nil {
		if res.Order != nil || res.Cancel != nil {
			t.Fatalf("error %v with a message to publish: %+v", err, res.Result)
		}
		return
	}
	if outcomes != 1 {
		t.Fatalf("want exactly one of Order, Cancel, Skip; got %+v", res.Result)
	}
	if res.ExternalID == "" {
		t.Fatalf("no ExternalID in %+v", res.Result)
	}
	received := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	if res.Order != nil {
		o := *res.Order
		if o.OrderID != "" || !o.Source.ReceivedAt.IsZero() || o.Source.ExternalID != res.ExternalID {
			t.Fatalf("order_id/received_at not left to the hub, or wrong external_id: %+v", o.Source)
		}
		o.OrderID, o.Source.ReceivedAt = canonical.NewOrderID(), received
		if err := o.Validate(); err != nil {
			t.Fatalf("order does not validate: %v", err)
		}
	}
	if res.Cancel != nil {
		c := *res.Cancel
		c.OrderID, c.Source.ReceivedAt = canonical.NewOrderID(), received
		if err := c.Validate(); err != nil {
			t.Fatalf("cancel does not validate: %v", err)
		}
	}
}

// DecodeNumbers decodes a JSON object, numbers kept as json.Number, for a
// test to change and Encode again.
func DecodeNumbers(t testing.TB, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// Encode encodes doc as JSON.
func Encode(t testing.TB, doc map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
