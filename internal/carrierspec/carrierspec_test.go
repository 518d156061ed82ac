package carrierspec

import (
	"bytes"
	"net/http"
	"testing"
)

func TestLoadsEveryDocument(t *testing.T) {
	for _, s := range []Spec{UPSOAuth, UPSShipping, FedExAuth, FedExShip, USPSLabels, USPSPayments} {
		if _, err := New(s); err != nil {
			t.Errorf("%s: %v", s.File, err)
		}
	}
}

func TestCheckRequestFindsSchemaViolations(t *testing.T) {
	v, err := New(FedExShip)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"labelResponseOptions":"LABEL","accountNumber":{"value":"740561073"}}`)
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/ship/v1/shipments", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer x")
	if err := v.CheckRequest(r, body); err == nil {
		t.Fatal("a FedEx ship request without requestedShipment validated")
	}
	r, _ = http.NewRequest(http.MethodGet, "http://127.0.0.1:1/nowhere", nil)
	if err := v.CheckRequest(r, nil); err == nil {
		t.Fatal("an undocumented path validated")
	}
}
