package filedrop

import (
	"context"
	"io"
	"time"
)

// Entry is one directory entry as an [FS] lists it.
type Entry struct {
	Name    string    // base name, without directory
	Size    int64     // bytes
	ModTime time.Time // server mtime; whole seconds on SFTP v3 and FTP MDTM
	Regular bool      // a plain file (not a directory, link or device)
}

// FS is the part of a partner's file server the [Poller] needs: list, read, move and
// delete. One FS is one logged-in session (an SFTP client, an FTP control connection);
// the Poller opens one per poll with a [Dialer] and closes it at the end.
//
// Paths are slash-separated, absolute or relative to the login directory, and are
// passed to the server as given. An FS is used by one goroutine at a time. Every method
// returns once ctx is done, with an error; implementations may do that by closing the
// session, after which only Close may be called.
//
// Errors caused by the transport (connection refused, dropped, timed out) should wrap
// [ErrConnection]; the Poller additionally calls Ping after any per-file failure to
// tell a bad file from a dead session.
type FS interface {
	// List returns the entries of dir, in any order, without "." and "..".
	List(ctx context.Context, dir string) ([]Entry, error)
	// Stat describes one file.
	Stat(ctx context.Context, path string) (Entry, error)
	// Open starts reading a file from its beginning. Until the returned reader is
	// closed no other method may be called (FTP has one transfer per session). Close
	// reports whether the transfer ended cleanly (FTP's 226 reply): a non-nil error from
	// Close after io.EOF means the content may be incomplete.
	Open(ctx context.Context, path string) (io.ReadCloser, error)
	// Rename moves from to to, replacing to where the server allows it.
	Rename(ctx context.Context, from, to string) error
	// Remove deletes a file. A missing file yields an error matching fs.ErrNotExist
	// where the protocol can tell.
	Remove(ctx context.Context, path string) error
	// Ping checks that the session still works (SFTP: resolve "."; FTP: NOOP).
	Ping(ctx context.Context) error
	// Close ends the session and releases its connections. It may be called after a
	// failure of any other method.
	Close() error
}

// Dialer opens an [FS] session to one partner endpoint.
type Dialer interface {
	// Dial connects, authenticates (and verifies the server's identity) and returns a
	// session. Cancelling ctx, during Dial or at any time later while the session is
	// open, closes the session's connections. Errors wrap [ErrConnection] when a retry
	// may help, and [ErrPermanent] when it cannot (a host key or certificate that does
	// not match the pinned one). Dial is safe for concurrent use.
	Dial(ctx context.Context) (FS, error)
}

// WriteFS is an FS that can also write: the outbound side, where the hub puts files
// on a partner's server. The SFTP and FTP sessions implement it.
type WriteFS interface {
	FS
	// Put writes r to path, creating or replacing the file, and returns the bytes
	// written once the server has confirmed the whole file.
	Put(ctx context.Context, path string, r io.Reader) (int64, error)
}
