package csv

import "slices"

// Column describes one column of the import format.
type Column struct {
	// Name is the header name, lower case.
	Name string
	// Required columns must be in the header, and every row must give them
	// a value.
	Required bool
	// OrderLevel columns describe the order, not the line: they are read
	// from the order's first row, and a later row of the order may repeat
	// the value or leave it empty, but not change it.
	OrderLevel bool
	// Format says what a value looks like, and the default when empty.
	Format string
	// Example is a typical value.
	Example string
}

// col indexes the columns.
type col int

const (
	colOrderNumber col = iota
	colExternalID
	colOrderDate
	colPurchaseOrder
	colCustomerName
	colCustomerEmail
	colCustomerPhone
	colShipToName
	colShipToCompany
	colShipToAddress1
	colShipToAddress2
	colShipToCity
	colShipToRegion
	colShipToPostalCode
	colShipToCountry
	colShipToPhone
	colShipToEmail
	colServiceLevel
	colCarrier
	colShipMethod
	colRequestedShipDate
	colNotes
	colCurrency
	colLineNumber
	colSKU
	colUPC
	colDescription
	colQuantity
	colUOM
	colUnitPrice
	numColumns
)

var columns = [numColumns]Column{
	colOrderNumber:       {"order_number", true, true, "text; the rows of one order are adjacent and share it", "SO-10041"},
	colExternalID:        {"external_id", false, true, "text; default: order_number", "10041"},
	colOrderDate:         {"order_date", false, true, "date YYYY-MM-DD", "2024-10-14"},
	colPurchaseOrder:     {"purchase_order", false, true, "text", "PO-7781"},
	colCustomerName:      {"customer_name", false, true, "text", "Dana Whitfield"},
	colCustomerEmail:     {"customer_email", false, true, "text", "dana@example.com"},
	colCustomerPhone:     {"customer_phone", false, true, "text", "+1 415 555 0142"},
	colShipToName:        {"ship_to_name", true, true, "text", "Dana Whitfield"},
	colShipToCompany:     {"ship_to_company", false, true, "text", "Whitfield Studio"},
	colShipToAddress1:    {"ship_to_address1", true, true, "text", "1200 Market St"},
	colShipToAddress2:    {"ship_to_address2", false, true, "text", "Suite 400"},
	colShipToCity:        {"ship_to_city", true, true, "text", "San Francisco"},
	colShipToRegion:      {"ship_to_region", false, true, "state or province code", "CA"},
	colShipToPostalCode:  {"ship_to_postal_code", false, true, "text", "94102"},
	colShipToCountry:     {"ship_to_country", true, true, "ISO 3166-1 alpha-2 code, any case", "US"},
	colShipToPhone:       {"ship_to_phone", false, true, "text", "+1 415 555 0142"},
	colShipToEmail:       {"ship_to_email", false, true, "text", "dana@example.com"},
	colServiceLevel:      {"service_level", false, true, "ground, economy, two_day, next_day, same_day, freight, pickup or empty; any case, - or space for _", "two_day"},
	colCarrier:           {"carrier", false, true, "text", "UPS"},
	colShipMethod:        {"ship_method", false, true, "text: your own method name or code", "UPS 2nd Day Air"},
	colRequestedShipDate: {"requested_ship_date", false, true, "date YYYY-MM-DD", "2024-10-15"},
	colNotes:             {"notes", false, true, "text", "Leave at the side door"},
	colCurrency:          {"currency", false, true, "ISO 4217 code, any case; required when a row has unit_price", "USD"},
	colLineNumber:        {"line_number", false, false, "text, unique in the order; default: 1, 2, 3… by row", "1"},
	colSKU:               {"sku", true, false, "text", "TENT-2P-GRN"},
	colUPC:               {"upc", false, false, "text", "012345678905"},
	colDescription:       {"description", false, false, "text", "Two-person tent, green"},
	colQuantity:          {"quantity", true, false, "number > 0: whole for each-units, decimals allowed", "2"},
	colUOM:               {"uom", false, false, "X12 unit code; default: EA", "EA"},
	colUnitPrice:         {"unit_price", false, false, "decimal amount, no currency sign or thousands separator", "249.00"},
}

// Columns returns every column of the import format, in the order of the
// documentation. The slice is the caller's to keep.
func Columns() []Column {
	return slices.Clone(columns[:])
}

// columnByName finds a column by its lower-case name.
var columnByName = func() map[string]col {
	m := make(map[string]col, numColumns)
	for i, c := range columns {
		m[c.Name] = col(i)
	}
	return m
}()

func (c col) String() string { return columns[c].Name }
