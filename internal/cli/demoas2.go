package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/fixtures/as2sim"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/store"
)

// The demo's AS2 partner, played by as2sim with keys of its own; the hub's AS2
// identity is generated for the demo too.
const (
	demoAS2Partner = "demo-as2"
	demoAS2PO      = "AS2-3001"
)

type demoAS2 struct {
	hub, partner as2sim.Identity
	sim          *as2sim.Partner
}

func startDemoAS2() (*demoAS2, error) {
	hubID, err := as2sim.NewIdentity("PAKLOG-DEMO", 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	pID, err := as2sim.NewIdentity("DEMO-RETAILER", 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	sim, err := as2sim.Start(as2sim.Config{Self: pID, Hub: hubID.Peer()})
	if err != nil {
		return nil, fmt.Errorf("starting the demo's AS2 partner: %w", err)
	}
	return &demoAS2{hub: hubID, partner: pID, sim: sim}, nil
}

func (d *demoAS2) Close() { d.sim.Close() }

// configure writes the certificates where the configuration points and adds the
// partner: 850s in over AS2, its 997 and 856 back over AS2.
func (d *demoAS2) configure(c *config.Config, dir string) error {
	hubCert := filepath.Join(dir, "as2-hub.pem")
	partnerCert := filepath.Join(dir, "as2-demo-retailer.pem")
	if err := os.WriteFile(hubCert, d.hub.CertPEM(), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(partnerCert, d.partner.CertPEM(), 0o600); err != nil {
		return err
	}
	c.AS2.ID = d.hub.ID
	c.AS2.Keys = []config.AS2Key{{Cert: hubCert, Key: config.NewSecret(string(d.hub.KeyPEM()))}}
	c.Partners = append(c.Partners, config.Partner{Name: demoAS2Partner,
		X12:      config.X12Partner{ShipNotice: "856"},
		AS2:      config.AS2Partner{ID: d.partner.ID, URL: d.sim.URL(), Certs: []string{partnerCert}},
		Outbound: config.Outbound{Via: config.ViaAS2}})
	return nil
}

// send has the partner post its 850 to POST /as2 and returns the order to follow.
func (d *demoAS2) send(ctx context.Context, out io.Writer, base string, h *hub.Hub) (*demoOrder, error) {
	if err := d.sim.SetHubURL(base + "/as2"); err != nil {
		return nil, err
	}
	start := time.Now()
	res, err := d.sim.Send(ctx, demo850(demoAS2PO), demoAS2PO+".edi")
	if err != nil {
		return nil, fmt.Errorf("the demo partner's AS2 send: %w", err)
	}
	fmt.Fprintf(out, "   %s sends %s.edi signed and encrypted to POST /as2; the hub's signed MDN: %s, MIC %s verified\n",
		demoAS2Partner, demoAS2PO, res.Disposition.Type, res.MIC)
	ref := store.OrderRef{Channel: string(canonical.ChannelEDI), Partner: demoAS2Partner, ExternalID: demoAS2PO}
	deadline := time.Now().Add(20 * time.Second)
	for {
		id, ok, err := h.Store.LookupOrderID(ctx, h.Store.ReadDB(), ref)
		if err != nil {
			return nil, err
		}
		if ok {
			return &demoOrder{channel: "edi/as2", number: demoAS2PO, orderID: id, start: start, confirm: true}, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the AS2 850 %s did not become an order within 20 s", demoAS2PO)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// report shows what the partner received back over AS2; false unless a 997 and an 856.
func (d *demoAS2) report(ctx context.Context, out io.Writer) bool {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, _ := d.sim.WaitFor(wctx, 2)
	var names []string
	has := map[string]bool{}
	for _, r := range got {
		names = append(names, r.Filename)
		for _, s := range []string{"997", "856"} {
			if strings.Contains(string(r.Payload), "ST*"+s+"*") {
				has[s] = true
			}
		}
	}
	if !has["997"] || !has["856"] {
		fmt.Fprintf(out, "   %s: received %v over AS2, want a 997 and an 856\n", demoAS2Partner, names)
		return false
	}
	fmt.Fprintf(out, "   %s: %s received over AS2, each answered with a signed MDN the hub verified and kept\n", demoAS2Partner, strings.Join(names, ", "))
	return true
}
