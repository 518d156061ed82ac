package sftpinbox

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

// ErrServerClosed is returned by [Server.Serve] and [Server.Listen] after [Server.Close].
var ErrServerClosed = errors.New("sftp inbox closed")

// Server is the hosted SFTP inbox. Create it with [New], start it with [Server.Serve].
type Server struct {
	cfg     Config
	sink    filedrop.Sink
	log     *slog.Logger
	ssh     *ssh.ServerConfig
	hostKey ssh.PublicKey

	partners map[string]*partner
	keys     []authorizedKey

	// base is the parent of every Store's context: never cancelled by a client leaving
	// or by shutdown (a commit in progress finishes), only values.
	base context.Context

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup // connection handlers
}

type authorizedKey struct {
	blob    []byte // ssh wire format
	partner *partner
}

// partner is one partner's tree on disk, opened as an [os.Root] so that no path, link
// or ".." can leave it.
type partner struct {
	name string
	dir  string
	root *os.Root
}

// Directories of a partner's tree; uploadsDir is not part of the virtual tree.
const (
	inboundDir  = "inbound"
	outboundDir = "outbound"
	archiveDir  = "archive"
	uploadsDir  = ".uploads"
)

// New validates cfg (after defaults), loads or creates the host key, creates every
// partner's directories under cfg.Root, removes uploads left unfinished by a previous
// run, and returns a Server that commits uploads to sink. A nil logger discards logs.
// It does not listen yet.
func New(cfg Config, sink filedrop.Sink, logger *slog.Logger) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, errors.New("sftp inbox: sink is nil")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	hostPEM := cfg.HostKey
	if len(hostPEM) == 0 {
		var err error
		if hostPEM, err = LoadOrCreateHostKey(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	signer, err := ssh.ParsePrivateKey(hostPEM)
	if err != nil {
		return nil, fmt.Errorf("parsing host key: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		sink:     sink,
		log:      logger,
		partners: map[string]*partner{},
		base:     context.WithoutCancel(context.Background()),
		conns:    map[net.Conn]struct{}{},
		hostKey:  signer.PublicKey(),
	}
	for _, pc := range cfg.Partners {
		p, err := openPartner(cfg.Root, pc.Name)
		if err != nil {
			s.closeRoots()
			return nil, err
		}
		s.partners[p.name] = p
		for _, line := range pc.AuthorizedKeys {
			key, _ := parseAuthorizedKey(line) // validated above
			s.keys = append(s.keys, authorizedKey{blob: key.Marshal(), partner: p})
		}
	}
	s.ssh = &ssh.ServerConfig{
		PublicKeyCallback: s.authenticate,
		ServerVersion:     "SSH-2.0-PakLogInbox",
		MaxAuthTries:      6,
	}
	s.ssh.AddHostKey(signer)
	return s, nil
}

func openPartner(rootDir, name string) (*partner, error) {
	dir := filepath.Join(rootDir, name)
	for _, d := range []string{inboundDir, outboundDir, archiveDir, uploadsDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			return nil, fmt.Errorf("creating directories of partner %q: %w", name, err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening directory of partner %q: %w", name, err)
	}
	// An upload still here was never closed by its client (connection lost, hub
	// killed): the client saw it fail, and nothing was stored.
	if err := root.RemoveAll(uploadsDir); err == nil {
		err = root.Mkdir(uploadsDir, 0o700)
	}
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("clearing unfinished uploads of partner %q: %w", name, err)
	}
	return &partner{name: name, dir: dir, root: root}, nil
}

// HostKey returns the server's public host key, for partners to pin (for example as a
// known_hosts line: "[host]:port " + string(ssh.MarshalAuthorizedKey(key))).
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey }

// authenticate finds the partner by its key. Every configured key is compared, in
// constant time, so the time taken does not tell which partner a key is close to.
func (s *Server) authenticate(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	blob := key.Marshal()
	var found *partner
	for _, k := range s.keys {
		if subtle.ConstantTimeCompare(k.blob, blob) == 1 {
			found = k.partner
		}
	}
	if found == nil {
		s.log.Warn("sftp inbox login refused: unknown public key",
			"remote", meta.RemoteAddr().String(), "user", meta.User(),
			"key_type", key.Type(), "fingerprint", ssh.FingerprintSHA256(key))
		return nil, errors.New("unknown public key")
	}
	return &ssh.Permissions{Extensions: map[string]string{
		"partner":     found.name,
		"fingerprint": ssh.FingerprintSHA256(key),
	}}, nil
}

// Listen binds Config.Addr, if not yet done, and returns the address bound (useful
// with port 0). [Server.Serve] calls it.
func (s *Server) Listen() (net.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrServerClosed
	}
	if s.ln == nil {
		ln, err := net.Listen("tcp", s.cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("listening for sftp: %w", err)
		}
		s.ln = ln
	}
	return s.ln.Addr(), nil
}

// Addr is the address the inbox listens on ("" before Listen).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Serve accepts connections until ctx is done or [Server.Close] is called, then shuts
// down as Close does and returns nil. It returns an error if it cannot listen or
// accepting fails. Cancelling ctx is a graceful shutdown: an upload being committed
// finishes committing (its client may not hear of it); transfers in flight are
// aborted and their uploads discarded.
func (s *Server) Serve(ctx context.Context) error {
	if _, err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	s.log.Info("sftp inbox listening", "addr", ln.Addr().String(), "partners", len(s.partners))

	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				s.wg.Wait()
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			s.Close()
			return fmt.Errorf("accepting sftp connections: %w", err)
		}
		if !s.track(c) {
			c.Close()
			continue
		}
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.handle(c)
		}()
	}
}

// Close stops listening, closes every connection (aborting transfers in flight),
// waits for uploads being committed to finish, and releases the partners'
// directories. It is safe to call more than once; Put fails after it.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.closeRoots()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (s *Server) closeRoots() {
	for _, p := range s.partners {
		p.root.Close()
	}
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1) // under mu, so never after Close's Wait began
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	c.Close()
}

// handle runs one SSH connection: handshake, then SFTP on each session channel.
func (s *Server) handle(nc net.Conn) {
	remote := nc.RemoteAddr().String()
	ic := &idleConn{Conn: nc}
	ic.touch()
	if s.cfg.LoginTimeout > 0 {
		nc.SetDeadline(time.Now().Add(s.cfg.LoginTimeout))
	}
	conn, chans, reqs, err := ssh.NewServerConn(ic, s.ssh)
	if err != nil {
		s.log.Debug("sftp inbox handshake failed", "remote", remote, "err", err)
		return
	}
	defer conn.Close()
	nc.SetDeadline(time.Time{})
	p := s.partners[conn.Permissions.Extensions["partner"]]
	log := s.log.With("partner", p.name, "remote", remote)
	log.Info("sftp inbox login", "user", conn.User(), "fingerprint", conn.Permissions.Extensions["fingerprint"])
	if s.cfg.IdleTimeout > 0 {
		done := make(chan struct{})
		defer close(done)
		go ic.watch(s.cfg.IdleTimeout, done, func() {
			log.Info("sftp inbox connection idle; closing", "idle_timeout", s.cfg.IdleTimeout)
			nc.Close()
		})
	}
	go ssh.DiscardRequests(reqs)

	var wg sync.WaitGroup
	defer wg.Wait()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only sftp sessions are served")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			log.Warn("accepting ssh channel", "err", err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ch.Close()
			if !waitForSFTP(chReqs) {
				return
			}
			sess := &session{srv: s, p: p, log: log, busy: &ic.busy, touch: ic.touch}
			rs := sftp.NewRequestServer(ch, sess.handlers(), sftp.WithStartDirectory("/"+inboundDir))
			if err := rs.Serve(); err != nil && !errors.Is(err, io.EOF) {
				log.Debug("sftp session ended", "err", err)
			}
			rs.Close()
		}()
	}
}

// waitForSFTP answers the session's requests until the client asks for the sftp
// subsystem (true) or the channel closes (false). Shells, commands, ptys and
// environment variables are refused.
func waitForSFTP(reqs <-chan *ssh.Request) bool {
	for req := range reqs {
		ok := req.Type == "subsystem" && len(req.Payload) >= 4 && string(req.Payload[4:]) == "sftp"
		if req.WantReply {
			req.Reply(ok, nil)
		}
		if ok {
			go ssh.DiscardRequests(reqs)
			return true
		}
	}
	return false
}

// idleConn records when the client last sent or was sent anything. busy counts
// uploads being committed, during which the connection is not idle.
type idleConn struct {
	net.Conn
	last atomic.Int64 // unix nanoseconds
	busy atomic.Int32
}

func (c *idleConn) touch() { c.last.Store(time.Now().UnixNano()) }

func (c *idleConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.touch()
	}
	return n, err
}

func (c *idleConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.touch()
	}
	return n, err
}

func (c *idleConn) watch(idle time.Duration, done <-chan struct{}, expire func()) {
	t := time.NewTicker(max(idle/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if c.busy.Load() > 0 {
				c.touch()
				continue
			}
			if time.Since(time.Unix(0, c.last.Load())) > idle {
				expire()
				return
			}
		}
	}
}
