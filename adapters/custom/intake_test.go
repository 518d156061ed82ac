package custom_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/paklog/integration-hub/adapters/custom"
	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

// TestRealIntake runs the handler over the real intake on SQLite: an accepted
// delivery is the canonical order on inbound.custom, a redelivery is answered
// with the first result and stored once, and a refused one stores nothing.
func TestRealIntake(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	topic := router.InboundTopic(custom.Source)
	if err := st.InitTopics(context.Background(), topic); err != nil {
		t.Fatal(err)
	}
	in := intake.New(st, router.Topics{}, intake.Config{}, nil)
	t.Cleanup(in.Close)
	srv := server(t, in, nil)
	stored := func() int {
		return storetest.Count(t, st, "SELECT COUNT(*) FROM "+st.MessagesTable(topic))
	}

	body := wooBody(t, nil)
	if status, _, resp := post(t, srv, "woo", body, map[string]string{"X-WC-Webhook-Signature": "bm9wZQ=="}); status != http.StatusUnauthorized {
		t.Fatalf("bad signature: status %d: %s", status, resp)
	}
	if n := stored(); n != 0 {
		t.Fatalf("%d stored after a refused delivery", n)
	}

	status, _, first := wooSigned(t, srv, body)
	if status != http.StatusAccepted {
		t.Fatalf("status %d: %s", status, first)
	}
	status, _, second := wooSigned(t, srv, body)
	if status != http.StatusAccepted {
		t.Fatalf("redelivery: status %d: %s", status, second)
	}
	var a, b custom.Response
	if err := json.Unmarshal(first, &a); err != nil || a.Result == nil {
		t.Fatalf("%s: %v", first, err)
	}
	if err := json.Unmarshal(second, &b); err != nil || b.Result == nil {
		t.Fatalf("%s: %v", second, err)
	}
	if !b.Duplicate || a.OrderID != b.OrderID || a.MessageUUID != b.MessageUUID || !a.ReceivedAt.Equal(b.ReceivedAt) {
		t.Errorf("redelivery got another result:\n%s\n%s", first, second)
	}
	if n := stored(); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}

	var payload, md []byte
	if err := st.ReadDB().QueryRow(`SELECT payload, metadata FROM `+st.MessagesTable(topic)).Scan(&payload, &md); err != nil {
		t.Fatal(err)
	}
	o, err := canonical.DecodeOrder(payload)
	if err != nil {
		t.Fatalf("published payload is not a valid order: %v\n%s", err, payload)
	}
	if o.OrderID != a.OrderID || o.Source.Channel != canonical.ChannelCustom || o.Source.Partner != "woo" || o.Source.ExternalID != "727" || len(o.Lines) != 2 {
		t.Errorf("published order %+v", o)
	}
	var meta map[string]string
	if err := json.Unmarshal(md, &meta); err != nil {
		t.Fatal(err)
	}
	if meta[router.MetaSource] != "custom" || meta[router.MetaPartner] != "woo" || meta[router.MetaSchema] != canonical.SchemaOrder || meta[custom.MetaKeyFrom] != "jq .id" {
		t.Errorf("metadata %v", meta)
	}
	if n := storetest.Count(t, st, "SELECT COUNT(*) FROM ingest WHERE source = ? AND partner = ? AND idempotency_key = ?", "custom", "woo", "727"); n != 1 {
		t.Errorf("%d ingest rows for the key, want 1", n)
	}
}
