package sftpinbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sync"
	"time"

	"github.com/pkg/sftp"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

// ErrNotStored is what the client hears when its upload was received but could not be
// committed (the Sink failed): the upload is discarded, and the partner should send
// the file again. The cause is logged, not sent.
var ErrNotStored = errors.New("upload not stored; send the file again")

// upload is one file being written to /inbound/NAME. The bytes go to a private file in
// <partner>/.uploads (never held in memory); WriteAt may be called concurrently and
// out of order, as pkg/sftp does. Close commits it: see commit.
type upload struct {
	s    *session
	v    vpath
	name string // base name
	tmp  string // path inside the partner's os.Root
	f    *os.File

	mu      sync.Mutex
	size    int64 // highest offset written
	failed  error // sticky: over the cap, write error, transfer aborted
	closed  bool
	started time.Time
}

func (s *session) newUpload(v vpath) (*upload, error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(uploadsDir, v.rest+"."+hex.EncodeToString(rnd[:]))
	f, err := s.p.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, s.failed("Put", v, err)
	}
	s.log.Info("sftp inbox upload started", "path", v.full)
	return &upload{s: s, v: v, name: v.rest, tmp: tmp, f: f, started: time.Now()}, nil
}

// WriteAt writes p at off, refusing anything past Config.MaxFileSize; after a refusal
// every later write and the Close fail too.
func (u *upload) WriteAt(p []byte, off int64) (int, error) {
	u.mu.Lock()
	if u.failed != nil {
		err := u.failed
		u.mu.Unlock()
		return 0, err
	}
	limit := u.s.srv.cfg.MaxFileSize
	if off < 0 || off+int64(len(p)) > limit {
		u.failed = u.s.refuse("Put", u.v.full, fmt.Sprintf("file is over the size cap of %d bytes", limit))
		u.mu.Unlock()
		return 0, u.failed
	}
	u.size = max(u.size, off+int64(len(p)))
	u.mu.Unlock()
	n, err := u.f.WriteAt(p, off)
	if err != nil {
		u.mu.Lock()
		u.failed = u.s.failed("Put", u.v, err)
		err = u.failed
		u.mu.Unlock()
	}
	return n, err
}

// TransferError is called by pkg/sftp when the session ends with the file still open
// (connection lost, client killed): the upload is incomplete and will be discarded.
func (u *upload) TransferError(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failed == nil {
		u.failed = fmt.Errorf("transfer aborted: %w", err)
	}
}

// Close is the client's SSH_FXP_CLOSE (pkg/sftp waits for all writes first): unless
// the upload failed, it is committed to the Sink before Close returns, and a failure
// to commit fails the close, so the client reports the upload as failed.
func (u *upload) Close() error {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil
	}
	u.closed = true
	failed := u.failed
	u.mu.Unlock()

	root := u.s.p.root
	if err := u.f.Close(); err != nil && failed == nil {
		failed = u.s.failed("Put", u.v, err)
	}
	if failed != nil {
		root.Remove(u.tmp)
		u.s.log.Warn("sftp inbox upload discarded", "path", u.v.full, "err", failed)
		return failed
	}
	u.s.busy.Add(1)
	defer u.s.busy.Add(-1)
	err := u.commit()
	if rerr := root.Remove(u.tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		u.s.log.Error("removing upload spool file", "path", u.v.full, "err", rerr)
	}
	return err
}

// commit hands the closed upload to the Sink as filedrop.File{Partner, Path:
// "/inbound/NAME", Size, ModTime: the close time in whole seconds, UTC}, streamed
// from the spool file and hashed on the way (filedrop.Hash), so the Sink gets the
// contract a polled server gives it: Key and SHA256 work once it has read to the end.
// Only after the Sink committed is the upload archived or deleted.
func (u *upload) commit() error {
	log := u.s.log.With("path", u.v.full)
	cfg := u.s.srv.cfg
	f, err := u.s.p.root.Open(u.tmp)
	if err != nil {
		log.Error("sftp inbox upload lost before commit", "err", err)
		return fmt.Errorf("%w: %w", ErrNotStored, sftp.ErrSSHFxFailure)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		log.Error("sftp inbox upload lost before commit", "err", err)
		return fmt.Errorf("%w: %w", ErrNotStored, sftp.ErrSSHFxFailure)
	}
	file, r := filedrop.Hash(filedrop.File{Partner: u.s.p.name, Path: "/" + inboundDir + "/" + u.name, Size: fi.Size(),
		ModTime: time.Now().UTC().Truncate(time.Second)}, f)
	// The commit must finish even if the client leaves or the server shuts down.
	dup, err := u.s.srv.sink.Store(u.s.srv.base, file, r)
	f.Close()
	if err == nil {
		if _, kerr := file.Key(); kerr != nil {
			err = fmt.Errorf("the sink returned without reading the upload to the end: %w", kerr)
		}
	}
	if err != nil {
		log.Warn("sftp inbox upload not stored", "err", err, "size", fi.Size())
		return fmt.Errorf("%w: %w", ErrNotStored, sftp.ErrSSHFxFailure)
	}
	if cfg.After == Delete {
		err = u.s.p.root.Remove(u.tmp)
	} else {
		err = u.s.p.root.Rename(u.tmp, archiveDir+"/"+u.name)
	}
	if err != nil {
		// Stored: the client's close succeeds; the spool file is removed by Close.
		log.Error("sftp inbox upload stored, but archiving it failed", "err", err, "size", fi.Size())
		return nil
	}
	log.Info("sftp inbox upload stored", "size", fi.Size(), "duplicate", dup,
		"after", cfg.After, "took", time.Since(u.started).Round(time.Millisecond))
	return nil
}
