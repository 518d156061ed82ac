package shopify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/transforms/internal/mapping"
)

// Order webhook topics OrderFromWebhook translates.
const (
	TopicOrdersCreate    = "orders/create"
	TopicOrdersUpdated   = "orders/updated"
	TopicOrdersPaid      = "orders/paid"
	TopicOrdersCancelled = "orders/cancelled"
)

// Topics lists the topics OrderFromWebhook translates.
var Topics = []string{TopicOrdersCreate, TopicOrdersUpdated, TopicOrdersPaid, TopicOrdersCancelled}

// Result says what to publish for one webhook: an Order, a Cancel, or
// nothing (Skip says why). At most one of Order, Cancel and Skip is set.
type Result struct {
	// Order is the canonical order, its OrderID and Source.ReceivedAt left
	// empty for the hub to fill in.
	Order *canonical.Order
	// Cancel cancels the whole order, its OrderID and Source.ReceivedAt
	// left empty for the hub.
	Cancel *canonical.OrderCancel
	// Skip says why nothing is published: a test order, a financial status
	// the release rules do not release, no shippable lines.
	Skip string
	// ExternalID is the Shopify order id as a decimal string, set whenever
	// the body has a valid id, even with an error.
	ExternalID string
	// UpdatedAt is the order's updated_at (created_at when absent): the
	// hub keeps, per shop and ExternalID, only the newest state.
	UpdatedAt time.Time
}

// OrderFromWebhook translates the body of a Shopify orders/* webhook (the
// order object itself, as Shopify posts it) received from shop, the shop's
// key in the hub configuration.
//
// It is a pure function: no I/O, no clock. Decisions, in order:
//
//   - a malformed body, an unknown topic or a body without a valid id is an
//     error;
//   - a test order is skipped unless Options.ReleaseTestOrders;
//   - topic orders/cancelled, or any order with cancelled_at set, is a
//     Cancel of the whole order, whatever its financial status;
//   - a financial_status not in the release rules is skipped;
//   - an order without a shippable line (requires_shipping true and a
//     fulfillable quantity above zero) is skipped;
//   - otherwise the order is mapped, and every problem found is returned at
//     once, joined with errors.Join: a *MappingError per Shopify field
//     (errors.As, errors.Is with the Err… sentinels), then the
//     canonical.Problems of the built order, validated with placeholder
//     order_id and received_at. Lines with a mapping error are left out of
//     the order before it is validated, so no problem is reported twice.
//
// ExternalID and UpdatedAt are filled in whenever the id is valid, even
// with an error or a skip, so the hub can record the state it has seen.
func OrderFromWebhook(topic string, body []byte, shop string, opts Options) (Result, error) {
	if err := opts.Validate(); err != nil {
		return Result{}, fmt.Errorf("checking shopify options: %w", err)
	}
	if !slices.Contains(Topics, topic) {
		return Result{}, &MappingError{Value: strconv.Quote(topic), Detail: "topic is not one of " + strings.Join(Topics, ", "), Err: ErrTopic}
	}
	doc, err := decodeObject(body)
	if err != nil {
		return Result{}, &MappingError{Detail: "body is not a JSON object: " + err.Error(), Err: ErrMalformed}
	}
	m := mapper{reader: newReader(), topic: topic, shop: shop, set: opts.settings()}
	return m.translate(doc)
}

type mapper struct {
	reader
	topic string
	shop  string
	set   settings
}

func (m *mapper) fail(res Result) (Result, error) {
	return res, m.Err()
}

func (m *mapper) translate(doc object) (Result, error) {
	var res Result
	id, ok := m.ID(doc, "", "id")
	if !ok {
		if _, present := doc["id"]; !present || doc["id"] == nil {
			m.Add("id", "", "the order id is required", ErrMissingField)
		}
		return m.fail(res)
	}
	res.ExternalID = strconv.FormatInt(id, 10)
	created := m.time(doc, "", "created_at")
	res.UpdatedAt = m.time(doc, "", "updated_at")
	if res.UpdatedAt.IsZero() {
		res.UpdatedAt = created
	}
	res.UpdatedAt = res.UpdatedAt.UTC()
	source := canonical.Source{
		Channel:    canonical.ChannelShopify,
		Partner:    m.shop,
		ExternalID: res.ExternalID,
		Document:   m.topic,
	}
	name := m.Str(doc, "", "name")

	if m.boolean(doc, "", "test", false) && !m.set.releaseTests {
		res.Skip = "test order"
		return res, nil
	}
	if m.topic == TopicOrdersCancelled || m.Str(doc, "", "cancelled_at") != "" {
		c := &canonical.OrderCancel{
			Source:      source,
			OrderNumber: name,
			Reason:      m.Str(doc, "", "cancel_reason"),
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
	if fs := m.Str(doc, "", "financial_status"); !slices.Contains(m.set.release, fs) {
		res.Skip = fmt.Sprintf("financial_status %q is not released (releasing %s)", fs, strings.Join(m.set.release, ", "))
		return res, nil
	}

	currency := m.Str(doc, "", "currency")
	if currency != "" && !mapping.IsUpperCode(currency, 3) {
		m.Add("currency", mapping.Show(currency), "must be an ISO 4217 code", ErrInvalidValue)
		currency = ""
	}
	lines, shippable := m.lines(doc, currency)
	if shippable == 0 && len(m.Errs) == 0 {
		res.Skip = "no shippable lines"
		return res, nil
	}
	o := &canonical.Order{
		Source:      source,
		OrderNumber: name,
		Customer:    m.customer(doc),
		Lines:       lines,
		Currency:    currency,
		Notes:       m.Str(doc, "", "note"),
		Shipping:    m.shipping(doc),
		Attributes:  m.attributes(doc),
	}
	if !created.IsZero() {
		o.OrderDate = canonical.DateOf(created)
	}
	if doc["shipping_address"] == nil {
		m.Covered = append(m.Covered, "ship_to")
		m.Add("shipping_address", "", "an order with shippable lines needs a shipping address", ErrNoShippingAddress)
	} else if ship := m.Obj(doc, "", "shipping_address"); ship != nil {
		o.ShipTo = m.address(ship, "shipping_address", true)
	} else {
		m.Covered = append(m.Covered, "ship_to") // not an object
	}
	if bill := m.Obj(doc, "", "billing_address"); bill != nil {
		o.BillTo = m.address(bill, "billing_address", false)
	}

	if len(lines) == 0 && shippable > 0 {
		m.Covered = append(m.Covered, "lines") // every line had a mapping error
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

// lines maps line_items, leaving out lines that need no shipping or have
// nothing left to fulfil, and lines with a mapping error. shippable counts
// the lines that need shipping, errors or not.
func (m *mapper) lines(doc object, currency string) (lines []canonical.Line, shippable int) {
	priced := false
	items := m.Array(doc, "", "line_items")
	for i, v := range items {
		path := mapping.Index("line_items", i)
		item, ok := v.(map[string]any)
		if !ok {
			m.WrongType(path, v, "an object")
			continue
		}
		before := len(m.Errs)
		if !m.boolean(item, path, "requires_shipping", true) {
			continue
		}
		qty, ok := m.count(item, path, "fulfillable_quantity")
		if !ok {
			qty, ok = m.count(item, path, "quantity")
			if !ok && len(m.Errs) == before {
				m.Add(mapping.Join(path, "quantity"), "", "a line needs a quantity", ErrMissingField)
			}
		}
		if ok && qty == 0 {
			continue // fulfilled, refunded or removed already
		}
		shippable++
		line := canonical.Line{Quantity: float64(qty), UOM: canonical.UnitEach}
		lineID, ok := m.ID(item, path, "id")
		if ok {
			line.LineNumber = strconv.FormatInt(lineID, 10)
		} else if item["id"] == nil {
			m.Add(mapping.Join(path, "id"), "", "a line needs its id", ErrMissingField)
		}
		title := m.Str(item, path, "title")
		line.Description = title
		if vt := m.Str(item, path, "variant_title"); vt != "" {
			line.Description = strings.TrimSpace(title + " - " + vt)
		}
		line.SKU = m.Str(item, path, "sku")
		if line.SKU == "" {
			if m.set.skuFallback == SKUFallbackVariantID {
				if vid, ok := m.ID(item, path, "variant_id"); ok {
					line.SKU = strconv.FormatInt(vid, 10)
				}
			}
			if line.SKU == "" {
				detail := "line " + line.LineNumber
				if line.Description != "" {
					detail += " " + strconv.Quote(line.Description)
				}
				detail += " has no SKU"
				if m.set.skuFallback != "" {
					detail += " and no " + m.set.skuFallback
				}
				m.Add(mapping.Join(path, "sku"), "", detail, ErrMissingSKU)
			}
		}
		if price := m.Str(item, path, "price"); price != "" {
			switch {
			case !mapping.IsDecimal(price):
				m.Add(mapping.Join(path, "price"), mapping.Show(price), "must be a decimal amount", ErrInvalidValue)
			case currency != "":
				line.UnitPrice = canonical.Money{Amount: price, Currency: currency}
			default:
				priced = true // reported once, below; the line stays
			}
		}
		if len(m.Errs) == before {
			lines = append(lines, line)
		}
	}
	if priced && mapping.Blank(doc["currency"]) {
		m.Add("currency", "", "an order with prices needs its currency", ErrMissingField)
	}
	return lines, shippable
}

func (m *mapper) customer(doc object) canonical.Customer {
	var c canonical.Customer
	cust := m.Obj(doc, "", "customer")
	if cust != nil {
		c.Name = strings.TrimSpace(m.Str(cust, "customer", "first_name") + " " + m.Str(cust, "customer", "last_name"))
	}
	c.Email = m.Str(doc, "", "email")
	if c.Email == "" {
		c.Email = m.Str(doc, "", "contact_email")
	}
	c.Phone = m.Str(doc, "", "phone")
	if cust != nil {
		if c.Email == "" {
			c.Email = m.Str(cust, "customer", "email")
		}
		if c.Phone == "" {
			c.Phone = m.Str(cust, "customer", "phone")
		}
	}
	return c
}

// address maps a Shopify address; a ship-to must have address1, city and
// country_code.
func (m *mapper) address(a object, path string, shipTo bool) canonical.Address {
	out := canonical.Address{
		Name:       m.Str(a, path, "name"),
		Company:    m.Str(a, path, "company"),
		Address1:   m.Str(a, path, "address1"),
		Address2:   m.Str(a, path, "address2"),
		City:       m.Str(a, path, "city"),
		Region:     m.Str(a, path, "province_code"),
		PostalCode: m.Str(a, path, "zip"),
		Country:    m.Str(a, path, "country_code"),
		Phone:      m.Str(a, path, "phone"),
	}
	if out.Name == "" {
		out.Name = strings.TrimSpace(m.Str(a, path, "first_name") + " " + m.Str(a, path, "last_name"))
	}
	if shipTo && out.Name == "" {
		m.Covered = append(m.Covered, "ship_to.name")
		if mapping.Blank(a["name"]) && mapping.Blank(a["first_name"]) && mapping.Blank(a["last_name"]) {
			m.Add(mapping.Join(path, "name"), "", "a shipping address needs name, or first_name and last_name", ErrMissingField)
		}
	}
	if out.Country != "" && !mapping.IsUpperCode(out.Country, 2) {
		m.Add(mapping.Join(path, "country_code"), mapping.Show(out.Country), "must be an ISO 3166-1 alpha-2 code", ErrInvalidValue)
		out.Country = ""
	}
	if shipTo {
		for _, f := range []struct{ key, val string }{
			{"address1", out.Address1}, {"city", out.City}, {"country_code", out.Country},
		} {
			if f.val == "" {
				m.Covered = append(m.Covered, "ship_to."+strings.TrimSuffix(f.key, "_code"))
			}
			if f.val == "" && mapping.Blank(a[f.key]) {
				m.Add(mapping.Join(path, f.key), "", "a shipping address needs "+f.key, ErrMissingField)
			}
		}
	}
	return out
}

// carriers maps shipping_lines[].source values of carrier-calculated rates
// to carrier names.
var carriers = map[string]string{
	"ups": "UPS", "usps": "USPS", "fedex": "FEDEX", "dhl": "DHL",
	"dhl_express": "DHL", "canada_post": "CANADA_POST",
}

func (m *mapper) shipping(doc object) canonical.Shipping {
	var s canonical.Shipping
	lines := m.Array(doc, "", "shipping_lines")
	if len(lines) == 0 {
		return s
	}
	const path = "shipping_lines[0]"
	sl, ok := lines[0].(map[string]any)
	if !ok {
		m.WrongType(path, lines[0], "an object")
		return s
	}
	title, code := m.Str(sl, path, "title"), m.Str(sl, path, "code")
	s.Method = title
	if s.Method == "" {
		s.Method = code
	}
	if lvl, ok := m.set.levels[normMethod(code)]; ok && code != "" {
		s.ServiceLevel = lvl
	} else if lvl, ok := m.set.levels[normMethod(title)]; ok && title != "" {
		s.ServiceLevel = lvl
	}
	s.Carrier = carriers[strings.ToLower(m.Str(sl, path, "source"))]
	return s
}

func (m *mapper) attributes(doc object) map[string]string {
	attrs := map[string]string{}
	if fs := m.Str(doc, "", "financial_status"); fs != "" {
		attrs["financial_status"] = fs
	}
	if g, ok := m.count(doc, "", "total_weight"); ok && g > 0 {
		attrs["total_weight_g"] = strconv.FormatInt(g, 10)
	}
	for tag := range strings.SplitSeq(m.Str(doc, "", "tags"), ",") {
		if tag = strings.TrimSpace(tag); tag != "" {
			attrs["tag:"+tag] = "true"
		}
	}
	for i, v := range m.Array(doc, "", "note_attributes") {
		path := mapping.Index("note_attributes", i)
		na, ok := v.(map[string]any)
		if !ok {
			m.WrongType(path, v, "an object")
			continue
		}
		if name := m.Str(na, path, "name"); name != "" {
			attrs["note:"+name] = m.noteValue(na, path)
		}
	}
	if len(attrs) == 0 {
		return nil
	}
	return attrs
}

// noteValue reads a note attribute's value, which shops send as a string
// or, from some apps, a number or boolean.
func (m *mapper) noteValue(na object, path string) string {
	switch v := na["value"].(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	default:
		if s, ok := v.(interface{ String() string }); ok {
			return s.String()
		}
		m.WrongType(mapping.Join(path, "value"), v, "a string")
		return ""
	}
}
