package router_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/dlq"
	x12 "github.com/paklog/integration-hub/edi/x12"
	"github.com/paklog/integration-hub/internal/hubtest"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

// po850 is one 850 set; qty is PO102 as sent (a bad one makes the set invalid).
func po850(ctl, po, qty string) string {
	return "ST*850*" + ctl + "~\nBEG*00*SA*" + po + "**20261121~\nN1*ST*RECEIVING DOCK*92*0042~\nN3*4500 DISTRIBUTION WAY~\nN4*RENO*NV*89502*US~\n" +
		"PO1*1*" + qty + "*EA*12.50**VP*SKU-1*BP*B-1~\nPO1*2*1*EA*3.00**VP*SKU-2~\nCTT*2~\nSE*9*" + ctl + "~\n"
}

func interchange(isa13 string, sets ...string) string {
	return "ISA*00*          *00*          *ZZ*RETAILER       *ZZ*PAKLOG         *261121*1200*U*00401*" + isa13 + "*0*P*>~\n" +
		"GS*PO*RETAILER*PAKLOG*20261121*1200*7*X*004010~\n" + strings.Join(sets, "") +
		fmt.Sprintf("GE*%d*7~\nIEA*1*%s~\n", len(sets), isa13)
}

func messages(t *testing.T, st *store.Store, topic string) []string {
	t.Helper()
	rows, err := st.ReadDB().Query(`SELECT payload FROM ` + st.MessagesTable(topic) + ` ORDER BY "offset"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// One X12 file with a good and a bad 850: the good one becomes an order on
// fulfilment.orders, the bad one is parked on its own with the problem by line and
// element, and the partner gets a 997 naming both. The same interchange sent again is
// acknowledged but not translated twice; a replay of the parked set processes that set
// only.
func TestEDIFileToOrdersAcksAndDLQ(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		hubtest.StartRouter(t, st, func(r *router.Router) error {
			return router.RegisterEDI(r, router.EDIConfig{Default: router.EDIPartner{Ack: x12.AckByVersion}})
		})
		in := intake.New(st, router.Topics{}, intake.Config{}, nil)
		t.Cleanup(in.Close)
		console := dlq.NewConsole(st, router.Topics{})
		file := interchange("000000101", po850("0001", "PO-1001", "4"), po850("0002", "PO-1002", "4x"))
		accept := func(key string) {
			t.Helper()
			if _, err := in.Accept(context.Background(), intake.Item{Source: string(canonical.ChannelEDI), Partner: "acme",
				IdempotencyKey: key, Payload: []byte(file), ContentType: "application/edi-x12"}); err != nil {
				t.Fatal(err)
			}
		}
		accept("file-1")
		var entries []dlq.Entry
		waitFor(t, "the order, the 997 and the DLQ entry", 10*time.Second, func() bool {
			entries, _ = console.List(context.Background(), dlq.Filter{})
			return len(messages(t, st, router.TopicFulfilmentOrders)) == 1 && len(messages(t, st, router.TopicEDIAcks)) == 1 && len(entries) == 1
		})
		o, err := canonical.DecodeOrder([]byte(messages(t, st, router.TopicFulfilmentOrders)[0]))
		if err != nil || o.OrderNumber != "PO-1001" || o.Source.Partner != "acme" || len(o.Lines) != 2 || o.Lines[0].Quantity != 4 {
			t.Fatalf("order: %v %+v", err, o)
		}
		ack := messages(t, st, router.TopicEDIAcks)[0]
		for _, want := range []string{"ST*997*0001~", "AK1*PO*7~", "AK2*850*0001~\nAK5*A~", "AK2*850*0002~", "AK5*R", "AK9*P*2*2*1~", "*000000001*0*P*"} {
			if !strings.Contains(ack, want) {
				t.Errorf("997 lacks %q:\n%s", want, ack)
			}
		}
		e := entries[0]
		if e.Handler != "normalize.edi" || e.ErrorClass != "validation" || !strings.Contains(e.Reason, `line 17, PO1 (segment 6 of set 0002): PO102 "4x" is not numeric`) {
			t.Fatalf("DLQ entry: %s %s: %s", e.Handler, e.ErrorClass, e.Reason)
		}

		// The same interchange again (a partner's resend): acknowledged, not translated.
		accept("file-2")
		waitFor(t, "the second 997", 10*time.Second, func() bool { return len(messages(t, st, router.TopicEDIAcks)) == 2 })
		time.Sleep(200 * time.Millisecond)
		if n := len(messages(t, st, router.TopicFulfilmentOrders)); n != 1 {
			t.Fatalf("%d orders after the resend, want 1", n)
		}
		if second := messages(t, st, router.TopicEDIAcks)[1]; !strings.Contains(second, "*000000002*0*P*") || !strings.Contains(second, "ST*997*0002~") {
			t.Fatalf("the second 997 does not take the next control numbers:\n%s", second)
		}

		// Replaying the parked set processes that set only: rejected again, the entry
		// reopens, no order, no acknowledgement.
		if _, err := console.Replay(context.Background(), e.ID, false); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the replay to fail again", 10*time.Second, func() bool {
			got, _ := console.Get(context.Background(), e.ID)
			return got.Status == dlq.StatusOpen && got.TimesFailed == 2
		})
		if n := len(messages(t, st, router.TopicFulfilmentOrders)); n != 1 {
			t.Fatalf("%d orders after the replay, want 1", n)
		}
		if n := len(messages(t, st, router.TopicEDIAcks)); n != 2 {
			t.Fatalf("%d acknowledgements after the replay, want 2", n)
		}
	})
}

// A 940 order and, in the same file, its cancel: the cancel reaches
// fulfilment.cancellations with the order's hub id; a cancel of an order the hub never
// had is parked, telling the operator to replay it if the order arrives later.
func TestEDICancels(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		hubtest.StartRouter(t, st, func(r *router.Router) error {
			return router.RegisterEDI(r, router.EDIConfig{Default: router.EDIPartner{Ack: x12.AckByVersion}})
		})
		in := intake.New(st, router.Topics{}, intake.Config{}, nil)
		t.Cleanup(in.Close)
		file := "ISA*00*          *00*          *ZZ*DEPOSITOR      *ZZ*PAKLOG         *261121*1200*U*00401*000000201*0*P*>~\n" +
			"GS*OW*DEPOSITOR*PAKLOG*20261121*1200*9*X*004010~\n" +
			"ST*940*0001~\nW05*N*SO-77*PO-9~\nN1*ST*DANA WHITFIELD~\nN3*1200 MARKET ST~\nN4*SAN FRANCISCO*CA*94102*US~\nLX*1~\nW01*2*EA**VN*V-1~\nW76*2~\nSE*9*0001~\n" +
			"ST*940*0002~\nW05*F*SO-77*PO-9~\nNTE*WHI*CUSTOMER CANCELLED~\nSE*4*0002~\n" +
			"ST*940*0003~\nW05*F*SO-404~\nSE*3*0003~\n" +
			"GE*3*9~\nIEA*1*000000201~\n"
		if _, err := in.Accept(context.Background(), intake.Item{Source: "edi", Partner: "acme", IdempotencyKey: "f", Payload: []byte(file)}); err != nil {
			t.Fatal(err)
		}
		console := dlq.NewConsole(st, router.Topics{})
		var entries []dlq.Entry
		waitFor(t, "the order, the cancel and the parked unknown cancel", 10*time.Second, func() bool {
			entries, _ = console.List(context.Background(), dlq.Filter{})
			return len(messages(t, st, router.TopicFulfilmentOrders)) == 1 && len(messages(t, st, router.TopicFulfilmentCancellation)) == 1 && len(entries) == 1
		})
		o, _ := canonical.DecodeOrder([]byte(messages(t, st, router.TopicFulfilmentOrders)[0]))
		c, err := canonical.DecodeOrderCancel([]byte(messages(t, st, router.TopicFulfilmentCancellation)[0]))
		if err != nil || c.OrderID != o.OrderID || c.OrderNumber != "SO-77" || !strings.Contains(c.Reason, "CUSTOMER CANCELLED") {
			t.Fatalf("cancel %v %+v for order %s", err, c, o.OrderID)
		}
		if !strings.Contains(entries[0].Reason, "SO-404") || !strings.Contains(entries[0].Reason, "replay this entry") {
			t.Fatalf("DLQ reason %q", entries[0].Reason)
		}
		trail, _ := st.Trail(context.Background(), o.OrderID)
		if !store.HasStages(trail, store.StageAccepted, store.StageRouted, store.StageCancelRequested) {
			t.Fatalf("trail %+v", trail)
		}
	})
}
