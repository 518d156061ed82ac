package sftpinbox

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
)

// ErrRefused is matched (errors.Is) by every *RefusedError.
var ErrRefused = errors.New("sftp inbox: operation refused")

// RefusedError is an operation the inbox does not allow a partner: a path outside its
// tree, a write outside /inbound, a link, a file over the size cap. The client gets
// SSH_FX_PERMISSION_DENIED with Error() as the message; the refusal is logged with
// the partner's name.
type RefusedError struct {
	Op     string // SFTP method: Put, Remove, Symlink, …
	Path   string // virtual path, as the partner sees it
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s %s refused: %s", e.Op, e.Path, e.Reason)
}

// Is reports ErrRefused and fs.ErrPermission.
func (e *RefusedError) Is(target error) bool {
	return target == ErrRefused || target == fs.ErrPermission
}

// Unwrap gives pkg/sftp the status code to send.
func (e *RefusedError) Unwrap() error { return sftp.ErrSSHFxPermissionDenied }

// session serves one partner's SFTP session over its virtual tree:
//
//	/           the three directories below, read-only
//	/inbound    uploads land here; Put and Remove allowed
//	/outbound   files the hub left for the partner (see Server.Put); read-only
//	/archive    the partner's stored uploads (Config.After = archive); read-only
//
// Virtual paths are cleaned and mapped into the partner's directory through an
// os.Root, which also refuses to follow any symlink out of it.
type session struct {
	srv   *Server
	p     *partner
	log   *slog.Logger
	busy  *atomic.Int32 // uploads being committed (not idle)
	touch func()
}

func (s *session) handlers() sftp.Handlers {
	return sftp.Handlers{FileGet: s, FilePut: s, FileCmd: s, FileList: s}
}

// vpath is a cleaned virtual path split into its area (inbound, outbound, archive or
// "" for /) and the rest, relative to the area ("" for the area itself).
type vpath struct {
	full, area, rest string
}

func (s *session) resolve(p string) (vpath, bool) {
	full := path.Clean("/" + p)
	if strings.ContainsRune(full, 0) {
		return vpath{full: full}, false
	}
	if full == "/" {
		return vpath{full: full}, true
	}
	area, rest, _ := strings.Cut(full[1:], "/")
	switch area {
	case inboundDir, outboundDir, archiveDir:
		return vpath{full: full, area: area, rest: rest}, true
	}
	return vpath{full: full}, false
}

// rel is the path inside the partner's os.Root.
func (v vpath) rel() string {
	if v.rest == "" {
		return v.area
	}
	return v.area + "/" + v.rest
}

func (s *session) refuse(op, p, reason string) error {
	s.log.Warn("sftp inbox refused", "op", op, "path", p, "reason", reason)
	return &RefusedError{Op: op, Path: p, Reason: reason}
}

// failed hides a filesystem error's real path from the client and logs it.
func (s *session) failed(op string, v vpath, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return os.ErrNotExist
	}
	s.log.Error("sftp inbox operation failed", "op", op, "path", v.full, "err", err)
	return fmt.Errorf("%s %s failed: %w", op, v.full, sftp.ErrSSHFxFailure)
}

// Fileread opens a regular file anywhere in the tree for download.
func (s *session) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	v, ok := s.resolve(r.Filepath)
	if !ok || v.rest == "" {
		return nil, s.refuse(r.Method, v.full, "not a file in /inbound, /outbound or /archive")
	}
	fi, err := s.p.root.Lstat(v.rel())
	if err != nil {
		return nil, s.failed(r.Method, v, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, s.refuse(r.Method, v.full, "not a regular file")
	}
	f, err := s.p.root.Open(v.rel())
	if err != nil {
		return nil, s.failed(r.Method, v, err)
	}
	s.log.Info("sftp inbox download", "path", v.full, "size", fi.Size())
	return f, nil
}

// Filewrite starts an upload to /inbound/NAME; see upload.
func (s *session) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	v, ok := s.resolve(r.Filepath)
	if !ok || v.area != inboundDir || v.rest == "" || strings.Contains(v.rest, "/") {
		return nil, s.refuse(r.Method, v.full, "uploads go to /inbound/NAME only")
	}
	if r.Method != "Put" {
		return nil, s.refuse(r.Method, v.full, "files are opened for reading or for writing, not both")
	}
	if r.Pflags().Append {
		return nil, s.refuse(r.Method, v.full, "appending is not supported; upload the whole file")
	}
	return s.newUpload(v)
}

// Filecmd allows Remove in /inbound and accepts (and ignores) Setstat there; it
// refuses renames, directories and links everywhere.
func (s *session) Filecmd(r *sftp.Request) error {
	v, ok := s.resolve(r.Filepath)
	switch r.Method {
	case "Setstat":
		if ok && v.area == inboundDir {
			return nil // times and modes of uploads are the hub's
		}
		return s.refuse(r.Method, v.full, "the tree is read-only outside /inbound")
	case "Remove":
		if !ok || v.area != inboundDir || v.rest == "" {
			return s.refuse(r.Method, v.full, "files can be removed from /inbound only")
		}
		fi, err := s.p.root.Lstat(v.rel())
		if err != nil {
			return s.failed(r.Method, v, err)
		}
		if !fi.Mode().IsRegular() {
			return s.refuse(r.Method, v.full, "not a regular file")
		}
		if err := s.p.root.Remove(v.rel()); err != nil {
			return s.failed(r.Method, v, err)
		}
		s.log.Info("sftp inbox remove", "path", v.full)
		return nil
	case "Symlink", "Link":
		return s.refuse(r.Method, v.full, "links are not allowed")
	case "Rename", "PosixRename":
		return s.refuse(r.Method, v.full, "renaming is not allowed; upload under the final name")
	case "Mkdir", "Rmdir":
		return s.refuse(r.Method, v.full, "the directory layout is fixed")
	}
	return s.refuse(r.Method, v.full, "not supported")
}

// Filelist answers List and Stat; Readlink is refused.
func (s *session) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	v, ok := s.resolve(r.Filepath)
	switch r.Method {
	case "List":
		if !ok {
			return nil, os.ErrNotExist
		}
		return s.list(v)
	case "Stat":
		if !ok {
			return nil, os.ErrNotExist
		}
		fi, err := s.stat(v)
		if err != nil {
			return nil, err
		}
		return listerAt{fi}, nil
	case "Readlink":
		return nil, s.refuse(r.Method, v.full, "links are not allowed")
	}
	return nil, s.refuse(r.Method, v.full, "not supported")
}

// Lstat is Stat: the tree holds no links the partner could see.
func (s *session) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	r.Method = "Stat"
	return s.Filelist(r)
}

func (s *session) stat(v vpath) (os.FileInfo, error) {
	if v.area == "" {
		return dirInfo{name: "/"}, nil
	}
	fi, err := s.p.root.Lstat(v.rel())
	if err != nil {
		return nil, s.failed("Stat", v, err)
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil, os.ErrNotExist // links and devices are invisible
	}
	if v.rest == "" {
		return dirInfo{name: v.area, mtime: fi.ModTime()}, nil
	}
	return fi, nil
}

func (s *session) list(v vpath) (sftp.ListerAt, error) {
	if v.area == "" {
		return listerAt{dirInfo{name: inboundDir}, dirInfo{name: outboundDir}, dirInfo{name: archiveDir}}, nil
	}
	f, err := s.p.root.Open(v.rel())
	if err != nil {
		return nil, s.failed("List", v, err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, s.failed("List", v, err)
	}
	var out listerAt
	for _, e := range entries {
		if !e.Type().IsRegular() && !e.IsDir() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, fi)
	}
	return out, nil
}

type listerAt []os.FileInfo

func (l listerAt) ListAt(dst []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}

// dirInfo describes / and the three area directories: owned by nobody in
// particular, never writable through their mode bits (the server decides).
type dirInfo struct {
	name  string
	mtime time.Time
}

func (d dirInfo) Name() string       { return d.name }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o755 }
func (d dirInfo) ModTime() time.Time { return d.mtime }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }
