package config

import (
	"encoding/json"
	"flag"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    Size
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "1048576", want: MiB},
		{in: "100B", want: 100},
		{in: "1KiB", want: KiB},
		{in: "512KiB", want: 512 * KiB},
		{in: "1MiB", want: MiB},
		{in: "4 MiB", want: 4 * MiB},
		{in: " 2GiB ", want: 2 * GiB},
		{in: "1mib", want: MiB},
		{in: "8589934591GiB", want: 8589934591 * GiB},
		{in: "", wantErr: `must be a size such as "512KiB" or "1MiB" (units B, KiB, MiB, GiB, or a plain number of bytes), got ""`},
		{in: "lots", wantErr: `must be a size such as "512KiB" or "1MiB" (units B, KiB, MiB, GiB, or a plain number of bytes), got "lots"`},
		{in: "MiB", wantErr: `must be a size such as "512KiB" or "1MiB" (units B, KiB, MiB, GiB, or a plain number of bytes), got "MiB"`},
		{in: "1TiB", wantErr: `must be a size such as "512KiB" or "1MiB" (units B, KiB, MiB, GiB, or a plain number of bytes), got "1TiB"`},
		{in: "1MB", wantErr: `unit "MB" is ambiguous: use MiB (1048576 bytes), got "1MB"`},
		{in: "1k", wantErr: `unit "k" is ambiguous: use KiB (1024 bytes), got "1k"`},
		{in: "3G", wantErr: `unit "G" is ambiguous: use GiB (1073741824 bytes), got "3G"`},
		{in: "1.5MiB", wantErr: `must be a whole number of B, KiB, MiB or GiB, got "1.5MiB"`},
		{in: "-1KiB", wantErr: `must not be negative, got "-1KiB"`},
		{in: "8589934592GiB", wantErr: `is too large, got "8589934592GiB"`},
		{in: "99999999999999999999", wantErr: `is too large, got "99999999999999999999"`},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseSize(%q) = %v, %v; want error %s", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestSizeString(t *testing.T) {
	for size, want := range map[Size]string{
		0: "0B", 1: "1B", 1500: "1500B", 1536: "1536B", KiB: "1KiB", MiB: "1MiB",
		MiB + 1: "1048577B", 3 * GiB: "3GiB", 1024 * GiB: "1024GiB", 1536 * KiB: "1536KiB",
	} {
		if got := size.String(); got != want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(size), got, want)
		}
		back, err := ParseSize(size.String())
		if err != nil || back != size {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", size.String(), back, err, size)
		}
	}
}

func TestSizeYAMLAndJSON(t *testing.T) {
	var v struct {
		A Size `yaml:"a"`
		B Size `yaml:"b"`
		C Size `yaml:"c"`
	}
	if err := yaml.Unmarshal([]byte("a: 2MiB\nb: 4096\nc: 0x400\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 2*MiB || v.B != 4*KiB || v.C != KiB {
		t.Errorf("Unmarshal = %+v", v)
	}
	for src, want := range map[string]string{
		"a: -5\n":    `must not be negative, got "-5"`,
		"a: [1]\n":   `must be a size such as "512KiB" or "1MiB" (units B, KiB, MiB, GiB, or a plain number of bytes), got a list`,
		"a: 1.5\n":   `must be a whole number of B, KiB, MiB or GiB, got "1.5"`,
		"a: 10 GB\n": `unit "GB" is ambiguous: use GiB (1073741824 bytes), got "10 GB"`,
	} {
		if err := yaml.Unmarshal([]byte(src), &v); err == nil || err.Error() != want {
			t.Errorf("Unmarshal(%q) = %v, want %s", src, err, want)
		}
	}
	out, err := json.Marshal(struct{ S Size }{3 * MiB})
	if err != nil || string(out) != `{"S":"3MiB"}` {
		t.Errorf("json.Marshal = %s, %v", out, err)
	}
	var s Size
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.TextVar(&s, "max-body", MiB, "")
	if err := fs.Parse([]string{"-max-body", "8MiB"}); err != nil || s != 8*MiB {
		t.Errorf("flag.TextVar = %v, %v", s, err)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "2ms", want: 2 * time.Millisecond},
		{in: "1m30s", want: 90 * time.Second},
		{in: " 15s ", want: 15 * time.Second},
		{in: "-1s", want: -time.Second},
		{in: "30", wantErr: `must be a duration such as "250ms", "30s" or "1m30s" (a unit is required: ns, us, ms, s, m or h), got "30"`},
		{in: "soon", wantErr: `must be a duration such as "250ms", "30s" or "1m30s", got "soon"`},
		{in: "1d", wantErr: `must be a duration such as "250ms", "30s" or "1m30s", got "1d"`},
		{in: "", wantErr: `must be a duration such as "250ms", "30s" or "1m30s", got ""`},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseDuration(%q) = %v, %v; want error %s", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.Std() != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestDurationString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                   "0s",
		10 * time.Second:                    "10s",
		2 * time.Millisecond:                "2ms",
		time.Minute:                         "1m",
		10 * time.Minute:                    "10m",
		90 * time.Second:                    "1m30s",
		time.Hour:                           "1h",
		90 * time.Minute:                    "1h30m",
		time.Hour + 30*time.Second:          "1h0m30s",
		1500 * time.Millisecond:             "1.5s",
		-10 * time.Minute:                   "-10m",
		20*time.Hour + 100*time.Millisecond: "20h0m0.1s",
	} {
		got := Duration(d).String()
		if got != want {
			t.Errorf("Duration(%v).String() = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(got); err != nil || back.Std() != d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", got, back, err, d)
		}
	}
}

func TestDurationYAMLAndJSON(t *testing.T) {
	var v struct {
		D Duration `yaml:"d"`
	}
	if err := yaml.Unmarshal([]byte("d: 250ms\n"), &v); err != nil || v.D.Std() != 250*time.Millisecond {
		t.Errorf("Unmarshal = %v, %v", v.D, err)
	}
	if err := yaml.Unmarshal([]byte("d: {a: 1}\n"), &v); err == nil || err.Error() != `must be a duration such as "250ms", "30s" or "1m30s", got a mapping` {
		t.Errorf("Unmarshal(mapping) = %v", err)
	}
	out, err := yaml.Marshal(struct{ D Duration }{Duration(time.Hour)})
	if err != nil || string(out) != "d: 1h\n" {
		t.Errorf("yaml.Marshal = %q, %v", out, err)
	}
	out, err = json.Marshal(struct{ D Duration }{Duration(90 * time.Second)})
	if err != nil || string(out) != `{"D":"1m30s"}` {
		t.Errorf("json.Marshal = %s, %v", out, err)
	}
}
