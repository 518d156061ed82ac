package x12

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// stdSetProblems decodes one set (ST, segs, SE with SE01 computed) in a
// group of version (GS08) with the standard specifications and returns its
// problems as "<code> <segment>", e.g. "AK304 3 W03".
func stdSetProblems(t *testing.T, version, setID string, segs ...string) []string {
	t.Helper()
	body := append([]string{"ST*" + setID + "*0001"}, segs...)
	body = append(body, "SE*"+itoa(len(body)+1)+"*0001")
	in := lines(append(append([]string{"GS*XX*S*R*20240115*0930*1*X*" + version}, body...), "GE*1*1", "IEA*1*000000001")...)
	d := NewDecoder(strings.NewReader(in), WithSpecs(StandardSpecs()))
	var out []string
	for {
		ev, err := d.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == SetEnd {
			for _, e := range ev.Set.Errors {
				var ve *ValidationError
				if !errors.As(e, &ve) {
					t.Fatalf("%T %v", e, e)
				}
				out = append(out, ve.Code.String()+" "+ve.SegmentID)
			}
		}
	}
}

func TestStandardSpecsWarehouseAndOrderSets(t *testing.T) {
	s := StandardSpecs()
	for _, c := range []struct{ version, id, name string }{
		{"004010", "810", "Invoice"},
		{"004010", "846", "Inventory Inquiry/Advice"},
		{"004010", "855", "Purchase Order Acknowledgment"},
		{"004010", "943", "Warehouse Stock Transfer Shipment Advice"},
		{"004010", "944", "Warehouse Stock Transfer Receipt Advice"},
		{"004010", "945", "Warehouse Shipping Advice"},
		{"005010", "850", "Purchase Order"},
		{"005010", "855", "Purchase Order Acknowledgment"},
		{"005010", "856", "Ship Notice/Manifest"},
		{"005010", "940", "Warehouse Shipping Order"},
		{"005010", "945", "Warehouse Shipping Advice"},
	} {
		if spec := s.Set(c.version, c.id); spec == nil || spec.Name != c.name {
			t.Errorf("Set(%s, %s) = %+v", c.version, c.id, spec)
		}
	}
	// 005010 changes: REF02 is 50 long, N4 has N407.
	if seg := s.Segment("005010", "REF"); seg == nil || seg.Elements[1].Max != 50 {
		t.Errorf("005010 REF: %+v", seg)
	}
	if seg := s.Segment("004010", "REF"); seg == nil || seg.Elements[1].Max != 30 {
		t.Errorf("004010 REF: %+v", seg)
	}
	if seg := s.Segment("005010", "N4"); seg == nil || len(seg.Elements) != 7 {
		t.Errorf("005010 N4: %+v", seg)
	}
}

func TestStandardSetRejections(t *testing.T) {
	long := strings.Repeat("X", 23)
	tests := []struct {
		name, version, set string
		segs               []string
		want               []string // nil: valid
	}{
		// 855
		{"855 valid", "004010", "855", []string{"BAK*00*AC*PO1*20240115", "PO1*1*2*EA*1.5**VP*A", "ACK*IQ*1*EA*068*20240120", "SCH*1*EA*WH*MO*002*20240120", "CTT*1"}, nil},
		{"855 no BAK", "004010", "855", []string{"CUR*BT*USD", "CTT*0"}, []string{"AK304 3 BAK"}},
		{"855 bad BAK02", "004010", "855", []string{"BAK*00*XX*PO1*20240115"}, []string{"AK403 7 BAK"}},
		{"855 PO number too long", "004010", "855", []string{"BAK*00*AD*" + long + "*20240115"}, []string{"AK403 5 BAK"}},
		{"855 ACK before PO1", "004010", "855", []string{"BAK*00*AD*PO1*20240115", "ACK*IA*1*EA"}, []string{"AK304 7 ACK"}},
		{"855 ACK quantity without unit", "004010", "855", []string{"BAK*00*AD*PO1*20240115", "PO1*1*2*EA", "ACK*IA*2"}, []string{"AK403 2 ACK"}},
		// 945
		{"945 valid", "004010", "945", []string{"W06*F*ORD1*20240115*SHP1", "N1*ST*STORE*92*12", "G62*11*20240115", "W27*U*UPSN", "LX*1", "W12*CC*2*2*0*EA**VN*A", "N9*LT*L1", "W03*2"}, nil},
		{"945 no W27", "004010", "945", []string{"W06*F*ORD1*20240115*SHP1", "LX*1", "W12*CC*2*2*0*EA", "W03*2"}, []string{"AK304 3 W27"}},
		{"945 no W03", "004010", "945", []string{"W06*F*ORD1*20240115*SHP1", "W27*U*UPSN", "LX*1", "W12*CC*2"}, []string{"AK304 3 W03"}},
		{"945 order number too long", "004010", "945", []string{"W06*F*" + long, "W27*U", "W03*2"}, []string{"AK403 5 W06"}},
		{"945 weight without unit", "004010", "945", []string{"W06*F*ORD1", "W27*U", "W03*2*15.5"}, []string{"AK403 2 W03"}},
		{"945 005010 valid", "005010", "945", []string{"W06*N*ORD1*20240119*SHIP1", "W27*M*UPSN", "LX*1", "W12*CC*24*24**EA**VN*A", "W03*24*36.5*LB"}, nil},
		{"945 005010 no W06", "005010", "945", []string{"W27*M*UPSN", "W03*24"}, []string{"AK304 3 W06"}},
		// 846
		{"846 valid", "004010", "846", []string{"BIA*00*DD*1*20240115*0600", "LIN*1*SK*A", "PID*F****TENT", "QTY*33*-2*EA", "SDQ*EA*92*1*5", "N1*WH**ZZ*RNO1", "CTT*1"}, nil},
		{"846 no BIA", "004010", "846", []string{"LIN*1*SK*A", "QTY*33*1"}, []string{"AK304 3 BIA"}},
		{"846 bad PID01", "004010", "846", []string{"BIA*00*DD*1*20240115", "LIN*1*SK*A", "PID*Z****TENT"}, []string{"AK403 7 PID"}},
		{"846 quantity too long", "004010", "846", []string{"BIA*00*DD*1*20240115", "LIN*1*SK*A", "QTY*33*1234567890123456"}, []string{"AK403 5 QTY"}},
		{"846 QTY without quantity", "004010", "846", []string{"BIA*00*DD*1*20240115", "LIN*1*SK*A", "QTY*33"}, []string{"AK403 2 QTY"}},
		// 810
		{"810 no TDS", "004010", "810", []string{"BIG*20240115*INV1", "IT1**1*EA*2**UP*012345678905", "CTT*1"}, []string{"AK304 3 TDS"}},
		{"810 no BIG", "004010", "810", []string{"IT1**1*EA*2", "TDS*200"}, []string{"AK304 3 BIG"}},
		{"810 bad PID01", "004010", "810", []string{"BIG*20240115*INV1", "IT1**1*EA*2", "PID*Z****CHIPS", "TDS*200"}, []string{"AK403 7 PID"}},
		{"810 invoice number too long", "004010", "810", []string{"BIG*20240115*" + long, "TDS*200"}, []string{"AK403 5 BIG"}},
		{"810 TDS not numeric", "004010", "810", []string{"BIG*20240115*INV1", "TDS*2.00"}, []string{"AK403 6 TDS"}},
		// 943 and 944
		{"943 valid", "004010", "943", []string{"W06*N*ORD1*20240115*SHP1", "N1*WH*RENO*ZZ*RNO1", "W27*M*UPSN", "W04*10*EA**VN*A", "W03*10"}, nil},
		{"943 no W06", "004010", "943", []string{"W04*10*EA", "W03*10"}, []string{"AK304 3 W06"}},
		{"943 item without unit", "004010", "943", []string{"W06*N*ORD1", "W04*10"}, []string{"AK403 1 W04"}},
		{"944 valid", "004010", "944", []string{"W17*F*20240115*RCPT1", "N1*WH*RENO*ZZ*RNO1", "LX*1", "W07*10*EA", "W14*10"}, nil},
		{"944 no W17", "004010", "944", []string{"LX*1", "W07*10*EA", "W14*10"}, []string{"AK304 3 W17"}},
		{"944 bad date", "004010", "944", []string{"W17*F*20241315*RCPT1"}, []string{"AK403 8 W17"}},
		// 005010 850, 855, 856, 940
		{"850 005010 no PO1", "005010", "850", []string{"BEG*00*SA*PO1**20240115"}, []string{"AK304 3 PO1"}},
		{"850 005010 REF02 50 long", "005010", "850", []string{"BEG*00*SA*PO1**20240115", "REF*IA*" + strings.Repeat("R", 50), "PO1*1*1*EA"}, nil},
		{"850 005010 REF02 too long", "005010", "850", []string{"BEG*00*SA*PO1**20240115", "REF*IA*" + strings.Repeat("R", 51), "PO1*1*1*EA"}, []string{"AK403 5 REF"}},
		{"855 005010 bad BAK02", "005010", "855", []string{"BAK*00*ZZZ*PO1*20240115"}, []string{"AK403 7 BAK"}},
		{"856 005010 no HL", "005010", "856", []string{"BSN*00*S1*20240115*1200"}, []string{"AK304 3 HL"}},
		{"940 005010 N4 state and subdivision", "005010", "940", []string{"W05*N*ORD1", "N1*ST*STORE", "N4*TOWN*CA*90210*US***CA"}, []string{"AK403 10 N4"}},
		{"940 005010 no W05", "005010", "940", []string{"N1*ST*STORE"}, []string{"AK304 3 W05"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := stdSetProblems(t, tt.version, tt.set, tt.segs...)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
