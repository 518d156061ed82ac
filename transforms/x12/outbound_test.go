package x12_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
	"github.com/paklog/integration-hub/transforms/x12"
)

// fixedNow is the clock of every outbound test.
var fixedNow = time.Date(2024, 10, 15, 18, 5, 0, 0, time.UTC)

// writeSet writes one set with fn inside an interchange and group with
// fixed control numbers (ISA13 42, GS06 42, ST02 0001), one segment a line.
func writeSet(t testing.TB, setID string, fn func(w *edi.Writer) error) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	w, err := edi.NewWriter(&buf, edi.Delimiters{Element: '*', Repetition: '^', Component: '>', Segment: "~"}, edi.WithLineEnding("\n"))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.BeginInterchange(&edi.Interchange{SenderQualifier: "ZZ", SenderID: "PAKLOG", ReceiverQualifier: "ZZ", ReceiverID: "RETAILER",
		Date: "241015", Time: "1805", Version: "00401", ControlNumber: "42", Usage: "T"}))
	must(w.BeginGroup(&edi.FunctionalGroup{FunctionalID: x12.FunctionalID(setID), ApplicationSender: "PAKLOG", ApplicationReceiver: "RETAILER",
		Date: "20241015", Time: "1805", ControlNumber: "42", Version: "004010"}))
	if err := fn(w); err != nil {
		return nil, err
	}
	must(w.EndGroup())
	must(w.EndInterchange())
	must(w.Flush())
	return buf.Bytes(), nil
}

// readBack decodes out and returns its one set, failing on any envelope
// problem; the set is also checked against its specification when
// edi/x12 has one for it.
func readBack(t testing.TB, out []byte, setID string) *edi.TransactionSet {
	t.Helper()
	var sets []*edi.TransactionSet
	d := edi.NewDecoder(bytes.NewReader(out))
	for {
		ev, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		switch ev.Kind {
		case edi.SetEnd:
			for _, e := range ev.Set.Errors {
				t.Errorf("set %s: %v", ev.Set.ControlNumber, e)
			}
			sets = append(sets, ev.Set.Clone())
		case edi.GroupEnd:
			for _, e := range ev.Group.Errors {
				t.Errorf("group: %v", e)
			}
		case edi.InterchangeEnd:
			for _, e := range ev.Interchange.Errors {
				t.Errorf("interchange: %v", e)
			}
		}
	}
	if len(sets) != 1 || sets[0].ID != setID {
		t.Fatalf("read back %d sets, want one %s", len(sets), setID)
	}
	ts := sets[0]
	if spec := edi.StandardSpecs().Set("004010", setID); spec != nil {
		for _, e := range spec.Validate(ts) {
			t.Errorf("spec 004010 %s: %v", setID, e)
		}
	} else {
		t.Logf("edi/x12 has no 004010 %s table yet: specification check skipped", setID)
	}
	return ts
}

// checkGolden compares out with testdata/out/<name>.golden.edi, or
// rewrites it with -update.
func checkGolden(t *testing.T, name string, out []byte) {
	t.Helper()
	file := filepath.Join("testdata", "out", name+".golden.edi")
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(out, want) {
		t.Errorf("output differs from %s; run go test -update and review the diff.\ngot:\n%s", file, out)
	}
}

// segs returns the set's segments between ST and SE as text, one a line.
func segs(ts *edi.TransactionSet, ids ...string) []string {
	var out []string
	for i := range ts.Segments {
		s := &ts.Segments[i]
		if len(ids) == 0 || contains(ids, s.ID) {
			out = append(out, s.String())
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func ptr(f float64) *float64 { return &f }

// testOrder is an 850 order as OrderFrom850 returns it.
func testOrder() canonical.Order {
	return canonical.Order{
		Schema:        canonical.SchemaOrder,
		OrderID:       "ord_01J9ZK3M4N5P6Q7R8S9T0VWXYZ",
		Source:        canonical.Source{Channel: canonical.ChannelEDI, Partner: "acme", ExternalID: "PO-7781", Document: "850"},
		OrderNumber:   "PO-7781",
		PurchaseOrder: "PO-7781",
		OrderDate:     "2024-10-10",
		ShipTo: canonical.Address{Name: "ACME STORE 12", Company: "ACME RETAIL", Address1: "1200 MARKET ST", Address2: "DOCK 4",
			City: "SAN FRANCISCO", Region: "CA", PostalCode: "94102", Country: "US"},
		Shipping: canonical.Shipping{Carrier: "UPS", SCAC: "UPSN", Method: "UPS GROUND", ServiceLevel: canonical.ServiceGround},
		Lines: []canonical.Line{
			{LineNumber: "1", SKU: "TENT-2P-GRN", VendorItem: "TENT-2P-GRN", BuyerItem: "884512", UPC: "012345678905", Quantity: 2, UOM: "EA",
				UnitPrice: canonical.Money{Amount: "129.00", Currency: "USD"}},
			{LineNumber: "2", SKU: "ROPE-10M", VendorItem: "ROPE-10M", UPC: "012345678912", Quantity: 5, UOM: "EA",
				UnitPrice: canonical.Money{Amount: "9.5", Currency: "USD"}},
			{LineNumber: "3", SKU: "STAKE-AL", Quantity: 1.5, UOM: "LB"},
		},
		Currency:   "USD",
		Attributes: map[string]string{"party_st_id": "0012", "release_number": "R1", "x12_st02": "0001"},
	}
}

// testConfirm ships the order in two packages, line 2 short by 1.
func testConfirm() canonical.ShipConfirm {
	return canonical.ShipConfirm{
		Schema:     canonical.SchemaShipConfirm,
		ShipmentID: "shp_4471",
		OrderID:    "ord_01J9ZK3M4N5P6Q7R8S9T0VWXYZ",
		ShippedAt:  time.Date(2024, 10, 15, 17, 30, 0, 0, time.UTC),
		Carrier:    "UPS",
		Service:    "GROUND",
		Packages: []canonical.ShippedPackage{
			{PackageID: "pkg_1", TrackingNumber: "1Z999AA10123456784", Lines: []canonical.LineRef{
				{LineNumber: "1", SKU: "TENT-2P-GRN", Quantity: 2},
				{LineNumber: "2", SKU: "ROPE-10M", Quantity: 2},
			}},
			{PackageID: "pkg_2", TrackingNumber: "1Z999AA10123456793", Lines: []canonical.LineRef{
				{LineNumber: "2", SKU: "ROPE-10M", Quantity: 2},
				{LineNumber: "3", SKU: "STAKE-AL", Quantity: 1.5},
			}},
		},
		LinesShort: []canonical.ShortLine{{LineNumber: "2", SKU: "ROPE-10M", QuantityOrdered: 5, QuantityShipped: 4, Reason: "short pick"}},
	}
}

func testOutboundOptions() x12.OutboundOptions {
	return x12.OutboundOptions{
		Now: fixedNow,
		Packages: map[string]x12.PackageDetail{
			"pkg_1": {SSCC: "000123450000000017", Weight: canonical.Weight{Value: 12.5, Unit: "lb"}},
			"pkg_2": {Weight: canonical.Weight{Value: 3, Unit: "lb"}},
		},
		BillOfLading: "BOL-991",
		Warehouse: x12.Party{Address: canonical.Address{Name: "PAKLOG RENO", Address1: "55 LOGISTICS WAY", City: "RENO", Region: "NV", PostalCode: "89502", Country: "US"},
			IDQualifier: "ZZ", ID: "RNO1"},
	}
}

func TestGoldenOutbound(t *testing.T) {
	oneBox := testConfirm()
	oneBox.Packages = []canonical.ShippedPackage{{PackageID: "pkg_9", TrackingNumber: "9400111899223100012345"}}
	oneBox.Carrier, oneBox.Service = "USPS", "PRIORITY"
	minimal := x12.OutboundOptions{Now: fixedNow}
	for _, tc := range []struct {
		name, set string
		fn        func(w *edi.Writer) error
	}{
		{"856-two-packages-short", "856", func(w *edi.Writer) error {
			return x12.WriteASN856(w, "0001", testConfirm(), testOrder(), testOutboundOptions())
		}},
		{"856-one-package-unlisted", "856", func(w *edi.Writer) error {
			return x12.WriteASN856(w, "0001", oneBox, testOrder(), minimal)
		}},
		{"945-two-packages-short", "945", func(w *edi.Writer) error {
			return x12.WriteShipAdvice945(w, "0001", testConfirm(), testOrder(), testOutboundOptions())
		}},
		{"945-one-package-unlisted", "945", func(w *edi.Writer) error {
			return x12.WriteShipAdvice945(w, "0001", oneBox, testOrder(), minimal)
		}},
		{"855-accept-all", "855", func(w *edi.Writer) error {
			return x12.WriteOrderAck855(w, "0001", testOrder(), minimal)
		}},
		{"855-line-statuses", "855", func(w *edi.Writer) error {
			opts := minimal
			opts.LineAcks = map[string]x12.LineAck{
				"2": {Status: "IQ", Quantity: ptr(4), Date: "2024-10-20"},
				"3": {Status: "IR"},
			}
			return x12.WriteOrderAck855(w, "0001", testOrder(), opts)
		}},
		{"846-one-warehouse", "846", func(w *edi.Writer) error {
			return x12.WriteInventory846(w, "0001", testAdvice(), minimal)
		}},
		{"846-two-warehouses", "846", func(w *edi.Writer) error {
			a := testAdvice()
			a.Items[1].Warehouse = "SLC2"
			return x12.WriteInventory846(w, "0001", a, minimal)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := writeSet(t, tc.set, tc.fn)
			if err != nil {
				t.Fatal(err)
			}
			readBack(t, out, tc.set)
			checkGolden(t, tc.name, out)
		})
	}
}

func TestOutboundErrorsWriteNothing(t *testing.T) {
	noClock := testOutboundOptions()
	noClock.Now = time.Time{}
	unknown := testConfirm()
	unknown.Packages[1].Lines[1].LineNumber = "7"
	unknown.LinesShort[0].LineNumber = "8"
	noContents := testConfirm()
	for i := range noContents.Packages {
		noContents.Packages[i].Lines = nil
	}
	noPackages := testConfirm()
	noPackages.Packages = nil
	noShipment := testConfirm()
	noShipment.ShipmentID = ""
	for _, tc := range []struct {
		name string
		fn   func(w *edi.Writer) error
		want []string
		is   error
	}{
		{"no clock", func(w *edi.Writer) error { return x12.WriteASN856(w, "0001", testConfirm(), testOrder(), noClock) },
			[]string{"856 BSN03: OutboundOptions.Now is zero: pass the document's creation time"}, x12.ErrNoClock},
		{"unknown lines", func(w *edi.Writer) error {
			return x12.WriteASN856(w, "0001", unknown, testOrder(), testOutboundOptions())
		}, []string{
			`856: lines_short[0]: line_number "8" (sku "ROPE-10M") is not a line of order "PO-7781"`,
			`856: packages[1].lines[1]: line_number "7" (sku "STAKE-AL") is not a line of order "PO-7781"`,
		}, x12.ErrUnknownLine},
		{"several packages without contents", func(w *edi.Writer) error {
			return x12.WriteASN856(w, "0001", noContents, testOrder(), testOutboundOptions())
		}, []string{"856 HL: packages: 2 packages and none lists its lines: the 856 cannot say what is in which package"}, x12.ErrNoPackages},
		{"no packages", func(w *edi.Writer) error {
			return x12.WriteASN856(w, "0001", noPackages, testOrder(), testOutboundOptions())
		}, []string{"856 HL: packages: the ship confirm has no packages"}, x12.ErrNoPackages},
		{"no shipment id", func(w *edi.Writer) error {
			return x12.WriteASN856(w, "0001", noShipment, testOrder(), testOutboundOptions())
		}, []string{"856 BSN02: shipment_id: shipment_id is empty"}, x12.ErrMissingElement},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := edi.NewWriter(&buf, edi.DefaultDelimiters)
			if err != nil {
				t.Fatal(err)
			}
			must(t, w.BeginInterchange(&edi.Interchange{SenderQualifier: "ZZ", SenderID: "A", ReceiverQualifier: "ZZ", ReceiverID: "B",
				Date: "241015", Time: "1805", Version: "00401", ControlNumber: "1", Usage: "T"}))
			must(t, w.BeginGroup(&edi.FunctionalGroup{FunctionalID: "SH", ApplicationSender: "A", ApplicationReceiver: "B", Date: "20241015", Time: "1805", ControlNumber: "1", Version: "004010"}))
			must(t, w.Flush())
			before := buf.Len()
			err = tc.fn(w)
			if got := errorStrings(err); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(err, %v) = false", tc.is)
			}
			var oe *x12.OutputError
			if !errors.As(err, &oe) {
				t.Errorf("error is not an *OutputError")
			}
			must(t, w.Flush())
			if buf.Len() != before {
				t.Errorf("wrote %q despite the error", buf.Bytes()[before:])
			}
			// The group can still be closed: no set was left open.
			must(t, w.EndGroup())
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testAdvice is an inventory advice of three items in warehouse RNO1.
func testAdvice() canonical.InventoryAdvice {
	return canonical.InventoryAdvice{
		Schema:  canonical.SchemaInventoryAdvice,
		Partner: "acme",
		AsOf:    time.Date(2024, 10, 15, 6, 0, 0, 0, time.UTC),
		Items: []canonical.InventoryItem{
			{SKU: "TENT-2P-GRN", UPC: "012345678905", QuantityOnHand: ptr(40), QuantityAvailable: ptr(34), UOM: "EA", Warehouse: "RNO1"},
			{SKU: "ROPE-10M", QuantityAvailable: ptr(-2), UOM: "EA", Warehouse: "RNO1"},
			{SKU: "STAKE-AL", QuantityOnHand: ptr(12.5), QuantityAvailable: ptr(0), UOM: "LB", Warehouse: "RNO1"},
		},
	}
}

// hlTree returns the 856's HL segments as "id/parent/level/child" and
// checks the numbering: ids 1, 2, 3… in order, each parent an earlier HL
// of the level above (S > O > P > I), HL04 "1" exactly when an HL has
// children, and CTT01 the number of HLs.
func hlTree(t *testing.T, ts *edi.TransactionSet) []string {
	t.Helper()
	above := map[string]string{"O": "S", "P": "O", "I": "P"}
	levels := map[string]string{}
	children := map[string]int{}
	var tree, ids []string
	ctt := ""
	for i := range ts.Segments {
		s := &ts.Segments[i]
		switch s.ID {
		case "HL":
			id, parent, lvl := s.Element(1).String(), s.Element(2).String(), s.Element(3).String()
			if want := strconv.Itoa(len(ids) + 1); id != want {
				t.Errorf("HL01 %q, want %q", id, want)
			}
			if lvl == "S" && parent != "" || lvl != "S" && levels[parent] != above[lvl] {
				t.Errorf("HL %s (%s) has parent %q (%s)", id, lvl, parent, levels[parent])
			}
			levels[id] = lvl
			children[parent]++
			ids = append(ids, id)
			tree = append(tree, id+"/"+parent+"/"+lvl+"/"+s.Element(4).String())
		case "CTT":
			ctt = s.Element(1).String()
		}
	}
	for _, n := range tree {
		parts := strings.Split(n, "/")
		if want := map[bool]string{true: "1", false: "0"}[children[parts[0]] > 0]; parts[3] != want {
			t.Errorf("HL %s: HL04 %q, want %q", parts[0], parts[3], want)
		}
	}
	if ctt != strconv.Itoa(len(ids)) {
		t.Errorf("CTT01 %q, want %d HLs", ctt, len(ids))
	}
	return tree
}

func TestASN856Hierarchy(t *testing.T) {
	onePackage := testConfirm()
	onePackage.Packages = onePackage.Packages[:1]
	threePackages := testConfirm()
	threePackages.Packages = append(threePackages.Packages, canonical.ShippedPackage{
		PackageID: "pkg_3", TrackingNumber: "1Z3", Lines: []canonical.LineRef{{LineNumber: "1", Quantity: 1}}})
	unlisted := testConfirm()
	unlisted.Packages = unlisted.Packages[:1]
	unlisted.Packages[0].Lines = nil
	nothingOfLine3 := unlisted
	nothingOfLine3.LinesShort = append(nothingOfLine3.LinesShort[:1:1], canonical.ShortLine{LineNumber: "3", QuantityOrdered: 1.5, QuantityShipped: 0})
	bySKU := testConfirm()
	bySKU.Packages = bySKU.Packages[:1]
	bySKU.Packages[0].Lines = []canonical.LineRef{{SKU: "ROPE-10M", Quantity: 5}}
	for _, tc := range []struct {
		name string
		c    canonical.ShipConfirm
		tree []string
		sn1  []string
	}{
		{"one package two items", onePackage,
			[]string{"1//S/1", "2/1/O/1", "3/2/P/1", "4/3/I/0", "5/3/I/0"},
			[]string{"SN1**2*EA", "SN1**2*EA**5*EA"}},
		{"three packages", threePackages,
			[]string{"1//S/1", "2/1/O/1", "3/2/P/1", "4/3/I/0", "5/3/I/0", "6/2/P/1", "7/6/I/0", "8/6/I/0", "9/2/P/1", "10/9/I/0"},
			[]string{"SN1**2*EA", "SN1**2*EA**5*EA", "SN1**2*EA**5*EA", "SN1**1.5*LB", "SN1**1*EA"}},
		{"one package, contents from the order less lines_short", unlisted,
			[]string{"1//S/1", "2/1/O/1", "3/2/P/1", "4/3/I/0", "5/3/I/0", "6/3/I/0"},
			[]string{"SN1**2*EA", "SN1**4*EA**5*EA", "SN1**1.5*LB"}},
		{"a line shipped not at all has no item", nothingOfLine3,
			[]string{"1//S/1", "2/1/O/1", "3/2/P/1", "4/3/I/0", "5/3/I/0"},
			[]string{"SN1**2*EA", "SN1**4*EA**5*EA"}},
		{"line found by SKU", bySKU,
			[]string{"1//S/1", "2/1/O/1", "3/2/P/1", "4/3/I/0"},
			[]string{"SN1**5*EA**5*EA"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := writeSet(t, "856", func(w *edi.Writer) error {
				return x12.WriteASN856(w, "0001", tc.c, testOrder(), testOutboundOptions())
			})
			if err != nil {
				t.Fatal(err)
			}
			ts := readBack(t, out, "856")
			if got := hlTree(t, ts); strings.Join(got, " ") != strings.Join(tc.tree, " ") {
				t.Errorf("HLs %v, want %v", got, tc.tree)
			}
			if got := segs(ts, "SN1"); strings.Join(got, " ") != strings.Join(tc.sn1, " ") {
				t.Errorf("SN1s %v, want %v", got, tc.sn1)
			}
		})
	}
}

func TestShortShip(t *testing.T) {
	complete := testConfirm()
	complete.LinesShort = nil
	complete.Packages[1].Lines[0].Quantity = 3
	noneOfLine2 := testConfirm()
	noneOfLine2.Packages[0].Lines = noneOfLine2.Packages[0].Lines[:1]
	noneOfLine2.Packages[1].Lines = noneOfLine2.Packages[1].Lines[1:]
	noneOfLine2.LinesShort[0].QuantityShipped = 0
	fractional := testConfirm()
	fractional.Packages[1].Lines[1].Quantity = 1.2
	fractional.LinesShort = append(fractional.LinesShort, canonical.ShortLine{LineNumber: "3", QuantityOrdered: 1.5, QuantityShipped: 1.2})
	status := testOutboundOptions()
	status.ShortLineStatus = "bp"
	for _, tc := range []struct {
		name string
		c    canonical.ShipConfirm
		opts x12.OutboundOptions
		w12  []string
		w03  string
		sn1  []string
	}{
		{"complete", complete, testOutboundOptions(),
			[]string{"W12*CC*2*2*0*EA*012345678905*VN*TENT-2P-GRN", "W12*CC*5*5*0*EA*012345678912*VN*ROPE-10M", "W12*CC*1.5*1.5*0*LB**SK*STAKE-AL"},
			"W03*8.5*15.5*LB", []string{"SN1**2*EA", "SN1**2*EA", "SN1**3*EA", "SN1**1.5*LB"}},
		{"short by one", testConfirm(), status,
			[]string{"W12*CC*2*2*0*EA*012345678905*VN*TENT-2P-GRN", "W12*CP*5*4*1*EA*012345678912*VN*ROPE-10M", "W12*CC*1.5*1.5*0*LB**SK*STAKE-AL"},
			"W03*7.5*15.5*LB", []string{"SN1**2*EA", "SN1**2*EA**5*EA**BP", "SN1**2*EA**5*EA**BP", "SN1**1.5*LB"}},
		{"nothing of a line", noneOfLine2, testOutboundOptions(),
			[]string{"W12*CC*2*2*0*EA*012345678905*VN*TENT-2P-GRN", "W12*CP*5*0*5*EA*012345678912*VN*ROPE-10M", "W12*CC*1.5*1.5*0*LB**SK*STAKE-AL"},
			"W03*3.5*15.5*LB", []string{"SN1**2*EA", "SN1**1.5*LB"}},
		{"fractional short", fractional, testOutboundOptions(),
			[]string{"W12*CC*2*2*0*EA*012345678905*VN*TENT-2P-GRN", "W12*CP*5*4*1*EA*012345678912*VN*ROPE-10M", "W12*CP*1.5*1.2*0.3*LB**SK*STAKE-AL"},
			"W03*7.2*15.5*LB", []string{"SN1**2*EA", "SN1**2*EA**5*EA", "SN1**2*EA**5*EA", "SN1**1.2*LB**1.5*LB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := writeSet(t, "945", func(w *edi.Writer) error {
				return x12.WriteShipAdvice945(w, "0001", tc.c, testOrder(), tc.opts)
			})
			if err != nil {
				t.Fatal(err)
			}
			ts := readBack(t, out, "945")
			if got := segs(ts, "W12"); strings.Join(got, "\n") != strings.Join(tc.w12, "\n") {
				t.Errorf("W12s\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.w12, "\n"))
			}
			if got := segs(ts, "W03"); len(got) != 1 || got[0] != tc.w03 {
				t.Errorf("W03 %v, want %s", got, tc.w03)
			}
			out, err = writeSet(t, "856", func(w *edi.Writer) error {
				return x12.WriteASN856(w, "0001", tc.c, testOrder(), tc.opts)
			})
			if err != nil {
				t.Fatal(err)
			}
			ts = readBack(t, out, "856")
			hlTree(t, ts)
			if got := segs(ts, "SN1"); strings.Join(got, " ") != strings.Join(tc.sn1, " ") {
				t.Errorf("SN1s %v, want %v", got, tc.sn1)
			}
		})
	}
}

func TestOrderAck855Type(t *testing.T) {
	for _, tc := range []struct {
		name string
		acks map[string]x12.LineAck
		bak  string
	}{
		{"all accepted", nil, "AD"},
		{"accepted explicitly at the ordered quantity", map[string]x12.LineAck{"1": {Status: "ia", Quantity: ptr(2)}}, "AD"},
		{"one quantity changed", map[string]x12.LineAck{"2": {Status: "IQ", Quantity: ptr(4)}}, "AC"},
		{"one backordered", map[string]x12.LineAck{"1": {Status: "IB"}}, "AC"},
		{"all rejected", map[string]x12.LineAck{"1": {Status: "IR"}, "2": {Status: "R2"}, "3": {Status: "ID"}}, "RD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := writeSet(t, "855", func(w *edi.Writer) error {
				return x12.WriteOrderAck855(w, "0001", testOrder(), x12.OutboundOptions{Now: fixedNow, LineAcks: tc.acks})
			})
			if err != nil {
				t.Fatal(err)
			}
			ts := readBack(t, out, "855")
			if got := ts.Segments[1].Element(2).String(); got != tc.bak {
				t.Errorf("BAK02 %q, want %q", got, tc.bak)
			}
		})
	}
	_, err := writeSet(t, "855", func(w *edi.Writer) error {
		return x12.WriteOrderAck855(w, "0001", testOrder(), x12.OutboundOptions{Now: fixedNow, LineAcks: map[string]x12.LineAck{"9": {Status: "IR"}}})
	})
	if !errors.Is(err, x12.ErrUnknownLine) {
		t.Errorf("a LineAck for no line: %v, want ErrUnknownLine", err)
	}
}

func TestInventory846RoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    canonical.InventoryAdvice
	}{
		{"one warehouse", testAdvice()},
		{"two warehouses", func() canonical.InventoryAdvice { a := testAdvice(); a.Items[1].Warehouse = "SLC2"; return a }()},
		{"no warehouse", func() canonical.InventoryAdvice {
			a := testAdvice()
			for i := range a.Items {
				a.Items[i].Warehouse = ""
			}
			return a
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := writeSet(t, "846", func(w *edi.Writer) error {
				return x12.WriteInventory846(w, "0001", tc.a, x12.OutboundOptions{Now: fixedNow})
			})
			if err != nil {
				t.Fatal(err)
			}
			ts := readBack(t, out, "846")
			got, err := x12.InventoryFrom846(ts, x12.EnvelopeOf("acme", ts), x12.Options{SKUPrecedence: []string{"SK", "UP"}})
			if err != nil {
				t.Fatal(err)
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tc.a)
			if !bytes.Equal(gj, wj) {
				t.Errorf("round trip\n got %s\nwant %s", gj, wj)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("advice does not validate: %v", err)
			}
		})
	}
}

func TestInventoryFrom846(t *testing.T) {
	for _, tc := range []struct {
		name     string
		segments string
		want     string // the advice as JSON, when no errors
		errs     []string
		is       error
	}{
		{"header warehouse, DTM 405 as of, default unit", `BIA*00*DD*REF1*20241014*2300
DTM*405*20241015*0615
N1*WH*RENO DC
LIN**VN*ROPE-10M*UP*012345678912
QTY*33*7
QTY*02*99*EA
LIN**IN*B-1*VP*V-1
QTY*17*3*CA
N1*WH**92*SLC2`,
			`{"schema":"paklog.inventory_advice.v1","partner":"acme","as_of":"2024-10-15T06:15:00Z","items":[{"sku":"ROPE-10M","upc":"012345678912","quantity_available":7,"uom":"EA","warehouse":"RENO DC"},{"sku":"V-1","quantity_on_hand":3,"uom":"CA","warehouse":"SLC2"}]}`,
			nil, nil},
		{"missing LIN", `BIA*00*DD*REF1*20241014`, "",
			[]string{"line 5, SE (segment 3 of set 0001): inventory advice has no LIN segment"}, x12.ErrNoLines},
		{"missing BIA", `LIN**SK*A
QTY*33*1`, "",
			[]string{"line 3, ST (segment 1 of set 0001): inventory advice has no BIA segment"}, x12.ErrMissingSegment},
		{"bad QTY", `BIA*00*DD*REF1*20241014
LIN**SK*A
QTY*33*4x*EA
QTY*17**EA
QTY*17*-1*EA`, "",
			[]string{
				`line 6, QTY (segment 4 of set 0001): QTY02 quantity "4x" (qualifier "33") is not a number`,
				`line 7, QTY (segment 5 of set 0001): QTY02 quantity (qualifier "17") is missing`,
				`line 8, QTY (segment 6 of set 0001): QTY02 quantity on hand "-1" is negative`,
			}, x12.ErrNotNumber},
		{"QTY before LIN, two units, no item ID, bad date", `BIA*00*DD*REF1*2024101
QTY*33*1
LIN**ZZ*X
QTY*33*1*EA
QTY*17*1*CA`, "",
			[]string{
				`line 5, QTY (segment 3 of set 0001): QTY before any LIN: a quantity must follow the item it counts`,
				`line 6, LIN (segment 4 of set 0001): LIN03 item has no product ID with a qualifier of VP, VN, VC, SK, BP, IN, CB, UP, UK, UA, EN (found: ZZ)`,
				`line 8, QTY (segment 6 of set 0001): QTY03 unit "CA" differs from the item's unit "EA" (line 7): one item has one unit`,
				`line 4, BIA (segment 2 of set 0001): BIA04 date "2024101" is not CCYYMMDD`,
			}, x12.ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := buildSet(t, "846", tc.segments)
			got, err := x12.InventoryFrom846(ts, x12.EnvelopeOf("acme", ts), x12.Options{})
			if msgs := errorStrings(err); strings.Join(msgs, "\n") != strings.Join(tc.errs, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(tc.errs, "\n"))
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(err, %v) = false", tc.is)
			}
			if err != nil {
				var me *x12.MappingError
				if !errors.As(err, &me) {
					t.Errorf("error is not a *MappingError")
				}
				return
			}
			j, _ := json.Marshal(got)
			if string(j) != tc.want {
				t.Errorf("advice\n got %s\nwant %s", j, tc.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("advice does not validate: %v", err)
			}
		})
	}
	ts := buildSet(t, "850", minimal850)
	if _, err := x12.InventoryFrom846(ts, x12.Envelope{}, x12.Options{}); !errors.Is(err, x12.ErrWrongSet) {
		t.Errorf("an 850: %v, want ErrWrongSet", err)
	}
}

func TestOutboundDelimiterInData(t *testing.T) {
	c := testConfirm()
	c.Service = "2ND*DAY"
	var buf bytes.Buffer
	w, err := edi.NewWriter(&buf, edi.DefaultDelimiters)
	must(t, err)
	must(t, w.BeginInterchange(&edi.Interchange{SenderQualifier: "ZZ", SenderID: "A", ReceiverQualifier: "ZZ", ReceiverID: "B",
		Date: "241015", Time: "1805", Version: "00401", ControlNumber: "1", Usage: "T"}))
	must(t, w.BeginGroup(&edi.FunctionalGroup{FunctionalID: "SH", ApplicationSender: "A", ApplicationReceiver: "B", Date: "20241015", Time: "1805", ControlNumber: "1", Version: "004010"}))
	must(t, w.Flush())
	before := buf.Len()
	err = x12.WriteASN856(w, "0001", c, testOrder(), testOutboundOptions())
	if !errors.Is(err, edi.ErrDelimiterInData) || !strings.Contains(err.Error(), "TD505") {
		t.Errorf("got %v, want ErrDelimiterInData naming TD505", err)
	}
	must(t, w.Flush())
	if buf.Len() != before {
		t.Errorf("wrote %q despite the error", buf.Bytes()[before:])
	}
	must(t, w.EndGroup())
}
