package csv

import (
	"bufio"
	"bytes"
	stdcsv "encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paklog/integration-hub/canonical"
)

// Limits on what one row may hold. A longer field or row is a RowError;
// the reader moves on to the next line.
const (
	MaxFieldBytes = 64 << 10
	MaxRowBytes   = 1 << 20
)

// ErrTooManyRows is returned by Reader.Next when the file has more data
// rows than Config.MaxRows.
var ErrTooManyRows = errors.New("csv: too many rows")

// errRowTooLong is how the feeder stops encoding/csv mid-row.
var errRowTooLong = errors.New("row too long")

// Config configures a Reader.
type Config struct {
	// Partner is the partner key of the import, the source.partner of
	// every order. Required.
	Partner string
	// MaxRows caps the number of data rows (the header and blank rows do
	// not count); 0 means no limit. Past it, Next returns ErrTooManyRows.
	MaxRows int
}

// Validate reports every problem with the configuration.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Partner) == "" {
		errs = append(errs, errors.New("csv: Config.Partner is required: set it to the partner key the orders are imported for"))
	}
	if c.MaxRows < 0 {
		errs = append(errs, fmt.Errorf("csv: Config.MaxRows is %d: want 0 (no limit) or more", c.MaxRows))
	}
	return errors.Join(errs...)
}

// Batch is what Next returns for one order: the order, or every error that
// kept it back.
type Batch struct {
	// Order is the order, without order_id and received_at: the hub
	// assigns those when it accepts it. Nil when Errors is not empty.
	Order *canonical.Order
	// FirstLine and LastLine are the physical lines of the file (the
	// header is line 1) that the order's rows span.
	FirstLine, LastLine int
	// Errors lists every problem in the order's rows, by line.
	Errors []RowError
}

// RowError is one problem in a row: where it is, the value found and what
// is wrong with it.
type RowError struct {
	// Line is the physical line of the file the row starts on; the header
	// is line 1.
	Line int `json:"line"`
	// Column is the column's header name; empty when the problem is the
	// row as a whole.
	Column string `json:"column,omitempty"`
	// Value is the value found, trimmed, shortened when long; empty when
	// the cell is empty or the problem is not one value.
	Value string `json:"value,omitempty"`
	// Reason says what is wrong: "is not a number", "is required".
	Reason string `json:"reason"`
}

// Error returns `line 14, column quantity: "4x" is not a number`.
func (e RowError) Error() string {
	var b strings.Builder
	b.WriteString("line ")
	b.WriteString(strconv.Itoa(e.Line))
	if e.Column != "" {
		b.WriteString(", column ")
		b.WriteString(e.Column)
	}
	b.WriteString(": ")
	if e.Value != "" {
		b.WriteString(strconv.Quote(e.Value))
		b.WriteByte(' ')
	}
	b.WriteString(e.Reason)
	return b.String()
}

// HeaderError is a header row that does not fit the format. NewReader
// returns it listing every problem at once.
type HeaderError struct {
	// Line is the header's line, 1 unless blank lines come first.
	Line int
	// Missing lists the required columns not in the header.
	Missing []string
	// Unknown lists the header names that are not columns of the format.
	Unknown []string
	// Duplicate lists the columns named more than once.
	Duplicate []string
}

func (e *HeaderError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing required column(s) "+strings.Join(e.Missing, ", "))
	}
	if len(e.Unknown) > 0 {
		var names []string
		for _, u := range e.Unknown {
			n := strconv.Quote(shorten(u))
			if s := suggest(u); s != "" {
				n += " (did you mean " + s + "?)"
			}
			names = append(names, n)
		}
		known := make([]string, len(columns))
		for i, c := range columns {
			known[i] = c.Name
		}
		parts = append(parts, "unknown column(s) "+strings.Join(names, ", ")+"; the columns are "+strings.Join(known, ", "))
	}
	if len(e.Duplicate) > 0 {
		parts = append(parts, "column(s) named more than once: "+strings.Join(e.Duplicate, ", "))
	}
	return fmt.Sprintf("csv header (line %d): %s", e.Line, strings.Join(parts, "; "))
}

// Reader reads orders from an import file, one order per call to Next.
// It holds one order's rows in memory, plus a 64-bit hash and a line
// number per order number seen, to catch an order whose rows are not
// adjacent (two order numbers with the same hash, a chance of about one in
// 10^10 in a file of a million orders, would be reported as not adjacent).
// A Reader is not safe for concurrent use.
type Reader struct {
	cfg     Config
	feed    *feeder
	cr      *stdcsv.Reader
	index   []col // header position → column; -1 for an unnamed column
	nfields int
	hasCol  [numColumns]bool
	rows    int

	cur     *group
	pending *row
	taint   int // line of an unreadable row that ended the previous order
	ended   map[uint64]int
	seed    maphash.Seed
	err     error // sticky: io.EOF or a fatal error
}

// NewReader reads and checks the header of the file in r. The header names
// the columns, in any order and any case; a missing required column, an
// unknown or a repeated one is a *HeaderError naming them all. A UTF-8
// byte order mark before the header is skipped.
func NewReader(r io.Reader, cfg Config) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	feed := &feeder{br: bufio.NewReaderSize(r, 64<<10)}
	cr := stdcsv.NewReader(feed)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	rd := &Reader{cfg: cfg, feed: feed, cr: cr, ended: map[uint64]int{}, seed: maphash.MakeSeed()}

	feed.mark()
	header, err := cr.Read()
	var pe *stdcsv.ParseError
	switch {
	case err == io.EOF:
		return nil, errors.New("csv header: the file is empty; its first row must name the columns, e.g. order_number,ship_to_name,…")
	case feed.tripped:
		return nil, fmt.Errorf("csv header (line %d): the row is longer than %d bytes; is this a CSV file?", max(feed.rowStart, 1), MaxRowBytes)
	case errors.As(err, &pe):
		return nil, fmt.Errorf("csv header (line %d): %s", pe.StartLine, parseReason(pe))
	case err != nil:
		return nil, fmt.Errorf("reading csv header: %w", err)
	}
	line, _ := cr.FieldPos(0)
	herr := &HeaderError{Line: line}
	seen := map[col]bool{}
	for _, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		c, ok := columnByName[name]
		switch {
		case name == "":
			c = -1
		case !ok:
			herr.Unknown = append(herr.Unknown, strings.TrimSpace(h))
			c = -1
		case seen[c]:
			herr.Duplicate = append(herr.Duplicate, name)
		}
		seen[c] = true
		rd.index = append(rd.index, c)
	}
	for i, c := range columns {
		if c.Required && !seen[col(i)] {
			herr.Missing = append(herr.Missing, c.Name)
		}
		rd.hasCol[i] = seen[col(i)]
	}
	if len(herr.Missing)+len(herr.Unknown)+len(herr.Duplicate) > 0 {
		return nil, herr
	}
	rd.nfields = len(header)
	return rd, nil
}

// BytesRead returns how many bytes of the file have been read, for a
// progress bar.
func (r *Reader) BytesRead() int64 { return r.feed.n }

// Next returns the next order, or io.EOF after the last one.
//
// When any row of an order is bad, the order is not returned: the Batch
// has a nil Order and every RowError of that order, and the next call
// moves on to the next order. A row that cannot be read at all (a quote
// problem, too long, no order_number) is counted as part of the order
// being read; when it ends that order, the next order is held back too,
// since the row may have been its first.
//
// Any other error is final: a read error of the underlying reader, or
// ErrTooManyRows; the order being read when it happened is not returned.
func (r *Reader) Next() (*Batch, error) {
	for {
		if r.err != nil {
			return nil, r.err
		}
		rw := r.pending
		r.pending = nil
		if rw == nil {
			var err error
			rw, err = r.readRow()
			if err != nil {
				r.err = err
				ends := rw != nil && rw.known && r.cur != nil && r.cur.number != "" && rw.number != r.cur.number
				if r.cur != nil && (err == io.EOF || ends) {
					return r.flush(), nil
				}
				r.cur = nil
				return nil, err
			}
		}
		if r.cur == nil {
			r.cur = r.newGroup(rw)
			continue
		}
		if r.cur.accepts(rw) {
			r.add(r.cur, rw)
			continue
		}
		r.pending = rw
		return r.flush(), nil
	}
}

// group is the rows of one order being read.
type group struct {
	number    string // order_number; "" while only unreadable rows are in
	rows      []*row
	errs      []RowError
	strayEnd  int // > 0: the order ended at this line before; these rows are strays
	firstLine int
	lastLine  int
}

func (g *group) accepts(rw *row) bool {
	return !rw.known || g.number == "" || rw.number == g.number
}

func (r *Reader) newGroup(rw *row) *group {
	g := &group{firstLine: rw.line}
	if r.taint > 0 {
		g.errs = append(g.errs, RowError{Line: r.taint, Reason: "has no readable order_number, so it may be a row of this order too: this order is held back until that row is fixed"})
		g.firstLine = r.taint
		r.taint = 0
	}
	r.add(g, rw)
	return g
}

func (r *Reader) add(g *group, rw *row) {
	if g.number == "" && rw.known {
		g.number = rw.number
		g.strayEnd = r.ended[maphash.String(r.seed, rw.number)]
	}
	g.rows = append(g.rows, rw)
	g.lastLine = rw.endLine
}

// flush finishes the current order.
func (r *Reader) flush() *Batch {
	g := r.cur
	r.cur = nil
	if last := g.rows[len(g.rows)-1]; !last.known && r.pending != nil {
		r.taint = last.line
	}
	if g.number != "" && g.strayEnd == 0 {
		r.ended[maphash.String(r.seed, g.number)] = g.lastLine
	}
	return r.finish(g)
}

// row is one data row.
type row struct {
	line, endLine int
	vals          [numColumns]string
	number        string // order_number
	known         bool   // number can be trusted
	errs          []RowError
}

func (rw *row) broken() bool { return len(rw.errs) > 0 }

// readRow reads the next data row, skipping blank ones. With
// ErrTooManyRows it returns the row past the limit too.
func (r *Reader) readRow() (*row, error) {
	for {
		r.feed.mark()
		rec, err := r.cr.Read()
		if err == io.EOF {
			return nil, io.EOF
		}
		rw := &row{endLine: r.feed.lastLine()}
		var pe *stdcsv.ParseError
		switch {
		case r.feed.tripped:
			rw.line = max(r.feed.rowStart, 1)
			rw.errs = append(rw.errs, RowError{Line: rw.line, Reason: fmt.Sprintf("is longer than %d bytes (an unclosed quote makes the lines after it part of the row); reading resumes at line %d", MaxRowBytes, r.feed.resume)})
		case errors.As(err, &pe):
			pe.StartLine -= r.feed.phantom
			pe.Line -= r.feed.phantom
			rw.line = pe.StartLine
			e := RowError{Line: rw.line, Reason: parseReason(pe)}
			if len(rec) < len(r.index) && r.index[len(rec)] >= 0 {
				e.Column = r.index[len(rec)].String()
			}
			rw.errs = append(rw.errs, e)
		case err != nil:
			return nil, fmt.Errorf("reading csv after line %d: %w", r.feed.lines, err)
		default:
			rw.line, _ = r.cr.FieldPos(0)
			rw.line -= r.feed.phantom
			if blank(rec) {
				continue
			}
			if len(rec) != r.nfields {
				rw.errs = append(rw.errs, RowError{Line: rw.line, Reason: fmt.Sprintf("has %d fields, the header has %d: look for a missing or extra comma, or quote a value that contains one", len(rec), r.nfields)})
			}
			if r.feed.rowBytes > MaxRowBytes {
				rw.errs = append(rw.errs, RowError{Line: rw.line, Reason: fmt.Sprintf("is longer than %d bytes", MaxRowBytes)})
			}
		}
		r.fill(rw, rec)
		r.rows++
		if r.cfg.MaxRows > 0 && r.rows > r.cfg.MaxRows {
			return rw, fmt.Errorf("%w: line %d is past the limit of %d rows; split the file or raise the limit", ErrTooManyRows, rw.line, r.cfg.MaxRows)
		}
		return rw, nil
	}
}

// fill stores the fields of rec in rw. After a parse error rec holds the
// fields read before it, which may still give the order_number.
func (r *Reader) fill(rw *row, rec []string) {
	for i, v := range rec {
		if i >= len(r.index) {
			break
		}
		v = strings.TrimSpace(v)
		c := r.index[i]
		switch {
		case c < 0:
			if v != "" && !rw.broken() {
				rw.errs = append(rw.errs, RowError{Line: rw.line, Column: fmt.Sprintf("(unnamed column %d)", i+1), Value: shorten(v),
					Reason: "is in a column with no name in the header: name the column or remove the value"})
			}
		case len(v) > MaxFieldBytes && !rw.broken():
			rw.errs = append(rw.errs, RowError{Line: rw.line, Column: c.String(), Value: shorten(v), Reason: fmt.Sprintf("is longer than %d bytes", MaxFieldBytes)})
		default:
			rw.vals[c] = v
		}
	}
	if i := slices.Index(r.index, colOrderNumber); i < len(rec) {
		rw.number = rw.vals[colOrderNumber]
		rw.known = rw.number != ""
		if !rw.known && !rw.broken() {
			rw.errs = append(rw.errs, RowError{Line: rw.line, Column: colOrderNumber.String(), Reason: "is required: every row names its order"})
		}
	}
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// parseReason words an encoding/csv parse error for the person fixing the
// file.
func parseReason(pe *stdcsv.ParseError) string {
	at := fmt.Sprintf("line %d, byte %d", pe.Line, pe.Column)
	span := ""
	if pe.Line > pe.StartLine {
		span = fmt.Sprintf(" (lines %d to %d were read as this one row)", pe.StartLine, pe.Line)
	}
	switch {
	case errors.Is(pe.Err, stdcsv.ErrBareQuote):
		return fmt.Sprintf(`has a " in a value that does not start with one (%s): put the whole value in quotes and double the quote inside, as in "6"" pipe"`, at)
	case errors.Is(pe.Err, stdcsv.ErrQuote):
		return fmt.Sprintf(`has a quoted value that is not closed properly (%s)%s: end it with " before the next comma, and double any quote inside it ("")`, at, span)
	}
	return fmt.Sprintf("cannot be read (%s): %v", at, pe.Err)
}

// shorten cuts a long value for an error message.
func shorten(v string) string {
	const maxBytes = 64
	if len(v) <= maxBytes {
		return v
	}
	cut := maxBytes
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}

// suggest returns the known column closest to an unknown name, if any is
// close.
func suggest(name string) string {
	if len(name) > 64 {
		return ""
	}
	name = strings.ToLower(name)
	best, bestD := "", 3
	for _, c := range columns {
		if d := distance(name, c.Name); d < bestD {
			best, bestD = c.Name, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// feeder passes the file to encoding/csv one physical line at a time, so
// that csv never reads past the row it returns. That keeps line numbers
// and byte counts exact, and lets the feeder stop a row that grows past
// MaxRowBytes — an unclosed quote that would swallow the rest of the file —
// and resume at the next line.
type feeder struct {
	br       *bufio.Reader
	rest     []byte // the part of the current chunk not yet passed on
	n        int64  // bytes consumed from the file
	lines    int    // newlines passed on
	midLine  bool   // the last byte passed on was not a newline
	rowBytes int64  // bytes passed on since mark
	rowStart int    // the first non-blank line since mark; 0 until seen
	tripped  bool   // the row being read hit MaxRowBytes
	resume   int    // after tripping: the line reading resumes at
	phantom  int    // lines encoding/csv counted that are not in the file
	skip     bool   // drop the rest of the current line before going on
	started  bool
}

var bom = []byte("\xef\xbb\xbf")

// mark starts a new row.
func (f *feeder) mark() {
	f.rowBytes, f.rowStart, f.tripped = 0, 0, false
}

// lastLine is the line of the last byte passed on.
func (f *feeder) lastLine() int {
	if f.midLine {
		return f.lines + 1
	}
	return f.lines
}

func (f *feeder) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(f.rest) == 0 {
		if !f.started {
			f.started = true
			if b, _ := f.br.Peek(len(bom)); bytes.Equal(b, bom) {
				_, _ = f.br.Discard(len(bom))
				f.n += int64(len(bom))
			}
		}
		if f.skip {
			if err := f.skipLine(); err != nil {
				return 0, err
			}
		}
		if f.rowBytes > MaxRowBytes {
			f.tripped = true
			f.skip = f.midLine
			f.resume = f.lines + 1
			if f.midLine {
				f.resume++
			} else {
				// encoding/csv counts the empty read as a line.
				f.phantom++
			}
			return 0, errRowTooLong
		}
		chunk, err := f.br.ReadSlice('\n')
		f.n += int64(len(chunk))
		if len(chunk) == 0 {
			return 0, err
		}
		if !f.midLine && f.rowStart == 0 && !blankLine(chunk) {
			f.rowStart = f.lines + 1
		}
		f.rest = chunk
	}
	n := copy(p, f.rest)
	if p[n-1] == '\n' {
		f.lines++
	}
	f.midLine = p[n-1] != '\n'
	f.rest = f.rest[n:]
	f.rowBytes += int64(n)
	return n, nil
}

// skipLine drops the rest of the current physical line.
func (f *feeder) skipLine() error {
	for {
		chunk, err := f.br.ReadSlice('\n')
		f.n += int64(len(chunk))
		if err == bufio.ErrBufferFull {
			continue
		}
		f.skip = false
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			f.lines++
			f.midLine = false
		}
		return err
	}
}

func blankLine(b []byte) bool {
	return len(bytes.TrimRight(b, "\r\n")) == 0
}
