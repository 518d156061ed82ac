package ftp

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path"
	"strconv"
	"sync"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

// ErrCertificateMismatch is matched (errors.Is) by every *CertificateError.
var ErrCertificateMismatch = errors.New("ftps server certificate not trusted")

// CertificateError refuses an FTPS server whose certificate does not match the pinned
// fingerprint or does not verify against CACert. It is permanent: the poller stops
// instead of retrying.
type CertificateError struct {
	Partner  string
	Addr     string // host:port dialled
	Seen     string // SHA-256 of the certificate the server offered, hex
	Expected string // pinned fingerprint, or "a certificate signed by CACert for NAME"
	Err      error  // the verification error, if any
}

func (e *CertificateError) Error() string {
	msg := fmt.Sprintf("ftp partner %q at %s: certificate %s offered by the server does not match %s; refusing to connect",
		e.Partner, e.Addr, e.Seen, e.Expected)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports ErrCertificateMismatch and filedrop.ErrPermanent.
func (e *CertificateError) Is(target error) bool {
	return target == ErrCertificateMismatch || target == filedrop.ErrPermanent
}

func (e *CertificateError) Unwrap() error { return e.Err }

// New validates cfg (after defaults) and returns a poller that takes the partner's
// files from its FTP server into sink. A nil logger discards logs.
func New(cfg Config, sink filedrop.Sink, logger *slog.Logger) (*filedrop.Poller, error) {
	d, err := NewDialer(cfg)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return filedrop.New(d.cfg.Config, d, sink, logger.With("adapter", "ftp"))
}

// Dialer opens FTP sessions (passive mode) to one partner endpoint; it implements
// filedrop.Dialer.
type Dialer struct {
	cfg  Config
	tls  *tls.Config // nil for Plain
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// NewDialer validates cfg (after defaults) and returns a Dialer for it.
func NewDialer(cfg Config) (*Dialer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	nd := &net.Dialer{Timeout: cfg.DialTimeout}
	d := &Dialer{cfg: cfg, dial: nd.DialContext}
	if cfg.Security == ExplicitTLS {
		d.tls = &tls.Config{ServerName: cfg.ServerName, MinVersion: tls.VersionTLS12}
		switch {
		case cfg.CertFingerprint != "":
			want, _ := parseFingerprint(cfg.CertFingerprint) // validated above
			// The chain is not verified: the pinned fingerprint replaces it.
			d.tls.InsecureSkipVerify = true
			d.tls.VerifyConnection = func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return errors.New("server sent no certificate")
				}
				if seen := sha256.Sum256(cs.PeerCertificates[0].Raw); seen != want {
					return &CertificateError{Partner: cfg.Partner, Addr: d.addr(),
						Seen: hex.EncodeToString(seen[:]), Expected: "pinned " + hex.EncodeToString(want[:])}
				}
				return nil
			}
		case len(cfg.CACert) > 0:
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(cfg.CACert)
			d.tls.RootCAs = pool
		}
	}
	return d, nil
}

func (d *Dialer) addr() string { return net.JoinHostPort(d.cfg.Host, strconv.Itoa(d.cfg.Port)) }

// Dial connects, upgrades to TLS with AUTH TLS under ExplicitTLS (a certificate that
// does not verify is a *CertificateError, which matches filedrop.ErrPermanent), and
// logs in. Other failures wrap filedrop.ErrConnection. Cancelling ctx closes the
// control and data connections, also after Dial returned.
func (d *Dialer) Dial(ctx context.Context) (filedrop.FS, error) {
	s := &FS{timeout: d.cfg.DialTimeout}
	var tlsCfg *tls.Config
	if d.tls != nil {
		tlsCfg = d.tls.Clone()
		// Data connections resume the control connection's TLS session, which vsftpd
		// requires by default (require_ssl_reuse).
		tlsCfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	}
	dialFunc := func(network, addr string) (net.Conn, error) {
		c, err := d.dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c = s.track(c)
		if s.conns() > 1 && tlsCfg != nil {
			// jlaffaye/ftp leaves TLS on data connections to a custom dial func.
			c = &dataTLSConn{Conn: tls.Client(c, tlsCfg), raw: c}
		}
		return c, nil
	}
	opts := []ftp.DialOption{
		ftp.DialWithDialFunc(dialFunc),
		ftp.DialWithShutTimeout(d.cfg.DialTimeout),
	}
	if tlsCfg != nil {
		opts = append(opts, ftp.DialWithExplicitTLS(tlsCfg))
	}
	s.stop = context.AfterFunc(ctx, s.closeConns)
	c, err := ftp.Dial(d.addr(), opts...)
	if err == nil {
		s.c = c
		err = c.Login(d.cfg.User, d.cfg.Password)
	}
	if err != nil {
		s.Close()
		return nil, d.dialErr(ctx, err)
	}
	return s, nil
}

func (d *Dialer) dialErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: connecting to %s: %w", filedrop.ErrConnection, d.addr(), context.Cause(ctx))
	}
	var ce *CertificateError
	if errors.As(err, &ce) {
		return ce
	}
	var ve *tls.CertificateVerificationError
	if errors.As(err, &ve) {
		ce := &CertificateError{Partner: d.cfg.Partner, Addr: d.addr(), Expected: "a certificate for " + d.cfg.ServerName + " signed by CACert", Err: ve.Err}
		if len(d.cfg.CACert) == 0 {
			ce.Expected = "a certificate for " + d.cfg.ServerName + " signed by a system root"
		}
		if len(ve.UnverifiedCertificates) > 0 {
			sum := sha256.Sum256(ve.UnverifiedCertificates[0].Raw)
			ce.Seen = hex.EncodeToString(sum[:])
		}
		return ce
	}
	return fmt.Errorf("%w: logging in to ftp server %s: %w", filedrop.ErrConnection, d.addr(), err)
}

// FS is one FTP session (a control connection plus one passive data connection per
// transfer); it implements filedrop.FS over github.com/jlaffaye/ftp. The ctx arguments
// are not watched per call: the session is closed when the ctx given to [Dialer.Dial]
// is done, and every read or write is bounded by Config.DialTimeout.
type FS struct {
	c       *ftp.ServerConn
	timeout time.Duration
	stop    func() bool

	mu     sync.Mutex
	all    []net.Conn
	closed bool
}

func (s *FS) track(c net.Conn) net.Conn {
	tc := &timeoutConn{Conn: c, timeout: s.timeout}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
	}
	s.all = append(s.all, tc)
	return tc
}

func (s *FS) conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.all)
}

func (s *FS) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.all {
		c.Close()
	}
}

// List reads a directory. When the server's LIST carries minutes only (no MLSD), each
// file's mtime is asked with MDTM, so the Stable rule and the dedupe key get seconds.
func (s *FS) List(ctx context.Context, dir string) ([]filedrop.Entry, error) {
	list, err := s.c.List(dir)
	if err != nil {
		return nil, err
	}
	precise := s.c.IsTimePreciseInList()
	out := make([]filedrop.Entry, 0, len(list))
	for _, e := range list {
		if e.Name == "." || e.Name == ".." {
			continue
		}
		fe := filedrop.Entry{Name: e.Name, Size: int64(e.Size), ModTime: e.Time, Regular: e.Type == ftp.EntryTypeFile}
		if fe.Regular && !precise && s.c.IsGetTimeSupported() {
			t, err := s.c.GetTime(path.Join(dir, e.Name))
			if err != nil {
				return nil, fmt.Errorf("MDTM %s: %w", e.Name, err)
			}
			fe.ModTime = t
		}
		out = append(out, fe)
	}
	return out, nil
}

// Stat describes one file with MLST, or SIZE and MDTM.
func (s *FS) Stat(ctx context.Context, p string) (filedrop.Entry, error) {
	if e, err := s.c.GetEntry(p); err == nil {
		return filedrop.Entry{Name: path.Base(p), Size: int64(e.Size), ModTime: e.Time, Regular: e.Type == ftp.EntryTypeFile}, nil
	}
	size, err := s.c.FileSize(p)
	if err != nil {
		return filedrop.Entry{}, err
	}
	fe := filedrop.Entry{Name: path.Base(p), Size: size, Regular: true}
	if s.c.IsGetTimeSupported() {
		if fe.ModTime, err = s.c.GetTime(p); err != nil {
			return filedrop.Entry{}, err
		}
		return fe, nil
	}
	list, err := s.List(ctx, path.Dir(p))
	if err != nil {
		return filedrop.Entry{}, err
	}
	for _, e := range list {
		if e.Name == fe.Name {
			return e, nil
		}
	}
	return filedrop.Entry{}, fmt.Errorf("stat %s: not listed in its directory", p)
}

// Open starts a RETR; Close reads the server's verdict on the transfer.
func (s *FS) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	return s.c.Retr(p)
}

// Rename sends RNFR/RNTO.
func (s *FS) Rename(ctx context.Context, from, to string) error { return s.c.Rename(from, to) }

// Put stores r as p with STOR and returns the bytes sent once the server confirmed
// the transfer.
func (s *FS) Put(ctx context.Context, p string, r io.Reader) (int64, error) {
	cr := &countReader{r: r}
	err := s.c.Stor(p, cr)
	return cr.n, err
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// Remove sends DELE.
func (s *FS) Remove(ctx context.Context, p string) error { return s.c.Delete(p) }

// Ping sends NOOP.
func (s *FS) Ping(ctx context.Context) error { return s.c.NoOp() }

// Close sends QUIT and closes every connection of the session.
func (s *FS) Close() error {
	if s.stop != nil {
		s.stop()
	}
	var err error
	if s.c != nil {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			err = s.c.Quit()
		}
	}
	s.closeConns()
	return err
}

// timeoutConn bounds every read and write, so a stuck server cannot hang a poll.
type timeoutConn struct {
	net.Conn
	timeout time.Duration
}

func (c *timeoutConn) Read(b []byte) (int, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	return c.Conn.Read(b)
}

func (c *timeoutConn) Write(b []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(b)
}

// dataTLSConn ends a TLS data connection gracefully. On TLS 1.3 the server sends
// session tickets after the handshake; an upload never reads them, and closing a
// socket with unread data makes the kernel send a reset instead of a FIN, which the
// server takes for a broken transfer (vsftpd: "426 Failure reading network stream").
// Close therefore sends close_notify, reads what the server still sends (briefly, a
// little), and then closes.
type dataTLSConn struct {
	*tls.Conn
	raw net.Conn // the connection under TLS, closed outright when draining takes too long
}

func (c *dataTLSConn) Close() error {
	if c.ConnectionState().HandshakeComplete {
		if err := c.CloseWrite(); err == nil {
			// The raw connection renews its own deadline on every read; a timer bounds
			// the drain instead.
			t := time.AfterFunc(2*time.Second, func() { c.raw.Close() })
			_, _ = io.Copy(io.Discard, io.LimitReader(c.Conn, 1<<20))
			t.Stop()
		}
	}
	return c.Conn.Close()
}
