package csv

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
)

// Stand-ins for the fields the hub assigns, so that the built order can be
// validated against paklog.order.v1 before the hub has it.
const placeholderOrderID = "ord_00000000000000000000000000"

var placeholderReceivedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// finish turns the rows of one order into a Batch.
func (r *Reader) finish(g *group) *Batch {
	b := &Batch{FirstLine: g.firstLine, LastLine: g.lastLine}
	errs := slices.Clone(g.errs)
	for _, rw := range g.rows {
		errs = append(errs, rw.errs...)
	}
	switch {
	case g.strayEnd > 0:
		for _, rw := range g.rows {
			if rw.known {
				errs = append(errs, RowError{Line: rw.line, Column: colOrderNumber.String(),
					Reason: fmt.Sprintf("rows of order %s must be adjacent; it ended at line %d", g.number, g.strayEnd)})
			}
		}
	case g.number != "":
		o, buildErrs := r.build(g)
		errs = append(errs, buildErrs...)
		if len(errs) == 0 {
			b.Order = o
			return b
		}
	}
	b.Errors = sortErrors(errs)
	return b
}

// sortErrors orders errors by line and column, dropping a second error for
// a cell that already has one (a problem the transform found itself is
// more specific than the canonical schema's word for it).
func sortErrors(errs []RowError) []RowError {
	colIndex := func(name string) int {
		if c, ok := columnByName[name]; ok {
			return int(c)
		}
		if name == "" {
			return -1
		}
		return int(numColumns)
	}
	slices.SortStableFunc(errs, func(a, b RowError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(colIndex(a.Column), colIndex(b.Column)))
	})
	out := errs[:0]
	for i, e := range errs {
		if i > 0 && e.Column != "" && e.Line == errs[i-1].Line && e.Column == errs[i-1].Column {
			continue
		}
		if i > 0 && e == errs[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// orderLevel lists the columns that describe the order, not the line.
var orderLevel = func() []col {
	var cs []col
	for i, c := range columns {
		if c.OrderLevel && col(i) != colOrderNumber {
			cs = append(cs, col(i))
		}
	}
	return cs
}()

// build makes the order from its readable rows and checks it against
// paklog.order.v1, mapping each canonical problem back to a row and column.
func (r *Reader) build(g *group) (*canonical.Order, []RowError) {
	var rows []*row
	var lineNumbers []int // line_number position in the order, per row
	for i, rw := range g.rows {
		if !rw.broken() {
			rows = append(rows, rw)
			lineNumbers = append(lineNumbers, i+1)
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	var errs []RowError
	first := rows[0]
	for _, rw := range rows[1:] {
		for _, c := range orderLevel {
			v, was := rw.vals[c], first.vals[c]
			if v == "" || v == was {
				continue
			}
			reason := fmt.Sprintf("conflicts with line %d: %s", first.line, strconv.Quote(was))
			if was == "" {
				reason = fmt.Sprintf("conflicts with line %d, which leaves it empty: order-level values come from the order's first row", first.line)
			}
			errs = append(errs, RowError{Line: rw.line, Column: c.String(), Value: shorten(v), Reason: reason})
		}
	}

	v := first.vals
	o := &canonical.Order{
		Source: canonical.Source{
			Channel:    canonical.ChannelCSV,
			Partner:    r.cfg.Partner,
			ExternalID: cmp.Or(v[colExternalID], g.number),
			Document:   "csv",
		},
		OrderNumber:   g.number,
		PurchaseOrder: v[colPurchaseOrder],
		OrderDate:     canonical.Date(v[colOrderDate]),
		Customer:      canonical.Customer{Name: v[colCustomerName], Email: v[colCustomerEmail], Phone: v[colCustomerPhone]},
		ShipTo: canonical.Address{
			Name:       v[colShipToName],
			Company:    v[colShipToCompany],
			Address1:   v[colShipToAddress1],
			Address2:   v[colShipToAddress2],
			City:       v[colShipToCity],
			Region:     v[colShipToRegion],
			PostalCode: v[colShipToPostalCode],
			Country:    strings.ToUpper(v[colShipToCountry]),
			Phone:      v[colShipToPhone],
			Email:      v[colShipToEmail],
		},
		Shipping: canonical.Shipping{
			ServiceLevel:      serviceLevel(v[colServiceLevel]),
			Carrier:           v[colCarrier],
			Method:            v[colShipMethod],
			RequestedShipDate: canonical.Date(v[colRequestedShipDate]),
		},
		Currency: strings.ToUpper(v[colCurrency]),
		Notes:    v[colNotes],
	}

	seen := map[string]int{}
	for i, rw := range rows {
		ln := rw.vals[colLineNumber]
		if ln == "" {
			ln = strconv.Itoa(lineNumbers[i])
		}
		if at, dup := seen[ln]; dup {
			e := RowError{Line: rw.line, Column: colLineNumber.String(), Value: rw.vals[colLineNumber],
				Reason: fmt.Sprintf("repeats line %d's line_number: each line of an order needs its own", at)}
			if e.Value == "" {
				e.Reason = fmt.Sprintf("is empty, and its default %s (the row's position in the order) is line %d's line_number: give every row of this order a line_number", ln, at)
			}
			errs = append(errs, e)
		}
		seen[ln] = rw.line

		qty := 0.0
		if q := rw.vals[colQuantity]; q != "" {
			var ok bool
			if qty, ok = parseQuantity(q); !ok {
				errs = append(errs, RowError{Line: rw.line, Column: colQuantity.String(), Value: shorten(q), Reason: "is not a number"})
				qty = 1 // reported; keep the schema from reporting it again
			}
		}
		l := canonical.Line{
			LineNumber:  ln,
			SKU:         rw.vals[colSKU],
			UPC:         rw.vals[colUPC],
			Description: rw.vals[colDescription],
			Quantity:    qty,
			UOM:         cmp.Or(strings.ToUpper(rw.vals[colUOM]), canonical.UnitEach),
		}
		if p := rw.vals[colUnitPrice]; p != "" {
			l.UnitPrice = canonical.Money{Amount: p, Currency: o.Currency}
		}
		o.Lines = append(o.Lines, l)
	}

	check := *o
	check.OrderID = placeholderOrderID
	check.Source.ReceivedAt = placeholderReceivedAt
	if err := check.Validate(); err != nil {
		var ps canonical.Problems
		if !errors.As(err, &ps) {
			errs = append(errs, RowError{Line: first.line, Reason: "cannot be checked: " + err.Error()})
		}
		for _, p := range ps {
			errs = append(errs, rowErrorOf(p, rows))
		}
	}
	return o, errs
}

// lineFields maps the fields of a canonical line to columns.
var lineFields = map[string]col{
	"line_number": colLineNumber,
	"sku":         colSKU,
	"upc":         colUPC,
	"description": colDescription,
	"quantity":    colQuantity,
	"uom":         colUOM,
	"unit_price":  colUnitPrice,
}

// orderFields maps the fields of a canonical order to columns.
var orderFields = map[string]col{
	"order_number":                 colOrderNumber,
	"source.external_id":           colExternalID,
	"order_date":                   colOrderDate,
	"purchase_order":               colPurchaseOrder,
	"customer.name":                colCustomerName,
	"customer.email":               colCustomerEmail,
	"customer.phone":               colCustomerPhone,
	"ship_to.name":                 colShipToName,
	"ship_to.company":              colShipToCompany,
	"ship_to.address1":             colShipToAddress1,
	"ship_to.address2":             colShipToAddress2,
	"ship_to.city":                 colShipToCity,
	"ship_to.region":               colShipToRegion,
	"ship_to.postal_code":          colShipToPostalCode,
	"ship_to.country":              colShipToCountry,
	"ship_to.phone":                colShipToPhone,
	"ship_to.email":                colShipToEmail,
	"shipping.service_level":       colServiceLevel,
	"shipping.carrier":             colCarrier,
	"shipping.method":              colShipMethod,
	"shipping.requested_ship_date": colRequestedShipDate,
	"notes":                        colNotes,
	"currency":                     colCurrency,
}

// rowErrorOf maps a canonical problem of the built order to the row and
// column it came from: lines[i].… is the row of the order's i-th line,
// anything else the order's first row.
func rowErrorOf(p canonical.Problem, rows []*row) RowError {
	rw := rows[0]
	c, ok := orderFields[p.Path]
	if rest, isLine := strings.CutPrefix(p.Path, "lines["); isLine {
		idx, field, _ := strings.Cut(rest, "].")
		if i, err := strconv.Atoi(idx); err == nil && i >= 0 && i < len(rows) {
			rw = rows[i]
		}
		switch {
		case field == "unit_price.currency":
			// The currency of a price is the order's currency.
			e := RowError{Line: rows[0].line, Column: colCurrency.String(), Value: rows[0].vals[colCurrency], Reason: reasonOf(p.Message, rows[0].vals[colCurrency])}
			if e.Value == "" {
				e.Reason = "is required when a row has a unit_price"
			}
			return e
		default:
			name, _, _ := strings.Cut(field, ".")
			c, ok = lineFields[name]
		}
	}
	if !ok {
		return RowError{Line: rw.line, Reason: "breaks the order format: " + p.String()}
	}
	v := rw.vals[c]
	return RowError{Line: rw.line, Column: c.String(), Value: shorten(v), Reason: reasonOf(p.Message, v)}
}

// reasonOf rewords a canonical message for a cell whose value the
// RowError shows anyway.
func reasonOf(msg, value string) string {
	if value == "" {
		return "is required"
	}
	if i := strings.LastIndex(msg, ", got "); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// parseQuantity reads a plain decimal number: digits with an optional sign
// and fraction. Exponents, hex, thousands separators, "NaN" and "Inf" are
// not numbers here.
func parseQuantity(s string) (float64, bool) {
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" || strings.Trim(digits, "0123456789.") != "" || strings.Count(digits, ".") > 1 || digits == "." {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// serviceLevel normalises a service level: any case, "-" or " " for "_".
func serviceLevel(s string) canonical.ServiceLevel {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", "_", " ", "_").Replace(s)
	return canonical.ServiceLevel(s)
}
