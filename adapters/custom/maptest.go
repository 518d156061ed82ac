package custom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
)

// Trial is what MapTest made of a payload: for `paklog map test`.
type Trial struct {
	Channel string
	// Release is false when the release expression held the payload back.
	Release bool
	// Key is the idempotency key, or a note saying which header gives it.
	Key string
	// Order is the mapped order, when Errs is empty and Release is true. Its
	// order_id is PlaceholderOrderID and its source.received_at is zero (left
	// out of String): the hub assigns both when it accepts a delivery.
	Order *canonical.Order
	// Errs lists every problem: of the configuration (*ConfigError), of the
	// payload (*PayloadError) or of the mapping (*MappingError).
	Errs []error
}

// MapTest runs a channel's programs on payload, as the webhook handler would,
// without authentication and without storing anything. It never fails: what
// goes wrong is in Trial.Errs. Cancelling ctx stops the programs.
func MapTest(ctx context.Context, cfg ChannelConfig, payload []byte) Trial {
	t := Trial{Channel: cfg.Name}
	ch, err := Compile(cfg)
	if err != nil {
		t.Errs = unjoin(err)
		return t
	}
	header := http.Header{}
	if h := ch.cfg.Idempotency.Header; h != "" {
		// The key is the delivery's header; a file has none.
		header.Set(h, "(header "+h+")")
	}
	d, err := ch.Map(ctx, payload, header)
	if err != nil {
		t.Errs = []error{err}
		return t
	}
	t.Release, t.Key = d.Release, d.Key
	if d.Release {
		d.Order.Source.ReceivedAt = time.Time{}
		t.Order = &d.Order
	}
	return t
}

// OK reports whether the payload mapped to a valid order, or was held back by
// the release expression: the CLI's exit status 0.
func (t Trial) OK() bool { return len(t.Errs) == 0 }

// String is the CLI's output: the order as indented JSON, preceded by the
// idempotency key; or a note that the release expression held the payload
// back; or every problem, one a line, a mapping's fields indented under it.
func (t Trial) String() string {
	var b strings.Builder
	if len(t.Errs) > 0 {
		fmt.Fprintf(&b, "channel %s: %d problem(s)\n", t.Channel, countProblems(t.Errs))
		for _, err := range t.Errs {
			var me *MappingError
			if errors.As(err, &me) && len(me.Problems) > 0 {
				fmt.Fprintf(&b, "%s program `%s`:\n", me.Program, clipExpr(me.Source))
				for _, p := range me.Problems {
					b.WriteString("  " + p.String() + "\n")
				}
				continue
			}
			b.WriteString(err.Error() + "\n")
		}
		return b.String()
	}
	if !t.Release {
		return fmt.Sprintf("channel %s: the release expression is false for this payload; the hub would answer 200 and store nothing\n", t.Channel)
	}
	fmt.Fprintf(&b, "# channel %s, idempotency key %s\n", t.Channel, t.Key)
	if t.Order != nil {
		data, err := json.MarshalIndent(t.Order, "", "  ")
		if err != nil {
			return fmt.Sprintf("channel %s: encoding the order: %v\n", t.Channel, err)
		}
		b.Write(data)
		b.WriteByte('\n')
	}
	return b.String()
}

func countProblems(errs []error) int {
	n := 0
	for _, err := range errs {
		var me *MappingError
		if errors.As(err, &me) && len(me.Problems) > 0 {
			n += len(me.Problems)
		} else {
			n++
		}
	}
	return n
}

// unjoin lists the errors errors.Join put together.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}
