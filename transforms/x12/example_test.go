package x12_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	edi "github.com/paklog/integration-hub/edi/x12"
	"github.com/paklog/integration-hub/transforms/x12"
)

func Example() {
	file := strings.NewReader(`ISA*00*          *00*          *ZZ*RETAILER       *ZZ*PAKLOG         *240115*0930*U*00401*000000101*0*P*>~
GS*PO*RETAILER*PAKLOG*20240115*0930*7*X*004010~
ST*850*0001~
BEG*00*SA*PO-4471**20240115~
DTM*010*20240117~
TD5**2*UPSN*U*UPS GROUND~
N1*ST*DANA WHITFIELD~
N3*1200 MARKET ST~
N4*SAN FRANCISCO*CA*94102*US~
PO1*1*2*EA*19.95**VP*TENT-2P*UP*012345678905~
PID*F****TWO PERSON TENT~
PO1*2*8*EA*4.50**VP*STAKE-AL~
SE*11*0001~
ST*850*0002~
BEG*00*SA*PO-4472**20240115~
N1*ST*BEN OKAFOR~
N3*400 FRONT ST W~
N4*TORONTO*ON*M5V 3A8*CA~
PO1*1*1x*EA***VP*BAG-35L~
SE*7*0002~
GE*2*7~
IEA*1*000000101~
`)
	opts := x12.Options{DefaultCurrency: "USD"}
	d := edi.NewDecoder(file)
	for {
		ev, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if ev.Kind != edi.SetEnd || ev.Set.ID != "850" {
			continue
		}
		o, err := x12.OrderFrom850(ev.Set, x12.EnvelopeOf("retailer", ev.Set), opts)
		if err != nil {
			fmt.Printf("set %s rejected:\n%v\n", ev.Set.ControlNumber, err)
			continue
		}
		fmt.Printf("set %s: order %s to %s, %s; ship on %s by %s %s\n", ev.Set.ControlNumber, o.OrderNumber,
			o.ShipTo.Name, o.ShipTo.Country, o.Shipping.RequestedShipDate, o.Shipping.Carrier, o.Shipping.ServiceLevel)
		for _, l := range o.Lines {
			fmt.Printf("  line %s: %g %s of %s\n", l.LineNumber, l.Quantity, l.UOM, l.SKU)
		}
	}
	// Output:
	// set 0001: order PO-4471 to DANA WHITFIELD, US; ship on 2024-01-17 by UPS ground
	//   line 1: 2 EA of TENT-2P
	//   line 2: 8 EA of STAKE-AL
	// set 0002 rejected:
	// line 19, PO1 (segment 6 of set 0002): PO102 quantity "1x" is not a number
}
