package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize caps the configuration file [Load] reads.
const MaxFileSize = 4 * MiB

// Load reads the configuration file at path (at most [MaxFileSize]) and
// returns it over [Default], with the environment applied ([ApplyEnv] with
// os.Getenv) and validated. An empty path means no file: the default
// configuration with the environment applied.
//
// A file that cannot be read gives an error wrapping the [os] error (test it
// with errors.Is(err, fs.ErrNotExist)). Anything wrong inside the file gives
// an [*Error] listing every problem with its line and field; invalid
// environment variables give a second *Error (File "environment"), joined
// with the first by [errors.Join] when there are both.
func Load(path string) (Config, error) {
	if path == "" {
		return Parse("", nil, os.Getenv)
	}
	data, err := readFile(path, int64(MaxFileSize))
	if err != nil {
		var tooLarge *tooLargeError
		if errors.As(err, &tooLarge) {
			return Config{}, &Error{File: path, Problems: []Problem{{Message: fmt.Sprintf("file is larger than the %s limit", MaxFileSize)}}}
		}
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data, os.Getenv)
}

// Parse is [Load] for a file already in memory: name is used in error
// messages, getenv (os.Getenv when nil) resolves {env: NAME} secrets and the
// [ApplyEnv] overrides. Empty data is the default configuration.
//
// Parse decodes the YAML into a node tree, then walks it into a Config that
// starts as [Default], so that fields the file leaves out keep their default.
// Unknown fields, values of the wrong type and malformed secrets are
// problems; so is every problem [Config.Validate] finds, with the line of its
// field (or of the nearest enclosing field the file sets). On error the
// returned Config is the zero value.
func Parse(name string, data []byte, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := Default()
	d := decoder{getenv: getenv}

	root, syntaxProblems := parseYAML(data)
	if len(syntaxProblems) > 0 {
		return Config{}, &Error{File: name, Problems: syntaxProblems}
	}
	if root != nil {
		d.decode(root, "", root.Line, reflect.ValueOf(&cfg).Elem())
	}
	problems := d.problems

	envErr := ApplyEnv(&cfg, getenv)

	var verr *Error
	if errors.As(cfg.Validate(), &verr) {
		for _, p := range verr.Problems {
			if slices.ContainsFunc(d.problems, func(q Problem) bool { return related(p.Field, q.Field) }) {
				continue // already reported while decoding that field
			}
			p.Line = lineOf(root, p.Field)
			problems = append(problems, p)
		}
	}
	// In the file's order; problems without a line last.
	slices.SortStableFunc(problems, func(a, b Problem) int {
		switch {
		case a.Line == b.Line:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		}
		return cmp.Compare(a.Line, b.Line)
	})

	var errs []error
	if len(problems) > 0 {
		errs = append(errs, &Error{File: name, Problems: problems})
	}
	if envErr != nil {
		errs = append(errs, envErr)
	}
	switch len(errs) {
	case 0:
		return cfg, nil
	case 1:
		return Config{}, errs[0]
	default:
		return Config{}, errors.Join(errs...)
	}
}

// related reports whether one field path is the other or encloses it.
func related(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+".") || strings.HasPrefix(b, a+".")
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML returns the root node of the single document in data (nil when
// there is none or it is empty) or the syntax problems.
func parseYAML(data []byte) (*yaml.Node, []Problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, []Problem{syntaxProblem(err)}
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, []Problem{syntaxProblem(err)}
	default:
		return nil, []Problem{{Line: extra.Line, Message: "a second YAML document (after ---) is not allowed: the configuration is one document"}}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if isNull(root) {
		return nil, nil
	}
	return root, nil
}

// syntaxProblem turns a YAML parser error, "yaml: line 3: did not find
// expected key", into a Problem at its line.
func syntaxProblem(err error) Problem {
	msg := err.Error()
	if m := yamlErrLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{Line: line, Message: "invalid YAML: " + m[2]}
	}
	return Problem{Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

var (
	secretType = reflect.TypeFor[Secret]()
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// decoder walks a YAML node tree into a value, collecting a Problem, with
// the line of the field's key, for everything it cannot decode. A field
// with a problem keeps the value it had.
type decoder struct {
	getenv   func(string) string
	problems []Problem
}

func (d *decoder) add(line int, field, msg string) {
	d.problems = append(d.problems, Problem{Line: line, Field: field, Message: msg})
}

// decode stores n in v. path is v's field path and line the line of its key.
// A null value (`key:` or `key: null`) leaves v as it is.
func (d *decoder) decode(n *yaml.Node, path string, line int, v reflect.Value) {
	n = deref(n)
	if isNull(n) {
		return
	}
	switch v.Type() {
	case secretType:
		if s, ok := d.secret(n, path, line); ok {
			v.Set(reflect.ValueOf(s))
		}
		return
	}
	if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
		if err := u.UnmarshalYAML(n); err != nil {
			d.add(line, path, err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.mapping(n, path, line, v)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.add(line, path, "must be a string, got "+describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.add(line, path, "must be an integer, got "+describe(n))
			return
		}
		if v.OverflowInt(i) {
			d.add(line, path, "is too large, got "+describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || n.Decode(&f) != nil {
			d.add(line, path, "must be a number, got "+describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.add(line, path, "must be true or false, got "+describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.add(line, path, "must be a list, got "+describe(n))
			return
		}
		if len(n.Content) == 0 {
			return // [] is the same as leaving the list out
		}
		out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, fmt.Sprintf("%s[%d]", path, i), item.Line, out.Index(i))
		}
		v.Set(out)
	case reflect.Map:
		if n.Kind != yaml.MappingNode || v.Type().Key().Kind() != reflect.String {
			d.add(line, path, "must be a mapping, got "+describe(n))
			return
		}
		out := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				d.add(k.Line, path, "keys must be strings, got "+describe(k))
				continue
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, path+"."+k.Value, k.Line, elem)
			out.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), elem)
		}
		v.Set(out)
	default:
		panic("config: no YAML decoding for field " + path + " of type " + v.Type().String())
	}
}

// mapping decodes a YAML mapping into the struct v, field by field.
func (d *decoder) mapping(n *yaml.Node, path string, line int, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		if path == "" {
			d.add(line, path, "the configuration must be a mapping of sections (store:, http:, ...), got "+describe(n))
		} else {
			d.add(line, path, "must be a mapping of fields, got "+describe(n))
		}
		return
	}
	names, index := yamlFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		field := join(path, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			d.add(k.Line, path, "field names must be strings, got "+describe(k))
			continue
		case k.Value == "<<":
			d.add(k.Line, field, "merge keys are not supported: write the fields out")
			continue
		}
		fi, ok := index[k.Value]
		if !ok {
			d.add(k.Line, field, unknownField(k.Value, names))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.add(k.Line, field, fmt.Sprintf("is set twice (first on line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		d.decode(val, field, k.Line, v.FieldByIndex(fi))
	}
}

// secret decodes a Secret: a string, {env: NAME} or {file: PATH}. A
// reference is read at once; if that fails the Secret keeps the reason for
// Validate, which reports it where the secret is required. ok is false when
// the node itself is malformed (and problems were added).
func (d *decoder) secret(n *yaml.Node, path string, line int) (s Secret, ok bool) {
	n = deref(n)
	switch {
	case isNull(n):
		return Secret{}, true
	case n.Kind == yaml.ScalarNode:
		return Secret{value: n.Value}, true
	case n.Kind == yaml.MappingNode:
	default:
		d.add(line, path, "must be a string, {env: NAME} or {file: PATH}, got "+describe(n))
		return Secret{}, false
	}
	ok = true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], deref(n.Content[i+1])
		field := join(path, k.Value)
		switch k.Value {
		case "env", "file":
		default:
			d.add(k.Line, field, unknownField(k.Value, []string{"env", "file"}))
			ok = false
			continue
		}
		if s.kind != "" {
			d.add(k.Line, path, "must set one of env or file, not both")
			ok = false
			continue
		}
		if val.Kind != yaml.ScalarNode || isNull(val) || val.Value == "" {
			what := "an environment variable name"
			if k.Value == "file" {
				what = "a file path"
			}
			d.add(k.Line, field, "must be "+what+", got "+describe(val))
			ok = false
			continue
		}
		if k.Value == "env" && !envNameRE.MatchString(val.Value) {
			d.add(k.Line, field, "must be an environment variable name such as PAKLOG_POSTGRES_DSN, got "+describe(val))
			ok = false
			continue
		}
		s.kind, s.name = k.Value, val.Value
	}
	if !ok {
		return Secret{}, false
	}
	if s.kind == "" {
		d.add(line, path, "must set env or file, such as {env: PAKLOG_POSTGRES_DSN}")
		return Secret{}, false
	}
	s.resolve(d.getenv)
	return s, true
}

// yamlFields returns the yaml field names of struct type t in order, and the
// field index path of each; the fields of an embedded struct tagged ",inline" count
// as t's own.
func yamlFields(t reflect.Type) ([]string, map[string][]int) {
	var names []string
	index := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" && strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			inner, innerIndex := yamlFields(f.Type)
			for _, n := range inner {
				names = append(names, n)
				index[n] = append([]int{i}, innerIndex[n]...)
			}
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		index[name] = []int{i}
	}
	return names, index
}

// unknownField is the message for a field name that is not in known: a
// suggestion when one is close, else the list.
func unknownField(name string, known []string) string {
	if s := suggest(name, known); s != "" {
		return fmt.Sprintf("unknown field (did you mean %q?)", s)
	}
	return "unknown field (known fields: " + strings.Join(known, ", ") + ")"
}

// suggest returns the candidate closest to name by edit distance (with
// transpositions, ignoring case) if it is close enough to be a typo, or the
// only candidate name is a prefix of; "" otherwise.
func suggest(name string, candidates []string) string {
	lower := strings.ToLower(name)
	best, bestDist := "", 0
	for _, c := range candidates {
		if d := editDistance(lower, c); best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := 2
	if len(name) <= 4 {
		limit = 1
	}
	if best != "" && bestDist <= limit {
		return best
	}
	if len(name) >= 3 {
		var prefixed []string
		for _, c := range candidates {
			if strings.HasPrefix(c, lower) {
				prefixed = append(prefixed, c)
			}
		}
		if len(prefixed) == 1 {
			return prefixed[0]
		}
	}
	return ""
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent bytes.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
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
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// lineOf returns the line in the tree under root of the field path, such as
// "store.postgres.dsn" or "partners[2].name": the line of its key, or of the
// key of the nearest enclosing field the file sets; 0 when there is none.
func lineOf(root *yaml.Node, path string) int {
	if root == nil || path == "" {
		return 0
	}
	line := 0
	n := deref(root)
	for _, seg := range splitPath(path) {
		switch {
		case n.Kind == yaml.MappingNode && !strings.HasPrefix(seg, "["):
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg {
					line, n, found = n.Content[i].Line, deref(n.Content[i+1]), true
					break
				}
			}
			if !found {
				return line
			}
		case n.Kind == yaml.SequenceNode && strings.HasPrefix(seg, "["):
			i, err := strconv.Atoi(strings.Trim(seg, "[]"))
			if err != nil || i < 0 || i >= len(n.Content) {
				return line
			}
			n = deref(n.Content[i])
			line = n.Line
		default:
			return line
		}
	}
	return line
}

// splitPath splits "a.b[2].c" into "a", "b", "[2]", "c".
func splitPath(path string) []string {
	var segs []string
	for part := range strings.SplitSeq(path, ".") {
		for {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				break
			}
			if i > 0 {
				segs = append(segs, part[:i])
			}
			j := strings.IndexByte(part[i:], ']')
			if j < 0 {
				break
			}
			segs = append(segs, part[i:i+j+1])
			part = part[i+j+1:]
		}
		if part != "" {
			segs = append(segs, part)
		}
	}
	return segs
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// deref follows aliases (*anchor) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's value for a message: the scalar quoted, or its kind.
func describe(n *yaml.Node) string {
	switch deref(n).Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if isNull(n) {
		return "nothing"
	}
	return strconv.Quote(deref(n).Value)
}
