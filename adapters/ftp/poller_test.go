package ftp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

func TestPollerStoresCompleteFileOnceAndArchives(t *testing.T) {
	for _, tc := range []struct {
		name string
		ftps bool
		edit func(*Config, *filedroptest.Vsftpd)
	}{
		{"plain", false, func(*Config, *filedroptest.Vsftpd) {}},
		{"ftps CA", true, func(*Config, *filedroptest.Vsftpd) {}},
		{"ftps pinned", true, func(c *Config, v *filedroptest.Vsftpd) {
			c.CACert, c.CertFingerprint, c.ServerName = nil, strings.ToUpper(v.CertFP), "name.not.in.cert"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.ftps)
			cfg := e.config()
			tc.edit(&cfg, e.ftpd)
			p := e.poller(t, cfg)
			data := []byte("ISA*00*          *00*          *ZZ*ACME~\n")
			src := e.drop(t, "850_0001.edi", data)
			e.drop(t, "notes.txt", []byte("not EDI"))

			rep := filedroptest.Poll(t, p)
			if !slices.Equal(rep.Seen, []string{src}) || !slices.Equal(rep.Incomplete, []string{src}) {
				t.Fatalf("first look: %+v, want seen and incomplete", rep)
			}
			rep = filedroptest.Poll(t, p)
			if !slices.Equal(rep.Taken, []string{src}) || len(rep.Errors)+len(rep.Duplicates)+len(rep.Incomplete) != 0 {
				t.Fatalf("second look: %+v, want taken", rep)
			}
			if got := e.sink.Stored(t); len(got) != 1 || !bytes.Equal(got[0], data) {
				t.Fatalf("stored %q, want one copy of %q", got, data)
			}
			fi, err := os.Stat(e.local("/archive/850_0001.edi"))
			if err != nil || filedroptest.Exists(t, e.local(src)) {
				t.Fatalf("file not moved to the archive: %v", err)
			}
			for _, k := range e.sink.Keys() {
				if k.SHA256 != sha256.Sum256(data) || k.Size != int64(len(data)) || k.Partner != "acme" || k.Path != src ||
					k.ModTime != fi.ModTime().Unix() {
					t.Errorf("key %v does not describe the file (mtime %d)", k, fi.ModTime().Unix())
				}
			}
			if rep := filedroptest.Poll(t, p); len(rep.Seen) != 0 || e.sink.Calls() != 1 {
				t.Errorf("third poll: %+v, %d Store calls; want nothing", rep, e.sink.Calls())
			}
		})
	}
}

func TestPollerWaitsWhileFileIsBeingWritten(t *testing.T) {
	e := newEnv(t, false)
	cfg := e.config()
	cfg.Settle = 300 * time.Millisecond
	p := e.poller(t, cfg)
	src := e.drop(t, "850_0002.edi", []byte("ISA*first half"))

	if rep := filedroptest.Poll(t, p); len(rep.Incomplete) != 1 {
		t.Fatalf("first look: %+v", rep)
	}
	f, err := os.OpenFile(e.local(src), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("*second half~"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if rep := filedroptest.Poll(t, p); len(rep.Incomplete) != 1 || len(rep.Taken) != 0 {
		t.Fatalf("after the size changed: %+v, want incomplete", rep)
	}
	if rep := filedroptest.Poll(t, p); len(rep.Incomplete) != 1 || len(rep.Taken) != 0 {
		t.Fatalf("unchanged but not yet settled: %+v, want incomplete", rep)
	}
	time.Sleep(cfg.Settle + 50*time.Millisecond)
	if rep := filedroptest.Poll(t, p); len(rep.Taken) != 1 {
		t.Fatalf("after settling: %+v, want taken", rep)
	}
	if got := e.sink.Stored(t); len(got) != 1 || string(got[0]) != "ISA*first half*second half~" {
		t.Fatalf("stored %q, want the whole file once", got)
	}
}

func TestPollerConnectionDroppedMidDownload(t *testing.T) {
	for _, ftps := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "ftps"}[ftps], func(t *testing.T) {
			e := newEnv(t, ftps)
			d, err := NewDialer(e.config())
			if err != nil {
				t.Fatal(err)
			}
			cut := &cutter{}
			d.dial = cut.dial
			p, err := filedrop.New(d.cfg.Config, d, e.sink, nil)
			if err != nil {
				t.Fatal(err)
			}
			data := filedroptest.RandomBytes(t, 4<<20)
			src := e.drop(t, "850_big.edi", data)

			filedroptest.Poll(t, p) // first look
			cut.limit.Store(1 << 20)
			rep, err := p.PollOnce(context.Background())
			if !errors.Is(err, filedrop.ErrConnection) || cut.cuts.Load() == 0 {
				t.Fatalf("PollOnce = %+v, %v; want ErrConnection after the connection was cut", rep, err)
			}
			if len(rep.Errors) != 1 || len(rep.Taken) != 0 {
				t.Fatalf("report %+v, want the file in Errors", rep)
			}
			t.Logf("dropped: %v", err)
			if got := e.sink.Stored(t); len(got) != 0 || !filedroptest.Exists(t, e.local(src)) {
				t.Fatalf("after the drop: %d stored, source present %v; want nothing stored, file left", len(got), filedroptest.Exists(t, e.local(src)))
			}

			cut.limit.Store(0)
			if rep := filedroptest.Poll(t, p); !slices.Equal(rep.Taken, []string{src}) {
				t.Fatalf("next poll: %+v, want taken", rep)
			}
			if got := e.sink.Stored(t); len(got) != 1 || !bytes.Equal(got[0], data) {
				t.Fatalf("stored %d files, want the whole file once", len(got))
			}
		})
	}
}

func TestPollerSinkFailureLeavesFileForNextPoll(t *testing.T) {
	e := newEnv(t, false)
	p := e.poller(t, e.config())
	src := e.drop(t, "850_0004.edi", []byte("ISA*sink fails~"))
	e.sink.FailNext = errors.New("database is down")

	filedroptest.Poll(t, p)
	rep := filedroptest.Poll(t, p)
	if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Error(), "database is down") {
		t.Fatalf("report %+v, want the sink error", rep)
	}
	if !filedroptest.Exists(t, e.local(src)) || filedroptest.Exists(t, e.local("/archive/850_0004.edi")) {
		t.Fatalf("file archived although the sink failed")
	}
	if rep := filedroptest.Poll(t, p); !slices.Equal(rep.Taken, []string{src}) {
		t.Fatalf("next poll: %+v, want taken", rep)
	}
	if got := e.sink.Stored(t); len(got) != 1 || e.sink.Calls() != 2 {
		t.Fatalf("stored %d in %d calls, want 1 in 2", len(got), e.sink.Calls())
	}
}

func TestPollerRefusesUntrustedCertificate(t *testing.T) {
	e := newEnv(t, true)
	src := e.drop(t, "850_0003.edi", []byte("ISA~"))
	other, _ := selfSignedCert(t)
	wrongFP := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"pinned fingerprint differs", func(c *Config) { c.CACert, c.CertFingerprint = nil, wrongFP }},
		{"signed by another CA", func(c *Config) { c.CACert = other }},
		{"name not in certificate", func(c *Config) { c.ServerName = "ftp.acme.example" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.config()
			tc.edit(&cfg)
			p := e.poller(t, cfg)
			_, err := p.PollOnce(context.Background())
			t.Logf("refused: %v", err)
			var ce *CertificateError
			if !errors.As(err, &ce) || !errors.Is(err, filedrop.ErrPermanent) || !errors.Is(err, ErrCertificateMismatch) {
				t.Fatalf("PollOnce error = %v, want *CertificateError", err)
			}
			if ce.Seen != e.ftpd.CertFP || !strings.Contains(err.Error(), e.ftpd.CertFP) {
				t.Errorf("error does not show the fingerprint seen %s: %v", e.ftpd.CertFP, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := p.Run(ctx); !errors.Is(err, ErrCertificateMismatch) {
				t.Errorf("Run returned %v, want the certificate error", err)
			}
		})
	}
	if e.sink.Calls() != 0 || !filedroptest.Exists(t, e.local(src)) {
		t.Errorf("a file was fetched through an untrusted server")
	}
}

// A server that only speaks plain FTP is refused under ExplicitTLS, not silently used.
func TestExplicitTLSRefusesPlainServer(t *testing.T) {
	e := newEnv(t, false)
	cfg := e.config()
	cfg.Security = ExplicitTLS
	p := e.poller(t, cfg)
	_, err := p.PollOnce(context.Background())
	if !errors.Is(err, filedrop.ErrConnection) {
		t.Fatalf("PollOnce error = %v, want a connection error", err)
	}
	t.Logf("refused: %v", err)
}
