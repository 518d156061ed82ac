// Package as2test holds what the AS2 tests of edi/as2, connectors/as2 and the hub
// share: the openssl command as the independent S/MIME peer, the files it reads,
// and RSA test keys with self-signed certificates. It imports only the standard
// library and testing, so that edi/as2's own tests can use it.
//
// Tests that need openssl call RequireOpenSSL first: without it they skip, unless
// PAKLOG_REQUIRE_SERVICES=1 (CI) makes them fail.
package as2test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireOpenSSL skips t when the openssl command is missing, or fails it when
// PAKLOG_REQUIRE_SERVICES=1.
func RequireOpenSSL(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("PAKLOG_REQUIRE_SERVICES") == "1" {
			t.Fatalf("openssl not found and PAKLOG_REQUIRE_SERVICES=1: %v", err)
		}
		t.Skipf("openssl not found: %v", err)
	}
}

// OpenSSL runs openssl with args in dir, stdin on its standard input (nil for
// none), and returns its standard output; it fails t with openssl's standard error
// when the command fails.
func OpenSSL(t testing.TB, dir string, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// Digest is openssl dgst's digest of file in dir, base64 as in a
// Received-Content-MIC; alg is openssl's name (sha256) or the AS2 one (sha-256).
func Digest(t testing.TB, dir, file, alg string) string {
	t.Helper()
	sum := OpenSSL(t, dir, nil, "dgst", "-"+strings.ReplaceAll(alg, "-", ""), "-binary", file)
	return base64.StdEncoding.EncodeToString(sum)
}

// WriteFile writes b to dir/name and returns name.
func WriteFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// ReadFile reads dir/name.
func ReadFile(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// WriteKeyPair writes name.crt (PEM certificate) and name.key (PEM PKCS#8 key)
// into dir.
func WriteKeyPair(t testing.TB, dir, name string, cert *x509.Certificate, key crypto.PrivateKey) {
	t.Helper()
	WriteFile(t, dir, name+".crt", CertPEM(cert))
	WriteFile(t, dir, name+".key", KeyPEM(t, key))
}

// CertPEM is cert as a PEM CERTIFICATE block.
func CertPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// KeyPEM is key as a PEM PKCS#8 PRIVATE KEY block.
func KeyPEM(t testing.TB, key crypto.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// EML joins the MIME header fields of an HTTP header (MIME-Version, Content-Type,
// Content-Transfer-Encoding, Content-Disposition) and a body into a MIME file that
// openssl cms reads, and that an AS2 sender would have turned into HTTP.
func EML(h http.Header, body []byte) []byte {
	var b bytes.Buffer
	for _, k := range []string{"MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition"} {
		if v := h.Get(k); v != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// Test keys: RSA-2048 generation is the slowest thing AS2 tests do, so the keys
// are generated once per test binary and shared by index.
var (
	keysMu sync.Mutex
	keys   []*rsa.PrivateKey
)

// RSAKey is test key i (0, 1, …): the same key for the same i within a test
// binary.
func RSAKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	for len(keys) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys[i]
}

// SelfSigned makes a self-signed certificate for key: subject CN cn, O "PakLog
// test", the serial given, valid from notBefore to notAfter, for signatures and
// key encipherment, and a CA, so that openssl -CAfile takes it as a trust anchor.
func SelfSigned(t testing.TB, cn string, key *rsa.PrivateKey, serial int64, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ski := sha1.Sum(pub)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"PakLog test"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          ski[:],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CMSAlgorithms is the algorithms named in `openssl cms -cmsout -print` output:
// the value of each "algorithm:" line, e.g. "rsaEncryption (1.2.840.113549.1.1.1)"
// and "aes-128-cbc (2.16.840.1.101.3.4.1.2)". Check these rather than the whole
// printout: the printout also dumps the encrypted key and content in hex with an
// ASCII column, where random bytes spell "GCM" or "OAEP" now and then.
func CMSAlgorithms(printed []byte) []string {
	var out []string
	for _, line := range strings.Split(string(printed), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "algorithm: "); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// FlipSignatureBit flips one bit near the end of the DER in the
// application/pkcs7-signature part of a multipart/signed body (a message or an MDN),
// inside the signer's signature value, and writes the part back in 76-column base64.
func FlipSignatureBit(t *testing.T, body []byte) []byte {
	t.Helper()
	i := bytes.Index(body, []byte("application/pkcs7-signature"))
	if i < 0 {
		t.Fatalf("no signature part:\n%s", body)
	}
	start := i + bytes.Index(body[i:], []byte("\r\n\r\n")) + 4
	end := start + bytes.Index(body[start:], []byte("\r\n--"))
	der, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(body[start:end])))
	if err != nil {
		t.Fatal(err)
	}
	der[len(der)-10] ^= 0x01
	b64 := base64.StdEncoding.EncodeToString(der)
	var sb strings.Builder
	for len(b64) > 76 {
		sb.WriteString(b64[:76] + "\r\n")
		b64 = b64[76:]
	}
	sb.WriteString(b64)
	out := append([]byte(nil), body[:start]...)
	out = append(out, sb.String()...)
	return append(out, body[end:]...)
}
