package magento

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/transforms/internal/mapping"
)

// Document is the canonical Source.Document of every message made here:
// the Magento entity the body is.
const Document = "sales_order"

// Result says what to publish for one order body: an Order, a Cancel, or
// nothing (Skip says why). At most one of Order, Cancel and Skip is set.
type Result struct {
	// Order is the canonical order, its OrderID and Source.ReceivedAt left
	// empty for the hub to fill in.
	Order *canonical.Order
	// Cancel cancels the whole order, its OrderID and Source.ReceivedAt
	// left empty for the hub.
	Cancel *canonical.OrderCancel
	// Skip says why nothing is published: a state or status the release
	// rules do not release, no shippable items.
	Skip string
	// ExternalID is the Magento entity_id as a decimal string, set
	// whenever the body has a valid entity_id, even with an error.
	ExternalID string
	// UpdatedAt is the order's updated_at (created_at when absent), UTC:
	// the hub keeps, per store and ExternalID, only the newest state.
	UpdatedAt time.Time
}

// shippingAddressPath is where Magento 2 keeps an order's ship-to.
const shippingAddressPath = "extension_attributes.shipping_assignments[0].shipping.address"

// OrderFromREST translates a Magento 2 order entity — the body of
// GET /V1/orders/{id}, one element of GET /V1/orders' items, or the same
// object posted by a webhook extension — from store, the store's key in
// the hub configuration.
//
// It is a pure function: no I/O, no clock. Decisions, in order:
//
//   - a malformed body or one without a valid entity_id is an error;
//   - a state in the cancel states (default canceled) is a Cancel of the
//     whole order;
//   - a state not in the release states (default processing), a status in
//     SkipStatuses, or a status outside a non-empty ReleaseStatuses is
//     skipped;
//   - an order with nothing left to ship (virtual and downloadable items
//     only, or everything shipped, refunded or canceled) is skipped;
//   - otherwise the order is mapped, and every problem found is returned at
//     once, joined with errors.Join: a *MappingError per Magento field
//     (errors.As, errors.Is with the Err… sentinels), then the
//     canonical.Problems of the built order, validated with placeholder
//     order_id and received_at. Items with a mapping error are left out of
//     the order before it is validated, so no problem is reported twice.
//
// ExternalID and UpdatedAt are filled in whenever the entity_id is valid,
// even with an error or a skip, so the hub can record the state it has
// seen.
func OrderFromREST(body []byte, store string, opts Options) (Result, error) {
	if err := opts.Validate(); err != nil {
		return Result{}, fmt.Errorf("checking magento options: %w", err)
	}
	doc, err := decodeObject(body)
	if err != nil {
		return Result{}, &MappingError{Detail: "body is not a JSON object: " + err.Error(), Err: ErrMalformed}
	}
	m := mapper{reader: newReader(), store: store, set: opts.settings()}
	return m.translate(doc)
}

type mapper struct {
	reader
	store string
	set   settings
}

func (m *mapper) fail(res Result) (Result, error) {
	return res, m.Err()
}

func (m *mapper) translate(doc object) (Result, error) {
	var res Result
	id, ok := m.ID(doc, "", "entity_id")
	if !ok {
		if doc["entity_id"] == nil {
			m.Add("entity_id", "", "the order's entity_id is required", ErrMissingField)
		}
		return m.fail(res)
	}
	res.ExternalID = strconv.FormatInt(id, 10)
	created := m.time(doc, "", "created_at")
	res.UpdatedAt = m.time(doc, "", "updated_at")
	if res.UpdatedAt.IsZero() {
		res.UpdatedAt = created
	}
	source := canonical.Source{
		Channel:    canonical.ChannelMagento,
		Partner:    m.store,
		ExternalID: res.ExternalID,
		Document:   Document,
	}
	number := m.Str(doc, "", "increment_id")
	state, status := m.Str(doc, "", "state"), m.Str(doc, "", "status")

	if slices.Contains(m.set.cancel, state) {
		c := &canonical.OrderCancel{
			Source:      source,
			OrderNumber: number,
			Reason:      fmt.Sprintf("magento state %s, status %s", state, status),
		}
		if len(m.Errs) > 0 {
			return m.fail(res)
		}
		if err := mapping.CheckCancel(*c); err != nil {
			return res, err
		}
		res.Cancel = c
		return res, nil
	}
	if skip := m.released(state, status); skip != "" {
		res.Skip = skip
		return res, nil
	}

	currency := m.Str(doc, "", "order_currency_code")
	if currency != "" && !mapping.IsUpperCode(currency, 3) {
		m.Add("order_currency_code", mapping.Show(currency), "must be an ISO 4217 code", ErrInvalidValue)
		currency = ""
	}
	lines, shippable := m.lines(doc, currency)
	if shippable == 0 && len(m.Errs) == 0 {
		res.Skip = "no shippable items"
		return res, nil
	}
	o := &canonical.Order{
		Source:      source,
		OrderNumber: number,
		Customer:    m.customer(doc),
		Lines:       lines,
		Currency:    currency,
		Notes:       m.Str(doc, "", "customer_note"),
		Shipping:    m.shipping(doc),
		Attributes:  map[string]string{"state": state, "status": status},
	}
	if !created.IsZero() {
		o.OrderDate = canonical.DateOf(created)
	}
	if ship := m.shippingAddress(doc); ship != nil {
		o.ShipTo = m.address(ship, shippingAddressPath, true)
	} else {
		m.Covered = append(m.Covered, "ship_to")
	}
	if bill := m.Obj(doc, "", "billing_address"); bill != nil {
		o.BillTo = m.address(bill, "billing_address", false)
	}

	if len(lines) == 0 && shippable > 0 {
		m.Covered = append(m.Covered, "lines") // every item had a mapping error
	}
	if err := m.CheckOrder(*o); err != nil {
		return res, err
	}
	if len(m.Errs) > 0 {
		return m.fail(res)
	}
	res.Order = o
	return res, nil
}

// released returns why an order in state and status is not released, or
// "" when it is.
func (m *mapper) released(state, status string) string {
	switch {
	case !slices.Contains(m.set.release, state):
		return fmt.Sprintf("state %q is not released (releasing %s)", state, strings.Join(m.set.release, ", "))
	case slices.Contains(m.set.skipStatuses, status):
		return fmt.Sprintf("status %q is skipped", status)
	case len(m.set.releaseStatuses) > 0 && !slices.Contains(m.set.releaseStatuses, status):
		return fmt.Sprintf("status %q is not released (releasing %s)", status, strings.Join(m.set.releaseStatuses, ", "))
	}
	return ""
}

// item is one element of the order's items, as far as the mapping needs it.
type item struct {
	path     string
	id       int64
	parentID int64
	typ      string
	sku      string
	name     string
	price    string
	virtual  bool
	// open is what is left to ship: qty_ordered less the larger of
	// qty_shipped and qty_refunded, less qty_canceled (Magento's own
	// getSimpleQtyToShip).
	open float64
	// shipment is a bundle's own shipment_type, "" when it does not say.
	shipment string
	bad      bool // a mapping error was reported for this item
}

// Product types with special rules.
const (
	typeConfigurable = "configurable"
	typeBundle       = "bundle"
	typeVirtual      = "virtual"
	typeDownloadable = "downloadable"
)

func (m *mapper) items(doc object) []*item {
	var out []*item
	for i, v := range m.Array(doc, "", "items") {
		path := mapping.Index("items", i)
		o, ok := v.(map[string]any)
		if !ok {
			m.WrongType(path, v, "an object")
			continue
		}
		before := len(m.Errs)
		it := &item{path: path}
		var ok2 bool
		if it.id, ok2 = m.ID(o, path, "item_id"); !ok2 && o["item_id"] == nil {
			m.Add(mapping.Join(path, "item_id"), "", "an item needs its item_id", ErrMissingField)
		}
		it.parentID, _ = m.ID(o, path, "parent_item_id")
		it.typ = m.Str(o, path, "product_type")
		it.sku = m.Str(o, path, "sku")
		it.name = m.Str(o, path, "name")
		it.price = m.decimal(o, path, "price")
		it.virtual = m.flag(o, path, "is_virtual") || it.typ == typeVirtual || it.typ == typeDownloadable
		if o["qty_ordered"] == nil {
			m.Add(mapping.Join(path, "qty_ordered"), "", "an item needs qty_ordered", ErrMissingField)
		}
		ordered := m.qty(o, path, "qty_ordered")
		done := max(m.qty(o, path, "qty_shipped"), m.qty(o, path, "qty_refunded"))
		it.open = max(0, ordered-done-m.qty(o, path, "qty_canceled"))
		if it.typ == typeBundle {
			it.shipment = m.shipmentType(o, path)
		}
		it.bad = len(m.Errs) > before
		out = append(out, it)
	}
	return out
}

// shipmentType reads a bundle item's shipment_type: from
// extension_attributes.shipment_type or product_options.shipment_type,
// as "together"/"separately" or Magento's own 0 (together) and 1
// (separately).
func (m *mapper) shipmentType(o object, path string) string {
	for _, parent := range []string{"extension_attributes", "product_options"} {
		p, ok := o[parent].(map[string]any)
		if !ok {
			continue
		}
		ppath := mapping.Join(path, parent)
		switch v := m.Str(p, ppath, "shipment_type"); v {
		case "":
		case "0", ShipTogether:
			return ShipTogether
		case "1", ShipSeparately:
			return ShipSeparately
		default:
			m.Add(mapping.Join(ppath, "shipment_type"), mapping.Show(p["shipment_type"]), `must be "together" (0) or "separately" (1)`, ErrInvalidValue)
		}
	}
	return ""
}

// lines maps items to canonical lines. Configurable products become one
// line (the parent's item_id, quantity and price, the child's SKU);
// bundles one line for the bundle or one per child, by shipment type;
// virtual and downloadable items, and items with nothing left to ship, are
// left out, as are items with a mapping error. shippable counts the lines
// that would ship, errors or not.
func (m *mapper) lines(doc object, currency string) (lines []canonical.Line, shippable int) {
	items := m.items(doc)
	byID := map[int64]*item{}
	children := map[int64][]*item{}
	for _, it := range items {
		if it.id != 0 {
			byID[it.id] = it
		}
	}
	for _, it := range items {
		if it.parentID != 0 && byID[it.parentID] != nil {
			children[it.parentID] = append(children[it.parentID], it)
		}
	}
	priced := false
	emit := func(lineItem, skuItem *item, price string, bad bool) {
		if lineItem.virtual || lineItem.open == 0 {
			return
		}
		shippable++
		line := canonical.Line{
			LineNumber:  strconv.FormatInt(lineItem.id, 10),
			SKU:         skuItem.sku,
			Description: skuItem.name,
			Quantity:    lineItem.open,
			UOM:         canonical.UnitEach,
		}
		if line.SKU == "" {
			line.SKU = lineItem.sku // a configurable's own sku is its child's
		}
		if line.SKU == "" {
			detail := "item " + strconv.FormatInt(skuItem.id, 10)
			if skuItem.name != "" {
				detail += " " + strconv.Quote(skuItem.name)
			}
			if skuItem != lineItem {
				detail += " (the product chosen for configurable item " + line.LineNumber + ")"
			}
			m.Add(mapping.Join(skuItem.path, "sku"), "", detail+" has no SKU", ErrMissingSKU)
			bad = true
		}
		if price != "" {
			if currency != "" {
				line.UnitPrice = canonical.Money{Amount: price, Currency: currency}
			} else {
				priced = true
			}
		}
		if !bad && lineItem.id != 0 {
			lines = append(lines, line)
		}
	}
	for _, it := range items {
		if it.parentID != 0 && byID[it.parentID] != nil {
			continue // mapped with its parent
		}
		kids := children[it.id]
		switch {
		case it.typ == typeConfigurable && len(kids) > 0:
			// The parent carries quantity and price; the child names the
			// product picked. Ship-back uses the parent's item_id.
			emit(it, kids[0], it.price, it.bad || kids[0].bad)
		case it.typ == typeBundle && len(kids) > 0 && m.bundleShipment(it) == ShipSeparately:
			for _, k := range kids {
				emit(k, k, k.price, it.bad || k.bad)
			}
		default:
			emit(it, it, it.price, it.bad)
		}
	}
	if priced && mapping.Blank(doc["order_currency_code"]) {
		m.Add("order_currency_code", "", "an order with prices needs its currency", ErrMissingField)
	}
	return lines, shippable
}

func (m *mapper) bundleShipment(it *item) string {
	if it.shipment != "" {
		return it.shipment
	}
	return m.set.bundle
}

func (m *mapper) customer(doc object) canonical.Customer {
	c := canonical.Customer{
		Name:  fullName(m.Str(doc, "", "customer_firstname"), m.Str(doc, "", "customer_middlename"), m.Str(doc, "", "customer_lastname")),
		Email: m.Str(doc, "", "customer_email"),
	}
	if bill, ok := doc["billing_address"].(map[string]any); ok {
		c.Phone = m.Str(bill, "billing_address", "telephone")
	}
	return c
}

func fullName(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// shippingAddress finds extension_attributes.shipping_assignments[0]
// .shipping.address, reporting ErrNoShippingAddress when any step is
// missing.
func (m *mapper) shippingAddress(doc object) object {
	missing := func() object {
		m.Add(shippingAddressPath, "", "an order with shippable items needs a shipping address", ErrNoShippingAddress)
		return nil
	}
	ext := m.Obj(doc, "", "extension_attributes")
	if ext == nil {
		return missing()
	}
	const saPath = "extension_attributes.shipping_assignments"
	sas := m.Array(ext, "extension_attributes", "shipping_assignments")
	if len(sas) == 0 {
		return missing()
	}
	sa, ok := sas[0].(map[string]any)
	if !ok {
		m.WrongType(mapping.Index(saPath, 0), sas[0], "an object")
		return nil
	}
	sh := m.Obj(sa, mapping.Index(saPath, 0), "shipping")
	if sh == nil {
		return missing()
	}
	addr := m.Obj(sh, mapping.Index(saPath, 0)+".shipping", "address")
	if addr == nil && sh["address"] == nil {
		return missing()
	}
	return addr
}

// address maps a Magento order address; a ship-to must have a name,
// street[0], city and country_id.
func (m *mapper) address(a object, path string, shipTo bool) canonical.Address {
	out := canonical.Address{
		Name:       fullName(m.Str(a, path, "firstname"), m.Str(a, path, "middlename"), m.Str(a, path, "lastname")),
		Company:    m.Str(a, path, "company"),
		City:       m.Str(a, path, "city"),
		Region:     m.Str(a, path, "region_code"),
		PostalCode: m.Str(a, path, "postcode"),
		Country:    m.Str(a, path, "country_id"),
		Phone:      m.Str(a, path, "telephone"),
		Email:      m.Str(a, path, "email"),
	}
	if out.Region == "" {
		out.Region = m.Str(a, path, "region")
	}
	var street []string
	switch v := a["street"].(type) {
	case nil:
	case string:
		street = strings.Split(v, "\n")
	case []any:
		for i, s := range v {
			str, ok := s.(string)
			if !ok {
				m.WrongType(mapping.Index(mapping.Join(path, "street"), i), s, "a string")
				continue
			}
			street = append(street, str)
		}
	default:
		m.WrongType(mapping.Join(path, "street"), v, "an array of strings")
	}
	var rest []string
	for i, s := range street {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case out.Address1 == "" && i == 0:
			out.Address1 = s
		default:
			rest = append(rest, s)
		}
	}
	out.Address2 = strings.Join(rest, ", ")
	if out.Country != "" && !mapping.IsUpperCode(out.Country, 2) {
		m.Add(mapping.Join(path, "country_id"), mapping.Show(out.Country), "must be an ISO 3166-1 alpha-2 code", ErrInvalidValue)
		out.Country = ""
	}
	if !shipTo {
		return out
	}
	for _, f := range []struct {
		key, canon, val string
		absent          bool
	}{
		{"lastname", "name", out.Name, out.Name == "" && mapping.Blank(a["firstname"]) && mapping.Blank(a["lastname"])},
		{"street", "address1", out.Address1, out.Address1 == ""},
		{"city", "city", out.City, mapping.Blank(a["city"])},
		{"country_id", "country", out.Country, mapping.Blank(a["country_id"])},
	} {
		if f.val == "" {
			m.Covered = append(m.Covered, "ship_to."+f.canon)
		}
		if f.val == "" && f.absent {
			field := mapping.Join(path, f.key)
			detail := "a shipping address needs " + f.key
			switch f.key {
			case "lastname":
				field, detail = mapping.Join(path, "firstname"), "a shipping address needs firstname or lastname"
			case "street":
				field = mapping.Index(field, 0)
			}
			m.Add(field, "", detail, ErrMissingField)
		}
	}
	return out
}

// carriers maps the carrier part of a shipping method code to a carrier.
var carriers = map[string]string{"ups": "UPS", "usps": "USPS", "fedex": "FEDEX", "dhl": "DHL"}

func (m *mapper) shipping(doc object) canonical.Shipping {
	var s canonical.Shipping
	code := ""
	if ext, ok := doc["extension_attributes"].(map[string]any); ok {
		if sas, ok := ext["shipping_assignments"].([]any); ok && len(sas) > 0 {
			if sa, ok := sas[0].(map[string]any); ok {
				if sh, ok := sa["shipping"].(map[string]any); ok {
					code = m.Str(sh, "extension_attributes.shipping_assignments[0].shipping", "method")
				}
			}
		}
	}
	if code == "" {
		code = m.Str(doc, "", "shipping_method")
	}
	desc := m.Str(doc, "", "shipping_description")
	s.Method = desc
	if s.Method == "" {
		s.Method = code
	}
	if lvl, ok := m.set.levels[normMethod(code)]; ok && code != "" {
		s.ServiceLevel = lvl
	} else if lvl, ok := m.set.levels[normMethod(desc)]; ok && desc != "" {
		s.ServiceLevel = lvl
	}
	carrier, _, _ := strings.Cut(code, "_")
	s.Carrier = carriers[strings.ToLower(carrier)]
	return s
}
