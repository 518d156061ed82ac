package filedrop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"
)

// Sink commits the files the poller downloads. It is defined here, by its consumer; the
// hub's store implements it (commit the raw file and publish inbound.edi in one
// transaction).
type Sink interface {
	// Store reads r to the end and durably commits the content under f.Key().
	//
	// r yields the file as it streams from the server; nothing is buffered whole. r
	// returns io.EOF only after exactly f.Size bytes were read and the file was seen
	// unchanged; any other error from r (connection dropped, file changed or truncated,
	// ctx cancelled) means the download failed, and Store must commit nothing and
	// return an error. f.Key and f.SHA256 are available only after r returned io.EOF,
	// so a Sink typically spools r to a temporary file, then looks up the key.
	//
	// Store returns (false, nil) once the file is durably committed, and (true, nil)
	// when a file with the same key was committed before (nothing new is stored). Only
	// after a nil error does the poller run the after-action (archive, rename, delete)
	// on the server. If that fails, or the hub dies before it, the same file is offered
	// again on the next poll, with the same key: Store must then report a duplicate.
	// This dedupe is what makes each file processed exactly once.
	//
	// A Store that returns nil without having read r to io.EOF is treated as failed.
	// When ctx is cancelled Store should give up and return an error. One Poller calls
	// Store from one goroutine at a time; a Sink shared by several pollers must be safe
	// for concurrent use.
	Store(ctx context.Context, f File, r io.Reader) (duplicate bool, err error)
}

// File describes a partner file being offered to a [Sink].
type File struct {
	Partner string
	Path    string // path on the partner's server, as listed (Config.Dir joined with the name)
	Size    int64
	ModTime time.Time // server mtime, whole seconds, UTC

	sum *digest
}

// ErrNotRead is returned by [File.Key] and [File.SHA256] before the content reader
// has returned io.EOF.
var ErrNotRead = errors.New("file content not read to the end yet")

// SHA256 returns the digest of the content, computed by the poller while streaming.
func (f File) SHA256() ([32]byte, error) {
	if f.sum == nil {
		return [32]byte{}, ErrNotRead
	}
	return f.sum.get()
}

// Key returns the dedupe key: partner + path + size + mtime + SHA-256.
func (f File) Key() (Key, error) {
	sum, err := f.SHA256()
	if err != nil {
		return Key{}, err
	}
	return Key{Partner: f.Partner, Path: f.Path, Size: f.Size, ModTime: f.ModTime.Unix(), SHA256: sum}, nil
}

// Key identifies one delivery of one file; it is comparable, so it can key a map.
type Key struct {
	Partner string
	Path    string
	Size    int64
	ModTime int64 // Unix seconds
	SHA256  [32]byte
}

// String renders the key for logs and for storage in a single column.
func (k Key) String() string {
	return fmt.Sprintf("%s:%s:%d:%d:%s", k.Partner, k.Path, k.Size, k.ModTime, hex.EncodeToString(k.SHA256[:]))
}

type digest struct {
	mu   sync.Mutex
	done bool
	sum  [32]byte
}

func (d *digest) set(sum [32]byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sum, d.done = sum, true
}

func (d *digest) get() ([32]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.done {
		return [32]byte{}, ErrNotRead
	}
	return d.sum, nil
}

// Hash prepares a file that arrives other than through a Poller (an upload to the
// hosted inbox) for a [Sink]: it returns f with a digest to be filled, and a reader
// that passes r through while hashing it. When r returns io.EOF after exactly f.Size
// bytes the digest is set, so f.Key and f.SHA256 work; any other length is an error
// wrapping ErrFileChanged.
func Hash(f File, r io.Reader) (File, io.Reader) {
	f.sum = &digest{}
	return f, &hashing{f: f, r: r, h: sha256.New()}
}

type hashing struct {
	f   File
	r   io.Reader
	h   hash.Hash
	n   int64
	err error
}

func (h *hashing) Read(b []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	n, err := h.r.Read(b)
	h.n += int64(n)
	h.h.Write(b[:n])
	switch {
	case h.n > h.f.Size:
		h.err = fmt.Errorf("%w: more than the %d bytes stated", ErrFileChanged, h.f.Size)
		return n, h.err
	case err == io.EOF:
		if h.n != h.f.Size {
			h.err = fmt.Errorf("%w: got %d of %d bytes", ErrFileChanged, h.n, h.f.Size)
			return n, h.err
		}
		var sum [32]byte
		copy(sum[:], h.h.Sum(nil))
		h.f.sum.set(sum)
		h.err = io.EOF
	case err != nil:
		h.err = err
	}
	return n, err
}
