package sftp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

func TestPollerStoresCompleteFileOnceAndArchives(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.HostKey = e.sshd.HostKey.KnownHostsLine("[127.0.0.1]:2222") // pin by known_hosts line
	p := e.poller(t, cfg)
	data := []byte("ISA*00*          *00*          *ZZ*ACME~\n")
	src := e.drop(t, "850_0001.edi", data)
	e.drop(t, "notes.txt", []byte("not EDI"))

	rep := filedroptest.Poll(t, p)
	if !slices.Equal(rep.Seen, []string{src}) || !slices.Equal(rep.Incomplete, []string{src}) || len(rep.Taken) != 0 {
		t.Fatalf("first look: %+v, want seen and incomplete", rep)
	}
	rep = filedroptest.Poll(t, p)
	if !slices.Equal(rep.Taken, []string{src}) || len(rep.Errors)+len(rep.Duplicates)+len(rep.Incomplete) != 0 {
		t.Fatalf("second look: %+v, want taken", rep)
	}
	if got := e.sink.Stored(t); len(got) != 1 || !bytes.Equal(got[0], data) {
		t.Fatalf("stored %q, want one copy of %q", got, data)
	}
	for _, k := range e.sink.Keys() {
		if k.SHA256 != sha256.Sum256(data) || k.Size != int64(len(data)) || k.Partner != "acme" || k.Path != src {
			t.Errorf("key %v does not describe the file", k)
		}
	}
	if filedroptest.Exists(t, src) || !filedroptest.Exists(t, filepath.Join(e.archive, "850_0001.edi")) {
		t.Errorf("file not moved to the archive")
	}
	if rep := filedroptest.Poll(t, p); len(rep.Seen) != 0 || e.sink.Calls() != 1 {
		t.Errorf("third poll: %+v, %d Store calls; want nothing", rep, e.sink.Calls())
	}
}

func TestPollerWaitsWhileFileIsBeingWritten(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.Settle = 300 * time.Millisecond
	p := e.poller(t, cfg)
	src := e.drop(t, "850_0002.edi", []byte("ISA*first half"))

	if rep := filedroptest.Poll(t, p); len(rep.Incomplete) != 1 {
		t.Fatalf("first look: %+v", rep)
	}
	f, err := os.OpenFile(src, os.O_APPEND|os.O_WRONLY, 0)
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

func TestPollerMarkerFile(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.Completeness = filedrop.Marker
	cfg.MarkerSuffix = ".ok"
	cfg.After = filedrop.Rename
	cfg.ArchiveDir = ""
	p := e.poller(t, cfg)
	src := e.drop(t, "856_0001.edi", []byte("ISA*856~"))

	if rep := filedroptest.Poll(t, p); !slices.Equal(rep.Incomplete, []string{src}) {
		t.Fatalf("without marker: %+v, want incomplete", rep)
	}
	e.drop(t, "856_0001.edi.ok", nil)
	rep := filedroptest.Poll(t, p)
	if !slices.Equal(rep.Seen, []string{src}) || !slices.Equal(rep.Taken, []string{src}) {
		t.Fatalf("with marker: %+v, want taken on the first look", rep)
	}
	if filedroptest.Exists(t, src) || filedroptest.Exists(t, src+".ok") || !filedroptest.Exists(t, src+".processed") {
		t.Errorf("want %s renamed to .processed and the marker removed", src)
	}
	if rep := filedroptest.Poll(t, p); len(rep.Seen) != 0 {
		t.Errorf("renamed file seen again: %+v", rep)
	}
	if got := e.sink.Stored(t); len(got) != 1 {
		t.Errorf("stored %d files, want 1", len(got))
	}
}

func TestPollerRefusesChangedHostKey(t *testing.T) {
	e := newEnv(t)
	src := e.drop(t, "850_0003.edi", []byte("ISA~"))
	old := filedroptest.NewSSHKey(t) // the key the partner used to have
	for name, pinned := range map[string]string{
		"fingerprint":     old.Fingerprint(),
		"known_hosts":     old.KnownHostsLine("127.0.0.1"),
		"authorized_keys": old.KnownHostsLine("")[1:],
	} {
		t.Run(name, func(t *testing.T) {
			cfg := e.config()
			cfg.HostKey = pinned
			p := e.poller(t, cfg)
			_, err := p.PollOnce(context.Background())
			t.Logf("refused: %v", err)
			var hk *HostKeyError
			if !errors.As(err, &hk) || !errors.Is(err, ErrHostKeyMismatch) {
				t.Fatalf("PollOnce error = %v, want *HostKeyError", err)
			}
			for _, fp := range []string{e.sshd.HostKey.Fingerprint(), old.Fingerprint()} {
				if !strings.Contains(err.Error(), fp) {
					t.Errorf("error %q does not show fingerprint %s", err, fp)
				}
			}
			if hk.Seen != e.sshd.HostKey.Fingerprint() || hk.Expected != old.Fingerprint() {
				t.Errorf("HostKeyError seen %s expected %s", hk.Seen, hk.Expected)
			}
			// Run stops on it instead of retrying.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := p.Run(ctx); !errors.Is(err, ErrHostKeyMismatch) {
				t.Errorf("Run returned %v, want the host key error", err)
			}
		})
	}
	if e.sink.Calls() != 0 || !filedroptest.Exists(t, src) {
		t.Errorf("a file was fetched through an unpinned server")
	}
}

func TestPollerConnectionDroppedMidDownload(t *testing.T) {
	e := newEnv(t)
	px := startProxy(t, e.sshd.Addr())
	cfg := e.config()
	cfg.Port = px.port()
	p := e.poller(t, cfg)
	data := filedroptest.RandomBytes(t, 4<<20)
	src := e.drop(t, "850_big.edi", data)

	filedroptest.Poll(t, p) // first look
	px.cutAfter.Store(1 << 20)
	rep, err := p.PollOnce(context.Background())
	if !errors.Is(err, filedrop.ErrConnection) || px.cuts.Load() == 0 {
		t.Fatalf("PollOnce = %+v, %v; want ErrConnection after the proxy cut the download", rep, err)
	}
	if len(rep.Errors) != 1 || len(rep.Taken) != 0 {
		t.Fatalf("report %+v, want the file in Errors", rep)
	}
	t.Logf("dropped: %v", err)
	if got := e.sink.Stored(t); len(got) != 0 || !filedroptest.Exists(t, src) {
		t.Fatalf("after the drop: %d stored, source present %v; want nothing stored, file left", len(got), filedroptest.Exists(t, src))
	}

	px.cutAfter.Store(0)
	if rep := filedroptest.Poll(t, p); !slices.Equal(rep.Taken, []string{src}) {
		t.Fatalf("next poll: %+v, want taken", rep)
	}
	if got := e.sink.Stored(t); len(got) != 1 || !bytes.Equal(got[0], data) {
		t.Fatalf("stored %d files, want the whole file once", len(got))
	}
}

func TestPollerSinkFailureLeavesFileForNextPoll(t *testing.T) {
	e := newEnv(t)
	p := e.poller(t, e.config())
	src := e.drop(t, "850_0004.edi", []byte("ISA*sink fails~"))
	e.sink.FailNext = errors.New("database is down")

	filedroptest.Poll(t, p)
	rep := filedroptest.Poll(t, p)
	if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Error(), "database is down") {
		t.Fatalf("report %+v, want the sink error", rep)
	}
	if !filedroptest.Exists(t, src) || filedroptest.Exists(t, filepath.Join(e.archive, "850_0004.edi")) {
		t.Fatalf("file archived although the sink failed")
	}
	if rep := filedroptest.Poll(t, p); !slices.Equal(rep.Taken, []string{src}) {
		t.Fatalf("next poll: %+v, want taken", rep)
	}
	if got := e.sink.Stored(t); len(got) != 1 || e.sink.Calls() != 2 {
		t.Fatalf("stored %d in %d calls, want 1 in 2", len(got), e.sink.Calls())
	}
}

// A crash (here: a failing archive) between Store and the after-action offers the file
// again; the Sink reports a duplicate and the file is archived without a second copy.
func TestPollerDuplicateIsArchivedWithoutSecondStore(t *testing.T) {
	e := newEnv(t)
	if err := os.Remove(e.archive); err != nil {
		t.Fatal(err)
	}
	p := e.poller(t, e.config())
	src := e.drop(t, "850_0005.edi", []byte("ISA*dup~"))

	filedroptest.Poll(t, p)
	rep := filedroptest.Poll(t, p)
	if len(rep.Errors) != 1 || len(rep.Taken) != 0 || !filedroptest.Exists(t, src) {
		t.Fatalf("report %+v, want the archive step to fail and the file to stay", rep)
	}
	if err := os.Mkdir(e.archive, 0o755); err != nil {
		t.Fatal(err)
	}
	rep = filedroptest.Poll(t, p)
	if !slices.Equal(rep.Duplicates, []string{src}) || len(rep.Taken) != 0 {
		t.Fatalf("report %+v, want a duplicate", rep)
	}
	if filedroptest.Exists(t, src) || !filedroptest.Exists(t, filepath.Join(e.archive, "850_0005.edi")) {
		t.Errorf("duplicate not archived")
	}
	if got := e.sink.Stored(t); len(got) != 1 || e.sink.Calls() != 2 {
		t.Errorf("stored %d in %d calls, want 1 in 2", len(got), e.sink.Calls())
	}
}

func TestPollerRefusesFileOverMaxFileSize(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.MaxFileSize = 10
	p := e.poller(t, cfg)
	src := e.drop(t, "850_huge.edi", []byte("ISA*this is more than ten bytes~"))
	filedroptest.Poll(t, p)
	rep := filedroptest.Poll(t, p)
	var tooBig *filedrop.FileTooLargeError
	if len(rep.Errors) != 1 || !errors.As(rep.Errors[0], &tooBig) || tooBig.Limit != 10 {
		t.Fatalf("report %+v, want a FileTooLargeError", rep)
	}
	if e.sink.Calls() != 0 || !filedroptest.Exists(t, src) {
		t.Errorf("oversized file was fetched or removed")
	}
}

// Run retries a refused connection with backoff, then takes the file on time.
func TestRunReconnectsAndTakes(t *testing.T) {
	e := newEnv(t)
	px := startProxy(t, e.sshd.Addr())
	px.refuse.Store(true)
	cfg := e.config()
	cfg.Port = px.port()
	cfg.MinBackoff = 10 * time.Millisecond
	p := e.poller(t, cfg)
	e.drop(t, "850_0006.edi", []byte("ISA*run~"))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	time.Sleep(100 * time.Millisecond)
	px.refuse.Store(false)
	for e.sinkCalls() == 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if got := e.sink.Stored(t); len(got) != 1 {
		t.Fatalf("stored %d files, want 1", len(got))
	}
}

func (e *env) sinkCalls() int { return e.sink.Calls() }
