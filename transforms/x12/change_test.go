package x12_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/transforms/x12"
)

// The golden files of the change and cancel translations live in their
// own folder: TestGolden owns testdata/*.golden.json.
const changeGoldenDir = "testdata/change"

func change860(t *testing.T, body string, opts x12.Options) (x12.OrderChange, error) {
	t.Helper()
	ts := buildSet(t, "860", body)
	return x12.ChangeFrom860(ts, x12.EnvelopeOf("acme", ts), opts)
}

func cancel940(t *testing.T, body string, opts x12.Options) (canonical.OrderCancel, error) {
	t.Helper()
	ts := buildSet(t, "940", body)
	return x12.CancelFrom940(ts, x12.EnvelopeOf("acme", ts), opts)
}

// checkGolden compares v as indented JSON with testdata/change/<name>.golden.json
// (rewritten with -update).
func checkChangeGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	file := filepath.Join(changeGoldenDir, name+".golden.json")
	if *update {
		if err := os.MkdirAll(changeGoldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	exp, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, exp) {
		t.Errorf("output differs from %s; run with -update and review the diff.\ngot:\n%s", file, got)
	}
}

// validCancel checks a cancel against paklog.order_cancel.v1 once the hub
// has filled order_id and received_at.
func validCancel(t *testing.T, c canonical.OrderCancel) {
	t.Helper()
	c.OrderID = canonical.NewOrderID()
	c.Source.ReceivedAt = placeholderTime
	if err := c.Validate(); err != nil {
		t.Errorf("cancel does not validate: %v", err)
	}
}

const header860 = "BCH*04*SA*PO-1**3*20240110*****20240112"

func TestChangeFrom860(t *testing.T) {
	tests := []struct {
		name string
		body string
		opts x12.Options
	}{
		{"860-cancel-whole-order", "BCH*01*SA*PO-1**2*20240110\nNTE*GEN*STORE CLOSED\nN1*ST*DANA\nPOC*1*DI*5*0*EA", x12.Options{}},
		{"860-line-changes", header860 + `
CUR*BY*CAD
REF*DP*042
DTM*004*20240111
MSG*PLEASE CONFIRM
POC*1*QI*12*12*CA***VP*V-1*UP*012345678905
POC*2*QD*3**EA
NTE*GEN*SHORT SEASON
POC*3*PC***EA*4.25**BP*B-3
POC*4*PQ*6*6*EA*.5**SK*S-4
POC*5*AI*2*2*EA*9.99**VN*V-5*UK*10012345678902
PID*F****BLUE WIDGET
POC*6*DI
POC*7*QD*0**EA
POC*8*CA*1**EA***IN*B-8
POC*9*NC*1**EA
CTT*9`, x12.Options{}},
		{"860-line-cancels", header860 + "\nPOC*2*DI*4**EA***VP*V-2\nPOC*3*QD*0**EA", x12.Options{}},
		{"860-partner-codes", header860 + "\nN1*ST*DANA\nN3*1 MAIN ST\nPOC*1*RZ*7**EA***VP*V-1",
			x12.Options{ChangeOptions: x12.ChangeOptions{ChangeTypes: map[string]x12.ChangeAction{"rz": "change", "NC": ""},
				ChangeIgnoredSegments: []string{"n1"}}}},
		{"860-partner-purpose", strings.Replace(header860, "BCH*04", "BCH*00", 1) + "\nPOC*1*QI*3**EA",
			x12.Options{ChangeOptions: x12.ChangeOptions{ChangePurposes: []string{"00", "04"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := change860(t, tc.body, tc.opts)
			if err != nil {
				t.Fatal(strings.Join(errorStrings(err), "\n"))
			}
			checkChangeGolden(t, tc.name, c)
			if c.Cancel != nil {
				validCancel(t, *c.Cancel)
				if len(c.Lines) != 0 {
					t.Errorf("a cancel with line changes: %+v", c.Lines)
				}
			}
		})
	}
}

func TestChangeFrom860Errors(t *testing.T) {
	tests := []struct {
		name string
		body string
		opts x12.Options
		want []string
		is   error
	}{
		{"unknown change code", header860 + "\nPOC*1*RS*2**EA", x12.Options{},
			[]string{`line 5, POC (segment 3 of set 0001): POC02 change type "RS" is not translated (accepted: AI, CA, DI, NC, PC, PQ, QD, QI)`}, x12.ErrChangeType},
		{"change code removed by the partner", header860 + "\nPOC*1*NC*2**EA",
			x12.Options{ChangeOptions: x12.ChangeOptions{ChangeTypes: map[string]x12.ChangeAction{"NC": ""}}},
			[]string{`line 5, POC (segment 3 of set 0001): POC02 change type "NC" is not translated (accepted: AI, CA, DI, PC, PQ, QD, QI)`}, x12.ErrChangeType},
		{"change code missing", header860 + "\nPOC*1**2**EA", x12.Options{},
			[]string{`line 5, POC (segment 3 of set 0001): POC02 change type is missing`}, x12.ErrMissingElement},
		{"missing BCH", "REF*DP*1\nPOC*1*QI*2**EA", x12.Options{},
			[]string{`line 3, ST (segment 1 of set 0001): purchase order change has no BCH segment`}, x12.ErrMissingSegment},
		{"PO number missing", "BCH*04*SA**\nPOC*1*QI*2**EA", x12.Options{},
			[]string{`line 4, BCH (segment 2 of set 0001): BCH03 purchase order number is missing`}, x12.ErrMissingElement},
		{"PO number missing in a cancellation", "BCH*01*SA", x12.Options{},
			[]string{`line 4, BCH (segment 2 of set 0001): BCH03 purchase order number is missing`}, x12.ErrMissingElement},
		{"POC without quantity", header860 + "\nPOC*1*QI***EA", x12.Options{},
			[]string{`line 5, POC (segment 3 of set 0001): POC03 quantity is missing: a quantity increase (QI) needs the new quantity ordered`}, x12.ErrMissingElement},
		{"added item without quantity", header860 + "\nPOC*9*AI****1.00**VP*V-9", x12.Options{},
			[]string{`line 5, POC (segment 3 of set 0001): POC03 quantity is missing: an add (AI) needs the new quantity ordered`}, x12.ErrMissingElement},
		{"quantity not a number", header860 + "\nPOC*1*QD*x**EA", x12.Options{},
			[]string{`line 5, POC (segment 3 of set 0001): POC03 quantity "x" is not a number`}, x12.ErrNotNumber},
		{"quantity increase to zero", header860 + "\nPOC*1*QI*0**EA", x12.Options{},
			[]string{`line 5, POC (segment 3 of set 0001): POC03 quantity "0" is not more than zero`}, x12.ErrQuantity},
		{"price change without price", header860 + "\nPOC*1*PC*2**EA", x12.Options{},
			[]string{`line 5, POC (segment 3 of set 0001): POC06 unit price is missing: a price change (PC) needs the new unit price`}, x12.ErrMissingElement},
		{"line number missing", header860 + "\nPOC**DI", x12.Options{},
			[]string{`line 5, POC (segment 3 of set 0001): POC01 line number is missing: a change names the purchase order line (PO101) it changes`}, x12.ErrMissingElement},
		{"added item without SKU", header860 + "\nPOC*9*AI*1**EA***ZZ*X", x12.Options{},
			[]string{`line 5, POC (segment 3 of set 0001): line 9 has no product ID to use as SKU: the partner's precedence is VP > VN > VC > SK > BP > IN > CB > UP > UK > UA > EN, the line has ZZ (POC08-POC27)`}, x12.ErrNoItemID},
		{"no POC", header860, x12.Options{},
			[]string{`line 4, BCH (segment 2 of set 0001): purchase order change "PO-1" has no line changes: no POC segment`}, x12.ErrNoLines},
		{"original purpose", "BCH*00*SA*PO-1\nPOC*1*QI*2**EA", x12.Options{},
			[]string{`line 4, BCH (segment 2 of set 0001): BCH01 purpose "00" is neither a change (accepted: 04) nor a cancellation (accepted: 01)`}, x12.ErrPurpose},
		{"replace purpose", "BCH*05*SA*PO-1\nPOC*1*QI*2**EA", x12.Options{},
			[]string{`line 4, BCH (segment 2 of set 0001): BCH01 purpose "05" is neither a change (accepted: 04) nor a cancellation (accepted: 01)`}, x12.ErrPurpose},
		{"ship-to change", header860 + "\nN1*ST*NEW STORE\nN3*2 MAIN ST\nN4*SF*CA*94102\nPOC*1*QI*2**EA", x12.Options{},
			[]string{`line 5, N1 (segment 3 of set 0001): N101 party changes (N101 "ST": ship-to, bill-to, buyer) are not translated: an order update carries line changes only`}, x12.ErrUnsupported},
		{"line ship-to", header860 + "\nPOC*1*QI*2**EA\nN1*ST*NEW STORE", x12.Options{},
			[]string{`line 6, N1 (segment 4 of set 0001): N101 line 1 has its own party (N101 "ST" in the POC loop): one order has one ship-to`}, x12.ErrUnsupported},
		{"carrier change", header860 + "\nTD5**2*UPSN\nPOC*1*QI*2**EA", x12.Options{},
			[]string{`line 5, TD5 (segment 3 of set 0001): carrier and routing changes (TD5) are not translated: an order update carries line changes only`}, x12.ErrUnsupported},
		{"requested date change", header860 + "\nDTM*002*20240201\nPOC*1*QI*2**EA", x12.Options{},
			[]string{`line 5, DTM (segment 3 of set 0001): DTM01 requested date changes (DTM01 "002") are not translated: an order update carries line changes only`}, x12.ErrUnsupported},
		{"SDQ", header860 + "\nPOC*1*QI*2**EA\nSDQ*EA*92*0001*2", x12.Options{},
			[]string{`line 6, SDQ (segment 4 of set 0001): destination quantities (SDQ) split a line over several ship-tos: one order has one ship-to`}, x12.ErrUnsupported},
		{"bad change date", "BCH*04*SA*PO-1**3*20240110*****2024011\nPOC*1*QI*2**EA", x12.Options{},
			[]string{`line 4, BCH (segment 2 of set 0001): BCH11 change date "2024011" is not a date (CCYYMMDD)`}, x12.ErrDate},
		{"wrong set", "BEG*00*SA*PO-1", x12.Options{}, nil, x12.ErrWrongSet},
		{"every problem at once", "BCH*07*SA\nPOC*1*ZZ*x\nPOC**QD\nPOC*3*PC*1**EA*abc", x12.Options{},
			[]string{
				`line 4, BCH (segment 2 of set 0001): BCH01 purpose "07" is neither a change (accepted: 04) nor a cancellation (accepted: 01)`,
				`line 4, BCH (segment 2 of set 0001): BCH03 purchase order number is missing`,
				`line 5, POC (segment 3 of set 0001): POC02 change type "ZZ" is not translated (accepted: AI, CA, DI, NC, PC, PQ, QD, QI)`,
				`line 5, POC (segment 3 of set 0001): POC03 quantity "x" is not a number`,
				`line 6, POC (segment 4 of set 0001): POC01 line number is missing: a change names the purchase order line (PO101) it changes`,
				`line 6, POC (segment 4 of set 0001): POC03 quantity is missing: a quantity decrease (QD) needs the new quantity ordered`,
				`line 7, POC (segment 5 of set 0001): POC06 unit price "abc" is not a number of at least zero`,
			}, x12.ErrPurpose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c x12.OrderChange
			var err error
			if tc.name == "wrong set" {
				ts := buildSet(t, "850", tc.body)
				c, err = x12.ChangeFrom860(ts, x12.EnvelopeOf("acme", ts), tc.opts)
				tc.want = []string{`line 3, ST (segment 1 of set 0001): ST01 transaction set "850" cannot be translated as a 860`}
			} else {
				c, err = change860(t, tc.body, tc.opts)
			}
			if got := errorStrings(err); !slices.Equal(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(err, %v) = false", tc.is)
			}
			if c.Cancel != nil || c.Lines != nil || c.Source.ExternalID != "" {
				t.Errorf("a change came back with the error: %+v", c)
			}
		})
	}
}

// TestChangeErrorPosition checks the fields of a POC MappingError.
func TestChangeErrorPosition(t *testing.T) {
	_, err := change860(t, header860+"\nPOC*1*QI*2**EA\nPOC*0020*QD*x**EA", x12.Options{})
	var me *x12.MappingError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want a *MappingError", err)
	}
	want := x12.MappingError{Line: 6, SegmentID: "POC", Position: 4, SetControlNumber: "0001", Element: 3,
		OrderLine: "0020", Field: "lines[1].line.quantity", Value: "x", Detail: `quantity "x" is not a number`, Err: x12.ErrNotNumber}
	got := *me
	got.Offset = 0
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestCancelFrom940(t *testing.T) {
	tests := []struct {
		name string
		body string
		opts x12.Options
	}{
		{"940-cancel-whole-order", "W05*F*SO-1*PO-9\nNTE*WHI*CUSTOMER CANCELLED", x12.Options{}},
		{"940-cancel-lines", strings.Replace(minimal940, "W05*N", "W05*F", 1) + `
LX*1
W01*2*EA**VN*V-1
W01**EA**UP*012345678905
LX*2
W01*1*CA*000100011110`, x12.Options{}},
		{"940-cancel-lines-without-lx", "W05*F*SO-1\nW01*2*EA**VN*V-1\nW01*1*EA**SK*S-2", x12.Options{}},
		{"940-cancel-whole-order-option", "W05*F*SO-1\nLX*1\nW01*2*EA**VN*V-1\nW01*x*EA",
			x12.Options{ChangeOptions: x12.ChangeOptions{CancelWholeOrder: true}}},
		{"940-cancel-partner-status", "W05*D*SO-1", x12.Options{ChangeOptions: x12.ChangeOptions{CancelStatuses: []string{"f", "d"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cancel940(t, tc.body, tc.opts)
			if err != nil {
				t.Fatal(strings.Join(errorStrings(err), "\n"))
			}
			checkChangeGolden(t, tc.name, c)
			validCancel(t, c)
		})
	}
}

func TestCancelFrom940Errors(t *testing.T) {
	tests := []struct {
		name string
		body string
		opts x12.Options
		want []string
		is   error
	}{
		{"original order", minimal940 + "\nLX*1\nW01*1*EA**VN*V-1", x12.Options{},
			[]string{`line 4, W05 (segment 2 of set 0001): W0501 order status "N" is not a cancellation (accepted: F): an original order is translated by OrderFrom940`}, x12.ErrPurpose},
		{"change status", "W05*R*SO-1", x12.Options{},
			[]string{`line 4, W05 (segment 2 of set 0001): W0501 order status "R" is not a cancellation (accepted: F): an original order is translated by OrderFrom940`}, x12.ErrPurpose},
		{"missing W05", "N1*ST*A\nLX*1\nW01*1*EA**VN*V-1", x12.Options{},
			[]string{`line 3, ST (segment 1 of set 0001): shipping order has no W05 segment`}, x12.ErrMissingSegment},
		{"order number missing", "W05*F**PO-9", x12.Options{},
			[]string{`line 4, W05 (segment 2 of set 0001): W0502 depositor order number is missing`}, x12.ErrMissingElement},
		{"bad quantities", "W05*F*SO-1\nLX*1\nW01*x*EA**VN*V-1\nLX*2\nW01*-2*EA**VN*V-2", x12.Options{},
			[]string{
				`line 6, W01 (segment 4 of set 0001): W0101 quantity "x" is not a number`,
				`line 8, W01 (segment 6 of set 0001): W0101 quantity "-2" is not more than zero`,
			}, x12.ErrQuantity},
		{"no partner", "W05*F*SO-1", x12.Options{},
			[]string{`line 4, W05 (segment 2 of set 0001): source.partner: must not be empty`}, x12.ErrInvalidCancel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := buildSet(t, "940", tc.body)
			env := x12.EnvelopeOf("acme", ts)
			if tc.name == "no partner" {
				env.Partner = ""
			}
			c, err := x12.CancelFrom940(ts, env, tc.opts)
			if got := errorStrings(err); !slices.Equal(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(err, %v) = false", tc.is)
			}
			if c.Source.ExternalID != "" || c.Lines != nil {
				t.Errorf("a cancel came back with the error: %+v", c)
			}
		})
	}
}

// TestCancelFindsTheOrder checks that a change or cancel points at the
// order its original made: same channel, partner and external_id, and for
// 940 line cancels the same line numbers and SKUs.
func TestCancelFindsTheOrder(t *testing.T) {
	key := func(s canonical.Source) [3]string { return [3]string{string(s.Channel), s.Partner, s.ExternalID} }

	order, err := translate850(t, minimal850+"\nPO1*1*2*EA***VP*V-1\nPO1*2*1*EA***VP*V-2", x12.Options{})
	if err != nil {
		t.Fatal(err)
	}
	change, err := change860(t, "BCH*04*SA*PO-1\nPOC*1*QI*3**EA***VP*V-1\nPOC*2*PC***EA*1.00", x12.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cancel, err := change860(t, "BCH*01*SA*PO-1", x12.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if key(change.Source) != key(order.Source) || key(cancel.Cancel.Source) != key(order.Source) || change.OrderNumber != order.OrderNumber {
		t.Errorf("860 source %v / %v, 850 order source %v", key(change.Source), key(cancel.Cancel.Source), key(order.Source))
	}
	if change.Lines[0].Line.LineNumber != order.Lines[0].LineNumber || change.Lines[0].Line.SKU != order.Lines[0].SKU {
		t.Errorf("860 line %+v does not point at 850 line %+v", change.Lines[0].Line, order.Lines[0])
	}

	for _, lines := range []string{"LX*1\nW01*2*EA**VN*V-1\nW01*1*EA**VN*V-2\nLX*2\nW01*1*CA*000100011110", "W01*2*EA**VN*V-1\nW01*1*EA**SK*S-2"} {
		body := minimal940 + "\n" + lines
		order, err := translate940(t, body, x12.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := cancel940(t, strings.Replace(body, "W05*N", "W05*F", 1), x12.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if key(c.Source) != key(order.Source) || c.OrderNumber != order.OrderNumber {
			t.Errorf("940 cancel source %v, order source %v", key(c.Source), key(order.Source))
		}
		var got, want []string
		for _, l := range c.Lines {
			got = append(got, l.LineNumber+"/"+l.SKU)
		}
		for _, l := range order.Lines {
			want = append(want, l.LineNumber+"/"+l.SKU)
		}
		if !slices.Equal(got, want) {
			t.Errorf("cancel lines %v, order lines %v", got, want)
		}
	}
}

// TestPurposesSplit checks that the order translations still refuse
// changes and cancellations, which the new functions take, and the other
// way round.
func TestPurposesSplit(t *testing.T) {
	line850, line940 := "\nPO1*1*1*EA***VN*V-1", "\nLX*1\nW01*1*EA**VN*V-1"
	for _, p := range []string{"01", "04", "05"} {
		_, err := translate850(t, strings.Replace(minimal850, "BEG*00", "BEG*"+p, 1)+line850, x12.Options{})
		if !errors.Is(err, x12.ErrPurpose) {
			t.Errorf("OrderFrom850 BEG01 %s: err = %v, want ErrPurpose", p, err)
		}
	}
	if _, err := translate940(t, strings.Replace(minimal940, "W05*N", "W05*F", 1)+line940, x12.Options{}); !errors.Is(err, x12.ErrPurpose) {
		t.Errorf("OrderFrom940 W0501 F: err = %v, want ErrPurpose", err)
	}
	if _, err := change860(t, "BCH*01*SA*PO-1", x12.Options{}); err != nil {
		t.Errorf("ChangeFrom860 BCH01 01: %v", err)
	}
	if _, err := change860(t, "BCH*04*SA*PO-1\nPOC*1*DI", x12.Options{}); err != nil {
		t.Errorf("ChangeFrom860 BCH01 04: %v", err)
	}
	if _, err := cancel940(t, strings.Replace(minimal940, "W05*N", "W05*F", 1)+line940, x12.Options{}); err != nil {
		t.Errorf("CancelFrom940 W0501 F: %v", err)
	}
	if _, err := cancel940(t, minimal940+line940, x12.Options{}); !errors.Is(err, x12.ErrPurpose) {
		t.Errorf("CancelFrom940 W0501 N: err = %v, want ErrPurpose", err)
	}
	if _, err := change860(t, "BCH*00*SA*PO-1\nPOC*1*DI", x12.Options{}); !errors.Is(err, x12.ErrPurpose) {
		t.Errorf("ChangeFrom860 BCH01 00: err = %v, want ErrPurpose", err)
	}
}

func TestChangeOptionsValidate(t *testing.T) {
	bad := x12.Options{
		OrderPurposes: []string{"00", "01"},
		OrderStatuses: []string{"N", "F"},
		ChangeOptions: x12.ChangeOptions{
			ChangePurposes:        []string{"04", "CHANGE"},
			CancelStatuses:        []string{"F"},
			ChangeTypes:           map[string]x12.ChangeAction{"RZ": "replace", "QUANTITY": "change"},
			ChangeIgnoredSegments: []string{"N1", "N1 LOOP"},
		},
	}
	want := []string{
		`change_purposes[1]: "CHANGE" is not an X12 code (1 to 3 letters and digits)`,
		`change_ignored_segments[1]: "N1 LOOP" is not an X12 code (1 to 3 letters and digits)`,
		`change_types["QUANTITY"]: not an X12 code (1 to 3 letters and digits)`,
		`change_types["RZ"]: "replace" is not a change action (add, cancel, quantity_increase, quantity_decrease, price_change, price_quantity_change, change, no_change, or empty to remove)`,
		`cancel_statuses[0]: "F" is also in order_statuses: a cancellation would also be translated as a new order`,
	}
	if err := bad.Validate(); err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("Validate:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	clash := x12.Options{ChangeOptions: x12.ChangeOptions{ChangePurposes: []string{"01"}}}
	if err := clash.Validate(); err == nil || err.Error() != `cancel_purposes[0]: "01" is also in change_purposes: an 860 cannot be both a cancellation and a change` {
		t.Errorf("Validate: %v", err)
	}
	d := x12.DefaultOptions()
	if !slices.Equal(d.CancelPurposes, []string{"01"}) || !slices.Equal(d.ChangePurposes, []string{"04"}) ||
		!slices.Equal(d.CancelStatuses, []string{"F"}) || len(d.ChangeTypes) != len(x12.DefaultChangeTypes) {
		t.Errorf("DefaultOptions change options: %+v", d.ChangeOptions)
	}
	// The options read from JSON as the other fields do, flat.
	var o x12.Options
	if err := json.Unmarshal([]byte(`{"cancel_statuses":["F","D"],"change_types":{"RZ":"change"},"cancel_whole_order":true}`), &o); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.CancelStatuses, []string{"F", "D"}) || o.ChangeTypes["RZ"] != x12.ActionChange || !o.CancelWholeOrder {
		t.Errorf("JSON options: %+v", o.ChangeOptions)
	}
}
