package custom

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/itchyny/gojq"

	"github.com/paklog/integration-hub/canonical"
)

// Programs of a channel, as named in errors (their field in ChannelConfig).
const (
	ProgramMapping = "mapping"
	ProgramKey     = "idempotency.key"
	ProgramRelease = "release"
)

// DefaultDocument is source.document of an order whose mapping sets none.
const DefaultDocument = "webhook"

// PlaceholderOrderID is the order_id of a mapped order until the intake
// assigns the stable one, inside the transaction that stores it.
const PlaceholderOrderID = canonical.OrderIDPrefix + "00000000000000000000000000"

var (
	// ErrPayload is the error of a body that is not one JSON value (400). The
	// error is a *PayloadError.
	ErrPayload = errors.New("the body is not JSON")
	// ErrMapping is the error of a delivery the channel's jq programs could not
	// turn into a valid order (422). The error is a *MappingError.
	ErrMapping = errors.New("mapping failed")
	// ErrNoKey is the error of a delivery without the idempotency header the
	// channel takes its key from (400).
	ErrNoKey = errors.New("no idempotency key")
)

// PayloadError says where a body stops being JSON.
type PayloadError struct {
	// Offset is the byte offset of the error, from 0; Line and Column are
	// 1-based.
	Offset       int64
	Line, Column int
	Err          error
}

func (e *PayloadError) Error() string {
	return fmt.Sprintf("the body is not valid JSON at line %d, column %d (byte %d): %v", e.Line, e.Column, e.Offset, e.Err)
}

func (e *PayloadError) Unwrap() []error { return []error{ErrPayload, e.Err} }

// MappingError says why a channel's jq program did not give a valid order: the
// program failed (Err), or its output broke paklog.order.v1 (Problems).
type MappingError struct {
	Channel string
	// Program is which program: ProgramMapping, ProgramKey or ProgramRelease.
	Program string
	// Source is the program's text.
	Source string
	// Problems are the fields of the output that are wrong, with the part of
	// the program that set them where it could be found.
	Problems []Problem
	// Err is why the program failed or its output could not be read: a jq
	// runtime error, context.DeadlineExceeded, a wrong output shape.
	Err error
	// At is, for a runtime error, the output path whose expression failed
	// ("lines[].sku"), and Expr that expression, where they could be found.
	At, Expr string
}

// Problem is one field of a mapped order that breaks paklog.order.v1.
type Problem struct {
	// Path is the field's path in the order, "lines[0].sku" (canonical.Problem).
	Path string
	// Message says what is wrong, as canonical validation words it: "is
	// required", "must not be empty", "must be a string, got null".
	Message string
	// Got is what the mapping produced there, as JSON ("null", `""`), or
	// "nothing" when it set no such key.
	Got string
	// Expr is the jq expression of the mapping that sets the field, when it
	// could be found in the program; else Hint may say more.
	Expr string
	// Hint says how the field's absence relates to the program when Expr is
	// empty, e.g. that the object built for lines[] has no "sku" key.
	Hint string
}

// String returns the problem as one sentence naming the field, the value and
// the expression responsible.
func (p Problem) String() string {
	var b strings.Builder
	path := p.Path
	if path == "" {
		path = "(root)"
	}
	b.WriteString("field " + path + " " + p.Message)
	switch {
	case p.Expr != "":
		fmt.Fprintf(&b, "; the mapping sets it with `%s`, which produced %s", clipExpr(p.Expr), p.Got)
	case p.Hint != "":
		fmt.Fprintf(&b, "; %s", p.Hint)
	case p.Got != "":
		fmt.Fprintf(&b, "; the mapping produced %s for it", p.Got)
	}
	return b.String()
}

func (e *MappingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s for channel %s: ", e.Program, e.Channel)
	switch {
	case errors.Is(e.Err, context.DeadlineExceeded):
		b.WriteString("the program did not finish in time")
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	}
	if e.Err != nil {
		if e.Expr != "" {
			at := e.At
			if at == "" {
				at = "(root)"
			}
			fmt.Fprintf(&b, "; it failed in `%s`, which computes %s", clipExpr(e.Expr), at)
		}
		fmt.Fprintf(&b, "; the %s program is `%s`", e.Program, clipExpr(e.Source))
		return b.String()
	}
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	if hasUnlocated(e.Problems) {
		fmt.Fprintf(&b, " (the %s program is `%s`)", e.Program, clipExpr(e.Source))
	}
	return b.String()
}

func (e *MappingError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrMapping, e.Err}
	}
	return []error{ErrMapping}
}

func hasUnlocated(ps []Problem) bool {
	for _, p := range ps {
		if p.Expr == "" && p.Hint == "" {
			return true
		}
	}
	return false
}

// Channel is a ChannelConfig with its jq programs compiled. It is safe for
// concurrent use.
type Channel struct {
	cfg        ChannelConfig // defaults applied
	mapping    *program
	key        *program // nil when the key comes from a header
	release    *program // nil when every delivery is released
	auth       authenticator
	mappingSum string
}

// Delivery is what a channel made of one webhook body.
type Delivery struct {
	// Release is false when the release expression held the delivery back;
	// the other fields are then empty.
	Release bool
	// Key is the idempotency key.
	Key string
	// Order is the mapped order, valid against paklog.order.v1, with
	// PlaceholderOrderID and the hub's source fields.
	Order canonical.Order
}

// Compile validates cfg and compiles its jq programs. The error joins a
// *ConfigError per problem.
func Compile(cfg ChannelConfig) (*Channel, error) { return compile(cfg) }

func compile(cfg ChannelConfig) (*Channel, error) {
	errs := cfg.validateFields()
	if cfg.Idempotency.Key == "" && cfg.Idempotency.Header == "" {
		cfg.Idempotency.Key = DefaultIdempotencyKey
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBody
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	c := &Channel{cfg: cfg}
	var err error
	if strings.TrimSpace(cfg.Mapping) != "" {
		if c.mapping, err = compileProgram(cfg.Name, ProgramMapping, cfg.Mapping); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.Idempotency.Key != "" {
		if c.key, err = compileProgram(cfg.Name, ProgramKey, cfg.Idempotency.Key); err != nil {
			errs = append(errs, err)
		}
	}
	if strings.TrimSpace(cfg.Release) != "" {
		if c.release, err = compileProgram(cfg.Name, ProgramRelease, cfg.Release); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.auth = newAuthenticator(cfg.Auth)
	sum := sha256.Sum256([]byte(cfg.Mapping))
	c.mappingSum = hex.EncodeToString(sum[:])
	return c, nil
}

// Name is the channel's name.
func (c *Channel) Name() string { return c.cfg.Name }

// program is one compiled jq program.
type program struct {
	channel, field, src string
	query               *gojq.Query
	code                *gojq.Code
}

// compilerOptions keep the programs to their input: no environment variables
// ($ENV, env), which would hand the hub's secrets to a mapping, and no
// input/inputs.
var compilerOptions = []gojq.CompilerOption{gojq.WithEnvironLoader(func() []string { return nil })}

var undefinedRE = regexp.MustCompile(`not defined: (\$?[A-Za-z_][A-Za-z0-9_:]*)`)

func compileProgram(channel, field, src string) (*program, error) {
	q, err := gojq.Parse(src)
	if err != nil {
		ce := &ConfigError{Channel: channel, Field: field, Err: err}
		var pe *gojq.ParseError
		off := len(src)
		if errors.As(err, &pe) {
			off = max(0, pe.Offset-len(pe.Token))
			if strings.HasPrefix(pe.Error(), "unterminated string") {
				// Point at the opening quote rather than the end of the program.
				if i := strings.LastIndexByte(src[:min(off, len(src))], '"'); i >= 0 {
					off = i
				}
			}
		}
		ce.Line, ce.Column = lineCol([]byte(src), off)
		ce.Message = fmt.Sprintf("jq syntax error at line %d, column %d: %v (in %q)", ce.Line, ce.Column, err, lineAt(src, ce.Line))
		return nil, ce
	}
	code, err := gojq.Compile(q, compilerOptions...)
	if err != nil {
		ce := &ConfigError{Channel: channel, Field: field, Err: err, Message: "jq: " + err.Error()}
		// Compile errors carry no position; find the undefined name.
		if m := undefinedRE.FindStringSubmatch(err.Error()); m != nil {
			if i := indexIdent(src, m[1]); i >= 0 {
				ce.Line, ce.Column = lineCol([]byte(src), i)
				ce.Message = fmt.Sprintf("jq: %v at line %d, column %d (in %q)", err, ce.Line, ce.Column, lineAt(src, ce.Line))
			}
		}
		return nil, ce
	}
	return &program{channel: channel, field: field, src: src, query: q, code: code}, nil
}

// indexIdent finds name in src as a whole identifier.
func indexIdent(src, name string) int {
	for from := 0; ; {
		i := strings.Index(src[from:], name)
		if i < 0 {
			return -1
		}
		i += from
		end := i + len(name)
		before := i == 0 || !isIdentByte(src[i-1])
		after := end == len(src) || !isIdentByte(src[end])
		if before && after {
			return i
		}
		from = i + 1
	}
}

func isIdentByte(b byte) bool {
	return b == '_' || b == '$' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// run runs the program on v and returns its outputs, at most limit of them.
func (p *program) run(ctx context.Context, v any, limit int) ([]any, error) {
	var out []any
	iter := p.code.RunWithContext(ctx, v)
	for len(out) < limit {
		x, ok := iter.Next()
		if !ok {
			break
		}
		if err, ok := x.(error); ok {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// Map turns a webhook body into a Delivery: it parses the body, runs the
// release expression, the idempotency key and the mapping, fills the hub's
// source fields and validates the order. header supplies the key when the
// channel takes it from a header; it may be nil otherwise.
//
// The programs run under the channel's Timeout; cancelling ctx stops them and
// Map returns ctx's error. Other errors are a *PayloadError (ErrPayload), a
// *MappingError (ErrMapping) or ErrNoKey.
func (c *Channel) Map(ctx context.Context, body []byte, header http.Header) (Delivery, error) {
	return c.mapAt(ctx, body, header, time.Now())
}

func (c *Channel) mapAt(parent context.Context, body []byte, header http.Header, now time.Time) (Delivery, error) {
	input, err := parseBody(body)
	if err != nil {
		return Delivery{}, err
	}
	ctx, cancel := context.WithTimeout(parent, c.cfg.Timeout)
	defer cancel()
	// fail turns a program's error into a MappingError, or the caller's own
	// cancellation.
	fail := func(p *program, err error) error {
		if parent.Err() != nil {
			return parent.Err()
		}
		me := &MappingError{Channel: c.cfg.Name, Program: p.field, Source: p.src, Err: err}
		if ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			me.At, me.Expr = p.locateFailure(ctx, input)
		}
		return me
	}
	shape := func(p *program, format string, args ...any) error {
		return &MappingError{Channel: c.cfg.Name, Program: p.field, Source: p.src, Err: fmt.Errorf(format, args...)}
	}

	if c.release != nil {
		out, err := c.release.run(ctx, input, 2)
		if err != nil {
			return Delivery{}, fail(c.release, err)
		}
		if len(out) != 1 {
			return Delivery{}, shape(c.release, "must produce one value, true or false; it produced %s", countOutputs(len(out)))
		}
		b, ok := out[0].(bool)
		if !ok {
			return Delivery{}, shape(c.release, "must produce true or false, got %s", display(out[0]))
		}
		if !b {
			return Delivery{}, nil
		}
	}

	var key string
	if c.key == nil {
		name := c.cfg.Idempotency.Header
		key = strings.TrimSpace(header.Get(name))
		switch {
		case key == "":
			return Delivery{}, fmt.Errorf("%w: header %s is missing; it is this channel's idempotency key", ErrNoKey, name)
		case len(key) > MaxKey:
			return Delivery{}, fmt.Errorf("%w: header %s is %d characters; at most %d", ErrNoKey, name, len(key), MaxKey)
		}
	} else {
		out, err := c.key.run(ctx, input, 2)
		if err != nil {
			return Delivery{}, fail(c.key, err)
		}
		if len(out) != 1 {
			return Delivery{}, shape(c.key, "must produce one value, a string or a number; it produced %s", countOutputs(len(out)))
		}
		if key, err = keyString(out[0]); err != nil {
			return Delivery{}, shape(c.key, "%v", err)
		}
	}

	out, err := c.mapping.run(ctx, input, 2)
	if err != nil {
		return Delivery{}, fail(c.mapping, err)
	}
	if len(out) != 1 {
		return Delivery{}, shape(c.mapping, "must produce one object, a paklog.order.v1 order; it produced %s", countOutputs(len(out)))
	}
	doc, ok := out[0].(map[string]any)
	if !ok {
		return Delivery{}, shape(c.mapping, "must produce an object, a paklog.order.v1 order; got %s", display(out[0]))
	}
	order, err := c.order(doc, now)
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{Release: true, Key: key, Order: order}, nil
}

// order fills the hub's fields of the mapping's output, validates it and
// decodes it. doc is the mapping's own output and is not modified.
func (c *Channel) order(doc map[string]any, now time.Time) (canonical.Order, error) {
	patched := make(map[string]any, len(doc)+2)
	for k, v := range doc {
		patched[k] = v
	}
	if _, ok := patched["schema"]; !ok {
		patched["schema"] = canonical.SchemaOrder
	}
	patched["order_id"] = PlaceholderOrderID
	src := map[string]any{}
	if s, ok := doc["source"].(map[string]any); ok {
		for k, v := range s {
			src[k] = v
		}
	}
	src["channel"] = string(canonical.ChannelCustom)
	src["partner"] = c.cfg.Name
	src["received_at"] = now.UTC().Format(time.RFC3339Nano)
	if _, ok := src["external_id"]; !ok {
		if n, ok := doc["order_number"].(string); ok {
			src["external_id"] = n
		}
	}
	if _, ok := src["document"]; !ok {
		src["document"] = DefaultDocument
	}
	patched["source"] = src
	data, err := json.Marshal(patched)
	if err != nil {
		// NaN or an infinity: JSON has no such numbers.
		return canonical.Order{}, &MappingError{Channel: c.cfg.Name, Program: ProgramMapping, Source: c.cfg.Mapping,
			Err: fmt.Errorf("encoding its output: %w", err)}
	}
	o, err := canonical.DecodeOrder(data)
	var ps canonical.Problems
	if errors.As(err, &ps) {
		me := &MappingError{Channel: c.cfg.Name, Program: ProgramMapping, Source: c.cfg.Mapping}
		// The output as JSON decodes it, to read what the mapping produced.
		var plain any
		_ = json.Unmarshal(data, &plain)
		for _, p := range ps {
			me.Problems = append(me.Problems, c.explain(p, plain, doc))
		}
		return canonical.Order{}, me
	}
	if err != nil {
		return canonical.Order{}, fmt.Errorf("decoding the mapped order: %w", err)
	}
	return o, nil
}

// explain adds to a validation problem what the mapping produced there and
// the expression that produced it.
func (c *Channel) explain(p canonical.Problem, out any, doc map[string]any) Problem {
	path := parsePath(p.Path)
	got := "nothing"
	if v, ok := lookup(out, path); ok {
		got = display(v)
	}
	pr := Problem{Path: p.Path, Message: p.Message, Got: got}
	if len(path) > 0 && path[0].key == "source" && path[0].index < 0 {
		if _, ok := doc["source"]; !ok && len(path) > 1 && path[1].key == "external_id" {
			pr.Hint = "set source.external_id (the order's id on the platform) or order_number in the mapping"
			return pr
		}
	}
	if len(path) > 0 && path[0].key == "order_id" || p.Path == "schema" {
		pr.Hint = "the hub sets this field; leave it out of the mapping"
		return pr
	}
	pr.Expr, pr.Hint = locate(c.mapping.query, path)
	return pr
}

func countOutputs(n int) string {
	switch n {
	case 0:
		return "no output (empty)"
	case 1:
		return "one output"
	}
	return "more than one output"
}

// keyString is the idempotency key a jq value gives.
func keyString(v any) (string, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = strings.TrimSpace(v)
	case json.Number:
		s = v.String()
	case int:
		s = strconv.Itoa(v)
	case *big.Int:
		s = v.String()
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return "", fmt.Errorf("must produce a non-empty string or a number, got %s", display(v))
	}
	switch {
	case s == "":
		return "", errors.New("produced an empty string; the idempotency key must not be empty")
	case len(s) > MaxKey:
		return "", fmt.Errorf("produced a key of %d characters; at most %d", len(s), MaxKey)
	}
	return s, nil
}

// parseBody reads body as one JSON value, numbers kept as json.Number so that
// large ids keep every digit.
func parseBody(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		off := dec.InputOffset()
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			off = max(0, syn.Offset-1)
		}
		if errors.Is(err, io.EOF) {
			err = errors.New("the body is empty")
		} else if errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("the body ends in the middle of a value")
			off = int64(len(body))
		}
		return nil, payloadError(body, off, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		off := dec.InputOffset()
		// Point at the start of what follows the value.
		for off < int64(len(body)) && isSpace(body[off]) {
			off++
		}
		return nil, payloadError(body, off, errors.New("more than one JSON value; send one object"))
	}
	return v, nil
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func payloadError(body []byte, off int64, err error) *PayloadError {
	off = max(0, min(off, int64(len(body))))
	line, col := lineCol(body, int(off))
	return &PayloadError{Offset: off, Line: line, Column: col, Err: err}
}

// lineCol returns the 1-based line and column (in bytes) of offset off.
func lineCol(src []byte, off int) (line, col int) {
	off = max(0, min(off, len(src)))
	before := src[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = off - bytes.LastIndexByte(before, '\n')
	return line, col
}

// lineAt returns line n (1-based) of src, trimmed and clipped.
func lineAt(src string, n int) string {
	lines := strings.Split(src, "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return clip(strings.TrimSpace(lines[n-1]), 80)
}

// display is v as JSON, clipped.
func display(v any) string {
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return clip(string(b), 60)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// clipExpr shows a jq program on one line, without its comment lines,
// clipped.
func clipExpr(s string) string {
	var code []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			code = append(code, l)
		}
	}
	return clip(strings.Join(strings.Fields(strings.Join(code, "\n")), " "), 160)
}
