// Package shopify translates Shopify order webhooks (orders/create,
// orders/updated, orders/paid, orders/cancelled) into canonical messages:
// a paklog.order.v1 Order, a paklog.order_cancel.v1 OrderCancel, or a
// reasoned decision to publish nothing.
//
// The package is pure: OrderFromWebhook reads the webhook body and the
// shop's Options and returns a Result. Verifying the HMAC, deduplicating
// deliveries, assigning order_id and received_at and keeping only the
// newest state per (shop, order id) — by Result.UpdatedAt, so a late
// orders/updated never overwrites a newer state — are the hub's job.
//
// # Release rules
//
// Shopify sends an order webhook for every change, paid or not. Options
// decide which are released to the warehouse:
//
//	test: true                      skipped unless ReleaseTestOrders
//	cancelled_at set, or the topic  Cancel of the whole order (any financial status)
//	  is orders/cancelled
//	financial_status                released if in ReleaseFinancialStatuses
//	                                (default paid, partially_refunded), else skipped
//	no shippable line               skipped (digital goods, gift cards, all fulfilled)
//
// # Field mapping
//
//	canonical                     Shopify order
//	source.channel                "shopify"
//	source.partner                the shop key given by the caller
//	source.external_id            id (an int64: decoded as json.Number, never float64)
//	source.document               the topic
//	order_number                  name ("#1001")
//	order_date                    created_at, the date in the shop's own offset
//	customer.name                 customer.first_name + customer.last_name
//	customer.email                email, else contact_email, else customer.email
//	customer.phone                phone, else customer.phone
//	ship_to                       shipping_address (required with shippable lines)
//	bill_to                       billing_address
//	  name                          name, else first_name + last_name
//	  company, address1, address2, city, phone   the same names
//	  region                        province_code
//	  postal_code                   zip
//	  country                       country_code
//	shipping.method               shipping_lines[0].title, else .code
//	shipping.service_level        shipping_lines[0].code, else .title, looked up
//	                              in Options.ServiceLevels over DefaultServiceLevels
//	shipping.carrier              shipping_lines[0].source for carrier-calculated
//	                              rates (ups → UPS, usps, fedex, dhl, canada_post)
//	lines[]                       line_items[] with requires_shipping true (absent
//	                              means true) and a quantity above zero
//	  line_number                   id (used again to fulfil the line back)
//	  sku                           sku, else per Options.SKUFallback (variant_id)
//	  description                   title + " - " + variant_title
//	  quantity                      fulfillable_quantity, else quantity
//	  uom                           "EA"
//	  unit_price                    price, in the order's currency
//	currency                      currency
//	notes                         note
//	attributes["financial_status"] financial_status
//	attributes["total_weight_g"]  total_weight, in grams
//	attributes["tag:<tag>"]       "true" for each comma-separated tag, trimmed
//	attributes["note:<name>"]     note_attributes[] name → value (gift messages)
//
// Line grams are not carried: canonical lines have no weight, and the
// order's total_weight is kept as an attribute. Refunded and already
// fulfilled quantities are gone from fulfillable_quantity; bodies from
// before that field existed fall back to quantity.
//
// # Errors
//
// Every problem in a body is reported at once, joined with errors.Join:
// a *MappingError per Shopify field, its Field a JSON path into the body
// ("line_items[2].sku") and its Err one of the Err… sentinels, then the
// canonical.Problems the built order still has, checked with placeholder
// order_id and received_at. The hub sends such a webhook to the DLQ.
package shopify
