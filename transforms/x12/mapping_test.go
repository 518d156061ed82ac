package x12_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
	"github.com/paklog/integration-hub/transforms/x12"
)

func translate850(t *testing.T, body string, opts x12.Options) (canonical.Order, error) {
	t.Helper()
	ts := buildSet(t, "850", body)
	return x12.OrderFrom850(ts, x12.EnvelopeOf("acme", ts), opts)
}

func translate940(t *testing.T, body string, opts x12.Options) (canonical.Order, error) {
	t.Helper()
	ts := buildSet(t, "940", body)
	return x12.OrderFrom940(ts, x12.EnvelopeOf("acme", ts), opts)
}

func TestIdentifierPrecedence(t *testing.T) {
	type ids struct{ sku, vendor, buyer, upc, gtin string }
	tests := []struct {
		name string
		set  string // "850" or "940"
		line string
		opts x12.Options
		want ids
	}{
		{"vendor part first", "850", "PO1*1*2*EA*1.50**UP*012345678905*BP*B-1*SK*S-1*VP*V-1",
			x12.Options{}, ids{"V-1", "V-1", "B-1", "012345678905", ""}},
		{"SKU over buyer part", "850", "PO1*1*2*EA***IN*B-2*SK*S-2*UK*10012345678902",
			x12.Options{}, ids{"S-2", "", "B-2", "", "10012345678902"}},
		{"buyer part over UPC", "850", "PO1*1*2*EA***UP*012345678905*BP*B-3",
			x12.Options{}, ids{"B-3", "", "B-3", "012345678905", ""}},
		{"UPC last", "850", "PO1*1*2*EA***UP*012345678905",
			x12.Options{}, ids{"012345678905", "", "", "012345678905", ""}},
		{"partner precedence", "850", "PO1*1*2*EA***VN*V-5*BP*B-5*UP*012345678905",
			x12.Options{SKUPrecedence: []string{"up", "BP"}}, ids{"012345678905", "V-5", "B-5", "012345678905", ""}},
		{"buyer items omitted", "850", "PO1*1*2*EA***BP*B-6",
			x12.Options{OmitBuyerItems: true}, ids{"B-6", "", "", "", ""}},
		{"first of a repeated qualifier", "850", "PO1*1*2*EA***VN*V-7*VN*V-8",
			x12.Options{}, ids{"V-7", "V-7", "", "", ""}},
		{"940 pairs and case code", "940", "W01*2*CA*000100011110*VN*V-9*BP*B-9",
			x12.Options{}, ids{"V-9", "V-9", "B-9", "000100011110", ""}},
		{"940 case code alone", "940", "W01*2*CA*000100011110",
			x12.Options{}, ids{"000100011110", "", "", "000100011110", ""}},
		{"940 W0115 pair", "940", "W01*2*CA*************SK*S-10",
			x12.Options{}, ids{"S-10", "", "", "", ""}},
		{"940 W0115 pair placed", "940", "W01*2*CA**UP*012345678905**********SK*S-11",
			x12.Options{}, ids{"S-11", "", "", "012345678905", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o canonical.Order
			var err error
			if tc.set == "850" {
				o, err = translate850(t, minimal850+"\n"+tc.line, tc.opts)
			} else {
				o, err = translate940(t, minimal940+"\nLX*1\n"+tc.line, tc.opts)
			}
			if tc.want.sku == "" {
				if !errors.Is(err, x12.ErrNoItemID) {
					t.Fatalf("err = %v, want ErrNoItemID", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			l := o.Lines[0]
			got := ids{l.SKU, l.VendorItem, l.BuyerItem, l.UPC, l.GTIN}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestServiceLevel(t *testing.T) {
	tests := []struct {
		name    string
		set     string
		seg     string
		opts    x12.Options
		want    canonical.Shipping
		wantAtt map[string]string
	}{
		{"TD512 service code", "850", "TD5**2*UPSN*U*UPS NEXT DAY*******CG",
			x12.Options{}, canonical.Shipping{ServiceLevel: "ground", Carrier: "UPS", SCAC: "UPSN", Method: "UPS NEXT DAY"}, nil},
		{"routing text, case and spaces", "850", "TD5**2*FDEG**fedex   ground",
			x12.Options{}, canonical.Shipping{ServiceLevel: "ground", Carrier: "FEDEX", SCAC: "FDEG", Method: "fedex   ground"}, nil},
		{"transport method", "850", "TD5****H*WILL CALL DOCK 4",
			x12.Options{}, canonical.Shipping{ServiceLevel: "pickup", Method: "WILL CALL DOCK 4"}, map[string]string{"transport_method": "H"}},
		{"unknown text is not a level", "850", "TD5**2*ABFS*M*BEST WAY",
			x12.Options{}, canonical.Shipping{SCAC: "ABFS", Method: "BEST WAY"}, nil},
		{"buyer-assigned carrier code is not a SCAC", "850", "TD5*A*92*P3**SEE ROUTING GUIDE",
			x12.Options{}, canonical.Shipping{Method: "SEE ROUTING GUIDE"}, map[string]string{"carrier_id": "92:P3"}},
		{"partner maps and carriers", "850", "TD5**2*ZZZZ**PRIORITY RUSH",
			x12.Options{ServiceLevels: x12.ServiceLevelRules{Routing: map[string]canonical.ServiceLevel{"priority rush": "same_day"}},
				Carriers: map[string]string{"zzzz": "ZIPPY"}},
			canonical.Shipping{ServiceLevel: "same_day", Carrier: "ZIPPY", SCAC: "ZZZZ", Method: "PRIORITY RUSH"}, nil},
		{"partner overrides a default", "850", "TD5************ND",
			x12.Options{ServiceLevels: x12.ServiceLevelRules{ServiceCodes: map[string]canonical.ServiceLevel{"ND": "two_day"}}},
			canonical.Shipping{ServiceLevel: "two_day", Method: "ND"}, nil},
		{"W66 routing and SCAC", "940", "W66*PP*U***FEDEX 2DAY*****FDEN",
			x12.Options{}, canonical.Shipping{ServiceLevel: "two_day", Carrier: "FEDEX", SCAC: "FDEN", Method: "FEDEX 2DAY"},
			map[string]string{"freight_payment": "PP", "transport_method": "U"}},
		{"W66 payment is not a level", "940", "W66*CC*LT",
			x12.Options{}, canonical.Shipping{ServiceLevel: "freight"}, map[string]string{"freight_payment": "CC", "transport_method": "LT"}},
		{"first carrier segment wins", "850", "TD5**2*UPSN**UPS GROUND\nTD5**2*FDEG**FEDEX 2DAY",
			x12.Options{}, canonical.Shipping{ServiceLevel: "ground", Carrier: "UPS", SCAC: "UPSN", Method: "UPS GROUND"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o canonical.Order
			var err error
			if tc.set == "850" {
				o, err = translate850(t, minimal850+"\n"+tc.seg+"\nPO1*1*1*EA***VN*V-1", tc.opts)
			} else {
				o, err = translate940(t, minimal940+"\n"+tc.seg+"\nLX*1\nW01*1*EA**VN*V-1", tc.opts)
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Shipping != tc.want {
				t.Errorf("shipping = %+v, want %+v", o.Shipping, tc.want)
			}
			for k, v := range tc.wantAtt {
				if o.Attributes[k] != v {
					t.Errorf("attributes[%q] = %q, want %q", k, o.Attributes[k], v)
				}
			}
		})
	}
}

func TestDates(t *testing.T) {
	tests := []struct {
		name               string
		set                string
		segs               string
		opts               x12.Options
		order, ship, deliv canonical.Date
	}{
		{"DTM 002 and 010", "850", "DTM*010*20240112\nDTM*002*20240115", x12.Options{}, "2024-01-10", "2024-01-12", "2024-01-15"},
		{"010 wins over an earlier 037", "850", "DTM*037*20240111\nDTM*010*20240112", x12.Options{}, "2024-01-10", "2024-01-12", ""},
		{"037 when no 010", "850", "DTM*037*20240111\nDTM*038*20240120", x12.Options{}, "2024-01-10", "2024-01-11", ""},
		{"038 alone is not a requested date", "850", "DTM*038*20240120", x12.Options{}, "2024-01-10", "", ""},
		{"DTM05 D8 period", "850", "DTM*002****D8*20240116", x12.Options{}, "2024-01-10", "", "2024-01-16"},
		{"partner qualifiers", "850", "DTM*038*20240120\nDTM*002*20240125", x12.Options{ShipDateQualifiers: []string{"038"}, DeliveryDateQualifiers: []string{"068"}}, "2024-01-10", "2024-01-20", ""},
		{"G62 10, 02 and 04", "940", "G62*04*20240109\nG62*02*20240117\nG62*10*20240113", x12.Options{}, "2024-01-09", "2024-01-13", "2024-01-17"},
		{"G62 11 is not a request", "940", "G62*11*20240113", x12.Options{}, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o canonical.Order
			var err error
			if tc.set == "850" {
				o, err = translate850(t, minimal850+"\n"+tc.segs+"\nPO1*1*1*EA***VN*V-1", tc.opts)
			} else {
				o, err = translate940(t, minimal940+"\n"+tc.segs+"\nLX*1\nW01*1*EA**VN*V-1", tc.opts)
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.OrderDate != tc.order || o.Shipping.RequestedShipDate != tc.ship || o.Shipping.RequestedDeliveryDate != tc.deliv {
				t.Errorf("order %q ship %q delivery %q, want %q %q %q", o.OrderDate, o.Shipping.RequestedShipDate, o.Shipping.RequestedDeliveryDate, tc.order, tc.ship, tc.deliv)
			}
		})
	}
	t.Run("YYMMDD", func(t *testing.T) {
		o, err := translate850(t, strings.Replace(minimal850, "20240110", "991231", 1)+"\nDTM*002*240105\nPO1*1*1*EA***VN*V-1", x12.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if o.OrderDate != "1999-12-31" || o.Shipping.RequestedDeliveryDate != "2024-01-05" {
			t.Errorf("order %q delivery %q", o.OrderDate, o.Shipping.RequestedDeliveryDate)
		}
	})
	t.Run("other qualifiers kept", func(t *testing.T) {
		o, err := translate850(t, minimal850+"\nDTM*001*20240201\nPO1*1*1*EA***VN*V-1", x12.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if o.Attributes["dtm_001"] != "2024-02-01" {
			t.Errorf("attributes = %v", o.Attributes)
		}
	})
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		set  string
		body string
		opts x12.Options
		want []string
		is   error
	}{
		{"quantity not a number", "850", minimal850 + "\nPO1*1*x*EA***VN*V-1", x12.Options{},
			[]string{`line 8, PO1 (segment 6 of set 0001): PO102 quantity "x" is not a number`}, x12.ErrNotNumber},
		{"quantity zero", "850", minimal850 + "\nPO1*1*0*EA***VN*V-1", x12.Options{},
			[]string{`line 8, PO1 (segment 6 of set 0001): PO102 quantity "0" is not more than zero`}, x12.ErrQuantity},
		{"quantity missing", "940", minimal940 + "\nLX*1\nW01**EA**VN*V-1", x12.Options{},
			[]string{`line 9, W01 (segment 7 of set 0001): W0101 quantity is missing`}, x12.ErrMissingElement},
		{"quantity in exponent form", "940", minimal940 + "\nLX*1\nW01*1E3*EA**VN*V-1", x12.Options{},
			[]string{`line 9, W01 (segment 7 of set 0001): W0101 quantity "1E3" is not a number`}, x12.ErrNotNumber},
		{"unit price", "850", minimal850 + "\nPO1*1*1*EA*1,50*PE*VN*V-1", x12.Options{},
			[]string{`line 8, PO1 (segment 6 of set 0001): PO104 unit price "1,50" is not a number`}, x12.ErrNotNumber},
		{"no item id", "850", minimal850 + "\nPO1*7*1*EA***ZZ*X-1", x12.Options{},
			[]string{`line 8, PO1 (segment 6 of set 0001): line 7 has no product ID to use as SKU: the partner's precedence is VP > VN > VC > SK > BP > IN > CB > UP > UK > UA > EN, the line has ZZ (PO106-PO125)`}, x12.ErrNoItemID},
		{"no ship-to", "850", "BEG*00*SA*PO-1**20240110\nN1*BT*ACME\nPO1*1*1*EA***VN*V-1", x12.Options{},
			[]string{`line 4, BEG (segment 2 of set 0001): purchase order "PO-1" has no ship-to: no N1 loop with N101 "ST"`}, x12.ErrNoShipTo},
		{"partner ship-to code", "850", minimal850 + "\nPO1*1*1*EA***VN*V-1", x12.Options{ShipToEntity: "Z7"},
			[]string{`line 4, BEG (segment 2 of set 0001): purchase order "PO-1" has no ship-to: no N1 loop with N101 "Z7"`}, x12.ErrNoShipTo},
		{"no lines", "940", minimal940, x12.Options{},
			[]string{`line 4, W05 (segment 2 of set 0001): shipping order "SO-1" has no lines: no W01 segment`}, x12.ErrNoLines},
		{"no BEG", "850", "N1*ST*A\nN3*B\nN4*C\nPO1*1*1*EA***VN*V-1", x12.Options{},
			[]string{`line 3, ST (segment 1 of set 0001): purchase order has no BEG segment`}, x12.ErrMissingSegment},
		{"no PO number", "850", strings.Replace(minimal850, "PO-1", "", 1) + "\nPO1*1*1*EA***VN*V-1", x12.Options{},
			[]string{`line 4, BEG (segment 2 of set 0001): BEG03 purchase order number is missing`}, x12.ErrMissingElement},
		{"bad order date", "850", strings.Replace(minimal850, "20240110", "20241310", 1) + "\nPO1*1*1*EA***VN*V-1", x12.Options{},
			[]string{`line 4, BEG (segment 2 of set 0001): BEG05 purchase order date "20241310" is not a date (CCYYMMDD)`}, x12.ErrDate},
		{"bad G62 date", "940", minimal940 + "\nG62*10*2024011\nLX*1\nW01*1*EA**VN*V-1", x12.Options{},
			[]string{`line 8, G62 (segment 6 of set 0001): G6202 date (qualifier "10") "2024011" is not a date (CCYYMMDD)`}, x12.ErrDate},
		{"cancellation", "850", strings.Replace(minimal850, "BEG*00", "BEG*01", 1) + "\nPO1*1*1*EA***VN*V-1", x12.Options{},
			[]string{`line 4, BEG (segment 2 of set 0001): BEG01 purpose "01" is not an original order (accepted: 00): changes and cancellations are not translated to new orders`}, x12.ErrPurpose},
		{"940 cancel status", "940", strings.Replace(minimal940, "W05*N", "W05*F", 1) + "\nLX*1\nW01*1*EA**VN*V-1", x12.Options{},
			[]string{`line 4, W05 (segment 2 of set 0001): W0501 order status "F" is not an original order (accepted: N): changes and cancellations are not translated to new orders`}, x12.ErrPurpose},
		{"bad currency", "850", minimal850 + "\nCUR*BY*US\nPO1*1*1*EA*2**VN*V-1", x12.Options{},
			[]string{`line 8, CUR (segment 6 of set 0001): CUR02 currency "US" is not an ISO 4217 code (3 letters)`}, x12.ErrCode},
		{"line ship-to", "850", minimal850 + "\nPO1*1*1*EA***VN*V-1\nN1*ST*OTHER STORE\nN3*1 MAIN ST\nN4*X", x12.Options{},
			[]string{`line 9, N1 (segment 7 of set 0001): N101 line 1 has its own ship-to (N101 "ST" in the PO1 loop): one order has one ship-to; split the order per destination`}, x12.ErrUnsupported},
		{"SDQ", "850", minimal850 + "\nPO1*1*4*EA***VN*V-1\nSDQ*EA*92*0001*2*0002*2", x12.Options{},
			[]string{`line 9, SDQ (segment 7 of set 0001): destination quantities (SDQ) split a line over several ship-tos: one order has one ship-to; split the order per destination`}, x12.ErrUnsupported},
		{"two ship-tos", "850", minimal850 + "\nN1*ST*SECOND\nN3*2 MAIN ST\nN4*Y\nPO1*1*1*EA***VN*V-1", x12.Options{},
			[]string{`line 8, N1 (segment 6 of set 0001): N101 a second ship-to (N101 "ST"): one order has one ship-to; the first, line 5, is used`}, x12.ErrUnsupported},
		{"wrong set", "810", "BIG*20240101*1", x12.Options{},
			[]string{`line 3, ST (segment 1 of set 0001): ST01 transaction set "810" cannot be translated as a 850`}, x12.ErrWrongSet},
		{"canonical: country located at N404", "850", strings.Replace(minimal850, "*US", "*U5", 1) + "\nPO1*1*1*EA***VN*V-1", x12.Options{},
			[]string{`line 7, N4 (segment 5 of set 0001): N404 ship_to.country: must match ^[A-Z]{2}$ (ISO 3166-1 alpha-2), got "U5"`}, x12.ErrInvalidOrder},
		{"canonical: no street at the ship-to N1", "850", "BEG*00*SA*PO-1**20240110\nN1*ST*DANA\nN4*SF*CA\nPO1*1*1*EA***VN*V-1", x12.Options{},
			[]string{`line 5, N1 (segment 3 of set 0001): ship_to.address1: is required`}, x12.ErrInvalidOrder},
		{"every problem at once", "850", "BEG*05*SA*PO-1**2024\nPO1*1*x*EA***ZZ*1\nPO1*2*-1*EA***VN*V-2", x12.Options{},
			[]string{
				`line 4, BEG (segment 2 of set 0001): BEG01 purpose "05" is not an original order (accepted: 00): changes and cancellations are not translated to new orders`,
				`line 4, BEG (segment 2 of set 0001): BEG05 purchase order date "2024" is not a date (CCYYMMDD)`,
				`line 5, PO1 (segment 3 of set 0001): PO102 quantity "x" is not a number`,
				`line 5, PO1 (segment 3 of set 0001): line 1 has no product ID to use as SKU: the partner's precedence is VP > VN > VC > SK > BP > IN > CB > UP > UK > UA > EN, the line has ZZ (PO106-PO125)`,
				`line 6, PO1 (segment 4 of set 0001): PO102 quantity "-1" is not more than zero`,
				`line 4, BEG (segment 2 of set 0001): purchase order "PO-1" has no ship-to: no N1 loop with N101 "ST"`,
			}, x12.ErrNoShipTo},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := buildSet(t, tc.set, tc.body)
			var o canonical.Order
			var err error
			if tc.set == "940" {
				o, err = x12.OrderFrom940(ts, x12.EnvelopeOf("acme", ts), tc.opts)
			} else {
				o, err = x12.OrderFrom850(ts, x12.EnvelopeOf("acme", ts), tc.opts)
			}
			if got := errorStrings(err); !slices.Equal(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(err, %v) = false", tc.is)
			}
			if o.Source.ExternalID != "" || len(o.Lines) != 0 {
				t.Errorf("an order came back with the error: %+v", o)
			}
		})
	}
}

// TestErrorPosition checks the fields of a MappingError, not just its text.
func TestErrorPosition(t *testing.T) {
	_, err := translate850(t, minimal850+"\nPO1*1*2*EA***VN*V-1\nPID*F****WIDGET\nPO1*0020*x*EA***VN*V-2", x12.Options{})
	var me *x12.MappingError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want a *MappingError", err)
	}
	want := x12.MappingError{Line: 10, SegmentID: "PO1", Position: 8, SetControlNumber: "0001", Element: 2,
		OrderLine: "0020", Field: "lines[1].quantity", Value: "x", Detail: `quantity "x" is not a number`, Err: x12.ErrNotNumber}
	got := *me
	got.Offset = 0
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestOrderFields(t *testing.T) {
	body := `BEG*00*SA*PO-77*R2*20240110*C-9
CUR*BY*cad
REF*DP*038
REF*IA**VENDOR 12
PER*BD*PAT BUYER*TE*555-0100*EM*pat@example.com
N9*L1
MSG*GIFT WRAP
NTE*GEN*LEAVE AT DOOR
N1*BY*ACME STORES*92*0042
N1*ST*STORE 12*92*0012
N2*RECEIVING*DOCK B
N3*1 MAIN ST*SUITE 4
N3*BUILDING 7
N4*TORONTO*on*M5V 1A1*CAN
PER*IC*JO SMITH*TE*555-0199*EM*jo@example.com
N1*BT*ACME AP
N3*PO BOX 1
N4*TORONTO*ON*M5V 1A2*CA
PO1*0010*3*CA*12.*PE*VP*V-1*UP*012345678905*BP*B-1
PID*F****BLUE
PID*F****WIDGET
MSG*FRAGILE
PO1*0020*1.5*LB*.75**SK*S-2
CTT*2`
	o, err := translate850(t, body, x12.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantShipTo := canonical.Address{Name: "STORE 12", Company: "RECEIVING DOCK B", Address1: "1 MAIN ST", Address2: "SUITE 4, BUILDING 7",
		City: "TORONTO", Region: "ON", PostalCode: "M5V 1A1", Country: "CA", Phone: "555-0199", Email: "jo@example.com"}
	if o.ShipTo != wantShipTo {
		t.Errorf("ship_to = %+v\nwant      %+v", o.ShipTo, wantShipTo)
	}
	if o.BillTo.Name != "ACME AP" || o.BillTo.Country != "CA" {
		t.Errorf("bill_to = %+v", o.BillTo)
	}
	if o.Customer != (canonical.Customer{Name: "ACME STORES", Phone: "555-0100", Email: "pat@example.com"}) {
		t.Errorf("customer = %+v", o.Customer)
	}
	if o.Currency != "CAD" || o.Lines[0].UnitPrice != (canonical.Money{Amount: "12", Currency: "CAD"}) || o.Lines[1].UnitPrice.Amount != "0.75" {
		t.Errorf("currency %q, prices %+v %+v", o.Currency, o.Lines[0].UnitPrice, o.Lines[1].UnitPrice)
	}
	if l := o.Lines[0]; l.LineNumber != "0010" || l.Description != "BLUE WIDGET" || l.Quantity != 3 || l.UOM != "CA" {
		t.Errorf("line 1 = %+v", l)
	}
	if l := o.Lines[1]; l.Quantity != 1.5 || l.UOM != "LB" || l.SKU != "S-2" {
		t.Errorf("line 2 = %+v", l)
	}
	if o.Notes != "GIFT WRAP\nLEAVE AT DOOR\nline 0010: FRAGILE" {
		t.Errorf("notes = %q", o.Notes)
	}
	for k, v := range map[string]string{"ref_dp": "038", "ref_ia": "VENDOR 12", "release_number": "R2", "contract_number": "C-9",
		"party_by_id": "0042", "party_st_id": "0012", "ship_to_contact": "JO SMITH", "buyer_contact": "PAT BUYER",
		"x12_sender_id": "ZZ:SENDER", "x12_receiver_id": "ZZ:PAKLOG", "x12_isa13": "000000101", "x12_gs06": "7", "x12_st02": "0001"} {
		if o.Attributes[k] != v {
			t.Errorf("attributes[%q] = %q, want %q", k, o.Attributes[k], v)
		}
	}
	if o.Source != (canonical.Source{Channel: "edi", Partner: "acme", ExternalID: "PO-77", Document: "850"}) {
		t.Errorf("source = %+v", o.Source)
	}
}

func TestLineNumbers940(t *testing.T) {
	o, err := translate940(t, minimal940+"\nLX*5\nW01*1*EA**VN*A\nW01*1*EA**VN*B\nW01*1*EA**VN*C", x12.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range o.Lines {
		got = append(got, l.LineNumber)
	}
	if want := []string{"5", "5-2", "5-3"}; !slices.Equal(got, want) {
		t.Errorf("line numbers %v, want %v", got, want)
	}
	o, err = translate940(t, minimal940+"\nW01*1*EA**VN*A\nW01*1*EA**VN*B", x12.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Lines[0].LineNumber != "1" || o.Lines[1].LineNumber != "2" {
		t.Errorf("without LX: %q %q", o.Lines[0].LineNumber, o.Lines[1].LineNumber)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (x12.Options{}).Validate(); err != nil {
		t.Errorf("zero Options: %v", err)
	}
	if err := x12.DefaultOptions().Validate(); err != nil {
		t.Errorf("DefaultOptions: %v", err)
	}
	bad := x12.Options{
		SKUPrecedence:   []string{"VN", "VENDOR"},
		DefaultCurrency: "dollars",
		DefaultCountry:  "USA",
		ServiceLevels:   x12.ServiceLevelRules{Routing: map[string]canonical.ServiceLevel{"FAST": "overnight"}},
	}
	err := bad.Validate()
	want := []string{
		`sku_precedence[1]: "VENDOR" is not an X12 code (1 to 3 letters and digits)`,
		`default_currency: "DOLLARS" is not an ISO 4217 code (3 letters)`,
		`default_country: "USA" is not an ISO 3166-1 alpha-2 code (2 letters)`,
		`service_levels.routing["FAST"]: "overnight" is not a service level (ground, economy, two_day, next_day, same_day, freight, pickup or empty)`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("Validate:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// TestEnvelopeOf checks that the decoder's envelopes fill the Envelope.
func TestEnvelopeOf(t *testing.T) {
	ts := buildSet(t, "850", minimal850)
	got := x12.EnvelopeOf("acme", ts)
	want := x12.Envelope{Partner: "acme", SenderQualifier: "ZZ", SenderID: "SENDER", ReceiverQualifier: "ZZ", ReceiverID: "PAKLOG",
		InterchangeControlNumber: "000000101", GroupControlNumber: "7", SetControlNumber: "0001"}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if got := x12.EnvelopeOf("acme", &edi.TransactionSet{ControlNumber: "9"}); got != (x12.Envelope{Partner: "acme", SetControlNumber: "9"}) {
		t.Errorf("set without group: %+v", got)
	}
}
