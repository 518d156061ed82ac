package filedrop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// memSink commits into a map keyed by Key.
type memSink struct {
	mu       sync.Mutex
	stored   map[Key][]byte
	calls    int
	failNext error // returned once, after reading the whole file
	noRead   bool  // return nil without reading
}

func (s *memSink) Store(ctx context.Context, f File, r io.Reader) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.noRead {
		return false, nil
	}
	if _, err := f.Key(); !errors.Is(err, ErrNotRead) {
		return false, fmt.Errorf("Key before reading = %v, want ErrNotRead", err)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return false, err
	}
	if err := s.failNext; err != nil {
		s.failNext = nil
		return false, err
	}
	k, err := f.Key()
	if err != nil {
		return false, err
	}
	if _, ok := s.stored[k]; ok {
		return true, nil
	}
	s.stored[k] = buf.Bytes()
	return false, nil
}

// rig is a Poller on an in-memory server behind a fault-injecting FS, with a fake clock.
type rig struct {
	srv   *memServer
	sink  *memSink
	p     *Poller
	now   time.Time
	fault func(op, p string, n int64) error // nil: no faults
	dial  error
}

func newRig(t *testing.T, edit func(*Config)) *rig {
	t.Helper()
	r := &rig{srv: newMemServer("/in", "/in/sub", "/archive"), sink: &memSink{stored: map[Key][]byte{}}, now: t0}
	cfg := Config{Partner: "acme", Dir: "/in", Glob: "*.edi", ArchiveDir: "/archive", Settle: 10 * time.Second}
	if edit != nil {
		edit(&cfg)
	}
	d := dialerFunc(func(ctx context.Context) (FS, error) {
		if r.dial != nil {
			return nil, r.dial
		}
		return faultFS{FS: memFS{r.srv}, fail: func(op, p string, n int64) error {
			if r.fault == nil {
				return nil
			}
			return r.fault(op, p, n)
		}}, nil
	})
	p, err := New(cfg, d, r.sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.now = func() time.Time { return r.now }
	r.p = p
	return r
}

func (r *rig) poll(t *testing.T, after time.Duration) Report {
	t.Helper()
	r.now = r.now.Add(after)
	rep, err := r.p.PollOnce(context.Background())
	if err != nil {
		t.Fatalf("PollOnce: %v (report %+v)", err, rep)
	}
	return rep
}

func (r *rig) storedCount() int {
	r.sink.mu.Lock()
	defer r.sink.mu.Unlock()
	return len(r.sink.stored)
}

func TestStableRule(t *testing.T) {
	r := newRig(t, nil)
	r.srv.put("/in/a.edi", "ISA*1", t0)
	for i, step := range []struct {
		after time.Duration
		edit  func()
		taken bool
	}{
		{0, nil, false},               // first look
		{5 * time.Second, nil, false}, // unchanged, not settled
		{1 * time.Second, func() { r.srv.put("/in/a.edi", "ISA*12", t0) }, false}, // size changed
		{9 * time.Second, nil, false}, // 9s since the change
		{0, func() { r.srv.put("/in/a.edi", "ISA*12", t0.Add(time.Second)) }, false}, // mtime changed
		{10 * time.Second, nil, true},
	} {
		if step.edit != nil {
			step.edit()
		}
		rep := r.poll(t, step.after)
		if got := len(rep.Taken) == 1; got != step.taken || len(rep.Errors) != 0 {
			t.Fatalf("step %d: %+v, want taken=%v", i, rep, step.taken)
		}
	}
	k := Key{Partner: "acme", Path: "/in/a.edi", Size: 6, ModTime: t0.Unix() + 1, SHA256: sha256.Sum256([]byte("ISA*12"))}
	if got := r.sink.stored[k]; string(got) != "ISA*12" || r.storedCount() != 1 {
		t.Errorf("stored %v, want ISA*12 under %v", r.sink.stored, k)
	}
	if !r.srv.has("/archive/a.edi") || r.srv.has("/in/a.edi") {
		t.Errorf("not archived: %v", r.srv.names())
	}
	if len(r.p.looks) != 0 {
		t.Errorf("looks not forgotten: %v", r.p.looks)
	}
}

func TestMarkerRuleAndRename(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Completeness, c.MarkerSuffix, c.After, c.ArchiveDir = Marker, ".ok", Rename, "" })
	r.srv.put("/in/a.edi", "ISA*a", t0)
	r.srv.put("/in/b.edi", "ISA*b", t0)
	r.srv.put("/in/b.edi.ok", "", t0)
	r.srv.put("/in/old.edi.processed", "ISA*old", t0)
	rep := r.poll(t, 0)
	if !slices.Equal(rep.Taken, []string{"/in/b.edi"}) || !slices.Equal(rep.Incomplete, []string{"/in/a.edi"}) {
		t.Fatalf("report %+v, want b taken on the first look, a waiting for its marker", rep)
	}
	want := []string{"/in/a.edi", "/in/b.edi.processed", "/in/old.edi.processed"}
	if got := r.srv.names(); !slices.Equal(got, want) {
		t.Errorf("server holds %v, want %v (marker removed)", got, want)
	}
}

func TestCandidates(t *testing.T) {
	r := newRig(t, func(c *Config) { c.After, c.ArchiveDir = Delete, "" })
	r.srv.put("/in/a.edi", "ISA", t0)
	r.srv.put("/in/a.txt", "no", t0)
	r.srv.put("/in/sub/c.edi", "deeper", t0)
	r.poll(t, 0)
	rep := r.poll(t, time.Minute)
	if !slices.Equal(rep.Seen, []string{"/in/a.edi"}) || !slices.Equal(rep.Taken, []string{"/in/a.edi"}) {
		t.Fatalf("report %+v, want only a.edi", rep)
	}
	if got := r.srv.names(); !slices.Equal(got, []string{"/in/a.txt", "/in/sub/c.edi"}) {
		t.Errorf("server holds %v after Delete", got)
	}
}

// Each fault leaves the file on the server with nothing stored; once the fault is
// gone, the file is stored exactly once.
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*Config)
		fault   func(r *rig) func(op, p string, n int64) error
		sink    func(s *memSink)
		wantErr error // from PollOnce; nil: per-file error in the report
		wantIs  error // in Report.Errors[0]
		dup     bool  // stored during the fault, so the retry is a duplicate
	}{
		{name: "sink fails", sink: func(s *memSink) { s.failNext = errors.New("database is down") }},
		{name: "sink does not read", sink: func(s *memSink) { s.noRead = true }, wantIs: ErrSinkDidNotRead},
		{name: "file grows during download", wantIs: ErrFileChanged, fault: func(r *rig) func(string, string, int64) error {
			return func(op, p string, n int64) error {
				if op == "Read" && n == 4 {
					r.srv.put(p, "ISA*a and more", t0)
				}
				return nil
			}
		}},
		{name: "touched during download", wantIs: ErrFileChanged, fault: func(r *rig) func(string, string, int64) error {
			return func(op, p string, n int64) error {
				if op == "Stat" {
					r.srv.put(p, "ISA*a~", t0.Add(time.Minute))
				}
				return nil
			}
		}},
		{name: "short transfer", wantIs: ErrFileChanged, fault: func(r *rig) func(string, string, int64) error {
			return func(op, p string, n int64) error {
				if op == "Read" && n >= 4 {
					return io.EOF
				}
				return nil
			}
		}},
		{name: "transfer not confirmed", fault: func(r *rig) func(string, string, int64) error {
			return func(op, p string, n int64) error {
				if op == "Close" {
					return errors.New("426 transfer aborted")
				}
				return nil
			}
		}},
		{name: "dropped mid-download", wantErr: ErrConnection, fault: func(r *rig) func(string, string, int64) error {
			return func(op, p string, n int64) error {
				if (op == "Read" && n >= 4) || op == "Ping" {
					return errDropped
				}
				return nil
			}
		}},
		{name: "open fails", fault: func(r *rig) func(string, string, int64) error {
			return func(op, p string, n int64) error {
				if op == "Open" && p == "/in/a.edi" {
					return errors.New("550 permission denied")
				}
				return nil
			}
		}},
		{name: "archive fails", dup: true, fault: func(r *rig) func(string, string, int64) error {
			return func(op, p string, n int64) error {
				if op == "Rename" {
					return errors.New("550 archive full")
				}
				return nil
			}
		}},
		{name: "too large", edit: func(c *Config) { c.MaxFileSize = 5 }, wantIs: ErrFileTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(c *Config) {
				c.Settle = time.Nanosecond
				if tc.edit != nil {
					tc.edit(c)
				}
			})
			r.srv.put("/in/a.edi", "ISA*a~", t0)
			r.poll(t, time.Second) // first look
			if tc.fault != nil {
				r.fault = tc.fault(r)
			}
			if tc.sink != nil {
				tc.sink(r.sink)
			}
			r.now = r.now.Add(time.Second)
			rep, err := r.p.PollOnce(context.Background())
			t.Logf("report %+v, err %v", rep, err)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("PollOnce error %v, want %v", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("PollOnce error %v, want a per-file error", err)
			}
			if len(rep.Errors) != 1 || rep.Errors[0].Path != "/in/a.edi" || len(rep.Taken) != 0 {
				t.Fatalf("report %+v, want a.edi in Errors", rep)
			}
			if tc.wantIs != nil && !errors.Is(rep.Errors[0], tc.wantIs) {
				t.Errorf("error %v, want %v", rep.Errors[0], tc.wantIs)
			}
			if want := map[bool]int{false: 0, true: 1}[tc.dup]; r.storedCount() != want {
				t.Errorf("stored %d during the fault, want %d", r.storedCount(), want)
			}
			if !r.srv.has("/in/a.edi") {
				t.Fatalf("file left the inbox during the fault: %v", r.srv.names())
			}

			// The fault is gone (the partner truncates a grown file back, say).
			r.fault, r.sink.noRead = nil, false
			if tc.edit != nil {
				r.p.cfg.MaxFileSize = DefaultMaxFileSize
			}
			r.srv.put("/in/a.edi", "ISA*a~", t0)
			rep = r.poll(t, time.Second)
			want := Report{Seen: []string{"/in/a.edi"}, Taken: []string{"/in/a.edi"}}
			if tc.dup {
				want = Report{Seen: []string{"/in/a.edi"}, Duplicates: []string{"/in/a.edi"}}
			}
			if fmt.Sprint(rep) != fmt.Sprint(want) {
				t.Fatalf("after the fault: %+v, want %+v", rep, want)
			}
			if r.storedCount() != 1 || !r.srv.has("/archive/a.edi") || r.srv.has("/in/a.edi") {
				t.Errorf("stored %d, server %v; want one copy, archived", r.storedCount(), r.srv.names())
			}
		})
	}
}

// A per-file failure on a live session does not stop the poll; a dead session does.
func TestPollContinuesAfterFileError(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Settle = time.Nanosecond })
	r.srv.put("/in/a.edi", "ISA*a~", t0)
	r.srv.put("/in/b.edi", "ISA*b~", t0)
	r.poll(t, time.Second)
	r.fault = func(op, p string, n int64) error {
		if op == "Open" && p == "/in/a.edi" {
			return errors.New("550 permission denied")
		}
		return nil
	}
	rep := r.poll(t, time.Second)
	if len(rep.Errors) != 1 || !slices.Equal(rep.Taken, []string{"/in/b.edi"}) {
		t.Fatalf("report %+v, want a failed and b taken", rep)
	}
	r.srv.put("/in/c.edi", "ISA*c~", t0)
	r.poll(t, time.Second) // first look at c; a fails again
	r.fault = func(op, p string, n int64) error {
		if op == "Open" || op == "Ping" {
			return errDropped
		}
		return nil
	}
	r.now = r.now.Add(time.Second)
	rep, err := r.p.PollOnce(context.Background())
	if !errors.Is(err, ErrConnection) || len(rep.Errors) != 1 || len(rep.Seen) != 1 {
		t.Fatalf("PollOnce = %+v, %v; want ErrConnection after the first file", rep, err)
	}
}

func TestRun(t *testing.T) {
	t.Run("stops on a permanent error", func(t *testing.T) {
		r := newRig(t, nil)
		r.dial = fmt.Errorf("host key changed: %w", ErrPermanent)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.p.Run(ctx); !errors.Is(err, ErrPermanent) {
			t.Fatalf("Run = %v, want ErrPermanent", err)
		}
	})
	t.Run("retries connection errors", func(t *testing.T) {
		r := newRig(t, func(c *Config) {
			c.Settle, c.Interval, c.MinBackoff = time.Nanosecond, 20*time.Millisecond, time.Millisecond
		})
		r.p.now = time.Now
		r.srv.put("/in/a.edi", "ISA*a~", t0)
		var dials sync.WaitGroup
		dials.Add(3)
		n := 0
		r.p.dial = dialerFunc(func(ctx context.Context) (FS, error) {
			if n++; n <= 3 {
				dials.Done()
				return nil, fmt.Errorf("%w: connection refused", ErrConnection)
			}
			return memFS{r.srv}, nil
		})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- r.p.Run(ctx) }()
		dials.Wait()
		for r.storedCount() == 0 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		if r.storedCount() != 1 {
			t.Errorf("stored %d, want 1", r.storedCount())
		}
	})
}

func TestConfigProblems(t *testing.T) {
	err := Config{Glob: "a/b", Completeness: "soon", After: "shred", Interval: -1}.Validate()
	var fields []string
	for _, fe := range (Config{Glob: "a/b", Completeness: "soon", After: "shred", Interval: -1}).Problems() {
		fields = append(fields, fe.Field)
	}
	if got, want := strings.Join(fields, " "), "Partner Dir Glob Completeness After Interval"; got != want {
		t.Errorf("fields %q, want %q", got, want)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), `file drop partner "": Partner: is required`) {
		t.Errorf("Validate() = %v", err)
	}
}
