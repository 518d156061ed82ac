// Package sftp delivers files to a partner's SFTP server: each file is written as
// NAME.tmp, its size checked, then renamed to NAME (posix-rename where the server has
// it, so an existing file is replaced) — see connectors/fileput. The connection is
// adapters/sftp's: the server's host key is pinned, a changed key is a permanent error.
package sftp

import (
	"errors"
	"io/fs"

	pkgsftp "github.com/pkg/sftp"

	adaptersftp "github.com/paklog/integration-hub/adapters/sftp"
	"github.com/paklog/integration-hub/connectors/fileput"
)

// New returns a Putter for cfg's server and cfg.Dir. Only the connection fields, the
// partner and Dir of cfg are used.
func New(cfg adaptersftp.Config) (*fileput.Putter, error) {
	d, err := adaptersftp.NewDialer(cfg)
	if err != nil {
		return nil, err
	}
	return &fileput.Putter{Partner: cfg.Partner, Protocol: "sftp", Dir: cfg.Dir, Dial: d, Permanent: Permanent}, nil
}

// Permanent reports the SFTP statuses no retry fixes: no such file or directory, and
// permission denied.
func Permanent(err error) bool {
	var se *pkgsftp.StatusError
	if errors.As(err, &se) {
		switch se.FxCode() {
		case pkgsftp.ErrSSHFxNoSuchFile, pkgsftp.ErrSSHFxPermissionDenied:
			return true
		}
	}
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)
}
