package sftp

import (
	"io"
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

// startSSHD runs a real OpenSSH sshd (internal-sftp) for the tests.
func startSSHD(t *testing.T) *filedroptest.SSHD { return filedroptest.StartSSHD(t) }

// proxy forwards TCP to sshd and can drop connections on demand: after cutAfter bytes
// from the server (the middle of a download), or at once (refuse).
type proxy struct {
	ln       net.Listener
	target   string
	cutAfter atomic.Int64 // 0: never
	refuse   atomic.Bool
	cuts     atomic.Int32
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if p.refuse.Load() {
				c.Close()
				continue
			}
			wg.Add(1)
			go func() { defer wg.Done(); p.serve(c) }()
		}
	}()
	return p
}

func (p *proxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *proxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(s, c); done <- struct{}{} }()
	go func() {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 16<<10)
		var n int64
		for {
			m, err := s.Read(buf)
			if m > 0 {
				n += int64(m)
				if limit := p.cutAfter.Load(); limit > 0 && n > limit {
					p.cuts.Add(1)
					return // drop the connection mid-stream
				}
				if _, werr := c.Write(buf[:m]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	<-done
}

// env is one partner drop on a real sshd: an inbox, an archive, a sink.
type env struct {
	sshd    *filedroptest.SSHD
	inbox   string
	archive string
	sink    *filedroptest.DirSink
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := startSSHD(t)
	root := t.TempDir()
	e := &env{sshd: s, inbox: filepath.Join(root, "inbox"), archive: filepath.Join(root, "archive"), sink: filedroptest.NewDirSink(t)}
	for _, d := range []string{e.inbox, e.archive} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// config is a Stable/Archive config pinned by fingerprint, settling on the next poll.
func (e *env) config() Config {
	return Config{
		Host:       e.sshd.Host,
		Port:       e.sshd.Port,
		User:       e.sshd.User,
		PrivateKey: e.sshd.Client.PEM,
		HostKey:    e.sshd.HostKey.Fingerprint(),
		Config: filedrop.Config{
			Partner:    "acme",
			Dir:        e.inbox,
			Glob:       "*.edi",
			Settle:     time.Nanosecond,
			ArchiveDir: e.archive,
			Interval:   50 * time.Millisecond,
		},
	}
}

func (e *env) poller(t *testing.T, cfg Config) *filedrop.Poller {
	t.Helper()
	p, err := New(cfg, e.sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) drop(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(e.inbox, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
