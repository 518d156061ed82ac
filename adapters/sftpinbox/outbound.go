package sftpinbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// ErrUnknownPartner is returned by [Server.Put] for a partner not in the config.
var ErrUnknownPartner = errors.New("sftp inbox: unknown partner")

// Put places a file for partner to download as /outbound/name, replacing a file of the
// same name. It is atomic: the content is written and synced to a private spool file,
// then renamed into /outbound, so a partner listing /outbound never sees a partial
// file. name is a base name (no '/', not "." or ".."). Put reads r to the end (no size
// cap: the content is the hub's own); to abandon it, make r fail. Put is safe for
// concurrent use; it fails after [Server.Close].
func (s *Server) Put(partner, name string, r io.Reader) error {
	p, ok := s.partners[partner]
	if !ok {
		return fmt.Errorf("putting %s for %q: %w", name, partner, ErrUnknownPartner)
	}
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("putting %q for %q: not a base file name", name, partner)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("putting %s for %q: %w", name, partner, ErrServerClosed)
	}
	s.wg.Add(1) // Close waits for Puts in progress before releasing the directories
	s.mu.Unlock()
	defer s.wg.Done()

	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(uploadsDir, "put-"+hex.EncodeToString(rnd[:]))
	f, err := p.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("putting %s for %q: %w", name, partner, err)
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = p.root.Rename(tmp, outboundDir+"/"+name)
	}
	if err != nil {
		p.root.Remove(tmp)
		return fmt.Errorf("putting %s for %q: %w", name, partner, err)
	}
	s.log.Info("sftp inbox outbound file placed", "partner", partner, "path", "/"+outboundDir+"/"+name)
	return nil
}
