package ftp

import (
	"errors"
	"strings"
	"testing"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

func TestValidate(t *testing.T) {
	good := Config{Host: "ftp.acme.example", User: "paklog", Password: "hunter2",
		Config: filedrop.Config{Partner: "acme", Dir: "/out", ArchiveDir: "/out/archive"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	if good.WithDefaults().Security != ExplicitTLS {
		t.Errorf("default Security is not explicit TLS")
	}
	for _, tc := range []struct {
		name   string
		edit   func(*Config)
		fields string
	}{
		{"everything missing", func(c *Config) { *c = Config{Port: -1} }, "Partner Host Port User Dir After"},
		{"unknown security", func(c *Config) { c.Security = "implicit" }, "Security"},
		{"plain with pin", func(c *Config) { c.Security, c.CertFingerprint = Plain, strings.Repeat("00", 32) }, "Security"},
		{"bad fingerprint", func(c *Config) { c.CertFingerprint = "SHA256:xyz" }, "CertFingerprint"},
		{"bad CA", func(c *Config) { c.CACert = []byte("not pem") }, "CACert"},
		{"CA and pin", func(c *Config) { c.CACert, c.CertFingerprint = []byte("x"), strings.Repeat("00", 32) }, "CACert/CertFingerprint CACert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			var fields []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe *filedrop.FieldError
					if !errors.As(e, &fe) || fe.Adapter != "ftp" {
						t.Fatalf("%v is not an ftp *FieldError", e)
					}
					fields = append(fields, fe.Field)
				}
			}
			if got := strings.Join(fields, " "); got != tc.fields {
				t.Errorf("fields = %q, want %q; error: %v", got, tc.fields, err)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password")
			}
		})
	}
}

func TestParseFingerprint(t *testing.T) {
	want := strings.Repeat("ab", 32)
	colons := strings.ToUpper(strings.Join(strings.SplitAfter(want, "ab")[:32], ":"))
	for _, s := range []string{want, "SHA256:" + want, colons, "sha256:" + colons} {
		fp, err := parseFingerprint(s)
		if err != nil || fp[0] != 0xab || fp[31] != 0xab {
			t.Errorf("parseFingerprint(%q) = %x, %v", s, fp, err)
		}
	}
}

func TestConfigLogValueHidesPassword(t *testing.T) {
	c := Config{Password: "hunter2", Config: filedrop.Config{Partner: "acme"}}
	if s := c.LogValue().String(); strings.Contains(s, "hunter2") {
		t.Errorf("LogValue leaks the password: %s", s)
	}
}
