package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxSecretFile caps what a {file: PATH} secret reads.
const maxSecretFile = 64 << 10

// Secret is a password, token or DSN. In the file it is written as
//
//	dsn: {env: PAKLOG_POSTGRES_DSN}    # read from the environment at load
//	dsn: {file: /run/secrets/pg_dsn}   # read from a file at load, white space trimmed
//	dsn: "postgres://u:p@host/db"      # inline: allowed, but the secret is then in the file
//
// Every way of printing a Secret redacts it, naming only where it came from:
// "[REDACTED]", "[REDACTED env:NAME]" or "[REDACTED file:PATH]". Only
// [Secret.Value] returns the value.
//
// A reference that cannot be read (unset variable, unreadable file) leaves
// the Secret empty and remembers why; [Config.Validate] reports it, naming
// the variable or file, where the secret is required.
type Secret struct {
	value string
	kind  string // "env", "file", or "" for an inline value
	name  string // variable name or file path
	err   error  // why the reference could not be read
}

// NewSecret returns a Secret holding value, for values that come from a flag
// or a test rather than the file.
func NewSecret(value string) Secret { return Secret{value: value} }

// EnvSecret returns the Secret {env: name}, read with getenv (os.Getenv when
// nil). An unset or empty variable gives an empty Secret that
// [Config.Validate] reports where it is required.
func EnvSecret(name string, getenv func(string) string) Secret {
	if getenv == nil {
		getenv = os.Getenv
	}
	s := Secret{kind: "env", name: name}
	s.resolve(getenv)
	return s
}

// FileSecret returns the Secret {file: path}: the file's content with
// surrounding white space trimmed.
func FileSecret(path string) Secret {
	s := Secret{kind: "file", name: path}
	s.resolve(nil)
	return s
}

// Value returns the secret itself; "" when unset or when its reference could
// not be read. Pass it to the code that needs it; never log it.
func (s Secret) Value() string { return s.value }

// IsZero reports whether the Secret is unset: no value and no reference.
func (s Secret) IsZero() bool { return s.value == "" && s.kind == "" }

// Source returns where the secret came from, "env:NAME" or "file:PATH", or ""
// for an inline value. It never contains the secret.
func (s Secret) Source() string {
	if s.kind == "" {
		return ""
	}
	return s.kind + ":" + s.name
}

// String returns "[REDACTED]" or "[REDACTED env:NAME]" / "[REDACTED file:PATH]".
func (s Secret) String() string {
	if s.kind == "" {
		return "[REDACTED]"
	}
	return "[REDACTED " + s.Source() + "]"
}

// GoString redacts for the %#v verb.
func (s Secret) GoString() string { return "config.Secret(" + s.String() + ")" }

// Format redacts for every fmt verb, including the ones (%d, %x, ...) that
// would otherwise print the struct's fields.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", s.String())
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

// LogValue implements [slog.LogValuer]: a logged Secret is redacted.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes the redacted string.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalYAML writes the reference, {env: NAME} or {file: PATH}, which holds
// no secret and loads back to the same Secret; an inline value is written as
// "[REDACTED]".
func (s Secret) MarshalYAML() (any, error) {
	if s.kind == "" {
		return s.String(), nil
	}
	return map[string]string{s.kind: s.name}, nil
}

// UnmarshalYAML reads a Secret with the same syntax as the configuration
// file, for configuration kept as YAML nodes and decoded later (partners,
// channels). Unlike [Load] it reports a reference that cannot be read at
// once, as an error.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	d := decoder{getenv: os.Getenv}
	v, ok := d.secret(n, "", n.Line)
	if len(d.problems) > 0 {
		return &Error{Problems: d.problems}
	}
	if ok && v.err != nil {
		return v.err
	}
	if ok {
		*s = v
	}
	return nil
}

// resolve reads the reference; getenv is used for {env: NAME}.
func (s *Secret) resolve(getenv func(string) string) {
	s.value, s.err = "", nil
	switch s.kind {
	case "env":
		if v := getenv(s.name); v != "" {
			s.value = v
		} else {
			s.err = fmt.Errorf("environment variable %s is not set", s.name)
		}
	case "file":
		b, err := readFile(s.name, maxSecretFile)
		switch {
		case err != nil:
			s.err = fmt.Errorf("reading secret file: %w", err)
		case strings.TrimSpace(string(b)) == "":
			s.err = fmt.Errorf("secret file %s is empty", s.name)
		default:
			s.value = strings.TrimSpace(string(b))
		}
	}
}

// tooLargeError is returned by readFile when the file exceeds its limit.
type tooLargeError struct {
	path  string
	limit Size
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than the %s limit", e.path, e.limit)
}

// readFile reads at most limit bytes of path; a longer file is an error.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &tooLargeError{path: path, limit: Size(limit)}
	}
	return b, nil
}
