package hub_test

import (
	"context"
	"fmt"
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

// BenchmarkLabels buys b.N labels from the UPS simulator (no simulated latency)
// twice in the same run: directly with the client, one at a time, and through the
// hub (shipment on fulfilment.shipments → label stored and labels.created
// published). It reports the hub's labels/s, the direct and hub latencies and the
// hub's added p50/p99, then takes UPS down under load and reports how long until the
// first label from the fallback carrier.
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

	b.ResetTimer()
	published := map[string]time.Time{}
	start := time.Now()
	for i := range b.N {
		id := fmt.Sprintf("B%06d", i)
		published[id] = store.Now()
		h.pack(b, usShipment(id, canonical.ServiceGround, canonical.LabelZPL))
	}
	for h.states(b)[labels.ShipmentLabelled] < b.N {
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	var through []time.Duration
	rows, err := h.Store.ReadDB().Query(`SELECT shipment_id, updated_at FROM label_shipments WHERE state = 'labelled'`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			b.Fatal(err)
		}
		through = append(through, at.Sub(published[id]))
	}
	rows.Close()
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
			h.pack(b, usShipment(fmt.Sprintf("F%06d", i), canonical.ServiceGround, canonical.LabelZPL))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	time.Sleep(200 * time.Millisecond)
	down := store.Now()
	h.sims.Servers[simset.UPS].Down()
	var first time.Time
	for first.IsZero() {
		_ = h.Store.ReadDB().QueryRow(h.Store.Rebind(`SELECT MIN(updated_at) FROM label_requests WHERE account = ? AND state = 'created'`),
			simset.FedEx).Scan(&first)
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
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
	h, err := hub.New(context.Background(), cfg, nil, hub.Options{Labels: func(c *labels.Config) { c.Poll = 5 * time.Millisecond }})
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
