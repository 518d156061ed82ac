package hub_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/fixtures/carriersim/simset"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/labels"
	"github.com/paklog/integration-hub/internal/store"
)

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkLabels buys labels from the UPS simulator (no simulated latency) in one
// run: b.N directly with the client, one at a time; b.N through the hub one at a time
// (shipment published on fulfilment.shipments → label stored and labels.created
// published), for the latency the hub adds; b.N through the hub at once, for
// labels/s. Then it takes UPS down under a steady stream of shipments and reports how
// long until the first label from the fallback carrier (FedEx).
//
//	go test -run '^$' -bench BenchmarkLabels -benchtime 400x ./internal/hub
func BenchmarkLabels(b *testing.B) {
	h := startCarrierHubB(b)
	ups, err := hub.CarrierClient(h.sims.Accounts()[0])
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s := usShipment("BENCH", canonical.ServiceGround, canonical.LabelZPL)
	p := s.Packages[0]
	var direct []time.Duration
	for range b.N {
		id := uuid.NewString()
		start := time.Now()
		if _, err := ups.Ship(ctx, carriers.ShipRequest{RequestID: id, Reference: labels.Reference(id), Service: "03",
			Format: s.LabelFormat, From: s.ShipFrom, To: s.ShipTo, Weight: p.Weight, Dimensions: p.Dimensions}); err != nil {
			b.Fatal(err)
		}
		direct = append(direct, time.Since(start))
	}

	// Latency: one shipment at a time, from publishing it on fulfilment.shipments to
	// its label stored and labels.created published (both stamped by the database).
	// A random pause between shipments keeps them from phase-locking with the
	// router's poll (router.poll_interval, 50 ms): arrivals are as a core's would be.
	var through []time.Duration
	for i := range b.N {
		time.Sleep(time.Duration(rand.Int64N(int64(60 * time.Millisecond))))
		id := fmt.Sprintf("L%06d", i)
		at := store.Now()
		h.pack(b, usShipment(id, canonical.ServiceGround, canonical.LabelZPL))
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
			var state string
			var done time.Time
			err := h.Store.ReadDB().QueryRow(h.Store.Rebind(`SELECT state, updated_at FROM label_shipments WHERE shipment_id = ?`), id).Scan(&state, &done)
			if err == nil && state == labels.ShipmentLabelled {
				through = append(through, done.Sub(at))
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("shipment %s not labelled after 30 s (%s)", id, state)
			}
		}
	}

	// Throughput: b.N shipments at once.
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		h.pack(b, usShipment(fmt.Sprintf("B%06d", i), canonical.ServiceGround, canonical.LabelZPL))
	}
	for deadline := time.Now().Add(2 * time.Minute); h.states(b)[labels.ShipmentLabelled] < 2*b.N; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("shipment states %v after 2 minutes, want %d labelled", h.states(b), 2*b.N)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "labels/s")
	b.ReportMetric(float64(percentile(direct, 0.5).Microseconds())/1000, "direct-p50-ms")
	b.ReportMetric(float64(percentile(direct, 0.99).Microseconds())/1000, "direct-p99-ms")
	b.ReportMetric(float64(percentile(through, 0.5).Microseconds())/1000, "hub-p50-ms")
	b.ReportMetric(float64(percentile(through, 0.99).Microseconds())/1000, "hub-p99-ms")
	b.ReportMetric(float64((percentile(through, 0.5)-percentile(direct, 0.5)).Microseconds())/1000, "added-p50-ms")
	b.ReportMetric(float64((percentile(through, 0.99)-percentile(direct, 0.99)).Microseconds())/1000, "added-p99-ms")

	// Failover: a steady stream of shipments; UPS goes down; the first FedEx label.
	stop := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := h.publish(usShipment(fmt.Sprintf("F%06d", i), canonical.ServiceGround, canonical.LabelZPL)); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	time.Sleep(200 * time.Millisecond)
	down := store.Now()
	h.sims.Servers[simset.UPS].Down()
	var first time.Time
	for deadline := time.Now().Add(time.Minute); first.IsZero(); time.Sleep(5 * time.Millisecond) {
		var at sql.NullTime
		err := h.Store.ReadDB().QueryRow(h.Store.Rebind(`SELECT updated_at FROM label_requests WHERE account = ? AND state = 'created'
			ORDER BY updated_at LIMIT 1`), simset.FedEx).Scan(&at)
		if err != nil && err != sql.ErrNoRows {
			b.Fatal(err)
		}
		first = at.Time
		if time.Now().After(deadline) {
			b.Fatalf("no FedEx label a minute after UPS went down; shipments %v", h.states(b))
		}
	}
	close(stop)
	time.Sleep(20 * time.Millisecond)
	b.ReportMetric(float64(first.Sub(down).Microseconds())/1000, "failover-ms")
}

// startCarrierHubB is startCarrierHub for a benchmark: no spec validation (it is the
// tests' job and would be measured), the default breaker and retry settings.
func startCarrierHubB(b *testing.B) *carrierHub {
	b.Helper()
	sims, err := simset.Start(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sims.Close)
	cfg := config.Default()
	cfg.Store.SQLite.Path = b.TempDir() + "/paklog.db"
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Log.Level = "error"
	cfg.Carriers.Accounts = sims.Accounts()
	cfg.Carriers.Rules = []config.CarrierRule{{Name: "ground", Use: []string{simset.UPS + ":03", simset.FedEx + ":FEDEX_GROUND"}}}
	h, err := hub.New(context.Background(), cfg, nil, hub.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	<-h.Router.Running()
	b.Cleanup(func() { cancel(); <-done })
	return &carrierHub{Hub: h, sims: sims}
}
