package sftp

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	pkgsftp "github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Sentinels for per-file failures; see also *FileTooLargeError and *HostKeyError.
var (
	// ErrFileTooLarge is matched by every *FileTooLargeError.
	ErrFileTooLarge = errors.New("sftp file exceeds MaxFileSize")
	// ErrFileChanged: the file's size or mtime changed while it was downloaded, or fewer
	// or more bytes than listed arrived. Nothing is committed; the file is retried.
	ErrFileChanged = errors.New("sftp file changed during download")
	// ErrSinkDidNotRead: the Sink returned nil without reading the content to the end.
	ErrSinkDidNotRead = errors.New("sink returned before reading the whole file")
	// ErrConnection wraps failures to reach, log in to, or keep talking to the server.
	// [Poller.Run] retries them with exponential backoff.
	ErrConnection = errors.New("sftp connection failed")
)

// FileTooLargeError refuses a file bigger than Config.MaxFileSize. The file is left on
// the server and reported on every poll until the partner removes it or the limit is raised.
type FileTooLargeError struct {
	Path  string
	Size  int64
	Limit int64
}

func (e *FileTooLargeError) Error() string {
	return fmt.Sprintf("sftp file %s is %d bytes, over the MaxFileSize limit of %d bytes; left on the server", e.Path, e.Size, e.Limit)
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
	cfg    Config
	pin    pin
	signer ssh.Signer
	sink   Sink
	log    *slog.Logger

	mu     sync.Mutex // serialises polls and guards looks
	looks  map[string]look
	now    func() time.Time
	retry0 time.Duration // first backoff step in Run
}

// look is the Stable rule's memory of a file between polls.
type look struct {
	size  int64
	mtime time.Time
	since time.Time // when this size and mtime were first seen
}

// New validates cfg (after defaults) and returns a Poller storing into sink. A nil
// logger discards logs.
func New(cfg Config, sink Sink, logger *slog.Logger) (*Poller, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, errors.New("sftp poller: sink is nil")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Poller{
		cfg:    cfg,
		sink:   sink,
		log:    logger.With("partner", cfg.Partner, "adapter", "sftp"),
		looks:  map[string]look{},
		now:    time.Now,
		retry0: time.Second,
	}
	p.pin, _ = parsePin(cfg.HostKey) // validated above
	if len(cfg.PrivateKey) > 0 {
		p.signer, _ = parseSigner(cfg.PrivateKey, cfg.PrivateKeyPassphrase)
	}
	return p, nil
}

// Run polls every Config.Interval until ctx is done, then returns context.Cause(ctx).
// A poll that fails to connect (or loses the connection) is retried with exponential
// backoff, from one second up to Interval, for as long as ctx lives. A *HostKeyError
// stops Run and is returned: a changed key needs a human. Cancelling ctx aborts the
// poll in progress by closing its connection; the interrupted file is not committed
// and stays on the server.
func (p *Poller) Run(ctx context.Context) error {
	bo := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(min(p.retry0, p.cfg.Interval)),
		backoff.WithMaxInterval(p.cfg.Interval),
		backoff.WithMaxElapsedTime(0),
	)
	for {
		rep, err := p.PollOnce(ctx)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		wait := p.cfg.Interval
		switch {
		case errors.Is(err, ErrHostKeyMismatch):
			p.log.Error("sftp poller stopped", "err", err)
			return err
		case err != nil:
			wait = bo.NextBackOff()
			p.log.Warn("sftp poll failed; retrying", "err", err, "retry_in", wait)
		default:
			bo.Reset()
		}
		if len(rep.Taken)+len(rep.Duplicates)+len(rep.Errors) > 0 {
			p.log.Info("sftp poll", "seen", len(rep.Seen), "taken", len(rep.Taken),
				"incomplete", len(rep.Incomplete), "duplicates", len(rep.Duplicates), "errors", len(rep.Errors))
		}
		for _, fe := range rep.Errors {
			p.log.Warn("sftp file not taken", "path", fe.Path, "err", fe.Err)
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
// → after-action), and disconnects. It returns an error wrapping ErrConnection (or a
// *HostKeyError) when the server cannot be used; per-file failures are in
// Report.Errors and leave the file on the server. If the connection is lost midway,
// the Report so far is returned with the error. Cancelling ctx closes the connection
// and aborts the poll. Polls on one Poller are serialised.
func (p *Poller) PollOnce(ctx context.Context) (Report, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var rep Report

	client, closeConn, err := p.connect(ctx)
	if err != nil {
		return rep, err
	}
	defer closeConn()

	infos, err := client.ReadDir(p.cfg.Dir)
	if err != nil {
		return rep, p.connErr(ctx, client, fmt.Errorf("listing %s: %w", p.cfg.Dir, err))
	}
	names := make(map[string]bool, len(infos))
	for _, fi := range infos {
		names[fi.Name()] = true
	}
	slices.SortFunc(infos, func(a, b os.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })

	listed := map[string]bool{}
	for _, fi := range infos {
		if !p.candidate(fi) {
			continue
		}
		full := path.Join(p.cfg.Dir, fi.Name())
		listed[full] = true
		rep.Seen = append(rep.Seen, full)
		if !p.complete(fi, full, names) {
			rep.Incomplete = append(rep.Incomplete, full)
			continue
		}
		dup, err := p.take(ctx, client, fi, full)
		if err != nil {
			rep.Errors = append(rep.Errors, FileError{Path: full, Err: err})
			if cerr := p.connErr(ctx, client, FileError{Path: full, Err: err}); errors.Is(cerr, ErrConnection) || ctx.Err() != nil {
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

// connErr decides whether err left the connection unusable: if the server no longer
// answers a stat of Dir, the result wraps ErrConnection.
func (p *Poller) connErr(ctx context.Context, c *pkgsftp.Client, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("polling %s: %w", p.cfg.Partner, context.Cause(ctx))
	}
	if _, serr := c.Stat(p.cfg.Dir); serr != nil {
		return fmt.Errorf("%w: %w", ErrConnection, err)
	}
	return err
}

func (p *Poller) candidate(fi os.FileInfo) bool {
	name := fi.Name()
	if !fi.Mode().IsRegular() {
		return false
	}
	if ok, _ := path.Match(p.cfg.Glob, name); !ok {
		return false
	}
	if p.cfg.Completeness == Marker && strings.HasSuffix(name, p.cfg.MarkerSuffix) {
		return false
	}
	if p.cfg.After == Rename && strings.HasSuffix(name, p.cfg.RenameSuffix) {
		return false
	}
	return true
}

func (p *Poller) complete(fi os.FileInfo, full string, names map[string]bool) bool {
	if p.cfg.Completeness == Marker {
		return names[fi.Name()+p.cfg.MarkerSuffix]
	}
	now := p.now()
	prev, ok := p.looks[full]
	if !ok || prev.size != fi.Size() || !prev.mtime.Equal(fi.ModTime()) {
		p.looks[full] = look{size: fi.Size(), mtime: fi.ModTime(), since: now}
		return false
	}
	return now.Sub(prev.since) >= p.cfg.Settle
}

// take streams one file into the Sink and, once committed, runs the after-action.
func (p *Poller) take(ctx context.Context, c *pkgsftp.Client, fi os.FileInfo, full string) (dup bool, err error) {
	if fi.Size() > p.cfg.MaxFileSize {
		return false, &FileTooLargeError{Path: full, Size: fi.Size(), Limit: p.cfg.MaxFileSize}
	}
	fh, err := c.Open(full)
	if err != nil {
		return false, fmt.Errorf("opening: %w", err)
	}
	defer fh.Close()

	f := File{Partner: p.cfg.Partner, Path: full, Size: fi.Size(), ModTime: fi.ModTime().UTC(), sum: &digest{}}
	r := &content{ctx: ctx, fh: fh, f: f, h: sha256.New()}
	dup, err = p.sink.Store(ctx, f, r)
	if err != nil {
		return false, fmt.Errorf("storing: %w", err)
	}
	if !r.eof {
		return false, ErrSinkDidNotRead
	}
	fh.Close()
	if err := p.after(c, fi.Name(), full); err != nil {
		return false, fmt.Errorf("%s after store (the file will be offered again and the sink must report a duplicate): %w", p.cfg.After, err)
	}
	return dup, nil
}

func (p *Poller) after(c *pkgsftp.Client, name, full string) error {
	var err error
	switch p.cfg.After {
	case Archive:
		err = p.rename(c, full, path.Join(p.cfg.ArchiveDir, name))
	case Rename:
		err = p.rename(c, full, full+p.cfg.RenameSuffix)
	case Delete:
		err = c.Remove(full)
	}
	if err != nil {
		return err
	}
	if p.cfg.Completeness == Marker {
		if err := c.Remove(full + p.cfg.MarkerSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			p.log.Warn("removing marker file", "path", full+p.cfg.MarkerSuffix, "err", err)
		}
	}
	return nil
}

func (p *Poller) rename(c *pkgsftp.Client, from, to string) error {
	if _, ok := c.HasExtension("posix-rename@openssh.com"); ok {
		return c.PosixRename(from, to)
	}
	return c.Rename(from, to)
}

// connect dials, verifies the pinned host key, logs in and starts the SFTP subsystem.
// The returned func closes everything; cancelling ctx closes the connection too.
func (p *Poller) connect(ctx context.Context) (*pkgsftp.Client, func(), error) {
	addr := net.JoinHostPort(p.cfg.Host, strconv.Itoa(p.cfg.Port))
	var auth []ssh.AuthMethod
	if p.signer != nil {
		auth = append(auth, ssh.PublicKeys(p.signer))
	}
	if p.cfg.Password != "" {
		auth = append(auth, ssh.Password(p.cfg.Password))
	}
	sshCfg := &ssh.ClientConfig{
		User:              p.cfg.User,
		Auth:              auth,
		HostKeyCallback:   p.pin.callback(p.cfg.Partner),
		HostKeyAlgorithms: p.pin.hostKeyAlgorithms(),
		Timeout:           p.cfg.DialTimeout,
	}
	d := net.Dialer{Timeout: p.cfg.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: connecting to %s: %w", ErrConnection, addr, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(p.cfg.DialTimeout))
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, sshCfg)
	if err != nil {
		stop()
		conn.Close()
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, nil, hk
		}
		return nil, nil, fmt.Errorf("%w: ssh handshake with %s: %w", ErrConnection, addr, err)
	}
	_ = conn.SetDeadline(time.Time{})
	sshClient := ssh.NewClient(sc, chans, reqs)
	client, err := pkgsftp.NewClient(sshClient)
	if err != nil {
		stop()
		sshClient.Close()
		return nil, nil, fmt.Errorf("%w: starting sftp subsystem on %s: %w", ErrConnection, addr, err)
	}
	return client, func() {
		stop()
		client.Close()
		sshClient.Close()
	}, nil
}

// content is the reader handed to the Sink: it hashes as it streams, refuses to run
// past the listed size, and turns the final io.EOF into an error if the file changed.
type content struct {
	ctx context.Context
	fh  *pkgsftp.File
	f   File
	h   hash.Hash
	n   int64
	eof bool
	err error // sticky
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
	n, err := r.fh.Read(b)
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
		st, serr := r.fh.Stat()
		if serr != nil {
			r.err = fmt.Errorf("checking file after download: %w", serr)
			return n, r.err
		}
		if st.Size() != r.f.Size || !st.ModTime().Equal(r.f.ModTime) {
			r.err = fmt.Errorf("%w: now %d bytes, mtime %s", ErrFileChanged, st.Size(), st.ModTime().UTC())
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
