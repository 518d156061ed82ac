package hub_test

import (
	"context"
	"strings"
	"testing"
	"time"

	connas2 "github.com/paklog/integration-hub/connectors/as2"
	"github.com/paklog/integration-hub/dlq"
	"github.com/paklog/integration-hub/fixtures/as2sim"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/partners"
)

// The partner's asynchronous MDNs come only after the hub gave up on them: the
// 997 was resent once, then parked in the DLQ. The late MDNs are verified (the
// partner's signature, our MIC) and the first one that arrives is the proof of
// receipt: the hub answers 200, keeps it raw in as2_sent, records the delivery
// delivered (without counting another attempt) and closes the DLQ entry, which
// no longer invites a resend. The second (for the resend, same Message-ID) finds
// nothing left to settle and is refused.
func TestAS2LateMDNAfterParking(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { lateMDNAfterParking(t, false) })
	t.Run("postgres", func(t *testing.T) { lateMDNAfterParking(t, true) })
}

func lateMDNAfterParking(t *testing.T, pg bool) {
	h := startAS2Hub(t, "async", func(c *config.Config) {
		c.Partners[0].AS2.AsyncMDNTimeout, c.Partners[0].AS2.Timeout = config.Duration(time.Second), config.Duration(time.Second)
		if pg {
			onPostgresAS2(t, c)
		}
	}, 2)
	h.partner.SetMDNMode(as2sim.MDNHold)
	if _, err := h.partner.Send(context.Background(), read850(t), "po-1001.edi"); err != nil {
		t.Fatalf("sending the 850: %v", err)
	}
	eventually(t, "the delivery parked", 20*time.Second, func() bool {
		ds := deliveryStates(t, h.Hub)
		return len(ds) == 1 && ds[0].State == partners.StateParked
	})
	ctx := context.Background()
	var es []dlq.Entry
	eventually(t, "the parked delivery's DLQ entry", 10*time.Second, func() bool {
		var err error
		es, err = h.DLQ.List(ctx, dlq.Filter{Status: dlq.StatusOpen, Handler: partners.HandlerAcks})
		if err != nil {
			t.Fatal(err)
		}
		return len(es) == 1
	})
	if h.partner.Held() != 2 {
		t.Fatalf("the partner holds %d MDNs, want 2 (the send and the resend)", h.partner.Held())
	}

	codes, err := h.partner.ReleaseMDNs(ctx)
	if err != nil || len(codes) != 2 || codes[0] != 200 || codes[1] != 400 {
		t.Fatalf("posting the late MDNs: %v %v; want 200 for the first, 400 for the second (nothing left to settle)", codes, err)
	}
	ds := deliveryStates(t, h.Hub)
	if len(ds) != 1 || ds[0].State != partners.StateDelivered || ds[0].Attempts != 2 || !strings.Contains(ds[0].RemotePath, "processed") {
		t.Fatalf("delivery after the late MDN: %+v; want delivered, 2 attempts, the disposition in its remote path", ds)
	}
	s := sentRows(t, h.Hub)
	if len(s) != 1 || s[0].status != string(connas2.StatusDelivered) || !strings.HasSuffix(s[0].disposition, "processed") ||
		!strings.Contains(string(s[0].mdn), "Received-Content-MIC") || !strings.Contains(s[0].header, "multipart/signed") {
		t.Fatalf("as2_sent after the late MDN: %+v", s)
	}
	e, err := h.DLQ.Get(ctx, es[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != dlq.StatusDiscarded || !strings.Contains(e.Reason, "[resolved: the partner's receipt came after the delivery was parked") ||
		!strings.Contains(e.Reason, "do not resend it") {
		t.Errorf("DLQ entry after the late MDN: %s\n%s", e.Status, e.Reason)
	}
	if _, err := h.DLQ.Replay(ctx, e.ID, false); err == nil {
		t.Error("the closed entry could still be replayed without --force")
	}
	if got := h.partner.Received(); len(got) != 1 {
		t.Errorf("the partner holds %d messages, want 1", len(got))
	}
}
