package sftp_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paklog/integration-hub/adapters/filedrop"
	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	adaptersftp "github.com/paklog/integration-hub/adapters/sftp"
	"github.com/paklog/integration-hub/connectors/sftp"
	"github.com/paklog/integration-hub/internal/fault"
)

func config(s *filedroptest.SSHD, dir string) adaptersftp.Config {
	return adaptersftp.Config{Host: s.Host, Port: s.Port, User: s.User, PrivateKey: s.Client.PEM, HostKey: s.HostKey.Fingerprint(),
		Config: filedrop.Config{Partner: "acme", Dir: dir, After: filedrop.Delete}}
}

// A put to a real OpenSSH server lands under its final name with the exact content,
// replaces an earlier file of that name, and leaves no .tmp behind.
func TestPutToOpenSSH(t *testing.T) {
	s := filedroptest.StartSSHD(t)
	dir := t.TempDir()
	p, err := sftp.New(config(s, dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, content := range [][]byte{[]byte("ISA*00*first~"), filedroptest.RandomBytes(t, 3<<20)} {
		rc, err := p.Put(context.Background(), "997_000000001.edi", bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		if rc.Bytes != int64(len(content)) || rc.Path != dir+"/997_000000001.edi" {
			t.Errorf("receipt = %+v", rc)
		}
		got, err := os.ReadFile(filepath.Join(dir, "997_000000001.edi"))
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("file on the server differs (%d bytes, want %d): %v", len(got), len(content), err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// What no retry fixes is permanent (a missing directory, a changed host key); a
// server that does not answer is transient.
func TestPutErrorClasses(t *testing.T) {
	s := filedroptest.StartSSHD(t)
	ctx := context.Background()

	p, _ := sftp.New(config(s, filepath.Join(t.TempDir(), "missing")))
	_, err := p.Put(ctx, "a.edi", strings.NewReader("x"))
	if fault.ClassOf(err) != fault.Permanent || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing directory: class %s, %v", fault.ClassOf(err), err)
	}

	cfg := config(s, t.TempDir())
	cfg.HostKey = filedroptest.NewSSHKey(t).Fingerprint()
	p, _ = sftp.New(cfg)
	_, err = p.Put(ctx, "a.edi", strings.NewReader("x"))
	if fault.ClassOf(err) != fault.Permanent || !strings.Contains(err.Error(), s.HostKey.Fingerprint()) {
		t.Errorf("changed host key: class %s, %v", fault.ClassOf(err), err)
	}

	cfg = config(s, t.TempDir())
	cfg.Port = filedroptest.FreePort(t)
	p, _ = sftp.New(cfg)
	_, err = p.Put(ctx, "a.edi", strings.NewReader("x"))
	if fault.ClassOf(err) != fault.Transient {
		t.Errorf("nobody listening: class %s, %v", fault.ClassOf(err), err)
	}

	p, _ = sftp.New(config(s, t.TempDir()))
	if _, err = p.Put(ctx, "../escape.edi", strings.NewReader("x")); fault.ClassOf(err) != fault.Permanent {
		t.Errorf("a name with a directory: class %s, %v", fault.ClassOf(err), err)
	}
}
