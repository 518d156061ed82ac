package hub_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
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

func payload10KB(b *testing.B) []byte {
	p := make([]byte, 10<<10)
	if _, err := rand.Read(p); err != nil {
		b.Fatal(err)
	}
	return p
}

// Messages received per second by the hub's POST /as2: decrypted, verified,
// committed through the intake (payload, dedupe key and inbound.edi in one
// transaction) and answered with a signed synchronous MDN, which as2sim verifies.
// Four partner connections at once.
func BenchmarkAS2HubReceive10KB(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			_, partner := benchAS2Hub(b, dialect)
			data := payload10KB(b)
			var n atomic.Int64
			b.SetBytes(int64(len(data)))
			b.SetParallelism(2) // 2 × GOMAXPROCS (2 here) senders
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := fmt.Sprintf("<bench-%d-%d@ACME-AS2>", time.Now().UnixNano(), n.Add(1))
					res, err := partner.SendMessage(context.Background(), connas2.Message{Payload: data, MessageID: id, ContentType: "application/octet-stream"})
					if err != nil || !res.Disposition.OK() {
						b.Errorf("send: %v", err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// Messages sent per second by the hub's delivery path: outbound.edi → delivery
// row → worker → AS2 send (sign, encrypt, POST) → the partner's signed MDN verified
// → delivered, with the MDN kept. Two delivery workers (the default).
func BenchmarkAS2HubSend10KB(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			h, partner := benchAS2Hub(b, dialect)
			data := payload10KB(b)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			err := h.Store.InTx(context.Background(), func(tx *sql.Tx) error {
				pub, err := h.Store.Publisher(tx)
				if err != nil {
					return err
				}
				for i := range b.N {
					msg := message.NewMessage(watermill.NewUUID(), data)
					msg.Metadata.Set(router.MetaPartner, "acme")
					msg.Metadata.Set(partners.MetaDeliveryName, fmt.Sprintf("bench-%d-%d.bin", time.Now().UnixNano(), i))
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
