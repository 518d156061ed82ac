// Command x12table reads `go test -bench BenchmarkX12` output (several
// -count runs) and prints the comparison table: the median of each metric
// per file and parser, and the ratios the issue asks for.
//
//	go run ./cmd/x12table bench.txt
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

type key struct{ file, parser string }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: x12table bench.txt")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	vals := map[key]map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "BenchmarkX12/") {
			continue
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 { // -GOMAXPROCS suffix
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		parts := strings.Split(name, "/")
		if len(parts) != 3 {
			continue
		}
		k := key{parts[1], parts[2]}
		if vals[k] == nil {
			vals[k] = map[string][]float64{}
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			vals[k][fields[i+1]] = append(vals[k][fields[i+1]], v)
		}
	}
	median := func(file, parser, unit string) (float64, int, bool) {
		xs := vals[key{file, parser}][unit]
		if len(xs) == 0 {
			return 0, 0, false
		}
		xs = slices.Clone(xs)
		slices.Sort(xs)
		m := xs[len(xs)/2]
		if len(xs)%2 == 0 {
			m = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
		}
		return m, len(xs), true
	}
	minmax := func(file, parser, unit string) string {
		xs := vals[key{file, parser}][unit]
		if len(xs) == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f–%.1f", slices.Min(xs), slices.Max(xs))
	}
	mbps := func(file, parser string) string {
		m, n, ok := median(file, parser, "MB/s")
		if !ok {
			return "n/a"
		}
		return fmt.Sprintf("%.1f (%s, n=%d)", m, minmax(file, parser, "MB/s"), n)
	}
	allocs := func(file, parser string) string {
		m, _, ok := median(file, parser, "allocs/seg")
		if !ok {
			return "n/a"
		}
		return strconv.FormatFloat(m, 'g', 3, 64)
	}
	ratio := func(file, a, b string) string {
		x, _, ok1 := median(file, a, "MB/s")
		y, _, ok2 := median(file, b, "MB/s")
		if !ok1 || !ok2 || y == 0 {
			return "n/a"
		}
		if x/y < 1 {
			return fmt.Sprintf("%.2f×", x/y)
		}
		return fmt.Sprintf("%.1f×", x/y)
	}
	parsers := []struct{ id, label string }{
		{"hub-reader", "hub edi/x12 Reader (tokenise)"},
		{"hub-decoder-envelope", "hub edi/x12 Decoder, envelopes"},
		{"hub-decoder-specs", "hub edi/x12 Decoder + WithSpecs(StandardSpecs()) (full validation)"},
		{"omniparser-edi", "omniparser edi.NonValidatingReader (SegDelim \"~\\n\")"},
		{"omniparser-edi-ignorecrlf", "omniparser edi.NonValidatingReader (SegDelim \"~\", IgnoreCRLF)"},
		{"npm-x12-parser", "npm x12-parser (Node stream)"},
		{"bytes-split", "bytes.Split on '~' (floor)"},
	}
	for _, file := range []string{"850", "856"} {
		segs, _, _ := median(file, "hub-reader", "segs/op")
		fmt.Printf("\n### %s (%.0f segments)\n\n", file, segs)
		fmt.Println("| parser | MB/s median (min–max, runs) | allocs/segment | hub Reader ÷ this | full validation ÷ this |")
		fmt.Println("|---|---|---|---|---|")
		for _, p := range parsers {
			fmt.Printf("| %s | %s | %s | %s | %s |\n", p.label, mbps(file, p.id), allocs(file, p.id),
				ratio(file, "hub-reader", p.id), ratio(file, "hub-decoder-specs", p.id))
		}
		fastest, fastestMB := "", 0.0
		for _, p := range []string{"omniparser-edi", "omniparser-edi-ignorecrlf", "npm-x12-parser"} {
			if m, _, ok := median(file, p, "MB/s"); ok && m > fastestMB {
				fastest, fastestMB = p, m
			}
		}
		reader, _, _ := median(file, "hub-reader", "MB/s")
		rallocs, _, _ := median(file, "hub-reader", "allocs/seg")
		fmt.Println()
		fmt.Printf("- aim ≥ 300 MB/s tokenising: %.1f MB/s → %s\n", reader, met(reader >= 300))
		if fastest != "" {
			fmt.Printf("- aim ≥ 10× the fastest other parser (%s, %.1f MB/s): %.1f× → %s\n", fastest, fastestMB, reader/fastestMB, met(reader >= 10*fastestMB))
		}
		fmt.Printf("- allocations per segment over the whole file, hub Reader: %.3g (setup amortised; the hot loop is checked by TestHubReaderHotLoopAllocs)\n", rallocs)
	}
}

func met(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}
