package ftp

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

// startVsftpd runs a real vsftpd for the tests.
func startVsftpd(t *testing.T, ftps bool) *filedroptest.Vsftpd {
	return filedroptest.StartVsftpd(t, ftps)
}

// selfSignedCert returns a certificate for 127.0.0.1 and localhost that is its own CA.
func selfSignedCert(t *testing.T) (certPEM, keyPEM []byte) { return filedroptest.SelfSignedCert(t) }

// cutter wraps the connections a Dialer opens and, once armed, drops every one of
// them after limit bytes arrived on any (the middle of a download).
type cutter struct {
	limit atomic.Int64 // 0: never
	cuts  atomic.Int32

	mu    sync.Mutex
	conns []net.Conn
}

func (c *cutter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.conns = append(c.conns, conn)
	c.mu.Unlock()
	return &cutConn{Conn: conn, c: c}, nil
}

func (c *cutter) cutAll() {
	c.cuts.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

type cutConn struct {
	net.Conn
	c *cutter
	n int64
}

func (cc *cutConn) Read(b []byte) (int, error) {
	n, err := cc.Conn.Read(b)
	cc.n += int64(n)
	if limit := cc.c.limit.Load(); limit > 0 && cc.n > limit {
		cc.c.cutAll()
		return 0, errors.New("test cut the connection")
	}
	return n, err
}

// env is one partner drop on a real vsftpd: /inbox and /archive under its root, a sink.
type env struct {
	ftpd    *filedroptest.Vsftpd
	inbox   string // local paths
	archive string
	sink    *filedroptest.DirSink
}

func newEnv(t *testing.T, ftps bool) *env {
	t.Helper()
	v := startVsftpd(t, ftps)
	e := &env{ftpd: v, inbox: filepath.Join(v.Root, "inbox"), archive: filepath.Join(v.Root, "archive"), sink: filedroptest.NewDirSink(t)}
	for _, d := range []string{e.inbox, e.archive} {
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o777); err != nil { // umask
			t.Fatal(err)
		}
	}
	return e
}

// config is a Stable/Archive config settling on the next poll; FTPS trusts the test
// certificate as a CA.
func (e *env) config() Config {
	c := Config{
		Host:     "127.0.0.1",
		Port:     e.ftpd.Port,
		User:     "anonymous",
		Security: Plain,
		Config: filedrop.Config{
			Partner:    "acme",
			Dir:        "/inbox",
			Glob:       "*.edi",
			Settle:     time.Nanosecond,
			ArchiveDir: "/archive",
			Interval:   50 * time.Millisecond,
		},
		DialTimeout: 5 * time.Second,
	}
	if e.ftpd.CertPEM != nil {
		c.Security, c.CACert = ExplicitTLS, e.ftpd.CertPEM
	}
	return c
}

func (e *env) poller(t *testing.T, cfg Config) *filedrop.Poller {
	t.Helper()
	p, err := New(cfg, e.sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// drop writes a file into the inbox as the partner would; the result is its FTP path.
func (e *env) drop(t *testing.T, name string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(e.inbox, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return "/inbox/" + name
}

func (e *env) local(ftpPath string) string {
	return filepath.Join(e.ftpd.Root, filepath.FromSlash(ftpPath))
}
