package ftp_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/adapters/filedrop"
	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	adapterftp "github.com/paklog/integration-hub/adapters/ftp"
	"github.com/paklog/integration-hub/connectors/ftp"
	"github.com/paklog/integration-hub/internal/fault"
)

func server(t *testing.T, ftps bool) (*filedroptest.Vsftpd, adapterftp.Config) {
	v := filedroptest.StartVsftpd(t, ftps)
	out := filepath.Join(v.Root, "in")
	if err := os.Mkdir(out, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(out, 0o777); err != nil {
		t.Fatal(err)
	}
	cfg := adapterftp.Config{Host: "127.0.0.1", Port: v.Port, User: "anonymous", Security: adapterftp.Plain, DialTimeout: 5 * time.Second,
		Config: filedrop.Config{Partner: "acme", Dir: "/in", After: filedrop.Delete}}
	if ftps {
		cfg.Security, cfg.CACert = adapterftp.ExplicitTLS, v.CertPEM
	}
	return v, cfg
}

// A put to a real vsftpd, plain and FTPS, lands under its final name with the exact
// content, replaces an earlier file, and leaves no .tmp behind.
func TestPutToVsftpd(t *testing.T) {
	for _, ftps := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "ftps"}[ftps], func(t *testing.T) {
			v, cfg := server(t, ftps)
			p, err := ftp.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, content := range [][]byte{[]byte("ISA*00*first~"), filedroptest.RandomBytes(t, 2<<20)} {
				rc, err := p.Put(context.Background(), "856_000000007.edi", bytes.NewReader(content))
				if err != nil {
					t.Fatal(err)
				}
				if rc.Bytes != int64(len(content)) || rc.Path != "/in/856_000000007.edi" {
					t.Errorf("receipt = %+v", rc)
				}
				got, err := os.ReadFile(filepath.Join(v.Root, "in", "856_000000007.edi"))
				if err != nil || !bytes.Equal(got, content) {
					t.Fatalf("file on the server differs (%d bytes, want %d): %v", len(got), len(content), err)
				}
			}
			left, _ := filepath.Glob(filepath.Join(v.Root, "in", "*.tmp"))
			if len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// The server's 550 for a missing directory is permanent; nobody listening is transient.
func TestPutErrorClasses(t *testing.T) {
	_, cfg := server(t, false)
	ctx := context.Background()
	cfg.Dir = "/missing"
	p, _ := ftp.New(cfg)
	_, err := p.Put(ctx, "a.edi", strings.NewReader("x"))
	if fault.ClassOf(err) != fault.Permanent || !strings.Contains(err.Error(), "553") {
		t.Errorf("missing directory: class %s, %v", fault.ClassOf(err), err)
	}
	cfg.Dir = "/in"
	cfg.Port = filedroptest.FreePort(t)
	p, _ = ftp.New(cfg)
	if _, err = p.Put(ctx, "a.edi", strings.NewReader("x")); fault.ClassOf(err) != fault.Transient {
		t.Errorf("nobody listening: class %s, %v", fault.ClassOf(err), err)
	}
}
