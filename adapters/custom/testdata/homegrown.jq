# A homegrown platform: string quantities, address lines in an array,
# lower-case country codes, an express flag instead of a service name.
def line($n): {
  line_number: ($n + 1 | tostring),
  sku: .code,
  upc: (.ean // ""),
  quantity: (.count | tonumber),
  unit_price: {amount: .each, currency: "GBP"}
};
{
  order_number: .orderRef,
  order_date: .placed[0:10],
  currency: "GBP",
  customer: {name: .buyer.fullName, email: .buyer.mail},
  ship_to: {
    name: .deliverTo.recipient,
    address1: .deliverTo.lines[0],
    address2: (.deliverTo.lines[1:] | join(", ")),
    city: .deliverTo.town,
    postal_code: .deliverTo.zip,
    country: (.deliverTo.countryCode | ascii_upcase)
  },
  shipping: {service_level: (if .express then "next_day" else "ground" end)},
  lines: [.basket | to_entries[] | .key as $n | .value | line($n)],
  notes: ([.basket[].note // empty] | join("; ")),
  attributes: {sales_channel: .meta.channel, store_number: (.meta.storeNo | tostring)}
}
