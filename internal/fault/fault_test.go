package fault

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestClassOf(t *testing.T) {
	base := errors.New("connection refused")
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"unclassified is transient", base, Transient},
		{"marked permanent", AsPermanent(base), Permanent},
		{"wrapped validation", fmt.Errorf("order ord_1: %w", AsValidation(base)), Validation},
		{"outermost class wins", AsPermanent(fmt.Errorf("giving up: %w", AsTransient(base))), Permanent},
		{"deferred", AsDeferred(base, time.Second), Deferred},
		{"in a join", errors.Join(errors.New("x"), AsValidation(base)), Validation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassOf(tt.err); got != tt.want {
				t.Fatalf("ClassOf = %s, want %s", got, tt.want)
			}
		})
	}
	if AsPermanent(nil) != nil || AsDeferred(nil, time.Second) != nil {
		t.Fatal("wrapping nil must stay nil")
	}
	if d := RetryAfter(fmt.Errorf("x: %w", AsDeferred(base, 3*time.Second))); d != 3*time.Second {
		t.Fatalf("RetryAfter = %s", d)
	}
}

func TestChain(t *testing.T) {
	root := errors.New("no warehouse serves SKU-1")
	err := fmt.Errorf("routing order ord_1: %w", AsPermanent(fmt.Errorf("warehouse mapping: %w", root)))
	got := Chain(err)
	want := []string{"routing order ord_1: warehouse mapping: no warehouse serves SKU-1", "warehouse mapping: no warehouse serves SKU-1", "no warehouse serves SKU-1"}
	if !slices.Equal(got, want) {
		t.Fatalf("Chain = %q, want %q", got, want)
	}
	joined := Chain(errors.Join(errors.New("a"), errors.New("b")))
	if !slices.Equal(joined, []string{"a\nb", "a", "b"}) {
		t.Fatalf("Chain of a join = %q", joined)
	}
}
