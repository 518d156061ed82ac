package api

import (
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
)

const minimal = `{"order_number":"N-1","ship_to":{"name":"A","address1":"1 St","city":"C","country":"US"},"lines":[{"line_number":"1","sku":"S","quantity":1}]}`

func TestPrepareFillsHubFields(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, body, header        string
		wantPartner, wantExternal string
	}{
		{"defaults", minimal, "", DefaultPartner, "N-1"},
		{"partner header", minimal, "acme", "acme", "N-1"},
		{"body wins over header", strings.Replace(minimal, `"order_number"`, `"source":{"partner":"b2b","external_id":"X-9"},"order_number"`, 1), "acme", "b2b", "X-9"},
		{"client's hub fields are overwritten", strings.Replace(minimal, `"order_number"`, `"order_id":"ord_01ZZZZZZZZZZZZZZZZZZZZZZZZ","source":{"channel":"shopify","received_at":"1999-01-01T00:00:00Z"},"order_number"`, 1), "", DefaultPartner, "N-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, problems, err := Prepare([]byte(tt.body), tt.header, now)
			if err != nil || len(problems) > 0 {
				t.Fatalf("Prepare: %v %v", err, problems)
			}
			if o.Source.Channel != canonical.ChannelAPI || !o.Source.ReceivedAt.Equal(now) || o.Source.Partner != tt.wantPartner ||
				o.Source.ExternalID != tt.wantExternal || o.OrderID == "ord_01ZZZZZZZZZZZZZZZZZZZZZZZZ" || o.Schema != canonical.SchemaOrder {
				t.Fatalf("source %+v, order id %s", o.Source, o.OrderID)
			}
		})
	}
}

func TestPrepareReportsEveryProblem(t *testing.T) {
	body := `{"ship_to":{"name":"A","country":"usa"},"lines":[{"line_number":"1","sku":"S","quantity":-1}]}`
	_, problems, err := Prepare([]byte(body), "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := problems.Error()
	for _, want := range []string{"ship_to.address1: is required", "ship_to.city: is required", "ship_to.country: must match", "lines[0].quantity: must be > 0", "source.external_id"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

func TestPrepareRejectsNonObjects(t *testing.T) {
	for _, body := range []string{``, `null`, `[]`, `"x"`, `{"a":1} {"b":2}`, `{`} {
		if _, _, err := Prepare([]byte(body), "", time.Now()); err == nil {
			t.Errorf("Prepare(%q) accepted it", body)
		}
	}
}

// FuzzPrepare: any body either fails to parse, or yields problems, or yields an order
// that is valid against paklog.order.v1 — never a panic, never an invalid order.
func FuzzPrepare(f *testing.F) {
	f.Add([]byte(minimal), "")
	f.Add([]byte(`{"lines":[{"quantity":"4x"}],"ship_to":null}`), "p")
	f.Add([]byte(`{"source":[],"order_number":7}`), "")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		o, problems, err := Prepare(body, header, time.Now())
		if err != nil || len(problems) > 0 {
			return
		}
		if err := o.Validate(); err != nil {
			t.Fatalf("Prepare returned an order that does not validate: %v\nbody: %s", err, body)
		}
	})
}

// Regression found in review: an overlong id is a 400 the sender can act on, not a
// database error answered as "try again" (PostgreSQL's index rows are capped).
func TestPrepareCapsIDs(t *testing.T) {
	body := strings.Replace(minimal, `"order_number"`, `"source":{"external_id":"`+strings.Repeat("x", 4000)+`"},"order_number"`, 1)
	_, problems, err := Prepare([]byte(body), "", time.Now())
	if err != nil || !strings.Contains(problems.Error(), "source.external_id") {
		t.Fatalf("problems %v, err %v", problems, err)
	}
}
