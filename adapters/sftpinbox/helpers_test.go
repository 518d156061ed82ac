package sftpinbox

import (
	"context"
	"crypto/sha256"
	"fmt"
	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

// stored is one Store call that committed.
type stored struct {
	file filedrop.File
	key  filedrop.Key
	data []byte
}

// memSink is the test Sink: it reads the content to the end, takes f.Key() (which
// works only then), and keeps everything in memory (test files are small).
type memSink struct {
	mu       sync.Mutex
	calls    int
	got      []stored
	keys     map[filedrop.Key]bool
	failNext error // returned once, after reading the content
	delay    time.Duration
}

func newMemSink() *memSink { return &memSink{keys: map[filedrop.Key]bool{}} }

func (s *memSink) Store(ctx context.Context, f filedrop.File, r io.Reader) (bool, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return false, fmt.Errorf("reading: %w", err)
	}
	key, err := f.Key()
	if err != nil {
		return false, err
	}
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if err := s.failNext; err != nil {
		s.failNext = nil
		return false, err
	}
	if s.keys[key] {
		return true, nil
	}
	s.keys[key] = true
	s.got = append(s.got, stored{file: f, key: key, data: data})
	return false, nil
}

func (s *memSink) snapshot() (calls int, got []stored) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, append([]stored(nil), s.got...)
}

// inbox is a running Server with two partners, acme and beta.
type inbox struct {
	srv        *Server
	cfg        Config
	sink       *memSink
	logs       *filedroptest.SyncBuffer
	port       int
	acme, beta filedroptest.SSHKey
	knownHosts string // file with the server's host key for [127.0.0.1]:port
}

func startInbox(t *testing.T, edit func(*Config)) *inbox {
	t.Helper()
	in := &inbox{sink: newMemSink(), logs: &filedroptest.SyncBuffer{}, acme: filedroptest.NewSSHKey(t), beta: filedroptest.NewSSHKey(t)}
	in.cfg = Config{
		Addr:    "127.0.0.1:0",
		DataDir: t.TempDir(),
		Root:    t.TempDir(),
		Partners: []Partner{
			{Name: "acme", AuthorizedKeys: []string{in.acme.AuthorizedKey()}},
			{Name: "beta", AuthorizedKeys: []string{in.beta.AuthorizedKey()}},
		},
		MaxFileSize: 1 << 20,
	}
	if edit != nil {
		edit(&in.cfg)
	}
	logger := slog.New(slog.NewTextHandler(in.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(in.cfg, in.sink, logger)
	if err != nil {
		t.Fatal(err)
	}
	in.srv = srv
	addr, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	in.port = addr.(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return 10s after its context ended")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", in.logs.String())
		}
	})
	in.knownHosts = filepath.Join(t.TempDir(), "known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%d %s", in.port, ssh.MarshalAuthorizedKey(srv.HostKey()))
	if err := os.WriteFile(in.knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return in
}

// partnerDir is where a partner's virtual path lives on disk.
func (in *inbox) partnerDir(partner string, elem ...string) string {
	return filepath.Join(append([]string{in.cfg.Root, partner}, elem...)...)
}

func sftpBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("sftp")
	if err != nil {
		filedroptest.SkipOrFail(t, "OpenSSH sftp client not found (apt-get install openssh-client)")
	}
	return bin
}

// runSFTP runs the real OpenSSH client in batch mode as user with key, in dir (for
// local file names), and returns its combined output and error. Batch mode stops at
// the first failing command, with a non-zero exit.
func (in *inbox) runSFTP(t *testing.T, key filedroptest.SSHKey, dir, batch string) (string, error) {
	t.Helper()
	bin := sftpBinary(t)
	bf := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(bf, []byte(batch), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"-b", bf,
		"-i", key.File,
		"-P", strconv.Itoa(in.port),
		"-F", "/dev/null",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile="+in.knownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none",
		"-o", "BatchMode=yes",
		"-o", "PasswordAuthentication=no",
		"-o", "ConnectTimeout=5",
		"partner@127.0.0.1")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("sftp timed out: %s", out)
	}
	return string(out), err
}

func writeLocal(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// treeSnapshot describes every entry under dir: type, size and content hash.
func treeSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			snap[rel] = "symlink"
		case d.IsDir():
			snap[rel] = "dir"
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			snap[rel] = fmt.Sprintf("file %d %x", len(b), sha256.Sum256(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// logsMention reports whether one log line holds every one of parts.
func logsMention(logs string, parts ...string) bool {
	for line := range strings.Lines(logs) {
		all := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
