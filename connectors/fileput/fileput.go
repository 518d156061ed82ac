// Package fileput delivers a file to a partner's server safely, whatever the protocol:
// the content is written as NAME.tmp, its size checked against what was sent, then
// renamed to NAME and checked again. A partner polling the directory never sees a
// partial NAME, and a put that fails halfway leaves at most a NAME.tmp that the next
// attempt overwrites.
//
// connectors/sftp and connectors/ftp build a Putter for their protocol; this package
// holds the part they share. Errors carry a fault class: connection failures, size
// mismatches and the server's temporary refusals are transient (a retry puts the same
// name again, which is harmless); a missing directory, a refused permission or a host
// key that does not match are permanent and need a person.
package fileput

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/paklog/integration-hub/adapters/filedrop"
	"github.com/paklog/integration-hub/internal/fault"
)

// TmpSuffix is appended to the name while the file is being written.
const TmpSuffix = ".tmp"

// Putter puts files into one directory of one partner's server.
type Putter struct {
	// Partner names the partner in errors.
	Partner string
	// Protocol is "sftp" or "ftp", for errors.
	Protocol string
	// Dir is the directory on the server the files go to.
	Dir string
	// Dial opens a session; the session must implement filedrop.WriteFS.
	Dial filedrop.Dialer
	// Permanent reports protocol errors that no retry can fix (the server's "no such
	// directory", "permission denied"). Connection errors and host key mismatches are
	// classified without it.
	Permanent func(error) bool
}

// Receipt is what a successful put did.
type Receipt struct {
	Path  string        // final path on the server
	Bytes int64         // size written and verified
	Took  time.Duration // dial to verified rename
}

// Put writes the content of r as Dir/name. name must be a base name.
func (p Putter) Put(ctx context.Context, name string, r io.Reader) (Receipt, error) {
	start := time.Now()
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return Receipt{}, fault.AsPermanent(fmt.Errorf("putting %q for %s: not a base file name", name, p.Partner))
	}
	final := path.Join(p.Dir, name)
	tmp := final + TmpSuffix
	fsys, err := p.Dial.Dial(ctx)
	if err != nil {
		return Receipt{}, p.classify(fmt.Errorf("%s put of %s for %s: %w", p.Protocol, final, p.Partner, err))
	}
	defer fsys.Close()
	w, ok := fsys.(filedrop.WriteFS)
	if !ok {
		return Receipt{}, fault.AsPermanent(fmt.Errorf("%s sessions cannot write files", p.Protocol))
	}
	fail := func(step string, err error) (Receipt, error) {
		return Receipt{}, p.classify(fmt.Errorf("%s put of %s for %s: %s: %w", p.Protocol, final, p.Partner, step, err))
	}
	n, err := w.Put(ctx, tmp, r)
	if err != nil {
		return fail("writing "+tmp, err)
	}
	if err := p.verify(ctx, w, tmp, n); err != nil {
		return fail("checking "+tmp, err)
	}
	if err := w.Rename(ctx, tmp, final); err != nil {
		// Servers without replacing renames refuse an existing target: a retry of a put
		// whose rename went through but whose answer was lost. Replace it.
		if _, serr := w.Stat(ctx, final); serr == nil {
			if rerr := w.Remove(ctx, final); rerr == nil {
				err = w.Rename(ctx, tmp, final)
			}
		}
		if err != nil {
			return fail("renaming "+tmp+" to "+name, err)
		}
	}
	if err := p.verify(ctx, w, final, n); err != nil {
		return fail("checking "+final, err)
	}
	return Receipt{Path: final, Bytes: n, Took: time.Since(start)}, nil
}

// SizeError is a file on the server whose size is not what was written.
type SizeError struct {
	Path          string
	Want, OnServe int64
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("%s is %d bytes on the server, %d were written", e.Path, e.OnServe, e.Want)
}

func (p Putter) verify(ctx context.Context, w filedrop.WriteFS, name string, want int64) error {
	e, err := w.Stat(ctx, name)
	if err != nil {
		return err
	}
	if e.Size != want {
		return &SizeError{Path: name, Want: want, OnServe: e.Size}
	}
	return nil
}

func (p Putter) classify(err error) error {
	switch {
	case errors.Is(err, filedrop.ErrPermanent):
		return fault.AsPermanent(err)
	case errors.Is(err, filedrop.ErrConnection):
		return fault.AsTransient(err)
	case p.Permanent != nil && p.Permanent(err):
		return fault.AsPermanent(err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fault.AsTransient(err)
	default:
		return fault.AsTransient(err)
	}
}
