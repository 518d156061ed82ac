package hub

import (
	"testing"

	x12 "github.com/paklog/integration-hub/edi/x12"
	"github.com/paklog/integration-hub/internal/config"
)

func TestEDIConfigFromPartners(t *testing.T) {
	cfg, err := config.Parse("hub.yaml", []byte(`
partners:
  - name: acme
    x12: {ack: "997", skip_accepted: true, mapping: {ship_to_entity: BS}}
  - name: globex
`), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	e := EDIConfig(cfg)
	if p := e.Partners["acme"]; p.Ack != x12.Ack997 || !p.SkipAccepted || p.Mapping.ShipToEntity != "BS" {
		t.Errorf("acme: %+v", p)
	}
	if p := e.Partners["globex"]; p.Ack != x12.AckByVersion || p.SkipAccepted {
		t.Errorf("globex (no x12 section) should get the defaults: %+v", p)
	}
	if e.Default.Ack != x12.AckByVersion {
		t.Errorf("default ack %v", e.Default.Ack)
	}
}
