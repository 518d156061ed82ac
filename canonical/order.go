package canonical

import "encoding/json"

// Order is a paklog.order.v1 message: one customer order, from any channel,
// as the fulfilment core receives it.
type Order struct {
	// Schema is SchemaOrder; MarshalJSON fills it in when empty.
	Schema string `json:"schema"`
	// OrderID is hub-assigned: "ord_" + ULID (NewOrderID). The same source
	// order always maps to the same id.
	OrderID string `json:"order_id"`
	Source  Source `json:"source"`
	// OrderNumber is the number people use: Shopify name, Magento
	// increment_id, X12 PO or depositor order number.
	OrderNumber   string   `json:"order_number,omitempty"`
	PurchaseOrder string   `json:"purchase_order,omitempty"`
	OrderDate     Date     `json:"order_date,omitempty"`
	Customer      Customer `json:"customer,omitzero"`
	ShipTo        Address  `json:"ship_to"`
	BillTo        Address  `json:"bill_to,omitzero"`
	Shipping      Shipping `json:"shipping,omitzero"`
	Lines         []Line   `json:"lines"`
	// Currency is the ISO 4217 code of the order's prices.
	Currency string `json:"currency,omitempty"`
	// Notes holds gift messages and instructions.
	Notes string `json:"notes,omitempty"`
	// Attributes keeps anything else worth keeping (department, store
	// number, tags).
	Attributes map[string]string `json:"attributes,omitempty"`
}

// MarshalJSON encodes o, setting schema to SchemaOrder when it is empty.
func (o Order) MarshalJSON() ([]byte, error) {
	type plain Order
	if o.Schema == "" {
		o.Schema = SchemaOrder
	}
	return json.Marshal(plain(o))
}

// Customer is who placed the order, where known.
type Customer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Shipping is how the order should travel.
type Shipping struct {
	ServiceLevel ServiceLevel `json:"service_level,omitempty"`
	// Carrier is the requested carrier where the source names one ("UPS",
	// "FEDEX", "USPS").
	Carrier string `json:"carrier,omitempty"`
	// SCAC is the Standard Carrier Alpha Code as given (X12 TD503).
	SCAC string `json:"scac,omitempty"`
	// Method is the source's own shipping method text or code.
	Method                string `json:"method,omitempty"`
	RequestedShipDate     Date   `json:"requested_ship_date,omitempty"`
	RequestedDeliveryDate Date   `json:"requested_delivery_date,omitempty"`
}

// Line is one order line.
type Line struct {
	// LineNumber is the line's number as in the source ("1", "0010").
	LineNumber string `json:"line_number"`
	// SKU is the warehouse SKU, chosen by the partner's identifier
	// precedence (default: vendor part, SKU, buyer part, UPC).
	SKU         string `json:"sku"`
	UPC         string `json:"upc,omitempty"`
	GTIN        string `json:"gtin,omitempty"`
	BuyerItem   string `json:"buyer_item,omitempty"`
	VendorItem  string `json:"vendor_item,omitempty"`
	Description string `json:"description,omitempty"`
	// Quantity is > 0: whole numbers for each-units, decimals allowed for
	// weight and length units.
	Quantity float64 `json:"quantity"`
	// UOM is the X12 unit code as given: "EA", "CA", "LB".
	UOM       string `json:"uom,omitempty"`
	UnitPrice Money  `json:"unit_price,omitzero"`
}

// OrderCancel is a paklog.order_cancel.v1 message: cancel a whole order
// (no Lines) or some of its lines.
type OrderCancel struct {
	// Schema is SchemaOrderCancel; MarshalJSON fills it in when empty.
	Schema      string    `json:"schema"`
	OrderID     string    `json:"order_id"`
	Source      Source    `json:"source"`
	OrderNumber string    `json:"order_number,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Lines       []LineRef `json:"lines,omitempty"`
}

// MarshalJSON encodes c, setting schema to SchemaOrderCancel when it is
// empty.
func (c OrderCancel) MarshalJSON() ([]byte, error) {
	type plain OrderCancel
	if c.Schema == "" {
		c.Schema = SchemaOrderCancel
	}
	return json.Marshal(plain(c))
}

// LineRef points at an order line by its LineNumber, with a quantity of it:
// the quantity to cancel, packed in a package, or shipped. In an
// OrderCancel a zero Quantity means the whole line.
type LineRef struct {
	LineNumber string  `json:"line_number"`
	SKU        string  `json:"sku,omitempty"`
	Quantity   float64 `json:"quantity,omitempty"`
}
