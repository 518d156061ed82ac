package intake

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/paklog/integration-hub/router"
)

// AcceptFile accepts a file streamed from r, never holding more than InlineMax of it
// in memory: r is written to a spool file and synced; then key, called once r is read
// to the end, gives the idempotency key (file transports know it only after hashing
// the content); then the item is accepted as by Accept. A file up to InlineMax
// travels inside the message; a larger one stays in the spool directory, named by
// the key's hash, and the message names it (router.MetaPayloadFile). item.Payload is
// ignored. An error from r or key commits nothing.
func (in *Intake) AcceptFile(ctx context.Context, item Item, r io.Reader, key func() (string, error)) (Result, error) {
	dir := in.cfg.SpoolDir
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Result{}, fmt.Errorf("creating the spool directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "incoming-*.part")
	if err != nil {
		return Result{}, fmt.Errorf("spooling the file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, r)
	if err != nil {
		return Result{}, fmt.Errorf("receiving the file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return Result{}, fmt.Errorf("spooling the file: %w", err)
	}
	if item.IdempotencyKey, err = key(); err != nil {
		return Result{}, err
	}
	if n <= in.cfg.InlineMax {
		if item.Payload, err = os.ReadFile(tmp.Name()); err != nil {
			return Result{}, fmt.Errorf("reading the spooled file: %w", err)
		}
		return in.Accept(ctx, item)
	}
	final := filepath.Join(dir, RequestHash([]byte(item.Source+"\x00"+item.Partner+"\x00"+item.IdempotencyKey)))
	if err := tmp.Close(); err != nil {
		return Result{}, err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Result{}, fmt.Errorf("spooling the file: %w", err)
	}
	done = true
	if d, err := os.Open(dir); err == nil { // make the rename durable before the commit
		_ = d.Sync()
		d.Close()
	}
	md := make(map[string]string, len(item.Metadata)+1)
	for k, v := range item.Metadata {
		md[k] = v
	}
	md[router.MetaPayloadFile] = final
	item.Metadata, item.Payload = md, []byte{}
	return in.Accept(ctx, item)
}
