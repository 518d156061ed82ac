package sftp

import (
	"fmt"
	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

// This file runs a real OpenSSH sshd (internal-sftp) for the tests; see startSSHD.

type sshd struct {
	host   string
	port   int
	hostK  filedroptest.SSHKey
	client filedroptest.SSHKey
	user   string
}

// startSSHD starts `sshd -D -e -f cfg` on a free loopback port with a fresh host key
// and one authorized client key for the current user, and stops it in t.Cleanup.
// The SFTP user sees the real filesystem (no chroot: ChrootDirectory needs every path
// component root-owned and not world-writable, which /tmp is not).
func startSSHD(t *testing.T) *sshd {
	t.Helper()
	bin, err := exec.LookPath("sshd")
	if err != nil {
		bin = "/usr/sbin/sshd"
		if _, err := os.Stat(bin); err != nil {
			filedroptest.SkipOrFail(t, "OpenSSH sshd not found (apt-get install openssh-server)")
		}
	}
	if os.Geteuid() != 0 {
		filedroptest.SkipOrFail(t, "sshd needs root to run its privilege separation and log users in")
	}
	// sshd refuses to start without its privilege separation directory, which the
	// Debian package creates only when the service is started by systemd.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		filedroptest.SkipOrFail(t, "creating /run/sshd: %v", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	s := &sshd{host: "127.0.0.1", hostK: filedroptest.NewSSHKey(t), client: filedroptest.NewSSHKey(t), user: u.Username}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hostKeyFile := write("host_ed25519", s.hostK.PEM)
	authKeys := write("authorized_keys", ssh.MarshalAuthorizedKey(s.client.Signer.PublicKey()))
	s.port = filedroptest.FreePort(t)
	cfg := write("sshd_config", fmt.Appendf(nil, `Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile none
AuthorizedKeysFile %s
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers %s
Subsystem sftp internal-sftp
ForceCommand internal-sftp
LogLevel INFO
`, s.port, hostKeyFile, authKeys, s.user))

	if out, err := exec.Command(bin, "-t", "-f", cfg).CombinedOutput(); err != nil {
		filedroptest.SkipOrFail(t, "sshd -t rejected the test config: %v: %s", err, out)
	}
	var logs filedroptest.SyncBuffer
	cmd := exec.Command(bin, "-D", "-e", "-f", cfg)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		filedroptest.SkipOrFail(t, "starting sshd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("sshd log:\n%s", logs.String())
		}
	})
	addr := net.JoinHostPort(s.host, strconv.Itoa(s.port))
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-exited:
			filedroptest.SkipOrFail(t, "sshd exited at start: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			filedroptest.SkipOrFail(t, "sshd not listening on %s after 5s: %s", addr, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *sshd) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

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
	sshd    *sshd
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
		Host:       e.sshd.host,
		Port:       e.sshd.port,
		User:       e.sshd.user,
		PrivateKey: e.sshd.client.PEM,
		HostKey:    e.sshd.hostK.Fingerprint(),
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
