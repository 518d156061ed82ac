package as2

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	edias2 "github.com/paklog/integration-hub/edi/as2"

	"github.com/paklog/integration-hub/internal/as2test"
)

// Interop with the openssl command as the independent peer: it decrypts and
// verifies what Send puts on the wire. Without openssl the test skips, unless
// PAKLOG_REQUIRE_SERVICES=1 makes it fail. The helpers are internal/as2test's,
// shared with edi/as2.

func TestInteropOpenSSL(t *testing.T) {
	as2test.RequireOpenSSL(t)
	ps := testParties(t)
	dir := t.TempDir()
	as2test.WriteKeyPair(t, dir, "us", ps.us.Cert, ps.us.Key)
	as2test.WriteKeyPair(t, dir, "them", ps.them.Cert, ps.them.Key)
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
			signedEML := as2test.EML(sent.Header, sent.Body)
			if tc.encrypt {
				if ct := sent.Header.Get("Content-Type"); !strings.Contains(ct, "smime-type=enveloped-data") {
					t.Fatalf("Content-Type = %q", ct)
				}
				as2test.WriteFile(t, dir, "body.der", sent.Body)
				// Only the algorithm lines: the hex dump of the ciphertext in the
				// printout spells "GCM" or "OAEP" by chance now and then.
				printed := as2test.OpenSSL(t, dir, nil, "cms", "-cmsout", "-print", "-inform", "DER", "-in", "body.der")
				algs := strings.Join(as2test.CMSAlgorithms(printed), "\n")
				lower := strings.ToLower(algs)
				if strings.Contains(lower, "gcm") || strings.Contains(lower, "oaep") ||
					!strings.Contains(algs, "rsaEncryption") || !strings.Contains(algs, opensslCipher[tc.cipher]) {
					t.Fatalf("envelope algorithms, want %s with rsaEncryption:\n%s\n%s", opensslCipher[tc.cipher], algs, printed)
				}
				signedEML = as2test.OpenSSL(t, dir, nil, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", "body.der", "-recip", "them.crt", "-inkey", "them.key")
			}
			if !bytes.Contains(signedEML, []byte("micalg="+tc.digest.String())) {
				t.Fatalf("signed entity lacks micalg=%s:\n%.300s", tc.digest, signedEML)
			}
			as2test.WriteFile(t, dir, "signed.eml", signedEML)
			// Text mode, as in edi/as2's interop test: OpenSSL 3.0 in binary mode
			// keeps the CR before a boundary, which RFC 2046 gives to the
			// delimiter; our signed part is CRLF already, so text mode is exact.
			as2test.OpenSSL(t, dir, nil, "cms", "-verify", "-CAfile", "us.crt", "-in", "signed.eml", "-out", "content.bin")
			content := as2test.ReadFile(t, dir, "content.bin")
			if !bytes.Equal(content, wantEntity) {
				t.Fatalf("openssl verified content\n%q\nwant\n%q", content, wantEntity)
			}
			alg := strings.ReplaceAll(tc.digest.String(), "-", "")
			sum := base64.StdEncoding.EncodeToString(as2test.OpenSSL(t, dir, nil, "dgst", "-"+alg, "-binary", "content.bin"))
			if want := sum + ", " + tc.digest.String(); res.MIC.String() != want {
				t.Fatalf("our MIC %q, openssl dgst %q", res.MIC, want)
			}
		})
	}
}
