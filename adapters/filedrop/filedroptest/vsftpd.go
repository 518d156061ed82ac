package filedroptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Vsftpd is a real vsftpd on loopback, anonymous login allowed.
type Vsftpd struct {
	Port    int
	Root    string // anon_root: the FTP "/"
	CertPEM []byte // FTPS only
	CertFP  string // hex SHA-256 of the certificate, FTPS only
}

// StartVsftpd starts `vsftpd CONF` in the foreground on a free loopback port, with
// anonymous login allowed to read, upload, rename and delete under a temp root (as
// root: vsftpd chroots and drops to the "ftp" user), and stops it in t.Cleanup. With
// ftps it requires AUTH TLS for login and data, using a fresh self-signed certificate.
func StartVsftpd(t testing.TB, ftps bool) *Vsftpd {
	t.Helper()
	bin, err := exec.LookPath("vsftpd")
	if err != nil {
		bin = "/usr/sbin/vsftpd"
		if _, err := os.Stat(bin); err != nil {
			SkipOrFail(t, "vsftpd not found (apt-get install vsftpd)")
		}
	}
	if os.Geteuid() != 0 {
		SkipOrFail(t, "vsftpd needs root to chroot anonymous users")
	}
	dir := t.TempDir()
	v := &Vsftpd{Port: FreePort(t), Root: filepath.Join(dir, "root")}
	empty := filepath.Join(dir, "empty")
	for _, d := range []string{v.Root, empty} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pasv := FreePort(t)
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
`, v.Port, v.Root, pasv, pasv+40, empty, logFile)
	if ftps {
		certPEM, keyPEM := SelfSignedCert(t)
		block, _ := pem.Decode(certPEM)
		sum := sha256.Sum256(block.Bytes)
		v.CertPEM, v.CertFP = certPEM, hex.EncodeToString(sum[:])
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

	var out SyncBuffer
	cmd := exec.Command(bin, confFile)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		SkipOrFail(t, "starting vsftpd: %v", err)
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
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(v.Port))
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			banner := make([]byte, 64)
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, _ := c.Read(banner)
			c.Close()
			if !bytes.HasPrefix(banner[:n], []byte("220")) {
				SkipOrFail(t, "vsftpd did not greet with 220: %q; %s", banner[:n], logs())
			}
			return v
		}
		select {
		case <-exited:
			SkipOrFail(t, "vsftpd exited at start: %s", logs())
		default:
		}
		if time.Now().After(deadline) {
			SkipOrFail(t, "vsftpd not listening on %s after 5s: %s", addr, logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SelfSignedCert returns a certificate for 127.0.0.1 and localhost that is its own CA.
func SelfSignedCert(t testing.TB) (certPEM, keyPEM []byte) {
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
