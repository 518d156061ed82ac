package filedrop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"sync"
	"time"
)

// memServer is an in-memory partner file server: files by path, and directories.
type memServer struct {
	mu    sync.Mutex
	files map[string]*memFile
	dirs  map[string]bool
}

type memFile struct {
	data  []byte
	mtime time.Time
}

func newMemServer(dirs ...string) *memServer {
	s := &memServer{files: map[string]*memFile{}, dirs: map[string]bool{}}
	for _, d := range dirs {
		s.dirs[d] = true
	}
	return s
}

func (s *memServer) put(p string, data string, mtime time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[p] = &memFile{data: []byte(data), mtime: mtime}
}

func (s *memServer) has(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.files[p]
	return ok
}

func (s *memServer) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for p := range s.files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// memFS is one session on a memServer; it implements FS.
type memFS struct{ s *memServer }

func (m memFS) List(ctx context.Context, dir string) ([]Entry, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if !m.s.dirs[dir] {
		return nil, fmt.Errorf("list %s: %w", dir, fs.ErrNotExist)
	}
	var out []Entry
	for p, f := range m.s.files {
		if path.Dir(p) == dir {
			out = append(out, Entry{Name: path.Base(p), Size: int64(len(f.data)), ModTime: f.mtime, Regular: true})
		}
	}
	for d := range m.s.dirs {
		if d != dir && path.Dir(d) == dir {
			out = append(out, Entry{Name: path.Base(d)})
		}
	}
	return out, nil
}

func (m memFS) Stat(ctx context.Context, p string) (Entry, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	f, ok := m.s.files[p]
	if !ok {
		return Entry{}, fmt.Errorf("stat %s: %w", p, fs.ErrNotExist)
	}
	return Entry{Name: path.Base(p), Size: int64(len(f.data)), ModTime: f.mtime, Regular: true}, nil
}

func (m memFS) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	f, ok := m.s.files[p]
	if !ok {
		return nil, fmt.Errorf("open %s: %w", p, fs.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(bytes.Clone(f.data))), nil
}

func (m memFS) Rename(ctx context.Context, from, to string) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	f, ok := m.s.files[from]
	if !ok {
		return fmt.Errorf("rename %s: %w", from, fs.ErrNotExist)
	}
	if !m.s.dirs[path.Dir(to)] {
		return fmt.Errorf("rename to %s: %w", to, fs.ErrNotExist)
	}
	delete(m.s.files, from)
	m.s.files[to] = f
	return nil
}

func (m memFS) Remove(ctx context.Context, p string) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if _, ok := m.s.files[p]; !ok {
		return fmt.Errorf("remove %s: %w", p, fs.ErrNotExist)
	}
	delete(m.s.files, p)
	return nil
}

func (m memFS) Ping(ctx context.Context) error { return nil }
func (m memFS) Close() error                   { return nil }

// faultFS wraps an FS and fails on purpose: fail is asked before every call with the
// operation ("List", "Stat", "Open", "Read", "Close", "Rename", "Remove", "Ping") and
// path, and for "Read" with the bytes read so far in n. A non-nil answer is returned
// instead of calling through.
type faultFS struct {
	FS
	fail func(op, p string, n int64) error
}

func (f faultFS) List(ctx context.Context, dir string) ([]Entry, error) {
	if err := f.fail("List", dir, 0); err != nil {
		return nil, err
	}
	return f.FS.List(ctx, dir)
}

func (f faultFS) Stat(ctx context.Context, p string) (Entry, error) {
	if err := f.fail("Stat", p, 0); err != nil {
		return Entry{}, err
	}
	return f.FS.Stat(ctx, p)
}

func (f faultFS) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := f.fail("Open", p, 0); err != nil {
		return nil, err
	}
	rc, err := f.FS.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	return &faultReader{rc: rc, p: p, fail: f.fail}, nil
}

func (f faultFS) Rename(ctx context.Context, from, to string) error {
	if err := f.fail("Rename", from, 0); err != nil {
		return err
	}
	return f.FS.Rename(ctx, from, to)
}

func (f faultFS) Remove(ctx context.Context, p string) error {
	if err := f.fail("Remove", p, 0); err != nil {
		return err
	}
	return f.FS.Remove(ctx, p)
}

func (f faultFS) Ping(ctx context.Context) error {
	if err := f.fail("Ping", "", 0); err != nil {
		return err
	}
	return f.FS.Ping(ctx)
}

type faultReader struct {
	rc   io.ReadCloser
	p    string
	n    int64
	fail func(op, p string, n int64) error
}

func (r *faultReader) Read(b []byte) (int, error) {
	if err := r.fail("Read", r.p, r.n); err != nil {
		return 0, err
	}
	if len(b) > 4 {
		b = b[:4] // small reads, so faults can land mid-file
	}
	n, err := r.rc.Read(b)
	r.n += int64(n)
	return n, err
}

func (r *faultReader) Close() error {
	err := r.rc.Close()
	if ferr := r.fail("Close", r.p, r.n); ferr != nil {
		return ferr
	}
	return err
}

// dialerFunc adapts a function to Dialer.
type dialerFunc func(ctx context.Context) (FS, error)

func (f dialerFunc) Dial(ctx context.Context) (FS, error) { return f(ctx) }

// errDropped stands for a connection that broke.
var errDropped = errors.New("connection reset by peer")
