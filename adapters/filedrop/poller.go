package filedrop

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Sentinels for poll and per-file failures; see also *FileTooLargeError.
var (
	// ErrFileTooLarge is matched by every *FileTooLargeError.
	ErrFileTooLarge = errors.New("file exceeds MaxFileSize")
	// ErrFileChanged: the file's size or mtime changed while it was downloaded, or fewer
	// or more bytes than listed arrived. Nothing is committed; the file is retried.
	ErrFileChanged = errors.New("file changed during download")
	// ErrSinkDidNotRead: the Sink returned nil without reading the content to the end.
	ErrSinkDidNotRead = errors.New("sink returned before reading the whole file")
	// ErrConnection wraps failures to reach, log in to, or keep talking to the server.
	// [Poller.Run] retries them with exponential backoff.
	ErrConnection = errors.New("file server connection failed")
	// ErrPermanent marks a failure that retrying cannot fix, such as a server whose
	// host key or certificate is not the pinned one. [Poller.Run] stops on it.
	ErrPermanent = errors.New("file server refused permanently; needs a human")
)

// FileTooLargeError refuses a file bigger than Config.MaxFileSize. The file is left on
// the server and reported on every poll until the partner removes it or the limit is raised.
type FileTooLargeError struct {
	Path  string
	Size  int64
	Limit int64
}

func (e *FileTooLargeError) Error() string {
	return fmt.Sprintf("file %s is %d bytes, over the MaxFileSize limit of %d bytes; left on the server", e.Path, e.Size, e.Limit)
}

// Is reports ErrFileTooLarge.
func (e *FileTooLargeError) Is(target error) bool { return target == ErrFileTooLarge }

// FileError is a per-file failure in a [Report].
type FileError struct {
	Path string
	Err  error
}

func (e FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e FileError) Unwrap() error { return e.Err }

// Report is what one poll did. Paths are as listed on the server.
type Report struct {
	Seen       []string    // matched by Glob (marker files excluded)
	Taken      []string    // newly committed by the Sink, after-action done
	Incomplete []string    // not yet complete under the Completeness rule
	Duplicates []string    // the Sink already had them; after-action done
	Errors     []FileError // failed; left on the server to be offered again
}

// Poller fetches one partner endpoint's files into a Sink. Create it with [New].
type Poller struct {
	cfg  Config
	dial Dialer
	sink Sink
	log  *slog.Logger

	mu      sync.Mutex // serialises polls and guards looks
	looks   map[string]look
	now     func() time.Time
	observe func(Report, error)
}

// Observe sets a function Run calls after every poll with its report and error
// (metrics, health). Call it before Run.
func (p *Poller) Observe(f func(Report, error)) { p.observe = f }

// Partner is the partner this poller polls for.
func (p *Poller) Partner() string { return p.cfg.Partner }

// look is the Stable rule's memory of a file between polls.
type look struct {
	size  int64
	mtime time.Time
	since time.Time // when this size and mtime were first seen
}

// New validates cfg (after defaults) and returns a Poller that reaches the endpoint
// through d and stores into sink. A nil logger discards logs.
func New(cfg Config, d Dialer, sink Sink, logger *slog.Logger) (*Poller, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d == nil {
		return nil, errors.New("file drop poller: dialer is nil")
	}
	if sink == nil {
		return nil, errors.New("file drop poller: sink is nil")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Poller{
		cfg:   cfg,
		dial:  d,
		sink:  sink,
		log:   logger.With("partner", cfg.Partner),
		looks: map[string]look{},
		now:   time.Now,
	}, nil
}

// Run polls every Config.Interval until ctx is done, then returns context.Cause(ctx).
// A poll that fails to connect (or loses the connection) is retried with exponential
// backoff, from Config.MinBackoff up to Interval, for as long as ctx lives. An error
// matching [ErrPermanent] (a host key or certificate mismatch) stops Run and is
// returned: it needs a human. Cancelling ctx aborts the poll in progress by closing its
// connection; the interrupted file is not committed and stays on the server.
func (p *Poller) Run(ctx context.Context) error {
	bo := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(min(p.cfg.MinBackoff, p.cfg.Interval)),
		backoff.WithMaxInterval(p.cfg.Interval),
		backoff.WithMaxElapsedTime(0),
	)
	for {
		rep, err := p.PollOnce(ctx)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if p.observe != nil {
			p.observe(rep, err)
		}
		wait := p.cfg.Interval
		switch {
		case errors.Is(err, ErrPermanent):
			p.log.Error("file drop poller stopped", "err", err)
			return err
		case err != nil:
			wait = bo.NextBackOff()
			p.log.Warn("file drop poll failed; retrying", "err", err, "retry_in", wait)
		default:
			bo.Reset()
		}
		if len(rep.Taken)+len(rep.Duplicates)+len(rep.Errors) > 0 {
			p.log.Info("file drop poll", "seen", len(rep.Seen), "taken", len(rep.Taken),
				"incomplete", len(rep.Incomplete), "duplicates", len(rep.Duplicates), "errors", len(rep.Errors))
		}
		for _, fe := range rep.Errors {
			p.log.Warn("file not taken", "path", fe.Path, "err", fe.Err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}

// PollOnce connects, lists Config.Dir, takes every complete file (download → Sink.Store
// → after-action), and disconnects. It returns an error wrapping ErrConnection (or
// ErrPermanent) when the server cannot be used; per-file failures are in Report.Errors
// and leave the file on the server. If the connection is lost midway, the Report so far
// is returned with the error. Cancelling ctx closes the connection and aborts the poll.
// Polls on one Poller are serialised.
func (p *Poller) PollOnce(ctx context.Context) (Report, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var rep Report

	fsys, err := p.dial.Dial(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return rep, fmt.Errorf("polling %s: %w", p.cfg.Partner, context.Cause(ctx))
		}
		return rep, err
	}
	defer fsys.Close()

	entries, err := fsys.List(ctx, p.cfg.Dir)
	if err != nil {
		return rep, p.connErr(ctx, fsys, fmt.Errorf("listing %s: %w", p.cfg.Dir, err))
	}
	names := make(map[string]bool, len(entries))
	for _, e := range entries {
		names[e.Name] = true
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })

	listed := map[string]bool{}
	for _, e := range entries {
		if !p.candidate(e) {
			continue
		}
		full := path.Join(p.cfg.Dir, e.Name)
		listed[full] = true
		rep.Seen = append(rep.Seen, full)
		if !p.complete(e, full, names) {
			rep.Incomplete = append(rep.Incomplete, full)
			continue
		}
		dup, err := p.take(ctx, fsys, e, full)
		if err != nil {
			rep.Errors = append(rep.Errors, FileError{Path: full, Err: err})
			if cerr := p.connErr(ctx, fsys, FileError{Path: full, Err: err}); errors.Is(cerr, ErrConnection) || ctx.Err() != nil {
				return rep, cerr
			}
			continue
		}
		delete(p.looks, full)
		if dup {
			rep.Duplicates = append(rep.Duplicates, full)
		} else {
			rep.Taken = append(rep.Taken, full)
		}
	}
	for k := range p.looks {
		if !listed[k] {
			delete(p.looks, k)
		}
	}
	return rep, nil
}

// connErr decides whether err left the session unusable: if it already says so, or
// the server no longer answers a Ping, the result wraps ErrConnection.
func (p *Poller) connErr(ctx context.Context, fsys FS, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("polling %s: %w", p.cfg.Partner, context.Cause(ctx))
	}
	if errors.Is(err, ErrConnection) {
		return err
	}
	if perr := fsys.Ping(ctx); perr != nil {
		return fmt.Errorf("%w: %w", ErrConnection, err)
	}
	return err
}

func (p *Poller) candidate(e Entry) bool {
	if !e.Regular {
		return false
	}
	if ok, _ := path.Match(p.cfg.Glob, e.Name); !ok {
		return false
	}
	if p.cfg.Completeness == Marker && strings.HasSuffix(e.Name, p.cfg.MarkerSuffix) {
		return false
	}
	if p.cfg.After == Rename && strings.HasSuffix(e.Name, p.cfg.RenameSuffix) {
		return false
	}
	return true
}

func (p *Poller) complete(e Entry, full string, names map[string]bool) bool {
	if p.cfg.Completeness == Marker {
		return names[e.Name+p.cfg.MarkerSuffix]
	}
	now := p.now()
	prev, ok := p.looks[full]
	if !ok || prev.size != e.Size || !prev.mtime.Equal(e.ModTime) {
		p.looks[full] = look{size: e.Size, mtime: e.ModTime, since: now}
		return false
	}
	return now.Sub(prev.since) >= p.cfg.Settle
}

// take streams one file into the Sink and, once committed, runs the after-action.
func (p *Poller) take(ctx context.Context, fsys FS, e Entry, full string) (dup bool, err error) {
	if e.Size > p.cfg.MaxFileSize {
		return false, &FileTooLargeError{Path: full, Size: e.Size, Limit: p.cfg.MaxFileSize}
	}
	rc, err := fsys.Open(ctx, full)
	if err != nil {
		return false, fmt.Errorf("opening: %w", err)
	}
	f := File{Partner: p.cfg.Partner, Path: full, Size: e.Size, ModTime: e.ModTime.UTC(), sum: &digest{}}
	r := &content{ctx: ctx, fsys: fsys, rc: rc, f: f, h: sha256.New()}
	dup, err = p.sink.Store(ctx, f, r)
	r.close() // before any other FS call; the error, if it matters, is in r.err
	if err != nil {
		return false, fmt.Errorf("storing: %w", err)
	}
	if !r.eof {
		return false, ErrSinkDidNotRead
	}
	if err := p.after(ctx, fsys, e.Name, full); err != nil {
		return false, fmt.Errorf("%s after store (the file will be offered again and the sink must report a duplicate): %w", p.cfg.After, err)
	}
	return dup, nil
}

func (p *Poller) after(ctx context.Context, fsys FS, name, full string) error {
	var err error
	switch p.cfg.After {
	case Archive:
		err = fsys.Rename(ctx, full, path.Join(p.cfg.ArchiveDir, name))
	case Rename:
		err = fsys.Rename(ctx, full, full+p.cfg.RenameSuffix)
	case Delete:
		err = fsys.Remove(ctx, full)
	}
	if err != nil {
		return err
	}
	if p.cfg.Completeness == Marker {
		if err := fsys.Remove(ctx, full+p.cfg.MarkerSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			p.log.Warn("removing marker file", "path", full+p.cfg.MarkerSuffix, "err", err)
		}
	}
	return nil
}

// content is the reader handed to the Sink: it hashes as it streams, refuses to run
// past the listed size, and turns the final io.EOF into an error if the transfer did
// not end cleanly or the file changed.
type content struct {
	ctx    context.Context
	fsys   FS
	rc     io.ReadCloser
	closed bool
	f      File
	h      hash.Hash
	n      int64
	eof    bool
	err    error // sticky
}

func (r *content) close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return r.rc.Close()
}

func (r *content) Read(b []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if err := r.ctx.Err(); err != nil {
		r.err = context.Cause(r.ctx)
		return 0, r.err
	}
	// Never read past the listed size (+1 byte to detect growth), so MaxFileSize holds.
	if rest := r.f.Size + 1 - r.n; int64(len(b)) > rest {
		b = b[:rest]
	}
	n, err := r.rc.Read(b)
	r.n += int64(n)
	r.h.Write(b[:n])
	switch {
	case r.n > r.f.Size:
		r.err = fmt.Errorf("%w: more than the %d bytes listed", ErrFileChanged, r.f.Size)
		return n, r.err
	case err == io.EOF:
		if r.n != r.f.Size {
			r.err = fmt.Errorf("%w: got %d of %d bytes", ErrFileChanged, r.n, r.f.Size)
			return n, r.err
		}
		if cerr := r.close(); cerr != nil {
			r.err = fmt.Errorf("finishing download: %w", cerr)
			return n, r.err
		}
		st, serr := r.fsys.Stat(r.ctx, r.f.Path)
		if serr != nil {
			r.err = fmt.Errorf("checking file after download: %w", serr)
			return n, r.err
		}
		if st.Size != r.f.Size || !st.ModTime.Equal(r.f.ModTime) {
			r.err = fmt.Errorf("%w: now %d bytes, mtime %s", ErrFileChanged, st.Size, st.ModTime.UTC())
			return n, r.err
		}
		var sum [32]byte
		r.h.Sum(sum[:0])
		r.f.sum.set(sum)
		r.eof = true
		r.err = io.EOF
		return n, io.EOF
	case err != nil:
		r.err = fmt.Errorf("downloading: %w", err)
		return n, r.err
	}
	return n, nil
}
