package x12

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// gen850 generates, on the fly, one interchange holding sets 850 purchase
// orders of 32 segments (about 1 KB each), so that tests can read streams
// far larger than what they keep in memory.
type gen850 struct {
	sets  int
	next  int // sets generated so far
	state int // 0 header, 1 sets, 2 trailer, 3 done
	buf   []byte
	off   int
}

func newGen850(sets int) *gen850 { return &gen850{sets: sets} }

func (g *gen850) Read(p []byte) (int, error) {
	for g.off == len(g.buf) {
		g.buf, g.off = g.buf[:0], 0
		switch g.state {
		case 0:
			g.buf = append(g.buf, testISA('*', 'U', ':', "~", "00401", "000000001")+"\n"+
				"GS*PO*SENDER*RECEIVER*20240115*0930*1*X*004010~\n"...)
			g.state = 1
		case 1:
			if g.next == g.sets {
				g.buf = fmt.Appendf(g.buf, "GE*%d*1~\nIEA*1*000000001~\n", g.sets)
				g.state = 2
				break
			}
			g.next++
			g.buf = g.appendSet(g.buf, g.next)
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

func (g *gen850) appendSet(b []byte, n int) []byte {
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
	return append(b, "~\n"...)
}

// appendNum appends n zero-padded to width digits, without allocating.
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

// benchData is a ~10 MB interchange of 850s, generated once.
var benchData = sync850(10 << 20)

func sync850(size int) func() []byte {
	var data []byte
	return func() []byte {
		if data == nil {
			data, _ = io.ReadAll(newGen850(size / 1060))
		}
		return data
	}
}

// BenchmarkReader tokenises a generated ~10 MB 850 interchange. It reports
// MB/s, allocations per run and per segment (zero in the hot loop: the
// segment is reused and its ID interned).
func BenchmarkReader(b *testing.B) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var segs int
	for b.Loop() {
		segs = 0
		r := NewReader(bytes.NewReader(data))
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			segs++
		}
	}
	b.ReportMetric(float64(segs), "segments/op")
}

// BenchmarkDecoder reads the same file as transaction sets with the
// envelope validated.
func BenchmarkDecoder(b *testing.B) { benchmarkDecoder(b) }

// BenchmarkDecoderSpecs also validates every 850 against its 004010
// specification.
func BenchmarkDecoderSpecs(b *testing.B) { benchmarkDecoder(b, WithSpecs(StandardSpecs())) }

func benchmarkDecoder(b *testing.B, opts ...Option) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := NewDecoder(bytes.NewReader(data), opts...)
		for {
			ev, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if ev.Kind == SetEnd && !ev.Set.Accepted() {
				b.Fatal(ev.Set.Errors)
			}
		}
	}
}

// TestReaderAllocations: after warming up, reading a segment allocates
// nothing.
func TestReaderAllocations(t *testing.T) {
	data := benchData()
	r := NewReader(bytes.NewReader(data))
	for range 100 { // warm up: buffers and interned IDs
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(10000, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per segment, want 0", allocs)
	}
}

// TestMemoryBounded streams a generated 50 MB interchange through the
// Reader and the Decoder and checks, with runtime.MemStats, that the heap
// in use stays within a few MB of where it started: memory depends on the
// longest segment (Reader) or set (Decoder), not on the stream.
func TestMemoryBounded(t *testing.T) {
	const sets = 50 << 20 / 1060 // about 50 MB
	const limit = 4 << 20
	check := func(t *testing.T, next func() (bool, error)) {
		// Live heap, measured after a collection every 100,000 steps: what
		// the reader keeps, not the garbage it has not collected yet.
		var ms runtime.MemStats
		live := func() uint64 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			return ms.HeapAlloc
		}
		base := live()
		peak := base
		for i := 1; ; i++ {
			more, err := next()
			if err != nil {
				t.Fatal(err)
			}
			if !more {
				break
			}
			if i%100000 == 0 {
				peak = max(peak, live())
			}
		}
		if peak > base+limit {
			t.Errorf("live heap grew from %d to %d bytes, more than %d", base, peak, limit)
		}
		t.Logf("live heap: %d KB at the start, %d KB at the peak", base>>10, peak>>10)
	}
	t.Run("Reader", func(t *testing.T) {
		gen := newGen850(sets)
		r := NewReader(gen)
		check(t, func() (bool, error) {
			_, err := r.Next()
			if err == io.EOF {
				return false, nil
			}
			return true, err
		})
		if gen.next != sets {
			t.Errorf("read %d sets, want %d", gen.next, sets)
		}
	})
	t.Run("Decoder", func(t *testing.T) {
		d := NewDecoder(newGen850(sets))
		n := 0
		check(t, func() (bool, error) {
			ev, err := d.Next()
			if err == io.EOF {
				return false, nil
			}
			if err == nil && ev.Kind == SetEnd {
				n++
				if !ev.Set.Accepted() {
					return false, ErrorList(ev.Set.Errors)
				}
			}
			if err == nil && ev.Kind == InterchangeEnd && len(ev.Interchange.Errors) > 0 {
				return false, ErrorList(ev.Interchange.Errors)
			}
			return true, err
		})
		if n != sets {
			t.Errorf("decoded %d sets, want %d", n, sets)
		}
	})
}
