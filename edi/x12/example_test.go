package x12_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/paklog/integration-hub/edi/x12"
)

const order = `ISA*00*          *00*          *ZZ*RETAILER       *ZZ*PAKLOG         *240115*0930*^*00501*000000001*0*P*:~
GS*PO*RETAILER*PAKLOG*20240115*0930*1*X*005010~
ST*850*0001~
BEG*00*SA*PO-1001**20240115~
N1*ST*ACME STORE 12*92*0012~
PO1*1*24*EA*9.25**VN*SKU-100~
SE*5*0001~
ST*850*0002~
BEG*00*SA*PO-1002**20240115~
SE*4*0002~
GE*2*1~
IEA*1*000000001~
`

// Read the segments one by one, with their location.
func ExampleReader() {
	r := x12.NewReader(strings.NewReader(order))
	for {
		seg, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if seg.ID == "PO1" {
			fmt.Printf("line %d, segment %d of its set: %s quantity %s of %s\n",
				seg.Line, seg.Position, seg.ID, seg.Element(2), seg.Element(7))
		}
	}
	// Output:
	// line 6, segment 4 of its set: PO1 quantity 24 of SKU-100
}

// Walk the envelopes: the first set is good, the second says it has four
// segments but has three, and is reported with its 997 code.
func ExampleDecoder() {
	d := x12.NewDecoder(strings.NewReader(order))
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		switch ev.Kind {
		case x12.InterchangeStart:
			fmt.Printf("interchange %s from %s\n", ev.Interchange.ControlNumber, ev.Interchange.SenderID)
		case x12.SetEnd:
			fmt.Printf("set %s %s: PO %s, accepted %v\n", ev.Set.ID, ev.Set.ControlNumber,
				ev.Set.Segments[1].Element(3), ev.Set.Accepted())
			for _, err := range ev.Set.Errors {
				var ve *x12.ValidationError
				if errors.As(err, &ve) {
					fmt.Printf("  %v (%s %s)\n", ve, ve.Code, ve.Code.Description())
				}
			}
		}
	}
	// Output:
	// interchange 000000001 from RETAILER
	// set 850 0001: PO PO-1001, accepted true
	// set 850 0002: PO PO-1002, accepted false
	//   line 10, SE (segment 3 of set 0002): SE01 says 4 segments, the set has 3 (AK502 4 Number of Included Segments Does Not Match Actual Count)
}

// Write an interchange with a partner's delimiters; the envelope helpers
// count the segments, sets and groups.
func ExampleWriter() {
	w, err := x12.NewWriter(os.Stdout, x12.Delimiters{Element: '*', Component: '>', Segment: "~"}, x12.WithLineEnding("\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	steps := []error{
		w.BeginInterchange(&x12.Interchange{SenderQualifier: "ZZ", SenderID: "PAKLOG", ReceiverQualifier: "ZZ", ReceiverID: "RETAILER",
			Date: "240115", Time: "0930", Version: "00401", ControlNumber: "42", Usage: "P"}),
		w.BeginGroup(&x12.FunctionalGroup{FunctionalID: "SW", ApplicationSender: "PAKLOG", ApplicationReceiver: "RETAILER",
			Date: "20240115", Time: "0930", ControlNumber: "42", Version: "004010"}),
		w.BeginSet(&x12.TransactionSet{ID: "945", ControlNumber: "0001"}),
		w.Write("W06", "N", "PO-1001", "20240115", "SHIP-9"),
		w.Write("N1", "ST", "ACME STORE 12"),
		w.EndSet(),
		w.EndGroup(),
		w.EndInterchange(),
		w.Flush(),
	}
	if err := errors.Join(steps...); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ISA*00*          *00*          *ZZ*PAKLOG         *ZZ*RETAILER       *240115*0930*U*00401*000000042*0*P*>~
	// GS*SW*PAKLOG*RETAILER*20240115*0930*42*X*004010~
	// ST*945*0001~
	// W06*N*PO-1001*20240115*SHIP-9~
	// N1*ST*ACME STORE 12~
	// SE*4*0001~
	// GE*1*42~
	// IEA*1*000000042~
}

// Validate reports every problem of a stream at once.
func ExampleValidate() {
	bad := strings.Replace(order, "GE*2*1~", "GE*3*7~", 1)
	err := x12.Validate(strings.NewReader(bad))
	fmt.Println(err)
	fmt.Println(errors.Is(err, x12.ErrControlNumberMismatch))
	// Output:
	// line 10, SE (segment 3 of set 0002): SE01 says 4 segments, the set has 3
	// line 11, GE: GE01 says 3 transaction sets, the group has 2
	// line 11, GE: GE02 "7" does not match GS06 "1"
	// true
}

// Acknowledge a stream: the second set is rejected in the 997 for its
// segment count (AK5 code 4) and, checked against the 005010 850 table,
// for its missing PO1 loop (AK3 code 3, AK5 code 5).
func ExampleAcknowledge() {
	w, err := x12.NewWriter(os.Stdout, x12.DefaultDelimiters, x12.WithLineEnding("\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	numbers := map[string]int{}
	err = x12.Acknowledge(strings.NewReader(order), w, x12.AckConfig{
		ControlNumber: func(segment string) string {
			numbers[segment]++
			return fmt.Sprintf("%04d", numbers[segment])
		},
		Now:     func() time.Time { return time.Date(2024, 1, 15, 9, 45, 0, 0, time.UTC) },
		Options: []x12.Option{x12.WithSpecs(x12.StandardSpecs())},
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// ISA*00*          *00*          *ZZ*PAKLOG         *ZZ*RETAILER       *240115*0945*^*00501*000000001*0*P*:~
	// GS*FA*PAKLOG*RETAILER*20240115*0945*0001*X*005010~
	// ST*997*0001~
	// AK1*PO*1~
	// AK2*850*0001~
	// AK5*A~
	// AK2*850*0002~
	// AK3*PO1*3*PO1*3~
	// AK5*R*4*5~
	// AK9*P*2*2*1~
	// SE*9*0001~
	// GE*1*0001~
	// IEA*1*000000001~
}
