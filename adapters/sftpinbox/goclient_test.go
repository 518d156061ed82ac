package sftpinbox

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// dial logs in with key using pkg/sftp's client, pinning the server's host key.
func (in *inbox) dial(t *testing.T, key filedroptest.SSHKey) (*sftp.Client, error) {
	t.Helper()
	conn, err := ssh.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(in.port)), &ssh.ClientConfig{
		User:            "partner",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(key.Signer)},
		HostKeyCallback: ssh.FixedHostKey(in.srv.HostKey()),
		Timeout:         5 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	c, err := sftp.NewClient(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	return c, nil
}

func TestGoClientConcurrentUploadsFromTwoPartners(t *testing.T) {
	in := startInbox(t, nil)
	const perPartner = 6
	want := map[string][]byte{} // partner/name → content
	var wg sync.WaitGroup
	errs := make(chan error, 2*perPartner)
	for _, p := range []struct {
		name string
		key  filedroptest.SSHKey
	}{{"acme", in.acme}, {"beta", in.beta}} {
		c, err := in.dial(t, p.key)
		if err != nil {
			t.Fatal(err)
		}
		for i := range perPartner {
			name := fmt.Sprintf("850_%04d.edi", i)
			data := append([]byte(p.name+" "+name+" "), filedroptest.RandomBytes(t, 64<<10+i)...)
			want[p.name+"/"+name] = data
			wg.Add(1)
			go func() { // uploads on one session run concurrently too
				defer wg.Done()
				f, err := c.Create("/inbound/" + name)
				if err != nil {
					errs <- fmt.Errorf("%s: create %s: %w", p.name, name, err)
					return
				}
				if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
					errs <- fmt.Errorf("%s: write %s: %w", p.name, name, err)
					f.Close()
					return
				}
				if err := f.Close(); err != nil {
					errs <- fmt.Errorf("%s: close %s: %w", p.name, name, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	calls, got := in.sink.snapshot()
	if calls != 2*perPartner || len(got) != 2*perPartner {
		t.Fatalf("sink calls %d, committed %d; want %d", calls, len(got), 2*perPartner)
	}
	for _, g := range got {
		k := g.file.Partner + "/" + strings.TrimPrefix(g.file.Path, "/inbound/")
		if !bytes.Equal(g.data, want[k]) {
			t.Errorf("%s: committed content differs", k)
		}
		delete(want, k)
	}
	if len(want) != 0 {
		t.Errorf("not committed: %v", want)
	}
	for _, p := range []string{"acme", "beta"} {
		if n := len(entries(t, in.partnerDir(p, "archive"))); n != perPartner {
			t.Errorf("%s archive holds %d files, want %d", p, n, perPartner)
		}
	}
}

func TestGoClientInterruptedUploadIsDiscarded(t *testing.T) {
	in := startInbox(t, nil)
	c, err := in.dial(t, in.acme)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Create("/inbound/half.edi")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(filedroptest.RandomBytes(t, 10<<10)); err != nil {
		t.Fatal(err)
	}
	c.Close() // connection gone without closing the file
	deadline := time.Now().Add(5 * time.Second)
	for len(entries(t, in.partnerDir("acme", uploadsDir))) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if e := entries(t, in.partnerDir("acme", uploadsDir)); len(e) != 0 {
		t.Errorf("spool still holds %v", e)
	}
	if calls, _ := in.sink.snapshot(); calls != 0 {
		t.Errorf("an interrupted upload reached the sink")
	}
}

func TestGoClientStatusCodes(t *testing.T) {
	in := startInbox(t, nil)
	c, err := in.dial(t, in.acme)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("/outbound/x"); !errors.Is(err, os.ErrPermission) {
		t.Errorf("create in /outbound: %v, want permission denied", err)
	}
	if _, err := c.ReadLink("/inbound"); !errors.Is(err, os.ErrPermission) {
		t.Errorf("readlink: %v, want permission denied", err)
	}
	if _, err := c.Stat("/outbound/missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat of a missing file: %v, want not exist", err)
	}
	wd, err := c.Getwd()
	if err != nil || wd != "/inbound" {
		t.Errorf("login directory %q, %v; want /inbound", wd, err)
	}
	fi, err := c.Stat("/")
	if err != nil || !fi.IsDir() {
		t.Errorf("stat /: %v, %v", fi, err)
	}
}

func TestIdleConnectionIsClosed(t *testing.T) {
	in := startInbox(t, func(c *Config) { c.IdleTimeout = 150 * time.Millisecond })
	c, err := in.dial(t, in.acme)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadDir("/"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	if _, err := c.ReadDir("/"); err == nil {
		t.Error("connection still open after the idle timeout")
	}
}

func TestSlowStoreIsNotIdleAndShutdownLetsItFinish(t *testing.T) {
	in := startInbox(t, func(c *Config) { c.IdleTimeout = 100 * time.Millisecond })
	in.sink.delay = 500 * time.Millisecond
	c, err := in.dial(t, in.acme)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Create("/inbound/slow.edi")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("ISA~")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close during a store slower than the idle timeout: %v", err)
	}

	// Shutdown while a second store is in progress: it is committed all the same.
	f, err = c.Create("/inbound/during-shutdown.edi")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("ISA*2~")); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- f.Close() }()
	time.Sleep(100 * time.Millisecond) // the store is sleeping
	if err := in.srv.Close(); err != nil {
		t.Fatal(err)
	}
	<-closed // the client may or may not hear the answer
	if _, got := in.sink.snapshot(); len(got) != 2 {
		t.Errorf("committed %d files, want 2", len(got))
	}
	if err := in.srv.Put("acme", "x", strings.NewReader("x")); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Put after Close: %v", err)
	}
	if _, err := in.dial(t, in.acme); err == nil {
		t.Error("login after Close succeeded")
	}
}

func TestPutIsAtomicAndReplaces(t *testing.T) {
	in := startInbox(t, nil)
	if err := in.srv.Put("acme", "997.edi", strings.NewReader("first")); err != nil {
		t.Fatal(err)
	}
	failing := io.MultiReader(strings.NewReader("partial"), errReader{errors.New("source broke")})
	if err := in.srv.Put("acme", "997.edi", failing); err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	if b, _ := os.ReadFile(in.partnerDir("acme", "outbound", "997.edi")); string(b) != "first" {
		t.Errorf("outbound holds %q after a failed Put, want the previous %q", b, "first")
	}
	if err := in.srv.Put("acme", "997.edi", strings.NewReader("second")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(in.partnerDir("acme", "outbound", "997.edi")); string(b) != "second" {
		t.Errorf("outbound holds %q, want %q", b, "second")
	}
	if e := entries(t, in.partnerDir("acme", uploadsDir)); len(e) != 0 {
		t.Errorf("spool holds %v", e)
	}
	for _, bad := range []struct{ partner, name string }{
		{"nobody", "x"}, {"acme", "../x"}, {"acme", ".."}, {"acme", ""}, {"acme", "a/b"},
	} {
		if err := in.srv.Put(bad.partner, bad.name, strings.NewReader("x")); err == nil {
			t.Errorf("Put(%q, %q) succeeded", bad.partner, bad.name)
		}
	}
	if filedroptest.Exists(t, filepath.Join(in.cfg.Root, "x")) || filedroptest.Exists(t, in.partnerDir("acme", "x")) {
		t.Error("Put escaped outbound")
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
