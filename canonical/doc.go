// Package canonical holds the PakLog canonical messages: the contract
// between the integration hub and the fulfilment core, and between the
// hub's own stages.
//
// Every channel speaks its own language — a Shopify order webhook, an X12
// 850 or 940, a Magento REST entity, an IDoc, a row of a CSV file — and
// each is transformed, once, into one canonical message. Everything
// downstream (routing, the fulfilment core, labels, confirmations) reads
// only canonical messages:
//
//	paklog.order.v1             Order            a customer order, from any channel
//	paklog.order_cancel.v1      OrderCancel      cancel an order or some of its lines
//	paklog.shipment.v1          Shipment         packed by the core, needs a label
//	paklog.label.v1             Label            the carrier's label and tracking numbers
//	paklog.ship_confirm.v1      ShipConfirm      shipped, as confirmed by the core
//	paklog.inventory_advice.v1  InventoryAdvice  stock levels (X12 846 in or out)
//
// # The wire format
//
// Messages are JSON objects with snake_case keys. Each carries "schema",
// its name with a major version: a change that removes or retypes a field
// is a new major version, and the hub can emit both during a migration.
// Readers ignore fields they do not know. Money is a decimal string with a
// currency (Money), never a float; quantities are JSON numbers (whole for
// each-units, decimals allowed for weight and length units); dates are
// "YYYY-MM-DD" (Date); times are RFC 3339, written in UTC.
//
// Every message has a JSON Schema document (draft 2020-12), embedded in
// the package: SchemaNames lists them and SchemaDocument returns one, as
// the hub serves it at /api/v1/schemas/<name>.json. The Go types and the
// schemas describe the same fields; the tests hold them to it.
//
// # Validating
//
// Validate checks a document against its schema and returns Problems,
// every problem at once, each with a JavaScript-like path and a message
// meant for the person who has to fix the document:
//
//	lines[2].quantity: must be > 0
//	ship_to.country: must match ^[A-Z]{2}$ (ISO 3166-1 alpha-2), got "usa"
//	ship_to.city: is required
//
// DecodeOrder (and DecodeShipment, …) validate and then decode, matching
// keys exactly as the schema does. A transform that builds a message in Go
// checks it with its Validate method before publishing it. Schemas are
// compiled once, on first use; validation is safe for concurrent use.
//
// # Identifiers
//
// The hub assigns every order an order_id, "ord_" and a ULID (NewOrderID),
// and the same source order — channel, partner and external_id — always
// keeps the id it got the first time.
package canonical
