package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Size is a number of bytes. In the file it is written with a unit, "512KiB",
// "1MiB", "2GiB" or "100B", or as a plain integer of bytes; it prints in the
// largest unit that divides it exactly.
type Size int64

// Units of [Size]. They are powers of 1024; decimal units (KB, MB, GB) are
// rejected rather than guessed.
const (
	B   Size = 1
	KiB Size = 1 << 10
	MiB Size = 1 << 20
	GiB Size = 1 << 30
)

var sizeUnits = []struct {
	name string
	size Size
}{{"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}, {"B", B}}

const sizeSyntax = `must be a size such as "512KiB" or "1MiB" (units B, KiB, MiB, GiB, or a plain number of bytes)`

// ParseSize parses a size written as an integer followed by an optional unit
// (B, KiB, MiB or GiB, any case; a space between them is allowed).
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("must not be negative, got %q", s)
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	if num == "" {
		return 0, fmt.Errorf("%s, got %q", sizeSyntax, s)
	}
	if strings.HasPrefix(unit, ".") {
		return 0, fmt.Errorf("must be a whole number of B, KiB, MiB or GiB, got %q", s)
	}
	mult := B
	if unit != "" {
		mult = 0
		for _, u := range sizeUnits {
			if strings.EqualFold(unit, u.name) {
				mult = u.size
				break
			}
		}
	}
	if mult == 0 {
		switch strings.ToUpper(unit) {
		case "K", "KB":
			return 0, fmt.Errorf("unit %q is ambiguous: use KiB (1024 bytes), got %q", unit, s)
		case "M", "MB":
			return 0, fmt.Errorf("unit %q is ambiguous: use MiB (1048576 bytes), got %q", unit, s)
		case "G", "GB":
			return 0, fmt.Errorf("unit %q is ambiguous: use GiB (1073741824 bytes), got %q", unit, s)
		}
		return 0, fmt.Errorf("%s, got %q", sizeSyntax, s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/int64(mult) {
		return 0, fmt.Errorf("is too large, got %q", s)
	}
	return Size(n) * mult, nil
}

// String returns the size in the largest unit that divides it exactly, such
// as "1MiB" or "1500B"; ParseSize reads it back.
func (s Size) String() string {
	if s == 0 {
		return "0B"
	}
	for _, u := range sizeUnits {
		if s%u.size == 0 {
			return strconv.FormatInt(int64(s/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B" // unreachable: B divides everything
}

// MarshalText implements [encoding.TextMarshaler] (JSON, YAML, flag.TextVar).
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseSize].
func (s *Size) UnmarshalText(text []byte) error {
	v, err := ParseSize(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// UnmarshalYAML accepts a string with a unit or a plain integer of bytes.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s, got %s", sizeSyntax, describe(n))
	}
	if n.ShortTag() == "!!int" {
		var v int64
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("is too large, got %q", n.Value)
		}
		if v < 0 {
			return fmt.Errorf("must not be negative, got %q", n.Value)
		}
		*s = Size(v)
		return nil
	}
	return s.UnmarshalText([]byte(n.Value))
}

// Duration is a [time.Duration] written in Go syntax: "100ms", "30s", "1m30s".
// A number without a unit is rejected, except 0.
type Duration time.Duration

const durationSyntax = `must be a duration such as "250ms", "30s" or "1m30s"`

// ParseDuration parses s with [time.ParseDuration], with an error message that
// shows the expected syntax.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		if strings.Contains(err.Error(), "missing unit") {
			return 0, fmt.Errorf("%s (a unit is required: ns, us, ms, s, m or h), got %q", durationSyntax, s)
		}
		return 0, fmt.Errorf("%s, got %q", durationSyntax, s)
	}
	return Duration(d), nil
}

// Std returns d as a [time.Duration].
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String returns d in Go syntax without the trailing zero units that
// [time.Duration.String] prints: "1h" rather than "1h0m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText implements [encoding.TextMarshaler] (JSON, YAML, flag.TextVar).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseDuration].
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalYAML accepts a scalar in Go duration syntax.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s, got %s", durationSyntax, describe(n))
	}
	return d.UnmarshalText([]byte(n.Value))
}
