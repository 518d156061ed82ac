# WooCommerce-like order webhook (order.created) → paklog.order.v1
.currency as $currency
| {
    order_number: .number,
    source: {external_id: (.id | tostring), document: "order.created"},
    order_date: .date_created[0:10],
    currency: $currency,
    customer: {
      name: "\(.billing.first_name) \(.billing.last_name)",
      email: .billing.email,
      phone: .billing.phone
    },
    ship_to: {
      name: "\(.shipping.first_name) \(.shipping.last_name)",
      company: .shipping.company,
      address1: .shipping.address_1,
      address2: .shipping.address_2,
      city: .shipping.city,
      region: .shipping.state,
      postal_code: .shipping.postcode,
      country: .shipping.country
    },
    shipping: {
      method: .shipping_lines[0].method_title,
      service_level: ({flat_rate: "ground", free_shipping: "economy"}[.shipping_lines[0].method_id] // "")
    },
    lines: [.line_items[] | {
      line_number: (.id | tostring),
      sku: .sku,
      description: .name,
      quantity: .quantity,
      unit_price: {amount: (.price | tostring), currency: $currency}
    }],
    notes: .customer_note
  }
