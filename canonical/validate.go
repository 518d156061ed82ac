package canonical

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// Problem is one thing wrong with a document.
type Problem struct {
	// Path locates the value in JavaScript-like notation:
	// "lines[2].quantity", "ship_to.city", `attributes["store no"]`.
	// The empty Path is the document itself, printed "(root)".
	Path string
	// Message says what is wrong and, where it helps, what was found:
	// "must be > 0", `must match ^[A-Z]{2}$ (ISO 3166-1 alpha-2), got "usa"`.
	Message string
}

// String returns "path: message".
func (p Problem) String() string {
	path := p.Path
	if path == "" {
		path = "(root)"
	}
	return path + ": " + p.Message
}

// Problems is every Problem found in a document, sorted by path (array
// indexes numerically). It is the error returned by Validate and the
// Decode functions when a document breaks its schema; get it back with
// errors.As.
type Problems []Problem

// Error returns the problems on one line, separated by "; ".
func (ps Problems) Error() string {
	switch len(ps) {
	case 0:
		return "no problems"
	case 1:
		return ps[0].String()
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(ps)))
	b.WriteString(" problems: ")
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Validate checks doc against the named schema (one of SchemaNames) and
// returns nil or Problems listing every problem found. Malformed JSON is a
// single Problem giving the line, column and byte offset. An unknown schema
// name is an error that is not Problems.
//
// Unknown fields are allowed: readers ignore them. Validate is safe for
// concurrent use; the schemas are compiled once, on first use.
func Validate(schemaName string, doc []byte) error {
	_, err := validate(schemaName, doc)
	return err
}

// validate returns the decoded document when it is valid.
func validate(name string, doc []byte) (any, error) {
	schemas, err := compiled()
	if err != nil {
		return nil, err
	}
	sch, ok := schemas[name]
	if !ok {
		return nil, fmt.Errorf("canonical: unknown schema %q: want one of %s", name, strings.Join(schemaNames, ", "))
	}
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, Problems{jsonProblem(doc, err)}
	}
	if err := validateValue(sch, v); err != nil {
		return nil, err
	}
	return v, nil
}

func validateValue(sch *jsonschema.Schema, v any) error {
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validating: %w", err)
	}
	return problemsOf(ve, v)
}

// jsonProblem describes a document encoding/json could not read.
func jsonProblem(doc []byte, err error) Problem {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case len(strings.TrimSpace(string(doc))) == 0:
		return Problem{Message: "invalid JSON: the document is empty"}
	case errors.As(err, &syn):
		return Problem{Message: fmt.Sprintf("invalid JSON at %s: %s", position(doc, syn.Offset-1), syn.Error())}
	case errors.As(err, &typ):
		// Decoding into any fails only on numbers too large for float64.
		// Offset is past the number: point at its start.
		num := strings.TrimPrefix(typ.Value, "number ")
		at := typ.Offset - 1
		if i := bytes.LastIndex(doc[:min(int(typ.Offset), len(doc))], []byte(num)); i >= 0 {
			at = int64(i)
		}
		return Problem{Message: fmt.Sprintf("invalid JSON at %s: number %s is out of range", position(doc, at), num)}
	}
	return Problem{Message: "invalid JSON: " + err.Error()}
}

// position describes byte offset off of doc as line, column and offset,
// all counted from 1 except the byte offset.
func position(doc []byte, off int64) string {
	off = max(0, min(off, int64(len(doc))))
	before := doc[:off]
	line := 1 + strings.Count(string(before), "\n")
	col := int(off) - strings.LastIndexByte(string(before), '\n')
	return fmt.Sprintf("line %d, column %d (byte %d)", line, col, off)
}

// problem is a Problem with its parsed path, for sorting.
type problem struct {
	Problem
	path []pathToken
}

type pathToken struct {
	key   string
	index int // -1 for an object key
}

func problemsOf(ve *jsonschema.ValidationError, doc any) Problems {
	var ps []problem
	collect(ve, doc, &ps)
	slices.SortFunc(ps, func(a, b problem) int {
		return cmp.Or(comparePaths(a.path, b.path), strings.Compare(a.Message, b.Message))
	})
	out := make(Problems, 0, len(ps))
	for i, p := range ps {
		if i > 0 && p.Problem == ps[i-1].Problem {
			continue
		}
		out = append(out, p.Problem)
	}
	return out
}

func comparePaths(a, b []pathToken) int {
	for i := range min(len(a), len(b)) {
		if c := cmp.Or(cmp.Compare(a[i].index, b[i].index), strings.Compare(a[i].key, b[i].key)); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// collect turns the leaves of the error tree into problems: inner nodes
// ("validation failed at $ref") only group their causes.
func collect(ve *jsonschema.ValidationError, doc any, out *[]problem) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collect(c, doc, out)
		}
		return
	}
	path := resolvePath(doc, ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, name := range k.Missing {
			*out = append(*out, newProblem(withKey(path, name), "is required"))
		}
	case *kind.DependentRequired:
		for _, name := range k.Missing {
			*out = append(*out, newProblem(withKey(path, name), fmt.Sprintf("is required when %s is given", k.Prop)))
		}
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			*out = append(*out, newProblem(withKey(path, name), "is not allowed"))
		}
	default:
		*out = append(*out, newProblem(path, message(ve.ErrorKind)))
	}
}

func withKey(path []pathToken, key string) []pathToken {
	return append(slices.Clip(path), pathToken{key: key, index: -1})
}

func newProblem(path []pathToken, msg string) problem {
	return problem{Problem: Problem{Path: formatPath(path), Message: msg}, path: path}
}

// resolvePath walks doc along the instance location, so that an array
// index is told from an object key that looks like a number.
func resolvePath(doc any, loc []string) []pathToken {
	path := make([]pathToken, 0, len(loc))
	cur := doc
	for _, tok := range loc {
		switch c := cur.(type) {
		case []any:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(c) {
				path = append(path, pathToken{index: i})
				cur = c[i]
				continue
			}
		case map[string]any:
			cur = c[tok]
		default:
			cur = nil
		}
		path = append(path, pathToken{key: tok, index: -1})
	}
	return path
}

func formatPath(path []pathToken) string {
	var b strings.Builder
	for _, t := range path {
		switch {
		case t.index >= 0:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(t.index))
			b.WriteByte(']')
		case isIdentifier(t.key):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(t.key)
		default:
			b.WriteByte('[')
			b.WriteString(strconv.Quote(t.key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r == '$' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z':
		case i > 0 && '0' <= r && r <= '9':
		default:
			return false
		}
	}
	return true
}

// patternHints say in words what the schemas' patterns mean.
var patternHints = map[string]string{
	`^[A-Z]{2}$`:                   "ISO 3166-1 alpha-2",
	`^[A-Z]{3}$`:                   "ISO 4217",
	`^-?[0-9]+(\.[0-9]+)?$`:        `a decimal string such as "12.50"`,
	`^ord_[0-9A-HJKMNP-TV-Z]{26}$`: `"ord_" and a 26-character ULID`,
}

var typeArticles = map[string]string{
	"object": "an object", "array": "an array", "string": "a string",
	"number": "a number", "integer": "an integer", "boolean": "a boolean", "null": "null",
}

// message words one leaf error the way a person fixing the document wants
// to read it.
func message(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = cmp.Or(typeArticles[w], w)
		}
		return fmt.Sprintf("must be %s, got %s", strings.Join(want, " or "), k.Got)
	case *kind.Const:
		return fmt.Sprintf("must be %s, got %s", display(k.Want), display(k.Got))
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = display(w)
		}
		return fmt.Sprintf("must be one of %s, got %s", strings.Join(want, ", "), display(k.Got))
	case *kind.Pattern:
		if hint, ok := patternHints[k.Want]; ok {
			return fmt.Sprintf("must match %s (%s), got %s", k.Want, hint, display(k.Got))
		}
		return fmt.Sprintf("must match %s, got %s", k.Want, display(k.Got))
	case *kind.Format:
		switch k.Want {
		case "date":
			return fmt.Sprintf("must be a date YYYY-MM-DD, got %s", display(k.Got))
		case "date-time":
			return fmt.Sprintf(`must be an RFC 3339 date-time such as "2024-05-01T14:30:00Z", got %s`, display(k.Got))
		}
		return fmt.Sprintf("must be a valid %s, got %s", k.Want, display(k.Got))
	case *kind.MinLength:
		if k.Want == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must be at least %d characters, got %d", k.Want, k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters, got %d", k.Want, k.Got)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %s", plural(k.Want, "item"))
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %s, got %d", plural(k.Want, "item"), k.Got)
	case *kind.MinProperties:
		return fmt.Sprintf("must have at least %s", plural(k.Want, "property"))
	case *kind.MaxProperties:
		return fmt.Sprintf("must have at most %s, got %d", plural(k.Want, "property"), k.Got)
	case *kind.Minimum:
		return "must be >= " + ratString(k.Want)
	case *kind.ExclusiveMinimum:
		return "must be > " + ratString(k.Want)
	case *kind.Maximum:
		return "must be <= " + ratString(k.Want)
	case *kind.ExclusiveMaximum:
		return "must be < " + ratString(k.Want)
	case *kind.MultipleOf:
		return "must be a multiple of " + ratString(k.Want)
	case *kind.UniqueItems:
		return fmt.Sprintf("must not repeat items: items %d and %d are equal", k.Duplicates[0], k.Duplicates[1])
	case *kind.FalseSchema:
		return "is not allowed"
	}
	return fmt.Sprintf("does not satisfy the schema's %q rule", strings.Join(k.KeywordPath(), "/"))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		noun = strings.TrimSuffix(noun, "y") + "ie"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// display shows a JSON value found in a document, shortened.
func display(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		const maxRunes = 64
		if utf8.RuneCountInString(v) > maxRunes {
			r := []rune(v)
			return strconv.Quote(string(r[:maxRunes])) + "…"
		}
		return strconv.Quote(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%v", v)
}
