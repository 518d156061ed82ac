package hub_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/router"
)

// A custom platform's signed webhook, configured in hub.yaml terms, becomes a
// canonical order on fulfilment.orders; a forged one is refused with nothing stored,
// and a redelivery is stored once.
func TestCustomWebhookToOrder(t *testing.T) {
	prog, err := os.ReadFile("../../adapters/custom/testdata/woocommerce.jq")
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../../adapters/custom/testdata/woocommerce.json")
	if err != nil {
		t.Fatal(err)
	}
	h := startFileHub(t, func(c *config.Config) {
		c.Channels.Custom.Channels = []config.CustomChannel{{Name: "woo", Mapping: string(prog),
			HMAC: config.CustomHMAC{Header: "X-WC-Webhook-Signature", Encoding: "base64", Secrets: []config.Secret{config.NewSecret("woo-secret")}}}}
	})
	post := func(secret string) int {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		req, _ := http.NewRequest(http.MethodPost, "http://"+h.Server.Addr()+"/webhooks/custom/woo", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-WC-Webhook-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("forged"); code != http.StatusUnauthorized {
		t.Errorf("forged signature: %d, want 401", code)
	}
	if n := count(t, h.Store, router.InboundTopic("custom")); n != 0 {
		t.Errorf("a forged delivery stored %d messages", n)
	}
	for _, want := range []int{http.StatusAccepted, http.StatusAccepted} { // a redelivery gets the first answer again
		if code := post("woo-secret"); code != want {
			t.Errorf("signed delivery: %d, want %d", code, want)
		}
	}
	eventually(t, "the order", 10*time.Second, func() bool { return count(t, h.Store, router.TopicFulfilmentOrders) == 1 })
	if n := count(t, h.Store, router.InboundTopic("custom")); n != 1 {
		t.Errorf("inbound.custom holds %d messages for one order delivered twice", n)
	}
}
