package sftpinbox

import (
	"errors"
	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateListsEveryProblem(t *testing.T) {
	k := filedroptest.NewSSHKey(t)
	cfg := Config{
		Addr:        "no-port",
		HostKey:     []byte("not a key"),
		MaxFileSize: -1,
		After:       "shred",
		Partners: []Partner{
			{Name: "acme", AuthorizedKeys: []string{k.AuthorizedKey()}},
			{Name: "acme", AuthorizedKeys: []string{"ssh-ed25519 garbage"}},
			{Name: "../evil"},
			{Name: "beta", AuthorizedKeys: []string{k.AuthorizedKey() + " other"}},
		},
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	want := []string{
		`Addr "no-port"`,
		"HostKey: must be an unencrypted PEM private key",
		"Root: is required",
		`partner "acme": Partners[1].Name "acme": is also the name of Partners[0]`,
		`Partners[1].AuthorizedKeys[0] "ssh-ed25519 garbage"`,
		`Partners[2].Name "../evil"`,
		`Partners[2].AuthorizedKeys: at least one public key is required`,
		`Partners[3].AuthorizedKeys[0]`, `is also a key of partner "acme"`,
		`MaxFileSize "-1"`,
		`After "shred"`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Errorf("errors are not *FieldError")
	}
	if strings.Contains(err.Error(), "not a key") {
		t.Errorf("the host key's content reached the error")
	}

	if err := (Config{Root: "/r", DataDir: "/d", Partners: []Partner{{Name: "acme", AuthorizedKeys: []string{k.AuthorizedKey()}}}}).Validate(); err != nil {
		t.Errorf("minimal config: %v", err)
	}
	if err := (Config{Root: "/r", Partners: []Partner{{Name: "acme", AuthorizedKeys: []string{k.AuthorizedKey()}}}}).Validate(); err == nil || !strings.Contains(err.Error(), "HostKey/DataDir") {
		t.Errorf("no host key and no data dir: %v", err)
	}
}

func TestWithDefaults(t *testing.T) {
	c := Config{}.WithDefaults()
	if c.Addr != "127.0.0.1:2222" || c.MaxFileSize != DefaultMaxFileSize || c.IdleTimeout != DefaultIdleTimeout || c.After != Archive {
		t.Errorf("defaults: %+v", c)
	}
}

func TestLoadOrCreateHostKeyPersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := LoadOrCreateHostKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, DefaultHostKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %v, want 0600", fi.Mode().Perm())
	}
	second, err := LoadOrCreateHostKey(dir)
	if err != nil || string(first) != string(second) {
		t.Errorf("second load returned another key (%v)", err)
	}
	if e, _ := os.ReadDir(dir); len(e) != 1 {
		t.Errorf("data dir holds %d entries, want only the key", len(e))
	}
	if err := os.WriteFile(filepath.Join(dir, DefaultHostKeyFile), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateHostKey(dir); err == nil {
		t.Error("a corrupt key file was accepted")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, DefaultHostKeyFile)); string(b) != "junk" {
		t.Error("a corrupt key file was overwritten")
	}
}

func TestServerKeepsHostKeyAcrossRestarts(t *testing.T) {
	k := filedroptest.NewSSHKey(t)
	cfg := Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Root: t.TempDir(),
		Partners: []Partner{{Name: "acme", AuthorizedKeys: []string{k.AuthorizedKey()}}}}
	a, err := New(cfg, newMemSink(), nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	b, err := New(cfg, newMemSink(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if string(a.HostKey().Marshal()) != string(b.HostKey().Marshal()) {
		t.Error("host key changed across restarts")
	}
}
