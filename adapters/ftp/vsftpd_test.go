package ftp

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

// This file runs a real vsftpd for the tests; see startVsftpd.

type vsftpd struct {
	port    int
	root    string // anon_root: the FTP "/"
	certPEM []byte // FTPS only
	certFP  string // hex SHA-256 of the certificate, FTPS only
}

// startVsftpd starts `vsftpd CONF` in the foreground on a free loopback port, with
// anonymous login allowed to read, upload, rename and delete under a temp root (as
// root: vsftpd chroots and drops to the "ftp" user), and stops it in t.Cleanup. With
// ftps it requires AUTH TLS for login and data, using a fresh self-signed certificate.
func startVsftpd(t *testing.T, ftps bool) *vsftpd {
	t.Helper()
	bin, err := exec.LookPath("vsftpd")
	if err != nil {
		bin = "/usr/sbin/vsftpd"
		if _, err := os.Stat(bin); err != nil {
			filedroptest.SkipOrFail(t, "vsftpd not found (apt-get install vsftpd)")
		}
	}
	if os.Geteuid() != 0 {
		filedroptest.SkipOrFail(t, "vsftpd needs root to chroot anonymous users")
	}
	dir := t.TempDir()
	v := &vsftpd{port: filedroptest.FreePort(t), root: filepath.Join(dir, "root")}
	empty := filepath.Join(dir, "empty")
	for _, d := range []string{v.root, empty} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pasv := filedroptest.FreePort(t)
	if pasv > 65000 {
		pasv = 40000
	}
	logFile := filepath.Join(dir, "vsftpd.log")
	conf := fmt.Sprintf(`listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=%d
background=NO
anonymous_enable=YES
local_enable=NO
no_anon_password=YES
anon_root=%s
write_enable=YES
anon_upload_enable=YES
anon_mkdir_write_enable=YES
anon_other_write_enable=YES
anon_umask=022
ftp_username=ftp
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=%d
pasv_max_port=%d
connect_from_port_20=NO
secure_chroot_dir=%s
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
use_localtime=NO
syslog_enable=NO
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=%s
`, v.port, v.root, pasv, pasv+40, empty, logFile)
	if ftps {
		certPEM, keyPEM := selfSignedCert(t)
		block, _ := pem.Decode(certPEM)
		sum := sha256.Sum256(block.Bytes)
		v.certPEM, v.certFP = certPEM, hex.EncodeToString(sum[:])
		certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.PEM")
		if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		conf += fmt.Sprintf(`ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=YES
require_ssl_reuse=YES
rsa_cert_file=%s
rsa_private_key_file=%s
`, certFile, keyFile)
	}
	confFile := filepath.Join(dir, "vsftpd.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}

	var out filedroptest.SyncBuffer
	cmd := exec.Command(bin, confFile)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		filedroptest.SkipOrFail(t, "starting vsftpd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	logs := func() string {
		b, _ := os.ReadFile(logFile)
		return out.String() + string(b)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("vsftpd output and log:\n%s", logs())
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(v.port))
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			banner := make([]byte, 64)
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, _ := c.Read(banner)
			c.Close()
			if !bytes.HasPrefix(banner[:n], []byte("220")) {
				filedroptest.SkipOrFail(t, "vsftpd did not greet with 220: %q; %s", banner[:n], logs())
			}
			return v
		}
		select {
		case <-exited:
			filedroptest.SkipOrFail(t, "vsftpd exited at start: %s", logs())
		default:
		}
		if time.Now().After(deadline) {
			filedroptest.SkipOrFail(t, "vsftpd not listening on %s after 5s: %s", addr, logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// selfSignedCert returns a certificate for 127.0.0.1 and localhost that is its own CA.
func selfSignedCert(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "paklog test ftps"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// cutter wraps the connections a Dialer opens and, once armed, drops every one of
// them after limit bytes arrived on any (the middle of a download).
type cutter struct {
	limit atomic.Int64 // 0: never
	cuts  atomic.Int32

	mu    sync.Mutex
	conns []net.Conn
}

func (c *cutter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.conns = append(c.conns, conn)
	c.mu.Unlock()
	return &cutConn{Conn: conn, c: c}, nil
}

func (c *cutter) cutAll() {
	c.cuts.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

type cutConn struct {
	net.Conn
	c *cutter
	n int64
}

func (cc *cutConn) Read(b []byte) (int, error) {
	n, err := cc.Conn.Read(b)
	cc.n += int64(n)
	if limit := cc.c.limit.Load(); limit > 0 && cc.n > limit {
		cc.c.cutAll()
		return 0, errors.New("test cut the connection")
	}
	return n, err
}

// env is one partner drop on a real vsftpd: /inbox and /archive under its root, a sink.
type env struct {
	ftpd    *vsftpd
	inbox   string // local paths
	archive string
	sink    *filedroptest.DirSink
}

func newEnv(t *testing.T, ftps bool) *env {
	t.Helper()
	v := startVsftpd(t, ftps)
	e := &env{ftpd: v, inbox: filepath.Join(v.root, "inbox"), archive: filepath.Join(v.root, "archive"), sink: filedroptest.NewDirSink(t)}
	for _, d := range []string{e.inbox, e.archive} {
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o777); err != nil { // umask
			t.Fatal(err)
		}
	}
	return e
}

// config is a Stable/Archive config settling on the next poll; FTPS trusts the test
// certificate as a CA.
func (e *env) config() Config {
	c := Config{
		Host:     "127.0.0.1",
		Port:     e.ftpd.port,
		User:     "anonymous",
		Security: Plain,
		Config: filedrop.Config{
			Partner:    "acme",
			Dir:        "/inbox",
			Glob:       "*.edi",
			Settle:     time.Nanosecond,
			ArchiveDir: "/archive",
			Interval:   50 * time.Millisecond,
		},
		DialTimeout: 5 * time.Second,
	}
	if e.ftpd.certPEM != nil {
		c.Security, c.CACert = ExplicitTLS, e.ftpd.certPEM
	}
	return c
}

func (e *env) poller(t *testing.T, cfg Config) *filedrop.Poller {
	t.Helper()
	p, err := New(cfg, e.sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// drop writes a file into the inbox as the partner would; the result is its FTP path.
func (e *env) drop(t *testing.T, name string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(e.inbox, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return "/inbox/" + name
}

func (e *env) local(ftpPath string) string {
	return filepath.Join(e.ftpd.root, filepath.FromSlash(ftpPath))
}
