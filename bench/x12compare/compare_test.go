package x12compare

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/jf-tech/omniparser/extensions/omniv21/fileformat/edi"
	"github.com/paklog/integration-hub/edi/x12"
)

// Environment:
//
//	X12COMPARE_MB    size of each generated file in MB (default 100)
//	X12COMPARE_DIR   where the files are written (default: a temp dir); the
//	                 Node run reads them from there
//	X12COMPARE_NODE  NODE_PATH holding x12-parser (the node_modules of an
//	                 `npm install --no-save --prefix DIR x12-parser`); without it
//	                 the npm-x12-parser benchmarks are skipped
func size() int {
	if v, err := strconv.Atoi(os.Getenv("X12COMPARE_MB")); err == nil && v > 0 {
		return v << 20
	}
	return 100 << 20
}

type input struct {
	path string
	data []byte
	segs int // segments, counted by the hub's Reader
}

var (
	inputsOnce sync.Once
	inputs     map[string]*input
	inputsErr  error
)

func loadInputs(tb testing.TB) map[string]*input {
	tb.Helper()
	inputsOnce.Do(func() {
		dir := os.Getenv("X12COMPARE_DIR")
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "x12compare")
		}
		if inputsErr = os.MkdirAll(dir, 0o755); inputsErr != nil {
			return
		}
		var paths map[string]string
		if paths, inputsErr = WriteFiles(dir, size()); inputsErr != nil {
			return
		}
		inputs = map[string]*input{}
		for name, p := range paths {
			in := &input{path: p}
			if in.data, inputsErr = os.ReadFile(p); inputsErr != nil {
				return
			}
			r := x12.NewReader(bytes.NewReader(in.data))
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					inputsErr = fmt.Errorf("%s: %w", p, err)
					return
				}
				in.segs++
			}
			inputs[name] = in
		}
	})
	if inputsErr != nil {
		tb.Fatal(inputsErr)
	}
	return inputs
}

// measure runs body under b.Loop and reports MB/s (via SetBytes),
// allocs/op, segments/op and allocations per segment.
func measure(b *testing.B, in *input, body func() int) {
	b.SetBytes(int64(len(in.data)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, segs := 0, 0
	for b.Loop() {
		segs = body()
		n++
	}
	runtime.ReadMemStats(&after)
	if segs != in.segs {
		b.Fatalf("read %d segments, the hub's Reader read %d", segs, in.segs)
	}
	b.ReportMetric(float64(segs), "segs/op")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(n)/float64(segs), "allocs/seg")
}

func BenchmarkX12(b *testing.B) {
	ins := loadInputs(b)
	for _, f := range Files {
		in := ins[f.Name]
		b.Run(f.Name, func(b *testing.B) {
			b.Run("hub-reader", func(b *testing.B) { measure(b, in, func() int { return hubReader(b, in.data) }) })
			b.Run("hub-decoder-envelope", func(b *testing.B) { measure(b, in, func() int { return hubDecoder(b, in.data) }) })
			b.Run("hub-decoder-specs", func(b *testing.B) {
				specs := x12.StandardSpecs()
				measure(b, in, func() int { return hubDecoder(b, in.data, x12.WithSpecs(specs)) })
			})
			b.Run("omniparser-edi", func(b *testing.B) { measure(b, in, func() int { return omniReader(b, in.data, omniDecl) }) })
			b.Run("omniparser-edi-ignorecrlf", func(b *testing.B) {
				measure(b, in, func() int { return omniReader(b, in.data, omniDeclIgnoreCRLF) })
			})
			b.Run("bytes-split", func(b *testing.B) { measure(b, in, func() int { return split(in.data) }) })
			b.Run("npm-x12-parser", func(b *testing.B) { nodeX12Parser(b, in) })
		})
	}
}

func hubReader(tb testing.TB, data []byte) int {
	r := x12.NewReader(bytes.NewReader(data))
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
}

// hubDecoder decodes the stream into transaction sets with the envelopes
// (and, with x12.WithSpecs, every set) validated, and fails on any
// problem. It returns the number of segments: those of the sets plus the
// envelope segments.
func hubDecoder(tb testing.TB, data []byte, opts ...x12.Option) int {
	d := x12.NewDecoder(bytes.NewReader(data), opts...)
	n := 0
	for {
		ev, err := d.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		switch ev.Kind {
		case x12.SetEnd:
			if !ev.Set.Accepted() {
				tb.Fatal(x12.ErrorList(ev.Set.Errors))
			}
			n += len(ev.Set.Segments)
		case x12.InterchangeStart, x12.InterchangeEnd, x12.GroupStart, x12.GroupEnd:
			n++
			if ev.Kind == x12.InterchangeEnd && len(ev.Interchange.Errors) > 0 {
				tb.Fatal(x12.ErrorList(ev.Interchange.Errors))
			}
			if ev.Kind == x12.GroupEnd && len(ev.Group.Errors) > 0 {
				tb.Fatal(x12.ErrorList(ev.Group.Errors))
			}
		}
	}
}

// omniDecl describes the generated files to omniparser: it does not read
// the delimiters from the ISA, they are declared. "~\n" as the segment
// delimiter is the cheapest way to let it skip the line breaks
// (IgnoreCRLF wraps the input in two byte-replacing readers).
var omniDecl = func() *edi.FileDecl {
	comp := ">"
	return &edi.FileDecl{SegDelim: "~\n", ElemDelim: "*", CompDelim: &comp}
}()

// omniDeclIgnoreCRLF is the other way to describe the same files to
// omniparser: "~" as the segment delimiter, with line breaks removed from
// the input (IgnoreCRLF), which also works when a partner mixes line
// endings or sends none.
var omniDeclIgnoreCRLF = func() *edi.FileDecl {
	comp := ">"
	return &edi.FileDecl{SegDelim: "~", ElemDelim: "*", CompDelim: &comp, IgnoreCRLF: true}
}()

func omniReader(tb testing.TB, data []byte, decl *edi.FileDecl) int {
	r := edi.NewNonValidatingReader(bytes.NewReader(data), decl)
	n := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
}

// split is the floor: a naive bytes.Split on the segment terminator.
func split(data []byte) int {
	segs := bytes.Split(data, []byte{'~'})
	n := 0
	for _, s := range segs {
		if len(bytes.TrimSpace(s)) > 0 {
			n++
		}
	}
	return n
}

// nodeX12Parser runs node/x12parser-count.js once per iteration and
// replaces ns/op with the time Node measured from opening the stream to
// the parser's end (Node start-up and module loading excluded).
func nodeX12Parser(b *testing.B, in *input) {
	nodePath := os.Getenv("X12COMPARE_NODE")
	if nodePath == "" {
		b.Skip("X12COMPARE_NODE not set: npm x12-parser not installed")
	}
	var total float64
	var segs int
	n := 0
	for b.Loop() {
		cmd := exec.Command("node", "node/x12parser-count.js", in.path)
		cmd.Env = append(os.Environ(), "NODE_PATH="+nodePath)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("node: %v\n%s", err, stderr.Bytes())
		}
		var res struct {
			Version  string
			Segments int
			Bytes    int
			Ns       float64
		}
		if err := json.Unmarshal(out, &res); err != nil {
			b.Fatalf("node output %q: %v", out, err)
		}
		if res.Bytes != len(in.data) {
			b.Fatalf("node read %d bytes, want %d", res.Bytes, len(in.data))
		}
		total += res.Ns
		segs = res.Segments
		n++
	}
	if segs != in.segs {
		b.Errorf("x12-parser emitted %d segments, the hub's Reader read %d", segs, in.segs)
	}
	nsPerOp := total / float64(n)
	b.ReportMetric(nsPerOp, "ns/op")
	b.ReportMetric(float64(len(in.data))/nsPerOp*1e9/1e6, "MB/s")
	b.ReportMetric(float64(segs), "segs/op")
}

// TestInputsValid checks that the generated files are valid against the
// hub's 004010 specifications and that every parser sees the same
// segments.
func TestInputsValid(t *testing.T) {
	ins := loadInputs(t)
	specs := x12.StandardSpecs()
	for _, f := range Files {
		in := ins[f.Name]
		t.Run(f.Name, func(t *testing.T) {
			if n := hubDecoder(t, in.data, x12.WithSpecs(specs)); n != in.segs {
				t.Errorf("decoder: %d segments, reader %d", n, in.segs)
			}
			if n := omniReader(t, in.data, omniDecl); n != in.segs {
				t.Errorf("omniparser: %d segments, hub reader %d", n, in.segs)
			}
			if n := omniReader(t, in.data, omniDeclIgnoreCRLF); n != in.segs {
				t.Errorf("omniparser (IgnoreCRLF): %d segments, hub reader %d", n, in.segs)
			}
			if n := split(in.data); n != in.segs {
				t.Errorf("bytes.Split: %d segments, hub reader %d", n, in.segs)
			}
			t.Logf("%s: %d bytes, %d segments (%.1f bytes/segment)", in.path, len(in.data), in.segs, float64(len(in.data))/float64(in.segs))
		})
	}
}

// TestHubReaderHotLoopAllocs: after a warm-up, reading one more segment
// allocates nothing (testing.AllocsPerRun over 100,000 segments).
func TestHubReaderHotLoopAllocs(t *testing.T) {
	ins := loadInputs(t)
	for _, f := range Files {
		in := ins[f.Name]
		t.Run(f.Name, func(t *testing.T) {
			r := x12.NewReader(bytes.NewReader(in.data))
			for range 1000 {
				if _, err := r.Next(); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(100000, func() {
				if _, err := r.Next(); err != nil && !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
			})
			t.Logf("hub Reader hot loop: %v allocations per segment", allocs)
			if allocs != 0 {
				t.Errorf("%v allocations per segment, want 0", allocs)
			}
		})
	}
}
