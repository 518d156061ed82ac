package as2

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// BenchmarkSend10KB sends a signed and encrypted 10 KB file with a signed sync
// MDN to the hub's own receiver (adapters/as2) on loopback, one at a time:
// build, sign, encrypt, POST, the partner's decrypt, verify, commit and signed
// MDN, and our MDN verification.
func BenchmarkSend10KB(b *testing.B) {
	pe := newPeer(b)
	s := newSender(b, Config{})
	p := pe.profile(b)
	payload := bytes.Repeat(x12, 10240/len(x12)+1)[:10240]
	ctx := context.Background()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		res, err := s.Send(ctx, p, Message{Payload: payload, ContentType: "application/edi-x12", MessageID: fmt.Sprintf("<bench-%d@PAKLOG>", n)})
		if err != nil {
			b.Fatal(err)
		}
		if res.Status != StatusDelivered {
			b.Fatalf("status %s", res.Status)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
