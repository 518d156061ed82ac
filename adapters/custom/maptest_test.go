package custom_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/adapters/custom"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden maps each sample payload with its program and compares what
// `paklog map test` would print with testdata/<name>.golden.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		cfg  custom.ChannelConfig
	}{
		{"woocommerce", wooChannel(t)},
		{"homegrown", kioskChannel(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trial := custom.MapTest(context.Background(), tt.cfg, read(t, tt.name+".json"))
			if !trial.OK() {
				t.Fatalf("errors:\n%s", trial)
			}
			if err := trial.Order.Validate(); err == nil || !strings.Contains(err.Error(), "source.received_at: is required") {
				t.Errorf("a trial order has no received_at, so only that should fail validation; got %v", err)
			}
			got := []byte(trial.String())
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func TestMapTestReportsEveryProblem(t *testing.T) {
	cfg := wooChannel(t)
	// A mapping that forgets the sku and leaves the city empty.
	cfg.Mapping = `{order_number: .number,
  ship_to: {name: .shipping.first_name, address1: .shipping.address_1, city: "", country: .shipping.country},
  lines: [.line_items[] | {line_number: (.id | tostring), quantity: .quantity}]}`
	trial := custom.MapTest(context.Background(), cfg, read(t, "woocommerce.json"))
	if trial.OK() || trial.Order != nil {
		t.Fatalf("trial passed:\n%s", trial)
	}
	var me *custom.MappingError
	if len(trial.Errs) != 1 || !errors.As(trial.Errs[0], &me) || !errors.Is(trial.Errs[0], custom.ErrMapping) {
		t.Fatalf("errors %v", trial.Errs)
	}
	want := []custom.Problem{
		{Path: "lines[0].sku", Message: "is required", Got: "nothing",
			Hint: "the object the mapping builds for lines[], `{ line_number: (.id | tostring), quantity: .quantity }`, has no \"sku\" key"},
		{Path: "lines[1].sku", Message: "is required", Got: "nothing",
			Hint: "the object the mapping builds for lines[], `{ line_number: (.id | tostring), quantity: .quantity }`, has no \"sku\" key"},
		{Path: "ship_to.city", Message: "must not be empty", Got: `""`, Expr: `""`},
	}
	if len(me.Problems) != len(want) {
		t.Fatalf("problems:\n%s", trial)
	}
	for i, p := range me.Problems {
		if p != want[i] {
			t.Errorf("problem %d:\n got %+v\nwant %+v", i, p, want[i])
		}
	}
	out := trial.String()
	for _, s := range []string{"channel woo: 3 problem(s)", "mapping program `{order_number: .number,", "  field ship_to.city must not be empty; the mapping sets it with `\"\"`, which produced \"\""} {
		if !strings.Contains(out, s) {
			t.Errorf("output does not contain %q:\n%s", s, out)
		}
	}
}

func TestMapTestConfigErrors(t *testing.T) {
	cfg := wooChannel(t)
	cfg.Mapping = "{order_number: .number,\n  lines: [.items[] | {sku: .sku}}"
	cfg.Release = "is_paid"
	trial := custom.MapTest(context.Background(), cfg, read(t, "woocommerce.json"))
	if trial.OK() || len(trial.Errs) != 2 {
		t.Fatalf("errors %v", trial.Errs)
	}
	var ce *custom.ConfigError
	if !errors.As(trial.Errs[0], &ce) || ce.Field != "mapping" || ce.Line != 2 || ce.Column != 33 {
		t.Errorf("first error %#v", trial.Errs[0])
	}
	if !errors.As(trial.Errs[1], &ce) || ce.Field != "release" || ce.Line != 1 || ce.Column != 1 {
		t.Errorf("second error %#v", trial.Errs[1])
	}
	t.Log(trial)
}

func TestMapTestReleaseFalse(t *testing.T) {
	trial := custom.MapTest(context.Background(), wooChannel(t), wooBody(t, func(d map[string]any) { d["status"] = "on-hold" }))
	if !trial.OK() || trial.Release || trial.Order != nil || !strings.Contains(trial.String(), "release expression is false") {
		t.Errorf("trial %+v:\n%s", trial, trial)
	}
}

func TestMapTestTimeout(t *testing.T) {
	cfg := wooChannel(t)
	cfg.Timeout = 50 * time.Millisecond
	cfg.Mapping = `last(range(1e15)) | {order_number: tostring}`
	start := time.Now()
	trial := custom.MapTest(context.Background(), cfg, read(t, "woocommerce.json"))
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
	if len(trial.Errs) != 1 || !errors.Is(trial.Errs[0], context.DeadlineExceeded) || !strings.Contains(trial.String(), "did not finish in time") {
		t.Errorf("errors %v", trial.Errs)
	}
}
