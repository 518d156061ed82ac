package filedrop

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/internal/hubtest"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

// A partner's 850 file is polled into the hub's store and becomes an order on
// fulfilment.orders; the same file offered again (archiving failed) is a duplicate;
// a file over the inline limit travels as a spooled file and is translated all the
// same.
func TestIntakeSinkToOrders(t *testing.T) {
	edi, err := os.ReadFile("../../fixtures/edi/ediengine__x12-850.edi")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		hubtest.StartRouter(t, st, func(r *router.Router) error {
			return router.RegisterEDI(r, router.EDIConfig{})
		})
		in := intake.New(st, router.Topics{}, intake.Config{SpoolDir: t.TempDir(), InlineMax: 64}, nil)
		t.Cleanup(in.Close)
		r := newRig(t, nil)
		r.sink = nil
		p, err := New(r.p.cfg, dialerFunc(func(ctx context.Context) (FS, error) { return memFS{r.srv}, nil }), IntakeSink{Intake: in}, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.now = func() time.Time { return r.now }
		r.p = p
		r.srv.put("/in/po1.edi", string(edi), t0.Add(-time.Hour))
		r.poll(t, 0)
		rep := r.poll(t, 20*time.Second)
		if len(rep.Taken) != 1 {
			t.Fatalf("report %+v, want the file taken", rep)
		}
		deadline := time.Now().Add(10 * time.Second)
		for storetest.Count(t, st, `SELECT COUNT(*) FROM `+st.MessagesTable(router.TopicFulfilmentOrders)) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := storetest.Count(t, st, `SELECT COUNT(*) FROM `+st.MessagesTable(router.TopicFulfilmentOrders)); n != 1 {
			t.Fatalf("%d orders from the file, want 1", n)
		}
		var md string
		if err := st.ReadDB().QueryRow(`SELECT metadata FROM ` + st.MessagesTable(router.InboundTopic("edi"))).Scan(&md); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(md, router.MetaPayloadFile) {
			t.Errorf("a file over InlineMax travelled inside the message: %s", md)
		}
		// Offered again, unchanged (the archive step failed, or the hub died before it):
		// a duplicate, archived without a second order.
		r.srv.put("/in/po1.edi", string(edi), t0.Add(-time.Hour))
		r.poll(t, time.Minute)
		rep = r.poll(t, 20*time.Second)
		if len(rep.Duplicates) != 1 {
			t.Errorf("report %+v, want the file as a duplicate", rep)
		}
		time.Sleep(200 * time.Millisecond)
		if n := storetest.Count(t, st, `SELECT COUNT(*) FROM `+st.MessagesTable(router.TopicFulfilmentOrders)); n != 1 {
			t.Errorf("%d orders after the file came again, want 1", n)
		}
	})
}
