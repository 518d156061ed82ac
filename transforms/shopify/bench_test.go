package shopify

import "testing"

// BenchmarkOrderFromWebhook maps Shopify's own sample order (5.4 KB, three lines), as
// the normalize.shopify handler does for each orders/create webhook.
//
//	go test -run '^$' -bench OrderFromWebhook -benchmem -count 6 ./transforms/shopify/
func BenchmarkOrderFromWebhook(b *testing.B) {
	body := readBody(b, "../../fixtures/shopify/shopify-api-ruby_order.json")
	opts := Options{ReleaseFinancialStatuses: []string{"authorized"}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := OrderFromWebhook(TopicOrdersCreate, body, "bench-shop", opts)
		if err != nil || res.Order == nil {
			b.Fatalf("%+v, %v", res, err)
		}
	}
}
