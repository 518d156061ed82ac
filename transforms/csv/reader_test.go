package csv

import (
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paklog/integration-hub/canonical"
)

const hdr = "order_number,ship_to_name,ship_to_address1,ship_to_city,ship_to_country,sku,quantity"

// result is one Batch, flattened for comparison: "A lines 2-3" for an
// order, or its errors.
type result struct {
	order  string
	first  int
	last   int
	errors []string
}

// readAll reads every batch of input.
func readAll(t *testing.T, input string, cfg Config) ([]*Batch, error) {
	t.Helper()
	if cfg.Partner == "" {
		cfg.Partner = "test"
	}
	r, err := NewReader(strings.NewReader(input), cfg)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var out []*Batch
	for {
		b, err := r.Next()
		if err == io.EOF {
			if r.BytesRead() != int64(len(input)) {
				t.Errorf("BytesRead %d at the end, file has %d", r.BytesRead(), len(input))
			}
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if (b.Order == nil) == (len(b.Errors) == 0) {
			t.Fatalf("batch %+v: want an order or errors", b)
		}
		out = append(out, b)
	}
}

func flatten(bs []*Batch) []result {
	var out []result
	for _, b := range bs {
		r := result{first: b.FirstLine, last: b.LastLine}
		if b.Order != nil {
			r.order = b.Order.OrderNumber
		}
		for _, e := range b.Errors {
			r.errors = append(r.errors, e.Error())
		}
		out = append(out, r)
	}
	return out
}

func equalResults(a, b []result) bool {
	return slices.EqualFunc(a, b, func(x, y result) bool {
		return x.order == y.order && x.first == y.first && x.last == y.last && slices.Equal(x.errors, y.errors)
	})
}

func TestReaderRows(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []result
	}{
		{
			name: "quantity not a number",
			input: hdr + "\n" +
				"A,Ann,1 Main St,Reno,US,S1,4x\n",
			want: []result{{first: 2, last: 2, errors: []string{`line 2, column quantity: "4x" is not a number`}}},
		},
		{
			name: "quantity checked by the schema, on the right row",
			input: hdr + "\n" +
				"A,Ann,1 Main St,Reno,US,S1,1\n" +
				"A,,,,,S2,0\n" +
				"A,,,,,S3,-2\n",
			want: []result{{first: 2, last: 4, errors: []string{
				`line 3, column quantity: "0" must be > 0`,
				`line 4, column quantity: "-2" must be > 0`,
			}}},
		},
		{
			name: "order-level problems point at the first row",
			input: hdr + "\n" +
				"A,,1 Main St,,USA,S1,1\n" +
				"A,,,,,,2\n",
			want: []result{{first: 2, last: 3, errors: []string{
				"line 2, column ship_to_name: is required",
				"line 2, column ship_to_city: is required",
				`line 2, column ship_to_country: "USA" must match ^[A-Z]{2}$ (ISO 3166-1 alpha-2)`,
				"line 3, column sku: is required",
			}}},
		},
		{
			name: "conflicting order-level values",
			input: hdr + "\n" +
				"A,Ann,1 Main St,Springfield,US,S1,1\n" +
				"A,Ann,1 Main St,Springfeld,us,S2,1\n" +
				"A,,,,,S3,1\n",
			want: []result{{first: 2, last: 4, errors: []string{
				`line 3, column ship_to_city: "Springfeld" conflicts with line 2: "Springfield"`,
				`line 3, column ship_to_country: "us" conflicts with line 2: "US"`,
			}}},
		},
		{
			name: "good orders flow past bad ones",
			input: hdr + "\n" +
				"A,Ann,1 Main St,Reno,US,S1,1\n" +
				"B,Bob,2 Main St,Reno,US,S1,x\n" +
				"B,Bob,2 Main St,Reno,US,S2,1\n" +
				"C,Cy,3 Main St,Reno,us,S1,2\n",
			want: []result{
				{order: "A", first: 2, last: 2},
				{first: 3, last: 4, errors: []string{`line 3, column quantity: "x" is not a number`}},
				{order: "C", first: 5, last: 5},
			},
		},
		{
			name: "rows of an order must be adjacent",
			input: hdr + "\n" +
				"A,Ann,1 Main St,Reno,US,S1,1\n" +
				"B,Bob,2 Main St,Reno,US,S1,1\n" +
				"A,Ann,1 Main St,Reno,US,S2,1\n" +
				"A,Ann,1 Main St,Reno,US,S3,1\n" +
				"C,Cy,3 Main St,Reno,US,S1,1\n",
			want: []result{
				{order: "A", first: 2, last: 2},
				{order: "B", first: 3, last: 3},
				{first: 4, last: 5, errors: []string{
					"line 4, column order_number: rows of order A must be adjacent; it ended at line 2",
					"line 5, column order_number: rows of order A must be adjacent; it ended at line 2",
				}},
				{order: "C", first: 6, last: 6},
			},
		},
		{
			name: "wrong number of fields",
			input: hdr + "\n" +
				"A,Ann,1 Main St,Reno,US,S1,1\n" +
				"A,Ann,1 Main St,Reno,US,S2,1,extra\n" +
				"B,Bob,2 Main St,Reno\n",
			want: []result{
				{first: 2, last: 3, errors: []string{"line 3: has 8 fields, the header has 7: look for a missing or extra comma, or quote a value that contains one"}},
				{first: 4, last: 4, errors: []string{"line 4: has 4 fields, the header has 7: look for a missing or extra comma, or quote a value that contains one"}},
			},
		},
		{
			name: "bare quote: the row is reported and the next line read",
			input: hdr + "\n" +
				"A,Ann,1 Main St,Reno,US,6\" PIPE,1\n" +
				"B,Bob,2 Main St,Reno,US,S1,1\n",
			want: []result{
				{first: 2, last: 2, errors: []string{`line 2, column sku: has a " in a value that does not start with one (line 2, byte 26): put the whole value in quotes and double the quote inside, as in "6"" pipe"`}},
				{order: "B", first: 3, last: 3},
			},
		},
		{
			name: "unclosed quote swallows lines up to the next quote",
			input: hdr + "\n" +
				"A,Ann,\"1 Main St,Reno,US,S1,1\n" +
				"B,Bob,2 Main St,Reno,US,S1,1\n" +
				"C,Cy,\"3 Main St\",Reno,US,S1,1\n" +
				"D,Di,4 Main St,Reno,US,S1,1\n",
			want: []result{
				{first: 2, last: 4, errors: []string{`line 2, column ship_to_address1: has a quoted value that is not closed properly (line 4, byte 6) (lines 2 to 4 were read as this one row): end it with " before the next comma, and double any quote inside it ("")`}},
				{order: "D", first: 5, last: 5},
			},
		},
		{
			name: "quoted values may hold commas, quotes and newlines",
			input: hdr + ",notes\n" +
				"A,\"Ann, Jr.\",\"1 \"\"Main\"\" St\",Reno,US,S1,1,\"ring twice\nthen wait\"\n" +
				"A,,,,,S2,1,\n" +
				"B,Bob,2 Main St,Reno,US,S1,x,\n",
			want: []result{
				{order: "A", first: 2, last: 4},
				{first: 5, last: 5, errors: []string{`line 5, column quantity: "x" is not a number`}},
			},
		},
		{
			name: "prices and currency",
			input: hdr + ",unit_price,currency\n" +
				"A,Ann,1 Main St,Reno,US,S1,1,12.50,\n" +
				"A,,,,,S2,1,$3,\n" +
				"B,Bob,2 Main St,Reno,US,S1,1,1.5,usd\n",
			want: []result{
				{first: 2, last: 3, errors: []string{
					"line 2, column currency: is required when a row has a unit_price",
					`line 3, column unit_price: "$3" must match ^-?[0-9]+(\.[0-9]+)?$ (a decimal string such as "12.50")`,
				}},
				{order: "B", first: 4, last: 4},
			},
		},
		{
			name: "dates and service level",
			input: hdr + ",order_date,requested_ship_date,service_level\n" +
				"A,Ann,1 Main St,Reno,US,S1,1,10/14/2024,2024-02-30,overnight\n" +
				"B,Bob,2 Main St,Reno,US,S1,1,2024-10-14,,Next Day\n",
			want: []result{
				{first: 2, last: 2, errors: []string{
					`line 2, column order_date: "10/14/2024" must be a date YYYY-MM-DD`,
					`line 2, column service_level: "overnight" must be one of "ground", "economy", "two_day", "next_day", "same_day", "freight", "pickup", ""`,
					`line 2, column requested_ship_date: "2024-02-30" must be a date YYYY-MM-DD`,
				}},
				{order: "B", first: 3, last: 3},
			},
		},
		{
			name: "line numbers must be unique",
			input: hdr + ",line_number\n" +
				"A,Ann,1 Main St,Reno,US,S1,1,1\n" +
				"A,,,,,S2,1,1\n" +
				"B,Bob,2 Main St,Reno,US,S1,1,2\n" +
				"B,,,,,S2,1,\n",
			want: []result{
				{first: 2, last: 3, errors: []string{"line 3, column line_number: \"1\" repeats line 2's line_number: each line of an order needs its own"}},
				{first: 4, last: 5, errors: []string{"line 5, column line_number: is empty, and its default 2 (the row's position in the order) is line 4's line_number: give every row of this order a line_number"}},
			},
		},
		{
			name: "a row without order_number holds back the orders around it",
			input: hdr + "\n" +
				"A,Ann,1 Main St,Reno,US,S1,1\n" +
				",Ann,1 Main St,Reno,US,S2,1\n" +
				"B,Bob,2 Main St,Reno,US,S1,1\n" +
				"C,Cy,3 Main St,Reno,US,S1,1\n",
			want: []result{
				{first: 2, last: 3, errors: []string{"line 3, column order_number: is required: every row names its order"}},
				{first: 3, last: 4, errors: []string{"line 3: has no readable order_number, so it may be a row of this order too: this order is held back until that row is fixed"}},
				{order: "C", first: 5, last: 5},
			},
		},
		{
			name: "value in an unnamed column",
			input: hdr + ",\n" +
				"A,Ann,1 Main St,Reno,US,S1,1,\n" +
				"B,Bob,2 Main St,Reno,US,S1,1,oops\n",
			want: []result{
				{order: "A", first: 2, last: 2},
				{first: 3, last: 3, errors: []string{`line 3, column (unnamed column 8): "oops" is in a column with no name in the header: name the column or remove the value`}},
			},
		},
		{
			name: "blank rows, BOM, CRLF and spaces",
			input: "\ufeff" + hdr + "\r\n" +
				"\r\n" +
				" A , Ann ,1 Main St,Reno, us ,S1, 2 \r\n" +
				",,,,,,\r\n" +
				"B,Bob,2 Main St,Reno,US,S1,1",
			want: []result{{order: "A", first: 3, last: 3}, {order: "B", first: 5, last: 5}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, err := readAll(t, tt.input, Config{})
			if err != nil {
				t.Fatal(err)
			}
			if got := flatten(bs); !equalResults(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", show(got), show(tt.want))
			}
			for _, b := range bs {
				if b.Order != nil {
					checkOrder(t, b.Order)
				}
			}
		})
	}
}

func show(rs []result) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString("  ")
		if r.order != "" {
			b.WriteString("order " + r.order + " ")
		}
		b.WriteString("lines " + itoa(r.first) + "-" + itoa(r.last) + "\n")
		for _, e := range r.errors {
			b.WriteString("    " + e + "\n")
		}
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

// checkOrder checks what every imported order has in common.
func checkOrder(t *testing.T, o *canonical.Order) {
	t.Helper()
	if o.OrderID != "" || !o.Source.ReceivedAt.IsZero() {
		t.Errorf("order %s: order_id and received_at are the hub's to set", o.OrderNumber)
	}
	if o.Source.Channel != canonical.ChannelCSV || o.Source.Document != "csv" || o.Source.Partner == "" || o.Source.ExternalID == "" {
		t.Errorf("order %s: source %+v", o.OrderNumber, o.Source)
	}
	c := *o
	c.OrderID = canonical.NewOrderID()
	c.Source.ReceivedAt = placeholderReceivedAt
	if err := c.Validate(); err != nil {
		t.Errorf("order %s does not validate: %v", o.OrderNumber, err)
	}
}

func TestOrderContent(t *testing.T) {
	input := "Order_Number , SKU,quantity,ship_to_name,ship_to_address1,ship_to_city,ship_to_country,external_id,uom,service_level,currency,unit_price,description\n" +
		"A-1,S1,2,Ann,1 Main St,Reno,us,,,two-day,usd,10,Tent\n" +
		"A-1,S2,0.5,,,,,,lb,,,1.25,\n" +
		"A-2,S1,1,Bob,2 Main St,Reno,US,shop-77,,,,,\n"
	bs, err := readAll(t, input, Config{Partner: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].Order == nil || bs[1].Order == nil {
		t.Fatalf("got %s", show(flatten(bs)))
	}
	a := bs[0].Order
	want := canonical.Order{
		Source:      canonical.Source{Channel: canonical.ChannelCSV, Partner: "acme", ExternalID: "A-1", Document: "csv"},
		OrderNumber: "A-1",
		ShipTo:      canonical.Address{Name: "Ann", Address1: "1 Main St", City: "Reno", Country: "US"},
		Shipping:    canonical.Shipping{ServiceLevel: canonical.ServiceTwoDay},
		Currency:    "USD",
		Lines: []canonical.Line{
			{LineNumber: "1", SKU: "S1", Quantity: 2, UOM: "EA", Description: "Tent", UnitPrice: canonical.Money{Amount: "10", Currency: "USD"}},
			{LineNumber: "2", SKU: "S2", Quantity: 0.5, UOM: "LB", UnitPrice: canonical.Money{Amount: "1.25", Currency: "USD"}},
		},
	}
	if !equalOrders(*a, want) {
		t.Errorf("got  %+v\nwant %+v", *a, want)
	}
	if bs[1].Order.Source.ExternalID != "shop-77" {
		t.Errorf("external_id: got %q", bs[1].Order.Source.ExternalID)
	}
}

func equalOrders(a, b canonical.Order) bool {
	return a.Source == b.Source && a.OrderNumber == b.OrderNumber && a.ShipTo == b.ShipTo &&
		a.Shipping == b.Shipping && a.Currency == b.Currency && slices.Equal(a.Lines, b.Lines)
}

func TestLongFieldsAndRows(t *testing.T) {
	long := strings.Repeat("x", MaxFieldBytes+1)
	huge := strings.Repeat("y", 60000)
	input := hdr + ",description\n" +
		"A,Ann,1 Main St,Reno,US,S1,1," + long + "\n" +
		"B,Bob,2 Main St,Reno,US,S1,1,\"" + strings.Repeat(huge+"\n", 20) + "\n" + // unclosed quote: > 1 MiB
		"C,Cy,3 Main St,Reno,US,S1,1,ok\n"
	bs, err := readAll(t, input, Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := flatten(bs)
	want := []result{
		{first: 2, last: 2, errors: []string{`line 2, column description: "` + strings.Repeat("x", 64) + `…" is longer than 65536 bytes`}},
		{first: 3, last: 20, errors: []string{"line 3: is longer than 1048576 bytes (an unclosed quote makes the lines after it part of the row); reading resumes at line 21"}},
		// The rest of the swallowed lines are rows of their own.
		{first: 21, last: 22, errors: []string{
			"line 21: has 1 fields, the header has 8: look for a missing or extra comma, or quote a value that contains one",
			"line 22: has 1 fields, the header has 8: look for a missing or extra comma, or quote a value that contains one",
		}},
		{order: "C", first: 24, last: 24},
	}
	if !equalResults(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", show(got), show(want))
	}
}

// A line too long without any quote is cut where it passes the limit;
// reading resumes at the next line.
func TestLongLine(t *testing.T) {
	input := hdr + ",description\n" +
		"A,Ann,1 Main St,Reno,US,S1,1," + strings.Repeat("z", MaxRowBytes+100000) + "\n" +
		"B,Bob,2 Main St,Reno,US,S1,1,ok\n"
	bs, err := readAll(t, input, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := []result{
		{first: 2, last: 2, errors: []string{"line 2: is longer than 1048576 bytes (an unclosed quote makes the lines after it part of the row); reading resumes at line 3"}},
		{order: "B", first: 3, last: 3},
	}
	if got := flatten(bs); !equalResults(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", show(got), show(want))
	}
}

func TestMaxRows(t *testing.T) {
	input := hdr + "\n" +
		"A,Ann,1 Main St,Reno,US,S1,1\n" +
		"B,Bob,2 Main St,Reno,US,S1,1\n" +
		"B,Bob,2 Main St,Reno,US,S2,1\n" +
		"C,Cy,3 Main St,Reno,US,S1,1\n"
	for _, tt := range []struct {
		max    int
		orders []string
	}{
		{2, []string{"A"}},      // row 3 is B's second: B is incomplete
		{3, []string{"A", "B"}}, // row 4 starts C: B is complete
		{4, []string{"A", "B", "C"}},
	} {
		bs, err := readAll(t, input, Config{MaxRows: tt.max})
		var got []string
		for _, b := range bs {
			got = append(got, b.Order.OrderNumber)
		}
		if !slices.Equal(got, tt.orders) {
			t.Errorf("MaxRows %d: got orders %v, want %v", tt.max, got, tt.orders)
		}
		if (tt.max < 4) != errors.Is(err, ErrTooManyRows) {
			t.Errorf("MaxRows %d: error %v", tt.max, err)
		}
	}
}

func TestHeader(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"empty file", "", "csv header: the file is empty; its first row must name the columns, e.g. order_number,ship_to_name,…"},
		{"missing", "order_number,sku\n", "csv header (line 1): missing required column(s) ship_to_name, ship_to_address1, ship_to_city, ship_to_country, quantity"},
		{"unknown and duplicate", hdr + ",qty,ship_to_adress2,SKU\n", `csv header (line 1): unknown column(s) "qty", "ship_to_adress2" (did you mean ship_to_address2?); the columns are ` +
			strings.Join(names(), ", ") + "; column(s) named more than once: sku"},
		{"bad quote", "order_number,\"sku\n", `csv header (line 1): has a quoted value that is not closed properly (line 1, byte 19): end it with " before the next comma, and double any quote inside it ("")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.input), Config{Partner: "p"})
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
	var he *HeaderError
	_, err := NewReader(strings.NewReader("order_number,sku\n"), Config{Partner: "p"})
	if !errors.As(err, &he) || len(he.Missing) != 5 {
		t.Errorf("want a *HeaderError, got %v", err)
	}
	if _, err := NewReader(strings.NewReader(" Order_Number ,SHIP_TO_NAME,ship_to_address1,ship_to_city,ship_to_country,Sku,Quantity\n"), Config{Partner: "p"}); err != nil {
		t.Errorf("names are case-insensitive and trimmed: %v", err)
	}
}

func names() []string {
	var out []string
	for _, c := range Columns() {
		out = append(out, c.Name)
	}
	return out
}

func TestConfig(t *testing.T) {
	_, err := NewReader(strings.NewReader(hdr), Config{MaxRows: -1})
	if err == nil || !strings.Contains(err.Error(), "Config.Partner is required") || !strings.Contains(err.Error(), "Config.MaxRows is -1") {
		t.Errorf("got %v", err)
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	r, err := NewReader(io.MultiReader(strings.NewReader(hdr+"\nA,Ann,1 Main St,Reno,US,S1,1\nB,Bob,"), errReader{boom}), Config{Partner: "p"})
	if err != nil {
		t.Fatal(err)
	}
	// A may have had more rows: it is not returned.
	if b, err := r.Next(); !errors.Is(err, boom) || b != nil {
		t.Errorf("got %+v, %v; want the read error", b, err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("the error is not sticky: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestRowErrorString(t *testing.T) {
	for _, tt := range []struct {
		e    RowError
		want string
	}{
		{RowError{Line: 14, Column: "quantity", Value: "4x", Reason: "is not a number"}, `line 14, column quantity: "4x" is not a number`},
		{RowError{Line: 3, Column: "sku", Reason: "is required"}, "line 3, column sku: is required"},
		{RowError{Line: 7, Reason: "has 3 fields, the header has 7"}, "line 7: has 3 fields, the header has 7"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

// The sample file the demo imports must be entirely valid.
func TestSampleOrders(t *testing.T) {
	data, err := os.ReadFile("testdata/sample-orders.csv")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := readAll(t, string(data), Config{Partner: "demo-csv"})
	if err != nil {
		t.Fatal(err)
	}
	countries := map[string]bool{}
	multi := 0
	for _, b := range bs {
		if b.Order == nil {
			t.Errorf("lines %d-%d: %v", b.FirstLine, b.LastLine, b.Errors)
			continue
		}
		countries[b.Order.ShipTo.Country] = true
		if len(b.Order.Lines) > 1 {
			multi++
		}
	}
	if len(bs) != 6 || !countries["US"] || !countries["CA"] || !countries["GB"] || multi < 3 {
		t.Errorf("want 6 orders to US, CA and GB, several multi-line: got %d orders, countries %v, %d multi-line", len(bs), countries, multi)
	}
}

// The README's column table and the package documentation list every
// column, and the README says which are required.
func TestDocsListColumns(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Columns() {
		need := "optional"
		if c.Required {
			need = "**required**"
		}
		if row := "| `" + c.Name + "` | " + need + " |"; !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no row %q", row)
		}
		if !strings.Contains(string(doc), "//\t"+c.Name+" ") {
			t.Errorf("doc.go does not list %s", c.Name)
		}
	}
}
