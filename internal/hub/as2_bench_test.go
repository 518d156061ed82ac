package hub_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	connas2 "github.com/paklog/integration-hub/connectors/as2"
	"github.com/paklog/integration-hub/fixtures/as2sim"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/partners"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

// benchAS2Hub is a whole hub (router, intake, delivery workers) with as2sim's acme
// exchanging signed (sha-256), AES-128-CBC encrypted messages with signed
// synchronous MDNs, on SQLite (synchronous=full, the default) or PostgreSQL.
func benchAS2Hub(b *testing.B, dialect string) (*as2Hub, *as2sim.Partner) {
	ours, theirs := as2Identities(b)
	partner, err := as2sim.Start(as2sim.Config{Self: theirs, Hub: ours.Peer()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(partner.Close)
	cfg := newAS2Config(b, b.TempDir(), "127.0.0.1:0", ours, theirs, partner.URL(), "sync")
	cfg.Store.SQLite.Synchronous = config.SyncFull
	if dialect == "postgres" {
		sc := storetest.PostgresConfig(b)
		cfg.Store.Driver = config.DriverPostgres
		cfg.Store.Postgres.DSN = config.NewSecret(sc.PostgresDSN)
	}
	h := runAS2Hub(b, cfg, 8)
	if err := partner.SetHubURL("http://" + h.Server.Addr() + "/as2"); err != nil {
		b.Fatal(err)
	}
	return h, partner
}

// x12Envelope wraps the segments of one transaction set (ST through SE, without
// them) in ISA/GS/ST … SE/GE/IEA with control number n (ISA13, GS06, ST02).
func x12Envelope(functional, set, sender, receiver string, n int, segs []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "ISA*00*          *00*          *ZZ*%-15s*ZZ*%-15s*250101*1200*U*00401*%09d*0*P*>\n", sender, receiver, n)
	fmt.Fprintf(&b, "GS*%s*%s*%s*20250101*1200*%d*X*004010\n", functional, strings.TrimSpace(sender), strings.TrimSpace(receiver), n)
	fmt.Fprintf(&b, "ST*%s*%04d\n", set, n%10000)
	for _, s := range segs {
		b.WriteString(s + "\n")
	}
	fmt.Fprintf(&b, "SE*%d*%04d\nGE*1*%d\nIEA*1*%09d\n", len(segs)+2, n%10000, n, n)
	return []byte(b.String())
}

// po850 is a purchase order of about 10 KB as acme sends them: the header of the
// ediengine 850 fixture (fixtures/edi/ediengine__x12-850.edi) and its six PO1
// lines repeated with new line numbers to 96 lines, under interchange control
// number n and PO number 9000000000+n, so that every call is a new interchange
// and a new order.
func po850(b testing.TB, n int) []byte {
	b.Helper()
	fixture := string(read850(b))
	var head, lines []string
	for _, seg := range strings.Split(strings.TrimSpace(fixture), "\n") {
		switch id, _, _ := strings.Cut(seg, "*"); id {
		case "ISA", "GS", "ST", "CTT", "AMT", "SE", "GE", "IEA":
		case "BEG":
			head = append(head, fmt.Sprintf("BEG*00*SA*%d**20250101*610385385", 9000000000+n))
		case "PO1", "PID", "PO4":
			lines = append(lines, seg)
		default:
			head = append(head, seg)
		}
	}
	segs := head
	const copies = 16 // 6 lines × 16 = 96 lines, about 10 KB
	for c := range copies {
		for _, seg := range lines {
			if rest, ok := strings.CutPrefix(seg, "PO1*"); ok {
				_, after, _ := strings.Cut(rest, "*")
				seg = fmt.Sprintf("PO1*%d*%s", c*6+int(seg[4]-'0'), after)
			}
			segs = append(segs, seg)
		}
	}
	segs = append(segs, fmt.Sprintf("CTT*%d", copies*6))
	return x12Envelope("PO", "850", "ABCDEFGHIJKLMNO", "123456789012345", n, segs)
}

// asn856 is a ship notice of about 10 KB, for the order po850 made: the
// shipment-level header of the ediengine crossdock 856 fixture
// (fixtures/edi/ediengine__x12-856-crossdock.edi) and one order, pack and item HL
// loop per ordered line (96).
func asn856(n int) []byte {
	segs := []string{
		fmt.Sprintf("BSN*00*%09d*20250101*1200*0001", n),
		"HL*1**S", "TD1*CTN*96****G*480*LB", "TD5**2*OVNT**OVERNITE", fmt.Sprintf("REF*BM*%09d", n),
		"DTM*011*20250101", "N1*SF*PAKLOG FULFILMENT*92*000009", "N1*ST*XYZ RETAIL*9*0003947268292",
		"HL*2*1*O", fmt.Sprintf("PRF*%d", 9000000000+n),
	}
	hl := 3
	for i := 1; i <= 96; i++ {
		segs = append(segs,
			fmt.Sprintf("HL*%d*2*P", hl), "PO4******6*LB", fmt.Sprintf("MAN*GM*%020d", n*100+i),
			fmt.Sprintf("HL*%d*%d*I", hl+1, hl), fmt.Sprintf("LIN*%d*VN*AB%04d*UP*%012d", i, i, 65322117+i), "SN1**120*EA")
		hl += 2
	}
	segs = append(segs, fmt.Sprintf("CTT*%d", hl-1))
	return x12Envelope("SH", "856", "123456789012345", "ABCDEFGHIJKLMNO", n, segs)
}

// ack997 acknowledges interchange n of acme's 850s.
func ack997(n int) []byte {
	return x12Envelope("FA", "997", "123456789012345", "ABCDEFGHIJKLMNO", n, []string{
		fmt.Sprintf("AK1*PO*%d", n), "AK2*850*" + fmt.Sprintf("%04d", n%10000), "AK5*A", "AK9*A*1*1*1",
	})
}

// Purchase orders received per second by the hub's POST /as2: a ~10 KB X12 850,
// signed and encrypted, decrypted, verified, committed through the intake
// (payload, dedupe key and inbound.edi in one transaction) and answered with a
// signed synchronous MDN, which as2sim verifies; four partner connections at once.
// msgs/s counts MDNs received; orders/s counts until every order was normalised
// into fulfilment.orders (the 997s going back to the partner over AS2 meanwhile),
// which is also what ns/op covers.
func BenchmarkAS2HubReceive850(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			h, partner := benchAS2Hub(b, dialect)
			// Distinct interchange control and PO numbers per run: the sub-benchmark
			// runs several times on one hub.
			base := int(time.Now().UnixNano()/1e3)%10000000*10 + 1 // ISA13 has 9 digits
			payloads := make([][]byte, b.N)
			size := 0
			for i := range payloads {
				payloads[i] = po850(b, base+i)
				size += len(payloads[i])
			}
			var n atomic.Int64
			b.SetBytes(int64(size / b.N))
			b.SetParallelism(2) // 2 × GOMAXPROCS (2 here) senders
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1) - 1
					id := fmt.Sprintf("<bench-%d@ACME-AS2>", base+int(i))
					res, err := partner.SendMessage(context.Background(), connas2.Message{Payload: payloads[i], MessageID: id, FileName: fmt.Sprintf("po-%d.edi", base+int(i))})
					if err != nil || !res.Disposition.OK() {
						b.Errorf("send: %v", err)
						return
					}
				}
			})
			received := time.Since(start)
			deadline := time.Now().Add(5 * time.Minute)
			for count(b, h.Store, router.TopicFulfilmentOrders) < b.N {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d orders normalised after 5 minutes", count(b, h.Store, router.TopicFulfilmentOrders), b.N)
				}
				time.Sleep(5 * time.Millisecond)
			}
			normalised := time.Since(start)
			b.StopTimer()
			if size/b.N < 9<<10 || size/b.N > 11<<10 {
				b.Fatalf("the 850s average %d bytes, want about 10 KB", size/b.N)
			}
			if n := count(b, h.Store, router.TopicFulfilmentOrders); n != b.N {
				b.Fatalf("%d orders for %d purchase orders", n, b.N)
			}
			b.ReportMetric(float64(b.N)/received.Seconds(), "msgs/s")
			b.ReportMetric(float64(b.N)/normalised.Seconds(), "orders/s")
		})
	}
}

// Files sent per second by the hub's delivery path: outbound.edi → delivery row →
// worker → AS2 send (sign, encrypt, POST) → the partner's signed MDN verified →
// delivered, with the MDN kept. The files are what goes back for each order: a
// 997 (~0.3 KB) and a ~10 KB 856, alternately. Two delivery workers (the default).
func BenchmarkAS2HubSend856And997(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			h, partner := benchAS2Hub(b, dialect)
			base := int(time.Now().UnixNano()/1e3)%10000000*10 + 1 // ISA13 has 9 digits
			files := make([][]byte, b.N)
			size := 0
			for i := range files {
				if i%2 == 0 {
					files[i] = ack997(base + i)
				} else {
					files[i] = asn856(base + i)
				}
				size += len(files[i])
			}
			b.SetBytes(int64(size / b.N))
			b.ResetTimer()
			err := h.Store.InTx(context.Background(), func(tx *sql.Tx) error {
				pub, err := h.Store.Publisher(tx)
				if err != nil {
					return err
				}
				for i, data := range files {
					msg := message.NewMessage(watermill.NewUUID(), data)
					msg.Metadata.Set(router.MetaPartner, "acme")
					msg.Metadata.Set(partners.MetaDeliveryName, fmt.Sprintf("bench-%d.edi", base+i))
					if err := pub.Publish(partners.TopicOutboundEDI, msg); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			if _, err := partner.WaitFor(ctx, b.N); err != nil {
				b.Fatal(err)
			}
			for {
				var done int
				if err := h.Store.ReadDB().QueryRow(`SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'`).Scan(&done); err != nil {
					b.Fatal(err)
				}
				if done >= b.N {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
