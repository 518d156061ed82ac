package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	pkgsftp "github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

// New validates cfg (after defaults) and returns a poller that takes the partner's
// files from its SFTP server into sink. A nil logger discards logs.
func New(cfg Config, sink filedrop.Sink, logger *slog.Logger) (*filedrop.Poller, error) {
	d, err := NewDialer(cfg)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return filedrop.New(d.cfg.Config, d, sink, logger.With("adapter", "sftp"))
}

// Dialer opens SFTP sessions to one partner endpoint; it implements filedrop.Dialer.
type Dialer struct {
	cfg    Config
	pin    pin
	signer ssh.Signer
}

// NewDialer validates cfg (after defaults) and returns a Dialer for it.
func NewDialer(cfg Config) (*Dialer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Dialer{cfg: cfg}
	d.pin, _ = parsePin(cfg.HostKey) // validated above
	if len(cfg.PrivateKey) > 0 {
		d.signer, _ = parseSigner(cfg.PrivateKey, cfg.PrivateKeyPassphrase)
	}
	return d, nil
}

// Dial connects, verifies the pinned host key (a mismatch is a *HostKeyError, which
// matches filedrop.ErrPermanent), logs in and starts the SFTP subsystem. Other
// failures wrap filedrop.ErrConnection. Cancelling ctx closes the connection, also
// after Dial returned.
func (d *Dialer) Dial(ctx context.Context) (filedrop.FS, error) {
	cfg := d.cfg
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	var auth []ssh.AuthMethod
	if d.signer != nil {
		auth = append(auth, ssh.PublicKeys(d.signer))
	}
	if cfg.Password != "" {
		auth = append(auth, ssh.Password(cfg.Password))
	}
	sshCfg := &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              auth,
		HostKeyCallback:   d.pin.callback(cfg.Partner),
		HostKeyAlgorithms: d.pin.hostKeyAlgorithms(),
		Timeout:           cfg.DialTimeout,
	}
	nd := net.Dialer{Timeout: cfg.DialTimeout}
	conn, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: connecting to %s: %w", filedrop.ErrConnection, addr, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(cfg.DialTimeout))
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, sshCfg)
	if err != nil {
		stop()
		conn.Close()
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		return nil, fmt.Errorf("%w: ssh handshake with %s: %w", filedrop.ErrConnection, addr, err)
	}
	_ = conn.SetDeadline(time.Time{})
	sshClient := ssh.NewClient(sc, chans, reqs)
	client, err := pkgsftp.NewClient(sshClient)
	if err != nil {
		stop()
		sshClient.Close()
		return nil, fmt.Errorf("%w: starting sftp subsystem on %s: %w", filedrop.ErrConnection, addr, err)
	}
	return &FS{client: client, close: func() {
		stop()
		client.Close()
		sshClient.Close()
	}}, nil
}

// FS is one SFTP session; it implements filedrop.FS over github.com/pkg/sftp. The ctx
// arguments are not watched per call: the session is closed when the ctx given to
// [Dialer.Dial] is done.
type FS struct {
	client *pkgsftp.Client
	close  func()
}

func entry(fi os.FileInfo) filedrop.Entry {
	return filedrop.Entry{Name: fi.Name(), Size: fi.Size(), ModTime: fi.ModTime(), Regular: fi.Mode().IsRegular()}
}

// List reads a directory.
func (f *FS) List(ctx context.Context, dir string) ([]filedrop.Entry, error) {
	infos, err := f.client.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]filedrop.Entry, len(infos))
	for i, fi := range infos {
		out[i] = entry(fi)
	}
	return out, nil
}

// Stat describes one file, following a symlink.
func (f *FS) Stat(ctx context.Context, path string) (filedrop.Entry, error) {
	fi, err := f.client.Stat(path)
	if err != nil {
		return filedrop.Entry{}, err
	}
	return entry(fi), nil
}

// Open starts reading a file.
func (f *FS) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	return f.client.Open(path)
}

// Rename uses posix-rename@openssh.com where the server has it, so an existing target
// is replaced; plain SFTP rename otherwise.
func (f *FS) Rename(ctx context.Context, from, to string) error {
	if _, ok := f.client.HasExtension("posix-rename@openssh.com"); ok {
		return f.client.PosixRename(from, to)
	}
	return f.client.Rename(from, to)
}

// Put writes r to path, creating or truncating it, and returns the bytes written.
// The file is closed (and the server's status for the close read) before Put returns.
func (f *FS) Put(ctx context.Context, path string, r io.Reader) (int64, error) {
	w, err := f.client.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return 0, err
	}
	n, err := w.ReadFrom(r)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// Remove deletes a file.
func (f *FS) Remove(ctx context.Context, path string) error { return f.client.Remove(path) }

// Ping resolves the login directory.
func (f *FS) Ping(ctx context.Context) error {
	_, err := f.client.Getwd()
	return err
}

// Close ends the session.
func (f *FS) Close() error {
	f.close()
	return nil
}
