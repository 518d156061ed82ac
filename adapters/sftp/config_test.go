package sftp

import (
	"errors"
	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

func TestValidateListsEveryProblem(t *testing.T) {
	err := Config{Port: 70000, Config: filedrop.Config{Glob: "[", Completeness: "soon", Interval: -time.Second}}.Validate()
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *filedrop.FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a *FieldError", e)
		}
		fields = append(fields, fe.Field)
	}
	want := "Partner Host Port User PrivateKey/Password HostKey Dir Glob Completeness After Interval"
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("fields = %s\nwant     %s\nerror: %v", got, want, err)
	}
}

func TestValidate(t *testing.T) {
	key := filedroptest.NewSSHKey(t)
	good := Config{
		Host: "sftp.acme.example", User: "paklog", PrivateKey: key.PEM, HostKey: key.Fingerprint(),
		Config: filedrop.Config{Partner: "acme", Dir: "/out", ArchiveDir: "/out/archive"},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"bad fingerprint", func(c *Config) { c.HostKey = "SHA256:short" }, "HostKey"},
		{"bad known_hosts", func(c *Config) { c.HostKey = "host ssh-ed25519 !!!" }, "HostKey"},
		{"revoked line", func(c *Config) { c.HostKey = "@revoked " + key.KnownHostsLine("h") }, "HostKey"},
		{"garbage key", func(c *Config) { c.PrivateKey = []byte("not a key") }, "PrivateKey"},
		{"archive is dir", func(c *Config) { c.ArchiveDir = "/out/" }, "ArchiveDir"},
		{"rename no suffix clash", func(c *Config) {
			c.After, c.Completeness, c.RenameSuffix, c.MarkerSuffix = filedrop.Rename, filedrop.Marker, ".ok", ".ok"
		}, "RenameSuffix"},
		{"no after-action", func(c *Config) { c.ArchiveDir = "" }, "After"},
		{"glob with slash", func(c *Config) { c.Glob = "a/*.edi" }, "Glob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			var fe *filedrop.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("Validate() = %v, want a problem with %s", err, tc.field)
			}
			if strings.Contains(err.Error(), string(key.PEM)) {
				t.Errorf("error leaks the private key")
			}
		})
	}
}

func TestConfigLogValueHidesSecrets(t *testing.T) {
	c := Config{Config: filedrop.Config{Partner: "acme"}, Password: "hunter2", PrivateKey: []byte("-----BEGIN SECRET")}
	if s := c.LogValue().String(); strings.Contains(s, "hunter2") || strings.Contains(s, "SECRET") {
		t.Errorf("LogValue leaks secrets: %s", s)
	}
}
