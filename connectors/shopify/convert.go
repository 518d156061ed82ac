package shopify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// orderFields is the selection of an Order node that WebhookJSON turns into
// the REST / webhook shape transforms/shopify reads.
const orderFields = `
      id
      name
      email
      phone
      note
      test
      createdAt
      updatedAt
      processedAt
      cancelledAt
      cancelReason
      displayFinancialStatus
      currencyCode
      tags
      totalWeight
      customAttributes { key value }
      customer { id firstName lastName email phone }
      shippingAddress { ...Address }
      billingAddress { ...Address }
      shippingLines(first: 5) {
        nodes { id title code source carrierIdentifier originalPriceSet { shopMoney { amount } } }
      }
      lineItems(first: $lineItems) {
        nodes {
          id name title variantTitle sku quantity unfulfilledQuantity requiresShipping isGiftCard
          originalUnitPriceSet { shopMoney { amount } }
          variant { id inventoryItem { measurement { weight { unit value } } } }
          product { id }
        }
        pageInfo { hasNextPage }
      }`

const addressFragment = `
fragment Address on MailingAddress {
  firstName lastName name company address1 address2 city province provinceCode zip country countryCodeV2 phone
}`

// ordersQuery pages through orders updated since a time, oldest first.
const ordersQuery = `query ReconcileOrders($first: Int!, $after: String, $query: String, $lineItems: Int!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {` + orderFields + `
    }
    pageInfo { hasNextPage endCursor }
  }
}` + addressFragment

// WebhookJSON converts an Order node of the GraphQL Admin API, as selected
// by the reconciliation query, into the REST / webhook order shape that
// transforms/shopify.OrderFromWebhook reads:
//
//	REST                          GraphQL
//	id                            id (the number of gid://shopify/Order/N, kept as int64)
//	admin_graphql_api_id          id
//	name, email, phone, note, test   the same
//	created_at, updated_at, processed_at, cancelled_at   createdAt, …
//	cancel_reason                 cancelReason, lower case
//	financial_status              displayFinancialStatus, lower case
//	currency                      currencyCode
//	tags                          tags, joined with ", "
//	total_weight                  totalWeight (grams)
//	note_attributes[] name/value  customAttributes[] key/value
//	customer                      customer: id, first_name, last_name, email, phone
//	shipping_address, billing_address   the addresses; province_code, country_code from provinceCode, countryCodeV2
//	shipping_lines[]              shippingLines: id, title, code, source, carrier_identifier, price
//	line_items[]                  lineItems: id, name, title, variant_title, sku, quantity,
//	                              fulfillable_quantity (unfulfilledQuantity), requires_shipping,
//	                              gift_card, price (originalUnitPriceSet.shopMoney.amount),
//	                              variant_id, product_id, grams (variant weight in grams)
//
// Numbers stay exact: ids are parsed from their gids as int64 and written
// as JSON integers. An order with more line items than were selected is an
// error: its webhook shape would be missing lines.
func WebhookJSON(node []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(node))
	dec.UseNumber()
	var n map[string]any
	if err := dec.Decode(&n); err != nil {
		return nil, fmt.Errorf("decoding order node: %w", err)
	}
	id, err := legacyID(n["id"], "Order")
	if err != nil {
		return nil, fmt.Errorf("order node id: %w", err)
	}
	out := map[string]any{
		"id":                   json.Number(strconv.FormatInt(id, 10)),
		"admin_graphql_api_id": n["id"],
		"name":                 n["name"],
		"email":                n["email"],
		"phone":                n["phone"],
		"note":                 n["note"],
		"test":                 n["test"] == true,
		"created_at":           n["createdAt"],
		"updated_at":           n["updatedAt"],
		"processed_at":         n["processedAt"],
		"cancelled_at":         n["cancelledAt"],
		"cancel_reason":        lower(n["cancelReason"]),
		"financial_status":     lower(n["displayFinancialStatus"]),
		"currency":             n["currencyCode"],
	}
	var tags []string
	if ts, ok := n["tags"].([]any); ok {
		for _, t := range ts {
			if s, ok := t.(string); ok {
				tags = append(tags, s)
			}
		}
	}
	out["tags"] = strings.Join(tags, ", ")
	if w, ok := integer(n["totalWeight"]); ok {
		out["total_weight"] = w
	}
	var attrs []any
	if as, ok := n["customAttributes"].([]any); ok {
		for _, a := range as {
			if m, ok := a.(map[string]any); ok {
				attrs = append(attrs, map[string]any{"name": m["key"], "value": m["value"]})
			}
		}
	}
	out["note_attributes"] = orEmpty(attrs)
	if c, ok := n["customer"].(map[string]any); ok {
		cust := map[string]any{
			"first_name": c["firstName"], "last_name": c["lastName"],
			"email": c["email"], "phone": c["phone"],
		}
		if cid, err := legacyID(c["id"], "Customer"); err == nil {
			cust["id"] = json.Number(strconv.FormatInt(cid, 10))
		}
		out["customer"] = cust
	}
	out["shipping_address"] = restAddress(n["shippingAddress"])
	out["billing_address"] = restAddress(n["billingAddress"])

	var shipping []any
	for _, v := range nodes(n["shippingLines"]) {
		sl, ok := v.(map[string]any)
		if !ok {
			continue
		}
		line := map[string]any{
			"title": sl["title"], "code": sl["code"], "source": sl["source"],
			"carrier_identifier": sl["carrierIdentifier"], "price": amount(sl["originalPriceSet"]),
		}
		if sid, err := legacyID(sl["id"], "ShippingLine"); err == nil {
			line["id"] = json.Number(strconv.FormatInt(sid, 10))
		}
		shipping = append(shipping, line)
	}
	out["shipping_lines"] = orEmpty(shipping)

	li, _ := n["lineItems"].(map[string]any)
	if pi, ok := li["pageInfo"].(map[string]any); ok && pi["hasNextPage"] == true {
		return nil, fmt.Errorf("order %d has more line items than were read; raise the line item page size", id)
	}
	var lines []any
	for i, v := range nodes(li) {
		item, ok := v.(map[string]any)
		if !ok {
			continue
		}
		lid, err := legacyID(item["id"], "LineItem")
		if err != nil {
			return nil, fmt.Errorf("order %d line item %d id: %w", id, i, err)
		}
		line := map[string]any{
			"id":                json.Number(strconv.FormatInt(lid, 10)),
			"name":              item["name"],
			"title":             item["title"],
			"variant_title":     item["variantTitle"],
			"sku":               item["sku"],
			"quantity":          item["quantity"],
			"requires_shipping": item["requiresShipping"] != false,
			"gift_card":         item["isGiftCard"] == true,
			"price":             amount(item["originalUnitPriceSet"]),
		}
		if q, ok := item["unfulfilledQuantity"]; ok && q != nil {
			line["fulfillable_quantity"] = q
		}
		if variant, ok := item["variant"].(map[string]any); ok {
			if vid, err := legacyID(variant["id"], "ProductVariant"); err == nil {
				line["variant_id"] = json.Number(strconv.FormatInt(vid, 10))
			}
			if g, ok := grams(variant); ok {
				line["grams"] = g
			}
		}
		if product, ok := item["product"].(map[string]any); ok {
			if pid, err := legacyID(product["id"], "Product"); err == nil {
				line["product_id"] = json.Number(strconv.FormatInt(pid, 10))
			}
		}
		lines = append(lines, line)
	}
	out["line_items"] = orEmpty(lines)
	return json.Marshal(out)
}

// legacyID is the number at the end of gid://shopify/<kind>/<n>.
func legacyID(v any, kind string) (int64, error) {
	s, _ := v.(string)
	rest, ok := strings.CutPrefix(s, "gid://shopify/"+kind+"/")
	if !ok {
		return 0, fmt.Errorf("%q is not a %s gid", s, kind)
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q does not end in a positive 64-bit id", s)
	}
	return n, nil
}

func lower(v any) any {
	if s, ok := v.(string); ok && s != "" {
		return strings.ToLower(s)
	}
	return nil
}

func orEmpty(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

func nodes(conn any) []any {
	m, _ := conn.(map[string]any)
	list, _ := m["nodes"].([]any)
	return list
}

// integer reads an Int or an UnsignedInt64 (sent as a string) as a JSON
// integer.
func integer(v any) (json.Number, bool) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return "", false
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return "", false
	}
	return json.Number(s), true
}

func amount(set any) any {
	m, _ := set.(map[string]any)
	shop, _ := m["shopMoney"].(map[string]any)
	switch a := shop["amount"].(type) {
	case string:
		return a
	case json.Number:
		return a.String()
	}
	return nil
}

// gramsPer converts WeightUnit values to grams.
var gramsPer = map[string]float64{"GRAMS": 1, "KILOGRAMS": 1000, "OUNCES": 28.349523125, "POUNDS": 453.59237}

func grams(variant map[string]any) (json.Number, bool) {
	inv, _ := variant["inventoryItem"].(map[string]any)
	meas, _ := inv["measurement"].(map[string]any)
	w, _ := meas["weight"].(map[string]any)
	unit, _ := w["unit"].(string)
	per, ok := gramsPer[unit]
	if !ok {
		return "", false
	}
	var val float64
	switch v := w["value"].(type) {
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return "", false
		}
		val = f
	default:
		return "", false
	}
	return json.Number(strconv.FormatInt(int64(math.Round(val*per)), 10)), true
}

func restAddress(v any) any {
	a, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return map[string]any{
		"first_name": a["firstName"], "last_name": a["lastName"], "name": a["name"],
		"company": a["company"], "address1": a["address1"], "address2": a["address2"],
		"city": a["city"], "province": a["province"], "province_code": a["provinceCode"],
		"zip": a["zip"], "country": a["country"], "country_code": a["countryCodeV2"],
		"phone": a["phone"],
	}
}
