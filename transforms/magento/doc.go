// Package magento translates Magento 2 (Adobe Commerce) order entities —
// as GET /V1/orders returns them, or as a webhook extension posts them —
// into canonical messages: a paklog.order.v1 Order, a
// paklog.order_cancel.v1 OrderCancel, or a reasoned decision to publish
// nothing.
//
// The package is pure: OrderFromREST reads the order body and the store's
// Options and returns a Result. Fetching orders, assigning order_id and
// received_at and keeping only the newest state per (store, entity_id) —
// by Result.UpdatedAt, so a poll that overlaps the last one never
// overwrites a newer state — are the hub's job (connectors/magento polls).
//
// # Release rules
//
// Magento has a fixed set of order states (new, pending_payment,
// payment_review, processing, complete, closed, canceled, holded) and
// free-form statuses within them. Options decide which are released:
//
//	state in CancelStates (canceled)   Cancel of the whole order
//	state not in ReleaseStates         skipped (default releases processing:
//	                                   invoiced; holded, new, pending_payment wait)
//	status in SkipStatuses             skipped (fraud, a store's own hold status)
//	ReleaseStatuses set, status not    skipped
//	  in it
//	nothing left to ship               skipped (virtual/downloadable only,
//	                                   everything shipped, refunded or canceled)
//
// # Items
//
// Magento lists a configurable or bundle product as a parent item and
// child items pointing at it with parent_item_id:
//
//	simple (no parent)        one line
//	configurable + child      one line: the parent's item_id, quantity and
//	                          price, the child's sku and name
//	bundle, ship together     one line for the bundle parent (item_id, sku,
//	                          quantity, price)
//	bundle, ship separately   one line per child (its own item_id, sku,
//	                          quantity, price)
//	virtual, downloadable     dropped (is_virtual 1, or product_type)
//
// A bundle's shipment type is read from the item's
// product_options.shipment_type or extension_attributes.shipment_type
// ("together"/0, "separately"/1), else Options.BundleShipment. The line
// number is the item_id to ship back with POST /V1/order/{id}/ship: the
// configurable parent, the bundle parent or the bundle child, as Magento
// expects. The quantity is what is left to ship: qty_ordered less the
// larger of qty_shipped and qty_refunded, less qty_canceled.
//
// # Field mapping
//
//	canonical                  Magento order
//	source.channel             "magento"
//	source.partner             the store key given by the caller
//	source.external_id         entity_id (int64, never rounded through float64)
//	source.document            "sales_order"
//	order_number               increment_id ("000000003")
//	order_date                 created_at, its date in UTC (see Times)
//	customer.name              customer_firstname [middlename] lastname
//	customer.email             customer_email
//	customer.phone             billing_address.telephone
//	ship_to                    extension_attributes.shipping_assignments[0]
//	                           .shipping.address (required with shippable items)
//	bill_to                    billing_address
//	  name                       firstname [middlename] lastname
//	  address1, address2         street[0], the rest of street joined by ", "
//	  region                     region_code, else region
//	  postal_code, country       postcode, country_id
//	  phone, email               telephone, email
//	shipping.method            shipping_description, else the method code
//	shipping.service_level     shipping_assignments[0].shipping.method (else
//	                           shipping_method), else shipping_description,
//	                           looked up in Options.ServiceLevels over
//	                           DefaultServiceLevels
//	shipping.carrier           the method code's carrier (ups_GND → UPS,
//	                           usps, fedex, dhl)
//	currency                   order_currency_code
//	notes                      customer_note
//	attributes                 state, status
//
// # Times
//
// created_at and updated_at are read with ParseTime. Magento core writes
// "2026-11-20 18:00:00", in UTC; extensions and Adobe Commerce SaaS or
// GraphQL-backed proxies write ISO 8601 / RFC 3339 ("2026-11-20T18:00:00Z",
// "2026-11-20T18:00:00+00:00", with fractional seconds). Both are
// accepted, a time without a zone is UTC, and every time is returned in
// UTC, so order_date is the UTC date. Anything else is a *MappingError
// (ErrInvalidValue) naming the field, the value and the accepted forms.
//
// # Errors
//
// Every problem in a body is reported at once, joined with errors.Join: a
// *MappingError per Magento field, its Field a JSON path into the body
// ("items[3].sku",
// "extension_attributes.shipping_assignments[0].shipping.address") and its
// Err one of the Err… sentinels, then the canonical.Problems the built
// order still has. The hub sends such an order to the DLQ.
package magento
