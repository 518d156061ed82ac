package x12_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
	"github.com/paklog/integration-hub/transforms/x12"
)

// FuzzOrderFrom850 reads any bytes through the decoder and translates every
// 850 set: no panic, and either an error or an order that validates once
// the intake's fields are filled. Seeded from the fixtures.
//
//	go test -run '^$' -fuzz FuzzOrderFrom850 -fuzztime 20s ./transforms/x12/
func FuzzOrderFrom850(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*850*.edi"))
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(testISA + "GS*PO*S*R*20240115*0930*7*X*004010~ST*850*0001~" +
		"BEG*00*SA*PO-1**20240110~CUR*BY*USD~DTM*002*20240115~TD5**2*UPSN*U*UPS GROUND~" +
		"N1*ST*DANA~N3*1 MAIN ST~N4*SF*CA*94102*US~PO1*1*2*EA*1.5**VN*V-1~PID*F****X~SE*12*0001~GE*1*7~IEA*1*000000101~"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		d := edi.NewDecoder(bytes.NewReader(data))
		for range 1000 {
			ev, err := d.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var se *edi.SyntaxError
			if errors.As(err, &se) {
				continue
			}
			if err != nil {
				return
			}
			if ev.Kind != edi.SetEnd {
				continue
			}
			o, err := x12.OrderFrom850(ev.Set, x12.EnvelopeOf("fuzz", ev.Set), x12.Options{})
			if err != nil {
				var me *x12.MappingError
				if !errors.As(err, &me) {
					t.Fatalf("error is not a *MappingError: %v", err)
				}
				continue
			}
			o.OrderID = canonical.NewOrderID()
			o.Source.ReceivedAt = placeholderTime
			if err := o.Validate(); err != nil {
				t.Fatalf("translated order does not validate: %v", err)
			}
		}
	})
}
