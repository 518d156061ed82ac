package sftp

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path"
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

// skipOrFail skips when a service is unavailable, unless PAKLOG_REQUIRE_SERVICES=1.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("PAKLOG_REQUIRE_SERVICES") == "1" {
		t.Fatalf("PAKLOG_REQUIRE_SERVICES=1 but "+format, args...)
	}
	t.Skipf(format, args...)
}

type testKey struct {
	signer ssh.Signer
	pem    []byte
}

func newTestKey(t *testing.T) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "paklog test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{signer: signer, pem: pem.EncodeToMemory(block)}
}

func (k testKey) fingerprint() string { return ssh.FingerprintSHA256(k.signer.PublicKey()) }

func (k testKey) knownHostsLine(host string) string {
	return host + " " + string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(k.signer.PublicKey())))
}

type sshd struct {
	host   string
	port   int
	hostK  testKey
	client testKey
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
			skipOrFail(t, "OpenSSH sshd not found (apt-get install openssh-server)")
		}
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "sshd needs root to run its privilege separation and log users in")
	}
	// sshd refuses to start without its privilege separation directory, which the
	// Debian package creates only when the service is started by systemd.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		skipOrFail(t, "creating /run/sshd: %v", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	s := &sshd{host: "127.0.0.1", hostK: newTestKey(t), client: newTestKey(t), user: u.Username}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hostKeyFile := write("host_ed25519", s.hostK.pem)
	authKeys := write("authorized_keys", ssh.MarshalAuthorizedKey(s.client.signer.PublicKey()))
	s.port = freePort(t)
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
		skipOrFail(t, "sshd -t rejected the test config: %v: %s", err, out)
	}
	var logs syncBuffer
	cmd := exec.Command(bin, "-D", "-e", "-f", cfg)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		skipOrFail(t, "starting sshd: %v", err)
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
			skipOrFail(t, "sshd exited at start: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			skipOrFail(t, "sshd not listening on %s after 5s: %s", addr, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *sshd) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

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

// dirSink is the test Sink: it spools to a temp file, fsyncs, dedupes by Key in a map,
// and renames the spool into place as the commit.
type dirSink struct {
	dir string

	mu       sync.Mutex
	keys     map[filedrop.Key]string
	calls    int
	failNext error // returned once, after reading the whole file
}

func newDirSink(t *testing.T) *dirSink {
	return &dirSink{dir: t.TempDir(), keys: map[filedrop.Key]string{}}
}

func (s *dirSink) Store(ctx context.Context, f filedrop.File, r io.Reader) (bool, error) {
	tmp, err := os.CreateTemp(s.dir, ".spool-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return false, fmt.Errorf("spooling: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	key, err := f.Key()
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if err := s.failNext; err != nil {
		s.failNext = nil
		return false, err
	}
	if _, ok := s.keys[key]; ok {
		return true, nil
	}
	final := filepath.Join(s.dir, fmt.Sprintf("%03d-%s", len(s.keys), path.Base(f.Path)))
	if err := os.Rename(tmp.Name(), final); err != nil {
		return false, err
	}
	s.keys[key] = final
	return false, nil
}

// stored returns the committed contents, in commit order.
func (s *dirSink) stored(t *testing.T) [][]byte {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, e := range entries {
		if e.Name()[0] == '.' {
			t.Errorf("leftover spool file %s", e.Name())
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// env is one partner drop on a real sshd: an inbox, an archive, a sink.
type env struct {
	sshd    *sshd
	inbox   string
	archive string
	sink    *dirSink
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := startSSHD(t)
	root := t.TempDir()
	e := &env{sshd: s, inbox: filepath.Join(root, "inbox"), archive: filepath.Join(root, "archive"), sink: newDirSink(t)}
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
		PrivateKey: e.sshd.client.pem,
		HostKey:    e.sshd.hostK.fingerprint(),
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

func poll(t *testing.T, p *filedrop.Poller) filedrop.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := p.PollOnce(ctx)
	if err != nil {
		t.Fatalf("PollOnce: %v (report %+v)", err, rep)
	}
	return rep
}

func exists(t *testing.T, p string) bool {
	t.Helper()
	_, err := os.Stat(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
