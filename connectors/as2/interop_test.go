package as2

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	edias2 "github.com/paklog/integration-hub/edi/as2"
)

// Interop with the openssl command as the independent peer: it decrypts and
// verifies what Send puts on the wire. Without openssl the test skips, unless
// PAKLOG_REQUIRE_SERVICES=1 makes it fail. (edi/as2 has the same helpers, but in
// its _test files, so they are repeated here.)

func requireOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("PAKLOG_REQUIRE_SERVICES") == "1" {
			t.Fatalf("openssl not found and PAKLOG_REQUIRE_SERVICES=1: %v", err)
		}
		t.Skipf("openssl not found: %v", err)
	}
}

func openssl(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

func writeFile(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeKeyPair writes name.crt and name.key (PEM) into dir.
func writeKeyPair(t *testing.T, dir, name string, kp edias2.KeyPair) {
	t.Helper()
	writeFile(t, dir, name+".crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: kp.Cert.Raw}))
	der, err := x509.MarshalPKCS8PrivateKey(kp.Key.(*rsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, name+".key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// toEML joins HTTP content headers and a body into a MIME file for openssl.
func toEML(h map[string][]string, body []byte) []byte {
	var b bytes.Buffer
	for _, k := range []string{"MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition"} {
		if v := h[k]; len(v) > 0 {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v[0])
		}
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

func TestInteropOpenSSL(t *testing.T) {
	requireOpenSSL(t)
	ps := testParties(t)
	dir := t.TempDir()
	writeKeyPair(t, dir, "us", ps.us)
	writeKeyPair(t, dir, "them", ps.them)
	wantEntity := append([]byte("Content-Type: application/edi-x12\r\nContent-Transfer-Encoding: binary\r\nContent-Disposition: attachment; filename=856.x12\r\n\r\n"), x12...)
	opensslCipher := map[edias2.Cipher]string{edias2.AES128CBC: "aes-128-cbc", edias2.AES192CBC: "aes-192-cbc", edias2.AES256CBC: "aes-256-cbc"}

	type tc struct {
		digest  edias2.Digest
		cipher  edias2.Cipher // 0: not encrypted
		encrypt bool
	}
	var cases []tc
	for _, d := range []edias2.Digest{edias2.SHA1, edias2.SHA256, edias2.SHA384, edias2.SHA512} {
		cases = append(cases, tc{digest: d})
		for _, c := range []edias2.Cipher{edias2.AES128CBC, edias2.AES192CBC, edias2.AES256CBC} {
			cases = append(cases, tc{d, c, true})
		}
	}
	c := newCapture(t, 200, nil, nil)
	s := newSender(t, Config{})
	for _, tc := range cases {
		name := tc.digest.String()
		if tc.encrypt {
			name += "+" + tc.cipher.String()
		}
		t.Run(name, func(t *testing.T) {
			p := (&peer{srv: c.srv}).profile(t)
			p.MDN, p.SignedMDN, p.Digest, p.Cipher, p.Unencrypted = edias2.MDNNone, false, tc.digest, tc.cipher, !tc.encrypt
			res, err := s.Send(context.Background(), p, Message{Payload: x12, ContentType: "application/edi-x12", FileName: "856.x12"})
			if err != nil {
				t.Fatal(err)
			}
			reqs := c.requests()
			sent := reqs[len(reqs)-1]
			signedEML := toEML(sent.Header, sent.Body)
			if tc.encrypt {
				if ct := sent.Header.Get("Content-Type"); !strings.Contains(ct, "smime-type=enveloped-data") {
					t.Fatalf("Content-Type = %q", ct)
				}
				writeFile(t, dir, "body.der", sent.Body)
				printed := string(openssl(t, dir, "cms", "-cmsout", "-print", "-inform", "DER", "-in", "body.der"))
				if strings.Contains(printed, "GCM") || strings.Contains(printed, "OAEP") ||
					!strings.Contains(printed, "rsaEncryption") || !strings.Contains(printed, opensslCipher[tc.cipher]) {
					t.Fatalf("envelope algorithms, want %s with rsaEncryption:\n%s", opensslCipher[tc.cipher], printed)
				}
				signedEML = openssl(t, dir, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", "body.der", "-recip", "them.crt", "-inkey", "them.key")
			}
			if !bytes.Contains(signedEML, []byte("micalg="+tc.digest.String())) {
				t.Fatalf("signed entity lacks micalg=%s:\n%.300s", tc.digest, signedEML)
			}
			writeFile(t, dir, "signed.eml", signedEML)
			// Text mode, as in edi/as2's interop test: OpenSSL 3.0 in binary mode
			// keeps the CR before a boundary, which RFC 2046 gives to the
			// delimiter; our signed part is CRLF already, so text mode is exact.
			openssl(t, dir, "cms", "-verify", "-CAfile", "us.crt", "-in", "signed.eml", "-out", "content.bin")
			content := readFile(t, dir, "content.bin")
			if !bytes.Equal(content, wantEntity) {
				t.Fatalf("openssl verified content\n%q\nwant\n%q", content, wantEntity)
			}
			alg := strings.ReplaceAll(tc.digest.String(), "-", "")
			sum := base64.StdEncoding.EncodeToString(openssl(t, dir, "dgst", "-"+alg, "-binary", "content.bin"))
			if want := sum + ", " + tc.digest.String(); res.MIC.String() != want {
				t.Fatalf("our MIC %q, openssl dgst %q", res.MIC, want)
			}
		})
	}
}
