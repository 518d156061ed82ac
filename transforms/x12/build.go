package x12

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
)

// The intake assigns order_id and received_at; the built order is checked
// with these in their place.
const placeholderOrderID = "ord_00000000000000000000000000"

var placeholderReceivedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// builder holds the state of one translation.
type builder struct {
	opts Options
	ts   *edi.TransactionSet
	p    problems
	o    canonical.Order

	head     *edi.Segment // BEG or W05, else ST: where order-level problems point
	shipTo   *party
	billTo   *party
	customer *party
	lines    []*lineRef
	notes    []string
	reported []string // canonical fields already reported by the mapping
	carrier  bool     // a TD5/W66 has filled shipping

	// ranks of the qualifiers that gave the requested dates, so that the
	// partner's first choice wins whatever the segment order
	shipDateRank, deliveryDateRank int
}

// lineRef is an order line with the segment it came from.
type lineRef struct {
	seg  *edi.Segment
	line *canonical.Line
}

func newBuilder(ts *edi.TransactionSet, env Envelope, opts Options, document string) *builder {
	b := &builder{opts: opts.withDefaults(), ts: ts, p: problems{set: ts.ControlNumber}}
	if len(ts.Segments) > 0 {
		b.head = &ts.Segments[0]
	}
	b.o = canonical.Order{
		Schema: canonical.SchemaOrder,
		Source: canonical.Source{
			Channel:  canonical.ChannelEDI,
			Partner:  env.Partner,
			Document: document,
		},
		Attributes: map[string]string{},
	}
	b.shipDateRank, b.deliveryDateRank = 1<<30, 1<<30
	set := env.SetControlNumber
	if set == "" {
		set = ts.ControlNumber
	}
	for k, v := range map[string]string{
		"x12_sender_id":   qualified(env.SenderQualifier, env.SenderID),
		"x12_receiver_id": qualified(env.ReceiverQualifier, env.ReceiverID),
		"x12_isa13":       env.InterchangeControlNumber,
		"x12_gs06":        env.GroupControlNumber,
		"x12_st02":        set,
	} {
		b.attr(k, strings.TrimSpace(v))
	}
	return b
}

// qualified writes an ID with its qualifier: "ZZ:ACME".
func qualified(q, id string) string {
	q, id = strings.TrimSpace(q), strings.TrimSpace(id)
	if id == "" || q == "" {
		return id
	}
	return q + ":" + id
}

// wrongSet reports a set of the wrong kind; true if it is.
func (b *builder) wrongSet(want string) bool {
	if b.ts.ID == want {
		return false
	}
	b.p.add(b.head, 1, ErrWrongSet, "transaction set %s cannot be translated as a %s", quote(b.ts.ID), want)
	return true
}

func (b *builder) attr(k, v string) {
	if v != "" {
		b.o.Attributes[k] = v
	}
}

func (b *builder) report(e *MappingError, field string) {
	e.Field = field
	if field != "" {
		b.reported = append(b.reported, field)
	}
}

// el returns element i of s without surrounding spaces.
func el(s *edi.Segment, i int) string { return strings.TrimSpace(s.Element(i).String()) }

// --- Parties: N1 loops.

// party is an N1 loop: N1, N2, N3, N4, PER (850) or G61 (940), REF/N9.
type party struct {
	n1, n3, n4 *edi.Segment
	code       string
	addr       canonical.Address
	contact    string // PER02/G6102
	id         string // N104
}

// readParty reads the N1 loop starting at segs[i]; it returns the loop
// and the index of the first segment after it.
func (b *builder) readParty(segs []edi.Segment, i int) (*party, int) {
	n1 := &segs[i]
	p := &party{n1: n1, code: strings.ToUpper(el(n1, 1)), id: el(n1, 4)}
	p.addr.Name = el(n1, 2)
	var companies, streets []string
loop:
	for i++; i < len(segs); i++ {
		s := &segs[i]
		switch s.ID {
		case "N2":
			companies = appendNonEmpty(companies, el(s, 1), el(s, 2))
		case "N3":
			if p.n3 == nil {
				p.n3 = s
			}
			streets = appendNonEmpty(streets, el(s, 1), el(s, 2))
		case "N4":
			if p.n4 == nil {
				p.n4 = s
				p.addr.City, p.addr.Region, p.addr.PostalCode = el(s, 1), strings.ToUpper(el(s, 2)), el(s, 3)
				p.addr.Country = b.country(s)
			}
		case "PER":
			b.contact(s, 2, []int{3, 5, 7}, &p.contact, &p.addr.Phone, &p.addr.Email)
		case "G61":
			b.contact(s, 2, []int{3}, &p.contact, &p.addr.Phone, &p.addr.Email)
		default:
			// Anything else ends the loop; a REF of the loop is read as
			// the header's.
			break loop
		}
	}
	p.addr.Company = strings.Join(companies, " ")
	if len(streets) > 0 {
		p.addr.Address1 = streets[0]
		p.addr.Address2 = strings.Join(streets[1:], ", ")
	}
	if p.n4 == nil {
		p.addr.Country = b.opts.DefaultCountry
	}
	return p, i
}

func appendNonEmpty(list []string, vs ...string) []string {
	for _, v := range vs {
		if v != "" {
			list = append(list, v)
		}
	}
	return list
}

// contact reads a PER or G61: the name element and the communication
// number pairs (TE phone, EM email).
func (b *builder) contact(s *edi.Segment, nameElem int, pairs []int, name, phone, email *string) {
	if *name == "" {
		*name = el(s, nameElem)
	}
	for _, q := range pairs {
		v := el(s, q+1)
		switch strings.ToUpper(el(s, q)) {
		case "TE":
			if *phone == "" {
				*phone = v
			}
		case "EM":
			if *email == "" {
				*email = v
			}
		}
	}
}

// countries3 maps the alpha-3 codes partners send most to alpha-2.
var countries3 = map[string]string{"USA": "US", "CAN": "CA", "MEX": "MX", "GBR": "GB", "DEU": "DE", "FRA": "FR", "AUS": "AU"}

// country reads N404, defaulting to Options.DefaultCountry.
func (b *builder) country(n4 *edi.Segment) string {
	c := strings.ToUpper(el(n4, 4))
	if c == "" {
		return b.opts.DefaultCountry
	}
	if a2, ok := countries3[c]; ok {
		return a2
	}
	return c
}

// addParty files an N1 loop of the header as ship-to, bill-to, customer
// or attributes.
func (b *builder) addParty(p *party) {
	switch {
	case p.code == b.opts.ShipToEntity:
		if b.shipTo != nil {
			b.p.add(p.n1, 1, ErrUnsupported, "a second ship-to (N101 %s): one order has one ship-to; the first, line %d, is used", quote(p.code), b.shipTo.n1.Line)
			return
		}
		b.shipTo = p
		b.o.ShipTo = p.addr
		b.attr("ship_to_contact", p.contact)
	case p.code == b.opts.BillToEntity:
		if b.billTo == nil {
			b.billTo = p
			b.o.BillTo = p.addr
		}
	case p.code == b.opts.CustomerEntity:
		if b.customer == nil {
			b.customer = p
			c := &b.o.Customer // a header PER may have given the contact
			c.Name = p.addr.Name
			c.Email = cmp.Or(p.addr.Email, c.Email)
			c.Phone = cmp.Or(p.addr.Phone, c.Phone)
		}
	default:
		b.attr("party_"+strings.ToLower(p.code)+"_name", p.addr.Name)
	}
	b.attr("party_"+strings.ToLower(p.code)+"_id", p.id)
}

// --- Values.

var reNumber = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// number reads an X12 numeric (R) value. It returns the value and its
// canonical decimal form ("0.5" for ".5", "5" for "5.", no leading zeros).
func number(v string) (float64, string, bool) {
	if len(v) > 32 || !reNumber.MatchString(v) {
		return 0, "", false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, "", false
	}
	neg := strings.HasPrefix(v, "-")
	v = strings.TrimLeft(v, "+-")
	ip, fp, _ := strings.Cut(v, ".")
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	d := ip
	if fp != "" {
		d += "." + fp
	}
	if neg && strings.Trim(d, "0.") != "" {
		d = "-" + d
	}
	return f, d, true
}

// date reads a DT element: CCYYMMDD, or YYMMDD (versions before 004010),
// where years 00-49 are 20YY and 50-99 19YY.
func date(v string) (canonical.Date, bool) {
	switch len(v) {
	case 6:
		yy, err := strconv.Atoi(v[:2])
		if err != nil {
			return "", false
		}
		century := "20"
		if yy >= 50 {
			century = "19"
		}
		v = century + v
	case 8:
	default:
		return "", false
	}
	for _, c := range []byte(v) {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	t, err := time.Parse("20060102", v)
	if err != nil {
		return "", false
	}
	return canonical.DateOf(t), true
}

// setDate reads element elem of s into *dst, reporting a bad date.
func (b *builder) setDate(s *edi.Segment, elem int, what, field string, dst *canonical.Date) {
	v := el(s, elem)
	if v == "" {
		b.report(b.p.add(s, elem, ErrMissingElement, "%s is missing", what), field)
		return
	}
	d, ok := date(v)
	if !ok {
		b.report(b.p.add(s, elem, ErrDate, "%s %s is not a date (CCYYMMDD)", what, quote(v)), field)
		return
	}
	*dst = d
}

// requestedDate reads a dated segment (DTM, G62) whose qualifier is q and
// date is element elem: into requested_ship_date or
// requested_delivery_date when q is one of the partner's qualifiers (the
// earliest in the list wins), into attribute <prefix><q> otherwise.
func (b *builder) requestedDate(s *edi.Segment, q string, elem int, shipQuals, deliveryQuals []string, prefix string) {
	var dst *canonical.Date
	field := ""
	if i := slices.Index(shipQuals, q); i >= 0 {
		if i < b.shipDateRank {
			b.shipDateRank = i
			dst, field = &b.o.Shipping.RequestedShipDate, "shipping.requested_ship_date"
		}
	} else if i := slices.Index(deliveryQuals, q); i >= 0 {
		if i < b.deliveryDateRank {
			b.deliveryDateRank = i
			dst, field = &b.o.Shipping.RequestedDeliveryDate, "shipping.requested_delivery_date"
		}
	}
	what := fmt.Sprintf("date (qualifier %s)", quote(q))
	if dst == nil {
		var d canonical.Date
		b.setDate(s, elem, what, "", &d)
		if q != "" {
			if _, dup := b.o.Attributes[prefix+q]; !dup {
				b.attr(prefix+q, string(d))
			}
		}
		return
	}
	b.setDate(s, elem, what, field, dst)
}

// currency reads CUR02.
func (b *builder) currency(s *edi.Segment) {
	c := strings.ToUpper(el(s, 2))
	if !reCurrency.MatchString(c) {
		b.report(b.p.add(s, 2, ErrCode, "currency %s is not an ISO 4217 code (3 letters)", quote(el(s, 2))), "currency")
		return
	}
	if b.o.Currency == "" {
		b.o.Currency = c
	}
}

// note adds a MSG or NTE text; in a line it is prefixed with the line.
func (b *builder) note(s *edi.Segment, elem int) {
	text := el(s, elem)
	if text == "" {
		return
	}
	if n := len(b.lines); n > 0 {
		text = "line " + b.lines[n-1].line.LineNumber + ": " + text
	}
	b.notes = append(b.notes, text)
}

// ref keeps a REF or N9 as attribute ref_<qualifier>.
func (b *builder) ref(s *edi.Segment) {
	q := strings.ToLower(el(s, 1))
	if q == "" {
		return
	}
	v := el(s, 2)
	if v == "" {
		v = el(s, 3)
	}
	if _, dup := b.o.Attributes["ref_"+q]; !dup {
		b.attr("ref_"+q, v)
	}
}

// carrierDetails fills shipping from TD5 or W66 values.
func (b *builder) carrierDetails(scac, routing, method, serviceCode string) {
	if b.carrier {
		return // the first carrier segment wins
	}
	b.carrier = true
	sh := &b.o.Shipping
	sh.SCAC = scac
	sh.Carrier = b.opts.Carriers[normKey(scac)]
	sh.Method = routing
	if sh.Method == "" {
		sh.Method = serviceCode
	}
	sh.ServiceLevel = b.opts.ServiceLevels.serviceLevel(serviceCode, routing, method)
	b.attr("transport_method", method)
	b.attr("service_code", serviceCode)
}

// --- Lines.

// qualifier classes: which canonical field a product ID qualifier fills.
var (
	vendorQualifiers = []string{"VP", "VN", "VC"}
	buyerQualifiers  = []string{"BP", "IN", "CB"}
	upcQualifiers    = []string{"UP", "UA"}
	gtinQualifiers   = []string{"UK", "EN"}
)

// itemIDs reads the product ID pairs (qualifier element, value element)
// of a line segment: the first value of each qualifier, and the qualifiers
// in the order they appear.
func itemIDs(s *edi.Segment, qualElems []int) (map[string]string, []string) {
	ids := map[string]string{}
	var order []string
	for _, q := range qualElems {
		qual, v := strings.ToUpper(el(s, q)), el(s, q+1)
		if qual == "" || v == "" {
			continue
		}
		if _, dup := ids[qual]; !dup {
			ids[qual] = v
			order = append(order, qual)
		}
	}
	return ids, order
}

func firstOf(ids map[string]string, quals []string) string {
	for _, q := range quals {
		if v := ids[q]; v != "" {
			return v
		}
	}
	return ""
}

// identify fills the line's SKU and item numbers from its product IDs.
func (b *builder) identify(s *edi.Segment, l *canonical.Line, ids map[string]string, order []string, idx int, elems string) {
	l.VendorItem = firstOf(ids, vendorQualifiers)
	if !b.opts.OmitBuyerItems {
		l.BuyerItem = firstOf(ids, buyerQualifiers)
	}
	l.UPC = firstOf(ids, upcQualifiers)
	l.GTIN = firstOf(ids, gtinQualifiers)
	l.SKU = firstOf(ids, b.opts.SKUPrecedence)
	if l.SKU != "" {
		return
	}
	found := "none"
	if len(order) > 0 {
		found = strings.Join(order, ", ")
	}
	e := b.p.add(s, 0, ErrNoItemID, "line %s has no product ID to use as SKU: the partner's precedence is %s, the line has %s (%s)",
		l.LineNumber, strings.Join(b.opts.SKUPrecedence, " > "), found, elems)
	e.OrderLine = l.LineNumber
	b.report(e, fmt.Sprintf("lines[%d].sku", idx))
}

// quantity reads a line's quantity element; a bad one is reported and
// replaced by 1 so that validation does not report it twice.
func (b *builder) quantity(s *edi.Segment, elem int, l *canonical.Line, idx int) {
	v := el(s, elem)
	field := fmt.Sprintf("lines[%d].quantity", idx)
	var e *MappingError
	q, _, ok := number(v)
	switch {
	case v == "":
		e = b.p.add(s, elem, ErrMissingElement, "quantity is missing")
	case !ok:
		e = b.p.add(s, elem, ErrNotNumber, "quantity %s is not a number", quote(v))
	case q <= 0:
		e = b.p.add(s, elem, ErrQuantity, "quantity %s is not more than zero", quote(v))
	default:
		l.Quantity = q
		return
	}
	e.OrderLine, e.Value = l.LineNumber, v
	b.report(e, field)
	l.Quantity = 1
}

// addLine appends a line built from segment s.
func (b *builder) addLine(s *edi.Segment, l *canonical.Line) {
	b.lines = append(b.lines, &lineRef{seg: s, line: l})
}

// --- Finishing.

// finish checks the whole order, validates it against paklog.order.v1 and
// returns it, or every problem.
func (b *builder) finish(headWhat, linesWhat string) (canonical.Order, error) {
	if b.shipTo == nil {
		b.report(b.p.add(b.head, 0, ErrNoShipTo, "%s has no ship-to: no N1 loop with N101 %s", headWhat, quote(b.opts.ShipToEntity)), "ship_to")
	}
	if len(b.lines) == 0 {
		b.report(b.p.add(b.head, 0, ErrNoLines, "%s has no lines: no %s segment", headWhat, linesWhat), "lines")
	}
	for _, lr := range b.lines {
		b.o.Lines = append(b.o.Lines, *lr.line)
	}
	if b.o.Currency == "" && slices.ContainsFunc(b.o.Lines, func(l canonical.Line) bool { return !l.UnitPrice.IsZero() }) {
		b.o.Currency = b.opts.DefaultCurrency
	}
	for i := range b.o.Lines {
		if p := &b.o.Lines[i].UnitPrice; !p.IsZero() {
			p.Currency = b.o.Currency
		}
	}
	b.o.Notes = strings.Join(b.notes, "\n")
	if len(b.o.Attributes) == 0 {
		b.o.Attributes = nil
	}

	check := b.o
	check.OrderID = placeholderOrderID
	check.Source.ReceivedAt = placeholderReceivedAt
	if err := check.Validate(); err != nil {
		var ps canonical.Problems
		if !errors.As(err, &ps) {
			b.p.add(b.head, 0, ErrInvalidOrder, "the order cannot be checked: %v", err)
		}
		for _, pr := range ps {
			if b.alreadyReported(pr.Path) {
				continue
			}
			s, elem := b.locate(pr.Path)
			e := b.p.add(s, elem, ErrInvalidOrder, "%s: %s", pathOrRoot(pr.Path), pr.Message)
			e.Field = pr.Path
		}
	}
	if err := b.p.err(); err != nil {
		return canonical.Order{}, err
	}
	return b.o, nil
}

func pathOrRoot(p string) string {
	if p == "" {
		return "(order)"
	}
	return p
}

func (b *builder) alreadyReported(path string) bool {
	for _, f := range b.reported {
		if path == f || strings.HasPrefix(path, f+".") || strings.HasPrefix(path, f+"[") {
			return true
		}
	}
	return false
}

// addressElems maps an address field to the segment and element it comes
// from.
func (p *party) locate(field string) (*edi.Segment, int) {
	switch field {
	case "address1", "address2":
		if p.n3 != nil {
			return p.n3, 1
		}
	case "city", "region", "postal_code", "country":
		if p.n4 != nil {
			return p.n4, map[string]int{"city": 1, "region": 2, "postal_code": 3, "country": 4}[field]
		}
	case "name":
		return p.n1, 2
	}
	return p.n1, 0
}

// locate maps a canonical JSON path to the segment (and element) it was
// built from.
func (b *builder) locate(path string) (*edi.Segment, int) {
	head, rest, _ := strings.Cut(path, ".")
	switch {
	case head == "ship_to" && b.shipTo != nil:
		return b.shipTo.locate(rest)
	case head == "bill_to" && b.billTo != nil:
		return b.billTo.locate(rest)
	case head == "customer" && b.customer != nil:
		return b.customer.n1, 0
	case strings.HasPrefix(path, "lines["):
		idx, _, _ := strings.Cut(strings.TrimPrefix(path, "lines["), "]")
		if i, err := strconv.Atoi(idx); err == nil && i >= 0 && i < len(b.lines) {
			return b.lines[i].seg, 0
		}
	}
	return b.head, 0
}
