package x12_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
	"github.com/paklog/integration-hub/transforms/x12"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const fixtures = "../../fixtures/edi"

// translated is one 850 or 940 set of a fixture and its translation.
type translated struct {
	name  string // <fixture>.<ST02>, or <fixture>.<ST02>.<n> when ST02 repeats in the file
	set   *edi.TransactionSet
	order canonical.Order
	err   error
}

// translateFile reads a file through the decoder and translates every 850
// and 940 set in it, with the default options and the fixture's source
// as partner.
func translateFile(t testing.TB, path string) []translated {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base := strings.TrimSuffix(filepath.Base(path), ".edi")
	partner, _, _ := strings.Cut(base, "__")
	seen := map[string]int{}
	var out []translated
	d := edi.NewDecoder(f)
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		var se *edi.SyntaxError
		if errors.As(err, &se) {
			continue
		}
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		if ev.Kind != edi.SetEnd || (ev.Set.ID != "850" && ev.Set.ID != "940") {
			continue
		}
		ts := ev.Set.Clone()
		seen[ts.ControlNumber]++
		tr := translated{name: base + "." + ts.ControlNumber, set: ts}
		if n := seen[ts.ControlNumber]; n > 1 {
			tr.name += fmt.Sprintf(".%d", n)
		}
		env := x12.EnvelopeOf(partner, ts)
		if ts.ID == "850" {
			tr.order, tr.err = x12.OrderFrom850(ts, env, x12.Options{})
		} else {
			tr.order, tr.err = x12.OrderFrom940(ts, env, x12.Options{})
		}
		out = append(out, tr)
	}
	return out
}

// golden renders a translation: the order as indented JSON, or the list
// of errors.
func golden(t *testing.T, tr translated) []byte {
	t.Helper()
	var v any = tr.order
	if tr.err != nil {
		var msgs []string
		for _, e := range tr.err.(edi.ErrorList) {
			msgs = append(msgs, e.Error())
		}
		v = map[string][]string{"errors": msgs}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestGolden translates every 850 and 940 set of the shared fixtures and
// compares the whole output with testdata/<fixture>.<ST02>.golden.json.
// Run with -update to rewrite the files, then review the diff.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "*.edi"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s: %v", fixtures, err)
	}
	want := map[string]bool{}
	for _, path := range files {
		for _, tr := range translateFile(t, path) {
			name := tr.name + ".golden.json"
			want[name] = true
			t.Run(tr.name, func(t *testing.T) {
				got := golden(t, tr)
				file := filepath.Join("testdata", name)
				if *update {
					if err := os.WriteFile(file, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				exp, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
				}
				if !bytes.Equal(got, exp) {
					t.Errorf("output differs from %s; run go test -run TestGolden -update and review the diff.\ngot:\n%s", file, got)
				}
				if tr.err == nil {
					check := tr.order
					check.OrderID = canonical.NewOrderID()
					check.Source.ReceivedAt = placeholderTime
					if err := check.Validate(); err != nil {
						t.Errorf("translated order does not validate: %v", err)
					}
				}
			})
		}
	}
	// A golden file with no set behind it is stale.
	stale, _ := filepath.Glob(filepath.Join("testdata", "*.golden.json"))
	for _, f := range stale {
		if !want[filepath.Base(f)] && !*update {
			t.Errorf("%s matches no fixture set: delete it", f)
		}
	}
	if len(want) < 5 {
		t.Errorf("only %d sets translated: the fixtures should hold at least 5 850/940 sets", len(want))
	}
}
