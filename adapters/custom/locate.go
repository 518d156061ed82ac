package custom

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"
)

// A mapping is usually one object construction,
//
//	{order_number: .number, lines: [.items[] | {sku: .sku, quantity: .qty}]}
//
// so the part of the program that computes a field of the order can be found
// by walking its syntax tree along the field's path: object keys, array
// constructions, map(f) and the right side of pipes. locate does that for a
// field that failed validation; locateFailure re-runs the parts of the
// program, innermost last, to find the one a runtime error comes from. Both
// give up (and the whole program is quoted instead) where the program computes
// a value some other way: reduce, if, a function of its own, an object merge
// with a computed key.

// pathToken is one step of a canonical path: an object key or an array index.
type pathToken struct {
	key   string
	index int // -1 for an object key
}

// parsePath reads a canonical.Problem path: lines[0].sku, attributes["a b"].
func parsePath(s string) []pathToken {
	var out []pathToken
	for i := 0; i < len(s); {
		switch s[i] {
		case '.':
			i++
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return out
			}
			inner := s[i+1 : i+end]
			if n, err := strconv.Atoi(inner); err == nil {
				out = append(out, pathToken{index: n})
				i += end + 1
				continue
			}
			// A quoted key may hold "]": read it as a Go string.
			if q, err := strconv.QuotedPrefix(s[i+1:]); err == nil {
				k, _ := strconv.Unquote(q)
				out = append(out, pathToken{key: k, index: -1})
				i += 1 + len(q) + 1
				continue
			}
			return out
		default:
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			out = append(out, pathToken{key: s[i:j], index: -1})
			i = j
		}
	}
	return out
}

// lookup follows path in a decoded JSON value.
func lookup(v any, path []pathToken) (any, bool) {
	for _, t := range path {
		switch c := v.(type) {
		case map[string]any:
			if t.index >= 0 {
				return nil, false
			}
			x, ok := c[t.key]
			if !ok {
				return nil, false
			}
			v = x
		case []any:
			if t.index < 0 || t.index >= len(c) {
				return nil, false
			}
			v = c[t.index]
		default:
			return nil, false
		}
	}
	return v, true
}

// result is the part of q whose output is q's output: the right side of a
// pipe, the inside of parentheses.
func result(q *gojq.Query) *gojq.Query {
	for {
		switch {
		case q.Op == gojq.OpPipe && q.Right != nil && len(q.FuncDefs) == 0:
			q = q.Right
		case q.Term != nil && q.Term.Type == gojq.TermTypeQuery && len(q.Term.SuffixList) == 0 && len(q.FuncDefs) == 0:
			q = q.Term.Query
		default:
			return q
		}
	}
}

func plainTerm(q *gojq.Query, t gojq.TermType) *gojq.Term {
	if q.Term != nil && q.Term.Type == t && len(q.Term.SuffixList) == 0 && len(q.FuncDefs) == 0 {
		return q.Term
	}
	return nil
}

// mapArg is f of map(f).
func mapArg(q *gojq.Query) *gojq.Query {
	if t := plainTerm(q, gojq.TermTypeFunc); t != nil && t.Func.Name == "map" && len(t.Func.Args) == 1 {
		return t.Func.Args[0]
	}
	return nil
}

// keyOf is the literal key of an object entry, "" for a computed one.
func keyOf(kv *gojq.ObjectKeyVal) (key string, literal bool) {
	switch {
	case kv.Key != "":
		return strings.TrimPrefix(kv.Key, "$"), true
	case kv.KeyString != nil && len(kv.KeyString.Queries) == 0:
		return kv.KeyString.Str, true
	}
	return "", false
}

// valueOf is the expression of an object entry; {sku} is {sku: .sku}.
func valueOf(kv *gojq.ObjectKeyVal, key string) string {
	switch {
	case kv.Val != nil:
		return kv.Val.String()
	case strings.HasPrefix(kv.Key, "$"):
		return kv.Key
	}
	return "." + key
}

// locate finds the expression of the mapping that computes the field at path.
// It returns that expression, or else a hint saying how far it got.
func locate(root *gojq.Query, path []pathToken) (expr, hint string) {
	body := *root
	body.FuncDefs = nil
	q := &body
	at := ""
	for len(path) > 0 {
		q = result(q)
		t := path[0]
		if t.index >= 0 {
			if a := plainTerm(q, gojq.TermTypeArray); a != nil && a.Array.Query != nil {
				q, at, path = a.Array.Query, at+"[]", path[1:]
				continue
			}
			if f := mapArg(q); f != nil {
				q, at, path = f, at+"[]", path[1:]
				continue
			}
			break
		}
		o := plainTerm(q, gojq.TermTypeObject)
		if o == nil {
			break
		}
		var found *gojq.ObjectKeyVal
		computed := false
		for _, kv := range o.Object.KeyVals {
			k, literal := keyOf(kv)
			if !literal {
				computed = true
			} else if k == t.key {
				found = kv // the last one wins, as in jq
			}
		}
		name := join(at, t)
		if found == nil {
			if computed {
				break
			}
			return "", fmt.Sprintf("the object the mapping builds for %s, `%s`, has no %q key", rootName(at), clipExpr(q.String()), t.key)
		}
		if found.Val == nil {
			if len(path) == 1 {
				return valueOf(found, t.key), ""
			}
			break
		}
		q, at, path = found.Val, name, path[1:]
	}
	if len(path) == 0 {
		return q.String(), ""
	}
	if at == "" {
		return "", ""
	}
	return "", fmt.Sprintf("it is part of %s, which the mapping computes with `%s`", at, clipExpr(q.String()))
}

func join(at string, t pathToken) string {
	if t.index >= 0 {
		return at + "[" + strconv.Itoa(t.index) + "]"
	}
	if at == "" {
		return t.key
	}
	return at + "." + t.key
}

func rootName(at string) string {
	if at == "" {
		return "the order"
	}
	return at
}

var iterAll = func() *gojq.Query {
	q, err := gojq.Parse(".[]")
	if err != nil {
		panic(err)
	}
	return q
}()

// locateFailure finds the innermost part of the program that fails on input,
// by running its parts in the context they sit in. It returns the output path
// that part computes ("lines[].sku") and its text, or "" when it finds none
// smaller than the program.
func (p *program) locateFailure(ctx context.Context, input any) (at, expr string) {
	defs := p.query.FuncDefs
	body := *p.query
	body.FuncDefs = nil
	wrap := func(x *gojq.Query) *gojq.Query {
		return &gojq.Query{FuncDefs: defs, Term: &gojq.Term{Type: gojq.TermTypeQuery, Query: x}}
	}
	fails := func(x *gojq.Query) bool {
		code, err := gojq.Compile(x, compilerOptions...)
		if err != nil {
			return false
		}
		iter := code.RunWithContext(ctx, input)
		for range 10000 {
			v, ok := iter.Next()
			if !ok {
				return false
			}
			if _, ok := v.(error); ok {
				return ctx.Err() == nil
			}
		}
		return false
	}
	at, expr = probe(&body, "", wrap, fails)
	if expr == body.String() {
		return "", ""
	}
	return at, expr
}

// probe descends into q, which computes the output at path at and runs in
// the context wrap puts it in, towards the part that fails.
func probe(q *gojq.Query, at string, wrap func(*gojq.Query) *gojq.Query, fails func(*gojq.Query) bool) (string, string) {
	const maxDepth = 32
	for range maxDepth {
		switch {
		case q.Op == gojq.OpPipe && q.Right != nil && len(q.FuncDefs) == 0:
			if fails(wrap(q.Left)) {
				return at, q.Left.String()
			}
			left, patterns, outer := q.Left, q.Patterns, wrap
			wrap = func(x *gojq.Query) *gojq.Query {
				return outer(&gojq.Query{Left: left, Patterns: patterns, Op: gojq.OpPipe, Right: x})
			}
			q = q.Right
			continue
		case plainTerm(q, gojq.TermTypeQuery) != nil:
			q = q.Term.Query
			continue
		case plainTerm(q, gojq.TermTypeArray) != nil && q.Term.Array.Query != nil:
			q, at = q.Term.Array.Query, at+"[]"
			continue
		case mapArg(q) != nil:
			f, outer := mapArg(q), wrap
			wrap = func(x *gojq.Query) *gojq.Query {
				return outer(&gojq.Query{Left: iterAll, Op: gojq.OpPipe, Right: x})
			}
			q, at = f, at+"[]"
			continue
		case plainTerm(q, gojq.TermTypeObject) != nil:
			for _, kv := range q.Term.Object.KeyVals {
				k, literal := keyOf(kv)
				if !literal {
					k = "(" + kvKeyString(kv) + ")"
				}
				val := kv.Val
				if val == nil {
					var err error
					if val, err = gojq.Parse(valueOf(kv, k)); err != nil {
						continue
					}
				}
				if fails(wrap(val)) {
					return probe(val, join(at, pathToken{key: k, index: -1}), wrap, fails)
				}
			}
		}
		return at, q.String()
	}
	return at, q.String()
}

func kvKeyString(kv *gojq.ObjectKeyVal) string {
	switch {
	case kv.KeyQuery != nil:
		return kv.KeyQuery.String()
	case kv.KeyString != nil:
		return kv.KeyString.String()
	}
	return kv.Key
}
