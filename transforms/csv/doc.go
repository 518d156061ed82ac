// Package csv reads the CSV bulk import format of "paklog import
// orders.csv" and turns it into canonical orders (paklog.order.v1).
//
// # The format
//
// One row per order line. The rows of one order are adjacent and share
// its order_number. The first row is the header: it names the columns, in
// any order; names are case-insensitive and trimmed. Values are trimmed.
// Quoting follows RFC 4180: a value holding a comma, a quote or a line
// break is put in double quotes, and a quote inside is doubled. A UTF-8
// byte order mark, CRLF line ends, blank lines and rows of empty values
// are all fine.
//
// Order-level columns describe the order and are read from its first row;
// a later row may repeat them or leave them empty, but a different value
// is an error. Line-level columns describe each row's line.
//
//	column               need     level  format
//	order_number         required order  text; rows of one order are adjacent
//	external_id          optional order  text; default: order_number
//	order_date           optional order  date YYYY-MM-DD
//	purchase_order       optional order  text
//	customer_name        optional order  text
//	customer_email       optional order  text
//	customer_phone       optional order  text
//	ship_to_name         required order  text
//	ship_to_company      optional order  text
//	ship_to_address1     required order  text
//	ship_to_address2     optional order  text
//	ship_to_city         required order  text
//	ship_to_region       optional order  state or province code
//	ship_to_postal_code  optional order  text
//	ship_to_country      required order  ISO 3166-1 alpha-2 code, any case
//	ship_to_phone        optional order  text
//	ship_to_email        optional order  text
//	service_level        optional order  ground, economy, two_day, next_day,
//	                                     same_day, freight, pickup or empty
//	                                     (any case; "-" or " " for "_")
//	carrier              optional order  text
//	ship_method          optional order  text: your own method name or code
//	requested_ship_date  optional order  date YYYY-MM-DD
//	notes                optional order  text
//	currency             optional order  ISO 4217 code, any case; required
//	                                     when a row has a unit_price
//	line_number          optional line   text, unique in the order;
//	                                     default: 1, 2, 3… by row
//	sku                  required line   text
//	upc                  optional line   text
//	description          optional line   text
//	quantity             required line   number > 0, like 2 or 12.5
//	uom                  optional line   X12 unit code; default: EA
//	unit_price           optional line   decimal amount, like 249.00
//
// Columns returns the same table for programs (a CLI's help, a template).
//
// # Reading
//
// NewReader reads and checks the header; Reader.Next then returns one
// Batch per order, holding one order's rows in memory at a time. Each
// order comes with source.channel "csv", source.partner from
// Config.Partner, source.external_id and source.document "csv"; its
// order_id and received_at are left empty for the hub to assign. Before it
// is returned the order is checked against paklog.order.v1, and each
// problem is mapped back to the row and column it came from.
//
// An order with any bad row is not returned: its Batch carries every
// RowError instead, and the orders after it keep flowing:
//
//	line 14, column quantity: "4x" is not a number
//	line 9, column ship_to_country: "USA" must match ^[A-Z]{2}$ (ISO 3166-1 alpha-2)
//	line 12, column ship_to_city: "Springfeld" conflicts with line 11: "Springfield"
//	line 20, column order_number: rows of order SO-1 must be adjacent; it ended at line 8
//
// The first rows of an order that reappears after it ended have already
// been returned; the rows that come back are reported, not added.
//
// # Broken rows
//
// A row is read with encoding/csv, one physical line at a time, so that
// line numbers are exact and a broken row costs one row, not the file:
//
//   - A row with more or fewer fields than the header is an error.
//   - A quote in a value that does not start with one ("6" pipe") is an
//     error for that row; reading goes on at the next line.
//   - A quoted value that is never closed makes the lines after it part of
//     the same value, up to the next quote character: those lines are
//     reported as one bad row (the error says which lines), and reading
//     goes on after the line where the quote was found.
//   - A value longer than MaxFieldBytes (64 KiB) is an error; a row longer
//     than MaxRowBytes (1 MiB) is cut there, reported, and reading resumes
//     at the next line. That bounds memory even when an unclosed quote
//     would swallow the rest of the file.
//
// A row whose order_number cannot be read counts as a row of the order
// being read; when the next row starts another order, that order is held
// back too, since the unreadable row may have been its first. No order is
// ever returned without one of its rows.
package csv
