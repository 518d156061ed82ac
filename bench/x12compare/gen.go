// Package x12compare benchmarks the hub's edi/x12 reader and validator
// against published X12 parsers from other projects (see README.md). It is
// a separate module so that the other parsers never enter the hub's go.mod.
package x12compare

import (
	"fmt"
	"os"
	"path/filepath"
)

// isa returns a 106-byte ISA for version 00401 with delimiters * U > ~,
// followed by a LF, the way most partners send them.
func isa(control string) []byte {
	return []byte("ISA*00*          *00*          *ZZ*PAKLOGBENCH    *ZZ*RETAILER       *240115*0930*U*00401*" +
		control + "*0*P*>~\n")
}

// appendNum appends n zero-padded to width digits.
func appendNum(b []byte, n, width int) []byte {
	var d [20]byte
	i := len(d)
	for n > 0 || i > len(d)-width {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[i:]...)
}

// Gen850 returns one interchange of one group holding 850 purchase orders
// of 34 segments (10 PO1/PID lines, about 1.1 KB each), at least size bytes,
// one segment per line ("~\n"). Every set is valid against the hub's
// 004010 850 specification.
func Gen850(size int) []byte {
	b := make([]byte, 0, size+4096)
	b = append(b, isa("000000850")...)
	b = append(b, "GS*PO*PAKLOGBENCH*RETAILER*20240115*0930*850*X*004010~\n"...)
	n := 0
	for len(b) < size {
		n++
		b = appendNum(append(b, "ST*850*"...), n, 9)
		b = appendNum(append(b, "~\nBEG*00*SA*PO"...), n, 7)
		b = append(b, "**20240115~\nREF*DP*038~\nREF*IA*VENDOR42~\nDTM*002*20240201~\nTD5*A*92*P3**SEE ROUTING GUIDE~\n"...)
		b = append(b, "N9*ZZ*NOTES~\nMSG*DELIVER TO DOCK 4 BETWEEN 8AM AND 4PM~\n"...)
		b = append(b, "N1*ST*ACME RETAIL STORE 0042*92*0042~\nN3*31875 SOLON RD~\nN4*SOLON*OH*44139*US~\n"...)
		for line := 1; line <= 10; line++ {
			b = appendNum(append(b, "PO1*"...), line, 1)
			b = appendNum(append(b, '*'), 12*line, 1)
			b = appendNum(append(b, "*EA*9.25*PE*UP*0"...), 12345678900+line, 11)
			b = appendNum(append(b, "*VN*SKU-"...), line, 5)
			b = appendNum(append(b, "~\nPID*F****WIDGET, BLUE, SIZE "...), line, 1)
			b = append(b, "~\n"...)
		}
		b = append(b, "CTT*10*660~\nAMT*TT*6105~\n"...)
		b = appendNum(append(b, "SE*34*"...), n, 9)
		b = append(b, "~\n"...)
	}
	b = fmt.Appendf(b, "GE*%d*850~\nIEA*1*000000850~\n", n)
	return b
}

// Gen856 returns one interchange of one group holding 856 ship notices
// with a full HL hierarchy, at least size bytes, one segment per line.
// Each set has one shipment (S) with carrier, references, dates and
// ship-from/ship-to; 2 orders (O); 3 packs (P) per order with an SSCC-18
// in MAN; 2 items (I) per pack with LIN, SN1 and PID: 21 HL loops and 89
// segments, about 1.9 KB. Every set is valid against the hub's 004010 856
// specification (HL hierarchy included).
func Gen856(size int) []byte {
	b := make([]byte, 0, size+4096)
	b = append(b, isa("000000856")...)
	b = append(b, "GS*SH*PAKLOGBENCH*RETAILER*20240115*0930*856*X*004010~\n"...)
	n := 0
	for len(b) < size {
		n++
		segs := 0
		seg := func(s string) { b = append(b, s...); segs++ }
		b = appendNum(append(b, "ST*856*"...), n, 9)
		b = appendNum(append(b, "~\nBSN*00*SHIP"...), n, 9)
		b = append(b, "*20240115*0930*0001~\n"...)
		segs += 2
		seg("DTM*011*20240115*0930~\n")
		seg("HL*1**S~\n")
		seg("TD1*CTN25*6****G*84.5*LB~\n")
		seg("TD5*B*2*UPSN*M*UPS GROUND~\n")
		b = appendNum(append(b, "REF*BM*BOL"...), n, 9)
		b = append(b, "~\n"...)
		segs++
		b = appendNum(append(b, "REF*CN*1Z999AA1"...), n, 9)
		b = append(b, "~\n"...)
		segs++
		seg("DTM*017*20240118~\n")
		seg("N1*SF*PAKLOG DC 3*92*DC03~\nN3*100 LOGISTICS PKWY~\nN4*COLUMBUS*OH*43217*US~\n")
		segs += 2
		seg("N1*ST*ACME RETAIL STORE 0042*92*0042~\nN3*31875 SOLON RD~\nN4*SOLON*OH*44139*US~\n")
		segs += 2
		hl := 1
		for o := 1; o <= 2; o++ {
			hl++
			oHL := hl
			b = appendNum(append(b, "HL*"...), oHL, 1)
			b = append(b, "*1*O~\n"...)
			b = appendNum(append(b, "PRF*PO"...), 2*n+o, 9)
			b = append(b, "***20240110~\nREF*IV*INV"...)
			b = appendNum(b, 2*n+o, 9)
			b = append(b, "~\n"...)
			segs += 3
			for p := 1; p <= 3; p++ {
				hl++
				pHL := hl
				b = appendNum(append(b, "HL*"...), pHL, 1)
				b = appendNum(append(b, '*'), oHL, 1)
				b = append(b, "*P~\nPO4*1****G*14.2*LB~\nMAN*GM*00006141410"...)
				b = appendNum(b, (n*6+o*3+p)%10000000, 7)
				b = append(b, "~\n"...)
				segs += 3
				for i := 1; i <= 2; i++ {
					hl++
					b = appendNum(append(b, "HL*"...), hl, 1)
					b = appendNum(append(b, '*'), pHL, 1)
					b = appendNum(append(b, "*I~\nLIN**UP*0"...), 12345678900+p*10+i, 11)
					b = appendNum(append(b, "*VN*SKU-"...), p*10+i, 5)
					b = appendNum(append(b, "~\nSN1**"...), 6*i, 1)
					b = append(b, "*EA~\nPID*F****WIDGET, BLUE, SIZE "...)
					b = appendNum(b, i, 1)
					b = append(b, "~\n"...)
					segs += 4
				}
			}
		}
		b = appendNum(append(b, "CTT*"...), hl, 1)
		b = append(b, "~\n"...)
		segs++
		b = appendNum(append(b, "SE*"...), segs+1, 1)
		b = appendNum(append(b, '*'), n, 9)
		b = append(b, "~\n"...)
	}
	b = fmt.Appendf(b, "GE*%d*856~\nIEA*1*000000856~\n", n)
	return b
}

// Files describes the generated inputs.
var Files = []struct {
	Name string
	Gen  func(int) []byte
}{
	{"850", Gen850},
	{"856", Gen856},
}

// WriteFiles generates the inputs of size bytes each into dir, as
// x12-850.edi and x12-856.edi (overwriting them), and returns their paths.
func WriteFiles(dir string, size int) (map[string]string, error) {
	paths := map[string]string{}
	for _, f := range Files {
		p := filepath.Join(dir, "x12-"+f.Name+".edi")
		paths[f.Name] = p
		if err := os.WriteFile(p, f.Gen(size), 0o644); err != nil {
			return nil, err
		}
	}
	return paths, nil
}
