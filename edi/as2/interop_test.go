package as2

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/paklog/integration-hub/internal/as2test"
)

// Interop with the openssl command as the independent peer. Without
// openssl these tests skip, unless PAKLOG_REQUIRE_SERVICES=1 makes them fail.

// writeKeyPair writes name.crt and name.key (PEM) into dir.
func writeKeyPair(t *testing.T, dir, name string, kp KeyPair) {
	t.Helper()
	as2test.WriteKeyPair(t, dir, name, kp.Cert, kp.Key)
}

// splitSMIME splits openssl's S/MIME output into its header and body, the
// way an AS2 sender turns the outer MIME headers into HTTP headers.
func splitSMIME(t *testing.T, b []byte) (http.Header, []byte) {
	t.Helper()
	e, err := parseEntity(b, 1<<16)
	if err != nil {
		t.Fatalf("splitting openssl output: %v\n%s", err, b)
	}
	return http.Header(e.header), e.body
}

func as2Headers(h http.Header, id string) http.Header {
	h.Set("AS2-From", `"Acme Corp"`)
	h.Set("AS2-To", "PAKLOG")
	h.Set("Message-ID", id)
	return h
}

// interopWorld writes everyone's keys as PEM into a temp dir.
func interopWorld(t *testing.T) (*world, string) {
	as2test.RequireOpenSSL(t)
	w := newWorld(t)
	dir := t.TempDir()
	writeKeyPair(t, dir, "us", w.us.Keys[0])
	writeKeyPair(t, dir, "usold", w.usOld)
	writeKeyPair(t, dir, "them", w.them.Keys[0])
	writeKeyPair(t, dir, "stranger", w.stranger)
	return w, dir
}

var entityX12 = append([]byte("Content-Type: application/edi-x12\r\nContent-Disposition: attachment; filename=\"po.x12\"\r\n\r\n"), x12...)

// Inbound: openssl signs (detached, binary) with every digest; we verify and
// return the MIC openssl dgst computes over the same signed bytes.
func TestInteropOpenSSLSigned(t *testing.T) {
	w, dir := interopWorld(t)
	as2test.WriteFile(t, dir, "entity.txt", entityX12)
	for _, md := range []string{"sha1", "sha256", "sha384", "sha512"} {
		t.Run(md, func(t *testing.T) {
			out := as2test.OpenSSL(t, dir, nil, "cms", "-sign", "-binary", "-md", md, "-in", "entity.txt", "-signer", "them.crt", "-inkey", "them.key")
			h, body := splitSMIME(t, out)
			msg, err := w.recv.Parse(context.Background(), as2Headers(h, "<ossl-sign@acme>"), bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(msg.Payload.Data, x12) || msg.Payload.Filename != "po.x12" || !msg.Security.Signed || msg.Security.CRLFConverted {
				t.Fatalf("payload %q security %+v", msg.Payload.Data, msg.Security)
			}
			d, _ := ParseDigest(md)
			want := as2test.Digest(t, dir, "entity.txt", md) + ", " + d.String()
			if msg.MIC.String() != want {
				t.Fatalf("MIC = %q, openssl dgst says %q", msg.MIC, want)
			}
		})
	}
}

// openssl in text mode canonicalises to CRLF for signing but writes LF line
// ends: the LF-only case of the canonicalisation rule.
func TestInteropOpenSSLSignedLF(t *testing.T) {
	w, dir := interopWorld(t)
	lf := bytes.ReplaceAll(entityX12, []byte("\r\n"), []byte("\n"))
	as2test.WriteFile(t, dir, "entity.txt", lf)
	out := as2test.OpenSSL(t, dir, nil, "cms", "-sign", "-md", "sha256", "-in", "entity.txt", "-signer", "them.crt", "-inkey", "them.key")
	// openssl writes the canonical CRLF content inside an LF structure; a
	// gateway that rewrites line ends leaves LF only.
	out = bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n"))
	h, body := splitSMIME(t, out)
	msg, err := w.recv.Parse(context.Background(), as2Headers(h, "<ossl-lf@acme>"), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if !msg.Security.CRLFConverted || !bytes.Equal(msg.Payload.Data, x12) {
		t.Fatalf("CRLFConverted=%v payload %q", msg.Security.CRLFConverted, msg.Payload.Data)
	}
	as2test.WriteFile(t, dir, "canon.txt", entityX12)
	if want := as2test.Digest(t, dir, "canon.txt", "sha256") + ", sha-256"; msg.MIC.String() != want {
		t.Fatalf("MIC = %q, want %q (over the CRLF form)", msg.MIC, want)
	}
}

// Inbound: openssl encrypts (with and without signing) with AES and 3DES.
func TestInteropOpenSSLEncrypted(t *testing.T) {
	w, dir := interopWorld(t)
	as2test.WriteFile(t, dir, "entity.txt", entityX12)
	signed := as2test.OpenSSL(t, dir, nil, "cms", "-sign", "-binary", "-md", "sha256", "-in", "entity.txt", "-signer", "them.crt", "-inkey", "them.key")
	as2test.WriteFile(t, dir, "signed.eml", signed)
	wantMIC := as2test.Digest(t, dir, "entity.txt", "sha256") + ", sha-256"
	for _, tc := range []struct {
		flag   string
		cipher Cipher
	}{{"-aes128", AES128CBC}, {"-aes192", AES192CBC}, {"-aes256", AES256CBC}, {"-des3", DES3CBC}} {
		for _, sign := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/signed=%v", tc.flag, sign), func(t *testing.T) {
				in := "entity.txt"
				if sign {
					in = "signed.eml"
				}
				out := as2test.OpenSSL(t, dir, nil, "cms", "-encrypt", "-binary", tc.flag, "-in", in, "us.crt")
				h, body := splitSMIME(t, out)
				msg, err := w.recv.Parse(context.Background(), as2Headers(h, "<ossl-enc@acme>"), bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(msg.Payload.Data, x12) || !msg.Security.Encrypted || msg.Security.Cipher != tc.cipher || msg.Security.Signed != sign {
					t.Fatalf("payload %q security %+v", msg.Payload.Data, msg.Security)
				}
				if sign && msg.MIC.String() != wantMIC {
					t.Fatalf("MIC = %q, want %q", msg.MIC, wantMIC)
				}
				if !sign && !msg.MIC.Equal(computeMIC(SHA256, entityX12)) {
					t.Fatalf("unsigned MIC = %q", msg.MIC)
				}
			})
		}
	}
	t.Run("DER/rollover", func(t *testing.T) {
		der := as2test.OpenSSL(t, dir, nil, "cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", "-in", "entity.txt", "usold.crt")
		h := as2Headers(header("Content-Type", `application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"`), "<ossl-der@acme>")
		msg, err := w.recv.Parse(context.Background(), h, bytes.NewReader(der))
		if err != nil {
			t.Fatal(err)
		}
		if msg.Security.DecryptedWith != w.usOld.Cert {
			t.Fatalf("decrypted with %v", msg.Security.DecryptedWith)
		}
	})
	t.Run("BER stream", func(t *testing.T) {
		ber := as2test.OpenSSL(t, dir, nil, "cms", "-encrypt", "-binary", "-stream", "-aes128", "-outform", "DER", "-in", "signed.eml", "us.crt")
		if ber[1] != 0x80 {
			t.Fatalf("openssl did not stream indefinite-length BER: % x", ber[:4])
		}
		h := as2Headers(header("Content-Type", "application/pkcs7-mime; smime-type=enveloped-data"), "<ossl-ber@acme>")
		msg, err := w.recv.Parse(context.Background(), h, bytes.NewReader(ber))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(msg.Payload.Data, x12) || !msg.Security.Signed {
			t.Fatalf("payload %q security %+v", msg.Payload.Data, msg.Security)
		}
	})
	t.Run("keyid recipient", func(t *testing.T) {
		der := as2test.OpenSSL(t, dir, nil, "cms", "-encrypt", "-binary", "-aes128", "-keyid", "-outform", "DER", "-in", "entity.txt", "us.crt")
		h := as2Headers(header("Content-Type", `application/pkcs7-mime; name="smime.p7m"`), "<ossl-keyid@acme>")
		msg, err := w.recv.Parse(context.Background(), h, bytes.NewReader(der))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(msg.Payload.Data, x12) {
			t.Fatalf("payload %q", msg.Payload.Data)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		out := as2test.OpenSSL(t, dir, nil, "cms", "-encrypt", "-binary", "-aes128", "-in", "entity.txt", "stranger.crt")
		h, body := splitSMIME(t, out)
		_, err := w.recv.Parse(context.Background(), as2Headers(h, "<ossl-wrong@acme>"), bytes.NewReader(body))
		e := wantModifier(t, err, DecryptionFailed)
		want := fmt.Sprintf("issuer=%q serial=%s", "CN=Mallory,O=PakLog test", w.stranger.Cert.SerialNumber.Text(16))
		if !strings.Contains(e.Error(), want) {
			t.Fatalf("error %q lacks %q", e, want)
		}
	})
}

// Outbound: openssl decrypts and verifies what we send, and its digest of
// the signed content equals our MIC.
func TestInteropOutboundToOpenSSL(t *testing.T) {
	w, dir := interopWorld(t)
	for _, tc := range []struct {
		name    string
		encrypt bool
		cipher  Cipher
		digest  Digest
	}{
		{"signed-sha256", false, 0, SHA256},
		{"signed-sha1", false, 0, SHA1},
		{"signed-sha512+aes128", true, AES128CBC, SHA512},
		{"signed-sha256+aes192", true, AES192CBC, SHA256},
		{"signed-sha384+aes256", true, AES256CBC, SHA384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// we are "Acme" here, sending to a partner whose keys are "us"
			p := *w.usProfile
			p.Sign, p.Digest, p.Encrypt, p.Cipher = true, tc.digest, tc.encrypt, tc.cipher
			req, err := BuildRequest(w.them, &p, Payload{Data: x12, ContentType: "application/edi-x12", Filename: "po.x12"}, RequestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			signedEML := as2test.EML(req.Header, req.Body)
			if tc.encrypt {
				as2test.WriteFile(t, dir, "body.der", req.Body)
				// the DER form checks the envelope alone; the S/MIME form the headers too
				signedEML = as2test.OpenSSL(t, dir, nil, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", "body.der", "-recip", "us.crt", "-inkey", "us.key")
				viaSMIME := as2test.OpenSSL(t, dir, as2test.EML(http.Header{"Content-Type": req.Header["Content-Type"], "Content-Transfer-Encoding": {"base64"}}, wrap64(req.Body)),
					"cms", "-decrypt", "-binary", "-recip", "us.crt", "-inkey", "us.key")
				if !bytes.Equal(viaSMIME, signedEML) {
					t.Fatal("S/MIME and DER decryption differ")
				}
				// Only the algorithm lines: the hex dump of the ciphertext in the
				// printout spells "GCM" or "OAEP" by chance now and then.
				print := as2test.OpenSSL(t, dir, nil, "cms", "-cmsout", "-print", "-inform", "DER", "-in", "body.der")
				algs := strings.Join(as2test.CMSAlgorithms(print), "\n")
				lower := strings.ToLower(algs)
				if strings.Contains(lower, "gcm") || strings.Contains(lower, "oaep") || !strings.Contains(algs, "rsaEncryption") {
					t.Fatalf("envelope uses unexpected algorithms:\n%s\n%s", algs, print)
				}
			}
			as2test.WriteFile(t, dir, "signed.eml", signedEML)
			// Not -binary: OpenSSL 3.0 in binary mode keeps the CR of the CRLF
			// that precedes a boundary (RFC 2046 gives it to the delimiter),
			// so it would fail on any RFC-conformant multipart/signed. Text
			// mode is exact here because our signed part is already CRLF.
			as2test.OpenSSL(t, dir, nil, "cms", "-verify", "-noverify", "-in", "signed.eml", "-out", "content.noverify")
			as2test.OpenSSL(t, dir, nil, "cms", "-verify", "-CAfile", "them.crt", "-in", "signed.eml", "-out", "content.bin")
			content := as2test.ReadFile(t, dir, "content.bin")
			wantEntity := append([]byte("Content-Type: application/edi-x12\r\nContent-Transfer-Encoding: binary\r\nContent-Disposition: attachment; filename=po.x12\r\n\r\n"), x12...)
			if !bytes.Equal(content, wantEntity) {
				t.Fatalf("openssl verified content\n%q\nwant\n%q", content, wantEntity)
			}
			alg := strings.ReplaceAll(tc.digest.String(), "-", "")
			if want := as2test.Digest(t, dir, "content.bin", alg) + ", " + tc.digest.String(); req.MIC.String() != want {
				t.Fatalf("our MIC %q, openssl dgst %q", req.MIC, want)
			}
		})
	}
}

// Outbound MDNs verify with openssl.
func TestInteropMDNToOpenSSL(t *testing.T) {
	w, dir := interopWorld(t)
	msg := &Message{MessageID: "<m1@acme>", From: "Acme Corp", To: "PAKLOG", Identity: w.us,
		MIC: computeMIC(SHA256, x12), MDN: MDNRequest{Mode: MDNSync, Signed: true, MICAlgs: []Digest{SHA512}}}
	for _, procErr := range []error{nil, newError(DecryptionFailed, "decrypting", errors.New("no key"))} {
		resp, err := BuildMDN(msg, procErr, MDNOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(resp.Header.Get("Content-Type"), "micalg=sha-512") {
			t.Fatalf("Content-Type = %q", resp.Header.Get("Content-Type"))
		}
		as2test.WriteFile(t, dir, "mdn.eml", as2test.EML(resp.Header, resp.Body))
		report := as2test.OpenSSL(t, dir, nil, "cms", "-verify", "-CAfile", "us.crt", "-in", "mdn.eml")
		want := "Disposition: " + DispositionFor(procErr).String() + "\r\n"
		if !bytes.Contains(report, []byte(want)) || !bytes.Contains(report, []byte("Received-Content-MIC: "+msg.MIC.String())) {
			t.Fatalf("openssl-verified report lacks %q:\n%s", want, report)
		}
	}
}

// Compressed messages built here are well-formed CMS for openssl (which,
// built without zlib, can print but not inflate them).
func TestInteropCompressedStructure(t *testing.T) {
	w, dir := interopWorld(t)
	for _, comp := range []Compression{CompressBeforeSigning, CompressAfterSigning} {
		p := *w.usProfile
		p.Sign, p.Compress = comp == CompressAfterSigning, comp
		req, err := BuildRequest(w.them, &p, Payload{Data: x12, ContentType: "application/edi-x12"}, RequestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(req.Header.Get("Content-Type"), "smime-type=compressed-data") {
			t.Fatalf("Content-Type = %q", req.Header.Get("Content-Type"))
		}
		as2test.WriteFile(t, dir, "z.der", req.Body)
		out := string(as2test.OpenSSL(t, dir, nil, "cms", "-cmsout", "-print", "-inform", "DER", "-in", "z.der"))
		for _, want := range []string{"contentType: id-smime-ct-compressedData", "algorithm: zlib compression", "eContentType: pkcs7-data"} {
			if !strings.Contains(out, want) {
				t.Fatalf("openssl -print output lacks %q:\n%s", want, out)
			}
		}
	}
}

func wrap64(b []byte) []byte {
	s := base64.StdEncoding.EncodeToString(b)
	var out bytes.Buffer
	for len(s) > 64 {
		out.WriteString(s[:64] + "\r\n")
		s = s[64:]
	}
	out.WriteString(s + "\r\n")
	return out.Bytes()
}
