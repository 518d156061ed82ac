// Package filedroptest is what the file-transport tests share: skipping (or failing,
// in CI) when a real server is missing, SSH keys, a directory Sink that commits like
// the hub's, and small file helpers. Only tests import it.
package filedroptest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

// SkipOrFail skips when a server or tool the test needs is unavailable, and fails
// instead when PAKLOG_REQUIRE_SERVICES=1 (CI).
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("PAKLOG_REQUIRE_SERVICES") == "1" {
		t.Fatalf("PAKLOG_REQUIRE_SERVICES=1 but "+format, args...)
	}
	t.Skipf(format, args...)
}

// FreePort is a loopback TCP port free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers (a server's or logger's
// output).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// SSHKey is a fresh ed25519 key pair.
type SSHKey struct {
	Signer ssh.Signer
	PEM    []byte
	// File holds the PEM with mode 0600, for `ssh -i`.
	File string
}

// NewSSHKey generates a key and writes its private half to a temporary file.
func NewSSHKey(t testing.TB) SSHKey {
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
	k := SSHKey{Signer: signer, PEM: pem.EncodeToMemory(block), File: filepath.Join(t.TempDir(), "id_ed25519")}
	if err := os.WriteFile(k.File, k.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

// Fingerprint is the key's SHA256 fingerprint.
func (k SSHKey) Fingerprint() string { return ssh.FingerprintSHA256(k.Signer.PublicKey()) }

// AuthorizedKey is the public key as an authorized_keys line.
func (k SSHKey) AuthorizedKey() string {
	return string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(k.Signer.PublicKey())))
}

// KnownHostsLine is the public key as a known_hosts line for host.
func (k SSHKey) KnownHostsLine(host string) string { return host + " " + k.AuthorizedKey() }

// DirSink is a filedrop.Sink that commits as the hub does: it spools to a temporary
// file, syncs it, dedupes by Key, and renames the spool into place as the commit.
type DirSink struct {
	dir string

	mu    sync.Mutex
	keys  map[filedrop.Key]string
	calls int
	// FailNext is returned once, after the whole file was read.
	FailNext error
}

// NewDirSink is a DirSink in a new temporary directory.
func NewDirSink(t testing.TB) *DirSink {
	return &DirSink{dir: t.TempDir(), keys: map[filedrop.Key]string{}}
}

// Store implements filedrop.Sink.
func (s *DirSink) Store(ctx context.Context, f filedrop.File, r io.Reader) (bool, error) {
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
	if err := s.FailNext; err != nil {
		s.FailNext = nil
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

// Stored returns the committed contents, in commit order, and fails on a leftover
// spool file.
func (s *DirSink) Stored(t testing.TB) [][]byte {
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

// Poll runs one poll with a 10 s limit and fails the test on an error.
func Poll(t testing.TB, p *filedrop.Poller) filedrop.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := p.PollOnce(ctx)
	if err != nil {
		t.Fatalf("PollOnce: %v (report %+v)", err, rep)
	}
	return rep
}

// Exists reports whether a local path exists (a symlink counts, not followed).
func Exists(t testing.TB, p string) bool {
	t.Helper()
	_, err := os.Lstat(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// RandomBytes is n random bytes.
func RandomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// Keys are the keys of the committed files.
func (s *DirSink) Keys() []filedrop.Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]filedrop.Key, 0, len(s.keys))
	for k := range s.keys {
		out = append(out, k)
	}
	return out
}

// Calls counts the Store calls that read their file to the end.
func (s *DirSink) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}
