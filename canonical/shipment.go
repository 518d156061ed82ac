package canonical

import (
	"encoding/json"
	"time"
)

// Shipment is a paklog.shipment.v1 message from the fulfilment core: the
// order is packed and the packages need a label.
type Shipment struct {
	// Schema is SchemaShipment; MarshalJSON fills it in when empty.
	Schema       string       `json:"schema"`
	ShipmentID   string       `json:"shipment_id"`
	OrderID      string       `json:"order_id"`
	ShipFrom     Address      `json:"ship_from"`
	ShipTo       Address      `json:"ship_to"`
	ServiceLevel ServiceLevel `json:"service_level,omitempty"`
	// Carrier is a preferred carrier ("UPS"); empty lets the hub choose.
	Carrier     string      `json:"carrier,omitempty"`
	Packages    []Package   `json:"packages"`
	LabelFormat LabelFormat `json:"label_format"`
}

// MarshalJSON encodes s, setting schema to SchemaShipment when it is empty.
func (s Shipment) MarshalJSON() ([]byte, error) {
	type plain Shipment
	if s.Schema == "" {
		s.Schema = SchemaShipment
	}
	return json.Marshal(plain(s))
}

// Package is one packed carton of a Shipment.
type Package struct {
	PackageID  string     `json:"package_id"`
	Weight     Weight     `json:"weight"`
	Dimensions Dimensions `json:"dimensions,omitzero"`
	Lines      []LineRef  `json:"lines,omitempty"`
}

// Weight is a package weight; Value > 0.
type Weight struct {
	Value float64    `json:"value"`
	Unit  WeightUnit `json:"unit"`
}

// Dimensions are a package's outside measurements; each > 0.
type Dimensions struct {
	Length float64    `json:"length"`
	Width  float64    `json:"width"`
	Height float64    `json:"height"`
	Unit   LengthUnit `json:"unit"`
}

// Label is a paklog.label.v1 message: the carrier accepted a Shipment and
// returned a label and tracking number per package.
type Label struct {
	// Schema is SchemaLabel; MarshalJSON fills it in when empty.
	Schema     string         `json:"schema"`
	LabelID    string         `json:"label_id"`
	ShipmentID string         `json:"shipment_id"`
	OrderID    string         `json:"order_id"`
	Carrier    string         `json:"carrier"`
	Service    string         `json:"service,omitempty"`
	Packages   []LabelPackage `json:"packages"`
	// Cost is what the carrier charged, where it says.
	Cost      Money     `json:"cost,omitzero"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	// RequestID is the idempotency key the hub used with the carrier.
	RequestID string `json:"request_id"`
}

// MarshalJSON encodes l, setting schema to SchemaLabel when it is empty.
func (l Label) MarshalJSON() ([]byte, error) {
	type plain Label
	if l.Schema == "" {
		l.Schema = SchemaLabel
	}
	return json.Marshal(plain(l))
}

// LabelPackage is the label of one Package.
type LabelPackage struct {
	PackageID      string      `json:"package_id"`
	TrackingNumber string      `json:"tracking_number"`
	LabelFormat    LabelFormat `json:"label_format"`
	// LabelRef locates the label file in the hub's label store.
	LabelRef string `json:"label_ref"`
}

// ShipConfirm is a paklog.ship_confirm.v1 message from the fulfilment core:
// the packages left the building.
type ShipConfirm struct {
	// Schema is SchemaShipConfirm; MarshalJSON fills it in when empty.
	Schema     string           `json:"schema"`
	ShipmentID string           `json:"shipment_id"`
	OrderID    string           `json:"order_id"`
	ShippedAt  time.Time        `json:"shipped_at,omitzero"`
	Carrier    string           `json:"carrier"`
	Service    string           `json:"service,omitempty"`
	Packages   []ShippedPackage `json:"packages"`
	// LinesShort lists the lines where less than ordered was sent.
	LinesShort []ShortLine `json:"lines_short,omitempty"`
}

// MarshalJSON encodes c, setting schema to SchemaShipConfirm when it is
// empty.
func (c ShipConfirm) MarshalJSON() ([]byte, error) {
	type plain ShipConfirm
	if c.Schema == "" {
		c.Schema = SchemaShipConfirm
	}
	return json.Marshal(plain(c))
}

// ShippedPackage is one package that shipped, with what was in it.
type ShippedPackage struct {
	PackageID      string    `json:"package_id,omitempty"`
	TrackingNumber string    `json:"tracking_number"`
	Lines          []LineRef `json:"lines,omitempty"`
}

// ShortLine is an order line of which less than ordered was sent.
type ShortLine struct {
	LineNumber      string  `json:"line_number"`
	SKU             string  `json:"sku,omitempty"`
	QuantityOrdered float64 `json:"quantity_ordered"`
	QuantityShipped float64 `json:"quantity_shipped"`
	Reason          string  `json:"reason,omitempty"`
}

// InventoryAdvice is a paklog.inventory_advice.v1 message: stock levels of a
// partner's items, from an X12 846 received or for an 846 to send.
type InventoryAdvice struct {
	// Schema is SchemaInventoryAdvice; MarshalJSON fills it in when empty.
	Schema  string          `json:"schema"`
	Partner string          `json:"partner"`
	AsOf    time.Time       `json:"as_of,omitzero"`
	Items   []InventoryItem `json:"items"`
}

// MarshalJSON encodes a, setting schema to SchemaInventoryAdvice when it is
// empty.
func (a InventoryAdvice) MarshalJSON() ([]byte, error) {
	type plain InventoryAdvice
	if a.Schema == "" {
		a.Schema = SchemaInventoryAdvice
	}
	return json.Marshal(plain(a))
}

// InventoryItem is the stock of one SKU in one warehouse. A nil quantity
// was not reported, which is not the same as zero.
type InventoryItem struct {
	SKU               string   `json:"sku"`
	UPC               string   `json:"upc,omitempty"`
	QuantityOnHand    *float64 `json:"quantity_on_hand,omitempty"`
	QuantityAvailable *float64 `json:"quantity_available,omitempty"`
	UOM               string   `json:"uom,omitempty"`
	Warehouse         string   `json:"warehouse,omitempty"`
}
