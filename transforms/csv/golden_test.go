package csv

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"testing"

	"github.com/paklog/integration-hub/canonical"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenBatch is a Batch as the golden file shows it.
type goldenBatch struct {
	FirstLine int              `json:"first_line"`
	LastLine  int              `json:"last_line"`
	Order     *canonical.Order `json:"order,omitempty"`
	Errors    []string         `json:"errors,omitempty"`
}

// TestGolden reads testdata/orders.csv, a mix of good and bad orders, and
// compares every batch with testdata/orders.golden.json. Run with -update
// to rewrite the golden file after a deliberate change, and review the diff.
func TestGolden(t *testing.T) {
	in, err := os.Open("testdata/orders.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := NewReader(in, Config{Partner: "golden"})
	if err != nil {
		t.Fatal(err)
	}
	out := []goldenBatch{}
	for {
		b, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		g := goldenBatch{FirstLine: b.FirstLine, LastLine: b.LastLine, Order: b.Order}
		for _, e := range b.Errors {
			g.Errors = append(g.Errors, e.Error())
		}
		out = append(out, g)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	const golden = "testdata/orders.golden.json"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s; run go test -run TestGolden -update and review the diff.\ngot:\n%s", golden, got)
	}
}
