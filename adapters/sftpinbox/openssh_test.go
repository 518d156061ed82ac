package sftpinbox

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// These tests drive the inbox with the real OpenSSH sftp client (package
// openssh-client); without it they skip, unless PAKLOG_REQUIRE_SERVICES=1.

func TestOpenSSHUploadIsStoredOnceThenArchived(t *testing.T) {
	sftpBinary(t)
	in := startInbox(t, nil)
	local := t.TempDir()
	data := []byte("ISA*00*          *00*          *ZZ*ACME~\nGS*PO*ACME~\n")
	writeLocal(t, local, "850_0001.edi", data)

	out, err := in.runSFTP(t, in.acme, local, "put 850_0001.edi\nls -l /archive\n")
	if err != nil {
		t.Fatalf("sftp put: %v\n%s", err, out)
	}
	calls, got := in.sink.snapshot()
	if calls != 1 || len(got) != 1 {
		t.Fatalf("sink called %d times, committed %d; want 1 and 1", calls, len(got))
	}
	g := got[0]
	if !bytes.Equal(g.data, data) {
		t.Errorf("sink got %q, want %q", g.data, data)
	}
	if g.file.Partner != "acme" || g.file.Path != "/inbound/850_0001.edi" || g.file.Size != int64(len(data)) {
		t.Errorf("file %+v, want partner acme, path /inbound/850_0001.edi, size %d", g.file, len(data))
	}
	if g.key.SHA256 != sha256.Sum256(data) {
		t.Errorf("key SHA-256 %x, want %x", g.key.SHA256, sha256.Sum256(data))
	}
	if sum, err := g.file.SHA256(); err != nil || sum != sha256.Sum256(data) {
		t.Errorf("File.SHA256() = %x, %v", sum, err)
	}
	if b, err := os.ReadFile(in.partnerDir("acme", "archive", "850_0001.edi")); err != nil || !bytes.Equal(b, data) {
		t.Errorf("archive copy: %q, %v", b, err)
	}
	if !strings.Contains(out, "850_0001.edi") {
		t.Errorf("ls /archive does not show the upload:\n%s", out)
	}
	if e := entries(t, in.partnerDir("acme", "inbound")); len(e) != 0 {
		t.Errorf("inbound holds %v after the upload", e)
	}
	if e := entries(t, in.partnerDir("acme", uploadsDir)); len(e) != 0 {
		t.Errorf("spool holds %v after the upload", e)
	}
}

func TestOpenSSHUploadWithDeleteAfterStore(t *testing.T) {
	sftpBinary(t)
	in := startInbox(t, func(c *Config) { c.After = Delete })
	local := t.TempDir()
	writeLocal(t, local, "a.edi", []byte("ISA~"))
	if out, err := in.runSFTP(t, in.acme, local, "put a.edi\n"); err != nil {
		t.Fatalf("sftp put: %v\n%s", err, out)
	}
	if _, got := in.sink.snapshot(); len(got) != 1 {
		t.Fatalf("committed %d files, want 1", len(got))
	}
	for _, d := range []string{"inbound", "archive", uploadsDir} {
		if e := entries(t, in.partnerDir("acme", d)); len(e) != 0 {
			t.Errorf("%s holds %v; After=delete leaves nothing", d, e)
		}
	}
}

func TestOpenSSHWrongKeyIsRefused(t *testing.T) {
	sftpBinary(t)
	in := startInbox(t, nil)
	stranger := filedroptest.NewSSHKey(t)
	local := t.TempDir()
	writeLocal(t, local, "a.edi", []byte("ISA~"))

	out, err := in.runSFTP(t, stranger, local, "put a.edi\n")
	if err == nil {
		t.Fatalf("login with an unknown key succeeded:\n%s", out)
	}
	if !strings.Contains(out, "Permission denied") {
		t.Errorf("client output does not say permission denied:\n%s", out)
	}
	if calls, _ := in.sink.snapshot(); calls != 0 {
		t.Errorf("sink called %d times", calls)
	}
	logs := in.logs.String()
	fp := ssh.FingerprintSHA256(stranger.Signer.PublicKey())
	if !logsMention(logs, "unknown public key", fp, "remote=127.0.0.1:") {
		t.Errorf("refusal not logged with fingerprint %s and remote address:\n%s", fp, logs)
	}
	material := strings.Fields(stranger.AuthorizedKey())[1]
	if strings.Contains(logs, material) {
		t.Errorf("log holds the key material")
	}
}

func TestOpenSSHRefusesEverythingOutsideInbound(t *testing.T) {
	sftpBinary(t)
	in := startInbox(t, nil)
	if err := in.srv.Put("acme", "keep.txt", strings.NewReader("for acme")); err != nil {
		t.Fatal(err)
	}
	if err := in.srv.Put("beta", "beta-only.txt", strings.NewReader("for beta")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in.partnerDir("acme", "archive", "old.edi"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	local := t.TempDir()
	writeLocal(t, local, "f.edi", []byte("ISA~"))

	tests := []struct {
		name  string
		batch string
	}{
		{"put to ../escape", "put f.edi ../escape\n"},
		{"put to ../../escape", "put f.edi ../../../escape\n"},
		{"put to another partner's inbound", "put f.edi ../../beta/inbound/x\n"},
		{"put to absolute path outside", "put f.edi /etc/paklog-escape\n"},
		{"put to /outbound", "put f.edi /outbound/x\n"},
		{"put to /archive", "put f.edi /archive/x\n"},
		{"put to / after cd ..", "cd ..\nput f.edi\n"},
		{"put into a subdirectory of inbound", "put f.edi /inbound/sub/x\n"},
		{"symlink", "ln -s /outbound/keep.txt /inbound/link\n"},
		{"hard link", "ln /outbound/keep.txt /inbound/link\n"},
		{"rm in /outbound", "rm /outbound/keep.txt\n"},
		{"rm in /archive", "rm /archive/old.edi\n"},
		{"rm of another partner's file", "rm ../../beta/outbound/beta-only.txt\n"},
		{"rename out of /outbound", "rename /outbound/keep.txt /inbound/keep.txt\n"},
		{"mkdir", "mkdir /inbound/d\n"},
		{"rmdir of an area", "rmdir /archive\n"},
		{"chmod in /outbound", "chmod 777 /outbound/keep.txt\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := treeSnapshot(t, in.cfg.Root)
			out, err := in.runSFTP(t, in.acme, local, tt.batch)
			if err == nil {
				t.Fatalf("sftp succeeded; want refused:\n%s", out)
			}
			if !strings.Contains(out, "Permission denied") {
				t.Errorf("client was not told permission denied:\n%s", out)
			}
			if after := treeSnapshot(t, in.cfg.Root); !mapsEqual(before, after) {
				t.Errorf("tree changed:\nbefore %v\nafter  %v", before, after)
			}
			if calls, _ := in.sink.snapshot(); calls != 0 {
				t.Errorf("sink called %d times", calls)
			}
			if filedroptest.Exists(t, filepath.Join(filepath.Dir(in.cfg.Root), "escape")) || filedroptest.Exists(t, "/etc/paklog-escape") {
				t.Errorf("a file escaped the root")
			}
		})
	}
	if !logsMention(in.logs.String(), "sftp inbox refused", "partner=acme", "op=Symlink") {
		t.Errorf("refusals not logged with the partner's name:\n%s", in.logs.String())
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestOpenSSHFileOverTheCapIsRefused(t *testing.T) {
	sftpBinary(t)
	in := startInbox(t, func(c *Config) { c.MaxFileSize = 100 << 10 })
	local := t.TempDir()
	writeLocal(t, local, "big.edi", filedroptest.RandomBytes(t, 300<<10))
	writeLocal(t, local, "fits.edi", filedroptest.RandomBytes(t, 100<<10))

	out, err := in.runSFTP(t, in.acme, local, "put big.edi\n")
	if err == nil {
		t.Fatalf("upload over the cap succeeded:\n%s", out)
	}
	if !strings.Contains(out, "Permission denied") {
		t.Errorf("client was not told permission denied:\n%s", out)
	}
	if calls, _ := in.sink.snapshot(); calls != 0 {
		t.Errorf("sink called %d times", calls)
	}
	for _, d := range []string{"inbound", "archive", uploadsDir} {
		if e := entries(t, in.partnerDir("acme", d)); len(e) != 0 {
			t.Errorf("%s holds %v after a refused upload", d, e)
		}
	}
	if !logsMention(in.logs.String(), "sftp inbox refused", "partner=acme", "size cap") {
		t.Errorf("cap refusal not logged:\n%s", in.logs.String())
	}
	if out, err := in.runSFTP(t, in.acme, local, "put fits.edi\n"); err != nil {
		t.Fatalf("upload of exactly the cap failed: %v\n%s", err, out)
	}
	if _, got := in.sink.snapshot(); len(got) != 1 {
		t.Errorf("committed %d files, want 1", len(got))
	}
}

func TestOpenSSHSinkErrorFailsThePut(t *testing.T) {
	sftpBinary(t)
	in := startInbox(t, nil)
	in.sink.failNext = errors.New("database is down")
	local := t.TempDir()
	data := []byte("ISA*retry~")
	writeLocal(t, local, "a.edi", data)

	out, err := in.runSFTP(t, in.acme, local, "put a.edi\n")
	if err == nil {
		t.Fatalf("put succeeded although the sink failed:\n%s", out)
	}
	if !strings.Contains(out, "close remote: Failure") {
		t.Errorf("client was not told the close failed:\n%s", out)
	}
	if strings.Contains(out, "database is down") {
		t.Errorf("the sink's error reached the client:\n%s", out)
	}
	for _, d := range []string{"inbound", "archive", uploadsDir} {
		if e := entries(t, in.partnerDir("acme", d)); len(e) != 0 {
			t.Errorf("%s holds %v after a failed store", d, e)
		}
	}
	// The partner sends it again, and this time it is stored.
	if out, err := in.runSFTP(t, in.acme, local, "put a.edi\n"); err != nil {
		t.Fatalf("second put: %v\n%s", err, out)
	}
	calls, got := in.sink.snapshot()
	if calls != 2 || len(got) != 1 || !bytes.Equal(got[0].data, data) {
		t.Errorf("sink calls %d, committed %d; want 2 calls, 1 commit of %q", calls, len(got), data)
	}
}

func TestOpenSSHDownloadFromOutbound(t *testing.T) {
	sftpBinary(t)
	in := startInbox(t, nil)
	data := filedroptest.RandomBytes(t, 200<<10)
	if err := in.srv.Put("acme", "997_0001.edi", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	local := t.TempDir()
	out, err := in.runSFTP(t, in.acme, local, "ls /\nls /outbound\nget /outbound/997_0001.edi got.edi\n")
	if err != nil {
		t.Fatalf("sftp get: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(local, "got.edi")); err != nil || !bytes.Equal(b, data) {
		t.Errorf("downloaded %d bytes (%v), want the %d put", len(b), err, len(data))
	}
	for _, want := range []string{"inbound", "outbound", "archive", "997_0001.edi"} {
		if !strings.Contains(out, want) {
			t.Errorf("listing lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, uploadsDir) {
		t.Errorf("listing shows the private spool directory:\n%s", out)
	}
}

func TestOpenSSHPartnersCannotSeeEachOther(t *testing.T) {
	sftpBinary(t)
	in := startInbox(t, nil)
	if err := in.srv.Put("beta", "beta-secret.edi", strings.NewReader("beta's")); err != nil {
		t.Fatal(err)
	}
	local := t.TempDir()
	writeLocal(t, local, "acme.edi", []byte("acme's"))
	if out, err := in.runSFTP(t, in.acme, local, "put acme.edi\n"); err != nil {
		t.Fatalf("acme put: %v\n%s", err, out)
	}

	for _, batch := range []string{
		"get /outbound/beta-secret.edi x\n",
		"get ../../beta/outbound/beta-secret.edi x\n",
		"get /beta/outbound/beta-secret.edi x\n",
		"ls /beta\n",
	} {
		if out, err := in.runSFTP(t, in.acme, local, batch); err == nil {
			t.Errorf("acme ran %q:\n%s", batch, out)
		}
	}
	if filedroptest.Exists(t, filepath.Join(local, "x")) {
		t.Errorf("acme downloaded something of beta's")
	}
	out, err := in.runSFTP(t, in.beta, local, "ls -1 /archive\nls -1 /outbound\n")
	if err != nil {
		t.Fatalf("beta ls: %v\n%s", err, out)
	}
	if strings.Contains(out, "acme.edi") || !strings.Contains(out, "beta-secret.edi") {
		t.Errorf("beta sees:\n%s", out)
	}
	_, got := in.sink.snapshot()
	if len(got) != 1 || got[0].file.Partner != "acme" {
		t.Errorf("committed %+v, want one file of acme", got)
	}
}
