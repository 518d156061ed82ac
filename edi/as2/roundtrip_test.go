package as2

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"crypto/x509"
)

func TestRoundTrip(t *testing.T) {
	w := newWorld(t)
	type combo struct {
		sign, encrypt bool
		compress      Compression
		digest        Digest
		cipher        Cipher
	}
	var combos []combo
	for _, comp := range []Compression{CompressNone, CompressBeforeSigning, CompressAfterSigning} {
		combos = append(combos, combo{compress: comp}) // plain (or compressed only)
		for _, c := range []Cipher{AES128CBC, AES192CBC, AES256CBC} {
			combos = append(combos, combo{encrypt: true, cipher: c, compress: comp})
		}
		for _, d := range []Digest{SHA1, SHA256, SHA384, SHA512} {
			combos = append(combos, combo{sign: true, digest: d, compress: comp})
			for _, c := range []Cipher{AES128CBC, AES192CBC, AES256CBC} {
				combos = append(combos, combo{sign: true, digest: d, encrypt: true, cipher: c, compress: comp})
			}
		}
	}
	compName := map[Compression]string{CompressNone: "", CompressBeforeSigning: "+zlib-before", CompressAfterSigning: "+zlib-after"}
	for _, c := range combos {
		name := "plain"
		if c.sign {
			name = "signed-" + c.digest.String()
		}
		if c.encrypt {
			name += "+" + c.cipher.String()
		}
		name += compName[c.compress]
		t.Run(name, func(t *testing.T) {
			profile := *w.usProfile
			profile.Sign, profile.Digest = c.sign, c.digest
			profile.Encrypt, profile.Cipher, profile.Compress = c.encrypt, c.cipher, c.compress
			profile.MDN = MDNRequest{Mode: MDNSync, Signed: true, MICAlgs: []Digest{SHA384, SHA256}}
			payload := Payload{Data: x12, ContentType: "application/edi-x12", Filename: "po 850.x12"}
			req, err := BuildRequest(w.them, &profile, payload, RequestOptions{Subject: "PO 4711"})
			if err != nil {
				t.Fatal(err)
			}
			msg, err := w.parse(t, nil, req)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(msg.Payload.Data, x12) || msg.Payload.ContentType != "application/edi-x12" || msg.Payload.Filename != "po 850.x12" {
				t.Fatalf("payload = %q %q %q", msg.Payload.Data, msg.Payload.ContentType, msg.Payload.Filename)
			}
			if msg.From != "Acme Corp" || msg.To != "PAKLOG" || msg.MessageID != req.MessageID || msg.Subject != "PO 4711" {
				t.Fatalf("envelope = %q %q %q %q", msg.From, msg.To, msg.MessageID, msg.Subject)
			}
			sec := msg.Security
			if sec.Signed != c.sign || sec.Encrypted != c.encrypt || sec.Compressed != (c.compress != CompressNone) {
				t.Fatalf("security = %+v", sec)
			}
			if c.sign && (sec.Digest != c.digest || sec.MICAlgParam != c.digest || sec.Signer != w.them.Keys[0].Cert || sec.CRLFConverted) {
				t.Fatalf("signature = %s/%s signer %v crlf %v", sec.Digest, sec.MICAlgParam, sec.Signer.Subject, sec.CRLFConverted)
			}
			if c.encrypt && (sec.Cipher != c.cipher || sec.DecryptedWith != w.us.Keys[0].Cert) {
				t.Fatalf("encryption = %s with %v", sec.Cipher, sec.DecryptedWith.Subject)
			}
			wantLayers := wantLayerOrder(c.sign, c.encrypt, c.compress)
			if !slices.Equal(sec.Layers, wantLayers) {
				t.Fatalf("layers = %v, want %v", sec.Layers, wantLayers)
			}
			wantDigest := SHA384 // first requested micalg, for unsigned messages
			if c.sign {
				wantDigest = c.digest
			}
			if msg.MIC.Digest != wantDigest || !msg.MIC.Equal(req.MIC) {
				t.Fatalf("MIC = %s, sender computed %s", msg.MIC, req.MIC)
			}
			if !msg.MDN.Signed || msg.MDN.Mode != MDNSync || !slices.Equal(msg.MDN.MICAlgs, []Digest{SHA384, SHA256}) {
				t.Fatalf("MDN request = %+v", msg.MDN)
			}

			// and the receipt back
			resp, err := BuildMDN(msg, nil, MDNOptions{})
			if err != nil {
				t.Fatal(err)
			}
			mdn, err := w.recvByThem.ParseMDN(context.Background(), resp.Header, bytes.NewReader(resp.Body))
			if err != nil {
				t.Fatal(err)
			}
			if err := mdn.CheckMIC(req.MIC); err != nil {
				t.Fatal(err)
			}
			if mdn.Err() != nil || mdn.OriginalMessageID != req.MessageID || !mdn.Security.Signed || mdn.Security.Digest != SHA384 {
				t.Fatalf("MDN = %+v", mdn)
			}
		})
	}
}

func wantLayerOrder(sign, encrypt bool, comp Compression) []Layer {
	var l []Layer
	if encrypt {
		l = append(l, LayerEncrypted)
	}
	switch {
	case comp == CompressAfterSigning && sign:
		l = append(l, LayerCompressed, LayerSigned)
	case comp != CompressNone && sign:
		l = append(l, LayerSigned, LayerCompressed)
	case comp != CompressNone:
		l = append(l, LayerCompressed)
	case sign:
		l = append(l, LayerSigned)
	}
	return l
}

// Each content type travels unchanged, binary payloads included.
func TestPayloadContentTypes(t *testing.T) {
	w := newWorld(t)
	bin := make([]byte, 4096)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	for _, tc := range []struct {
		ct, name string
		data     []byte
	}{
		{"application/edi-x12", "x12", x12},
		{"application/edifact", "edifact", []byte("UNA:+.? 'UNB+UNOC:3+ACME+PAKLOG+260101:1200+1'UNZ+1+1'")},
		{"application/xml; charset=utf-8", "xml", []byte(`<?xml version="1.0"?><Order id="1"/>`)},
		{"application/octet-stream", "binary", bin},
	} {
		for _, signed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/signed=%v", tc.name, signed), func(t *testing.T) {
				p := *w.usProfile
				p.Sign = signed
				req, err := BuildRequest(w.them, &p, Payload{Data: tc.data, ContentType: tc.ct}, RequestOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !signed && req.Header.Get("Content-Transfer-Encoding") != "binary" {
					t.Fatalf("Content-Transfer-Encoding = %q", req.Header.Get("Content-Transfer-Encoding"))
				}
				msg, err := w.parse(t, nil, req)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(msg.Payload.Data, tc.data) || msg.Payload.ContentType != tc.ct {
					t.Fatalf("payload %q (%d bytes), want %q", msg.Payload.ContentType, len(msg.Payload.Data), tc.ct)
				}
			})
		}
	}
}

// A binary payload with no Content-Transfer-Encoding at all, top level and
// inside a signature, is taken as it is.
func TestBinaryWithoutTransferEncoding(t *testing.T) {
	w := newWorld(t)
	bin := []byte("\x00\x01\r\n--not-a-boundary\n\xff\xfe\r\r\n\x00")
	h := header("Content-Type", "application/octet-stream", "AS2-From", `"Acme Corp"`, "AS2-To", "PAKLOG", "Message-ID", "<bin-1@acme>")
	msg, err := w.recv.Parse(context.Background(), h, bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msg.Payload.Data, bin) {
		t.Fatalf("payload = %q", msg.Payload.Data)
	}
	if want := computeMIC(SHA256, append([]byte("Content-Type: application/octet-stream\r\n\r\n"), bin...)); !msg.MIC.Equal(want) {
		t.Fatalf("MIC = %s, want %s", msg.MIC, want)
	}

	inner := append([]byte("Content-Type: application/octet-stream\r\n\r\n"), bin...)
	ent, err := signEntity(inner, w.them.Keys[0], SHA256)
	if err != nil {
		t.Fatal(err)
	}
	h.Set("Content-Type", ent.fields[0].value)
	msg, err = w.recv.Parse(context.Background(), h, bytes.NewReader(ent.body))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msg.Payload.Data, bin) || !msg.Security.Signed || msg.Security.CRLFConverted {
		t.Fatalf("payload = %q, security %+v", msg.Payload.Data, msg.Security)
	}
	if want := computeMIC(SHA256, inner); !msg.MIC.Equal(want) {
		t.Fatalf("MIC = %s, want %s", msg.MIC, want)
	}
}

// The signed part was canonical CRLF when signed, but a gateway turned every
// CRLF into LF on the way.
func TestLFOnlySignedPart(t *testing.T) {
	w := newWorld(t)
	p := *w.usProfile
	p.Sign = true
	req, err := BuildRequest(w.them, &p, Payload{Data: x12, ContentType: "application/edi-x12"}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	req.Body = bytes.ReplaceAll(req.Body, []byte("\r\n"), []byte("\n"))
	msg, err := w.parse(t, nil, req)
	if err != nil {
		t.Fatal(err)
	}
	if !msg.Security.CRLFConverted {
		t.Fatal("CRLFConverted = false, want true")
	}
	if !bytes.Equal(msg.Payload.Data, x12) {
		t.Fatalf("payload = %q, want the CRLF form that was signed", msg.Payload.Data)
	}
	if !msg.MIC.Equal(req.MIC) {
		t.Fatalf("MIC = %s, want %s (over the canonical form)", msg.MIC, req.MIC)
	}
}

func TestTamperedPayload(t *testing.T) {
	w := newWorld(t)
	p := *w.usProfile
	p.Sign = true
	req, err := BuildRequest(w.them, &p, Payload{Data: x12, ContentType: "application/edi-x12"}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	req.Body = bytes.Replace(req.Body, []byte("ST*850"), []byte("ST*860"), 1)
	msg, err := w.parse(t, nil, req)
	e := wantModifier(t, err, IntegrityCheckFailed)
	if !errors.Is(err, ErrIntegrityCheckFailed) || !strings.Contains(e.Error(), "altered") {
		t.Fatalf("error = %v", err)
	}
	if d := DispositionFor(err).String(); d != "automatic-action/MDN-sent-automatically; processed/Error: integrity-check-failed" {
		t.Fatalf("disposition = %s", d)
	}
	// the negative MDN still goes back, signed
	msg.MDN = MDNRequest{Mode: MDNSync, Signed: true}
	resp, err := BuildMDN(msg, err, MDNOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mdn, err := w.recvByThem.ParseMDN(context.Background(), resp.Header, bytes.NewReader(resp.Body))
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(mdn.Err(), ErrIntegrityCheckFailed) || mdn.Disposition.OK() {
		t.Fatalf("MDN disposition = %s, Err = %v", mdn.Disposition, mdn.Err())
	}
}

func TestWrongSigningCertificate(t *testing.T) {
	w := newWorld(t)
	mallory := &Identity{ID: "Acme Corp", Keys: []KeyPair{w.stranger}}
	p := *w.usProfile
	p.Sign = true
	req, err := BuildRequest(mallory, &p, Payload{Data: x12, ContentType: "application/edi-x12"}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.parse(t, nil, req)
	e := wantModifier(t, err, AuthenticationFailed)
	for _, want := range []string{`CN=Mallory`, "serial=29a", "Acme AS2", "import the partner's current certificate"} {
		if !strings.Contains(e.Error(), want) {
			t.Errorf("error %q lacks %q", e, want)
		}
	}
}

// Any of several active partner certificates verifies; the one that did is reported.
func TestSignatureWithSecondPartnerCertificate(t *testing.T) {
	w := newWorld(t)
	next := &Identity{ID: "Acme Corp", Keys: []KeyPair{w.themAlt}}
	p := *w.usProfile
	p.Sign = true
	req, err := BuildRequest(next, &p, Payload{Data: x12, ContentType: "application/edi-x12"}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := w.parse(t, nil, req)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Security.Signer != w.themAlt.Cert {
		t.Fatalf("signer = %v, want %v", msg.Security.Signer.Subject, w.themAlt.Cert.Subject)
	}
}

func TestExpiredPartnerCertificate(t *testing.T) {
	w := newWorld(t)
	p := *w.usProfile
	p.Sign = true
	req, err := BuildRequest(w.them, &p, Payload{Data: x12, ContentType: "application/edi-x12"}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	later := w.them.Keys[0].Cert.NotAfter.AddDate(0, 0, 1)
	r := w.receiver(t, func(c *Config) { c.Now = func() time.Time { return later } })
	_, err = w.parse(t, r, req)
	e := wantModifier(t, err, AuthenticationFailed)
	if !strings.Contains(e.Error(), "renewed certificate") || !strings.Contains(e.Error(), "Acme AS2") {
		t.Fatalf("error = %v", e)
	}
}

func TestDecryptRollover(t *testing.T) {
	w := newWorld(t)
	p := *w.usProfile
	p.Encrypt = true
	p.Certs = []*x509.Certificate{w.usOld.Cert} // partner still has our old certificate
	req, err := BuildRequest(w.them, &p, Payload{Data: x12, ContentType: "application/edi-x12"}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := w.parse(t, nil, req)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Security.DecryptedWith != w.usOld.Cert {
		t.Fatalf("decrypted with %v, want old key", msg.Security.DecryptedWith.Subject)
	}
}

func TestDecryptWrongKey(t *testing.T) {
	w := newWorld(t)
	p := *w.usProfile
	p.Encrypt = true
	p.Certs = []*x509.Certificate{w.stranger.Cert}
	req, err := BuildRequest(w.them, &p, Payload{Data: x12, ContentType: "application/edi-x12"}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := w.parse(t, nil, req)
	e := wantModifier(t, err, DecryptionFailed)
	for _, want := range []string{`issuer="CN=Mallory`, "serial=29a", "our keys", "PAKLOG AS2 2026", "PAKLOG AS2 2025", "send them our current certificate"} {
		if !strings.Contains(e.Error(), want) {
			t.Errorf("error %q lacks %q", e, want)
		}
	}
	if msg.MessageID != req.MessageID || msg.From != "Acme Corp" {
		t.Fatalf("partial message = %+v", msg)
	}
}

func TestPolicy(t *testing.T) {
	w := newWorld(t)
	req, err := BuildRequest(w.them, w.usProfile, Payload{Data: x12}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.themProfile.RequireEncryption = true
	_, err = w.parse(t, nil, req)
	wantModifier(t, err, DecryptionFailed)
	w.themProfile.RequireEncryption, w.themProfile.RequireSignature = false, true
	_, err = w.parse(t, nil, req)
	wantModifier(t, err, AuthenticationFailed)
}

func TestUnknownPartner(t *testing.T) {
	w := newWorld(t)
	h := header("Content-Type", "application/edi-x12", "AS2-From", "acme corp", "AS2-To", "PAKLOG", "Message-ID", "<1@x>")
	_, err := w.recv.Parse(context.Background(), h, strings.NewReader("x"))
	wantModifier(t, err, AuthenticationFailed) // ids are case-sensitive
	if !errors.Is(err, ErrUnknownPartner) {
		t.Fatalf("error %v does not wrap ErrUnknownPartner", err)
	}
	// a failing resolver is our problem, not a disposition
	boom := errors.New("database down")
	r, _ := NewReceiver(DefaultConfig(), ResolverFunc(func(context.Context, string, string) (*Partner, *Identity, error) { return nil, nil, boom }))
	_, err = r.Parse(context.Background(), h, strings.NewReader("x"))
	var e *Error
	if errors.As(err, &e) || !errors.Is(err, boom) {
		t.Fatalf("error = %v, want plain wrapped resolver error", err)
	}
}

func TestBodyTooLarge(t *testing.T) {
	w := newWorld(t)
	r := w.receiver(t, func(c *Config) { c.MaxBodySize = 100 })
	h := header("Content-Type", "application/edi-x12", "AS2-From", "Acme Corp", "AS2-To", "PAKLOG", "Message-ID", "<1@x>")
	_, err := r.Parse(context.Background(), h, bytes.NewReader(make([]byte, 101)))
	wantModifier(t, err, UnexpectedProcessingError)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error = %v", err)
	}
}

func TestDecompressionBomb(t *testing.T) {
	w := newWorld(t)
	p := *w.usProfile
	p.Compress = CompressBeforeSigning
	big := bytes.Repeat([]byte("A"), 1<<20)
	req, err := BuildRequest(w.them, &p, Payload{Data: big}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Body) > 10<<10 {
		t.Fatalf("compressed body is %d bytes", len(req.Body))
	}
	r := w.receiver(t, func(c *Config) { c.MaxDecompressedSize = 64 << 10 })
	_, err = w.parse(t, r, req)
	wantModifier(t, err, DecompressionFailed)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "MaxDecompressedSize") {
		t.Fatalf("error = %v", err)
	}
}

func TestHeaderFields(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"PAKLOG", "PAKLOG", true},
		{` "Acme Corp" `, "Acme Corp", true},
		{`"a \"quoted\" id"`, `a "quoted" id`, true},
		{`"unterminated`, "", false},
		{"", "", false},
		{strings.Repeat("x", 129), "", false},
		{"bad\x01id", "", false},
	} {
		got, err := parseAS2ID(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseAS2ID(%q) = %q, %v", tc.in, got, err)
		}
		if tc.ok {
			back, err := parseAS2ID(formatAS2ID(got))
			if err != nil || back != got {
				t.Errorf("format/parse %q = %q, %v", got, back, err)
			}
		}
	}
}

func TestDispositionOptions(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		signed   bool
		algs     []Digest
		mod      Modifier
	}{
		{"usual", "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256, sha1", true, []Digest{SHA256, SHA1}, ""},
		{"spellings", `Signed-Receipt-Protocol=required,pkcs7-signature;signed-receipt-micalg=required,SHA_512,"sha384",md5`, true, []Digest{SHA512, SHA384}, ""},
		{"unknown micalg optional", "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, md5", true, nil, ""},
		{"unknown micalg required", "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=required, md5, sha-224", true, nil, UnsupportedMICAlgorithms},
		{"unknown protocol required", "signed-receipt-protocol=required, pgp-signature", false, nil, UnsupportedFormat},
		{"unknown protocol optional", "signed-receipt-protocol=optional, pgp-signature", false, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req MDNRequest
			err := parseDNOptions(tc.in, &req)
			if tc.mod != "" {
				wantModifier(t, err, tc.mod)
				if !strings.HasPrefix(DispositionFor(err).String(), "automatic-action/MDN-sent-automatically; failed/Failure: ") {
					t.Fatalf("disposition = %s", DispositionFor(err))
				}
				return
			}
			if err != nil || req.Signed != tc.signed || !slices.Equal(req.MICAlgs, tc.algs) {
				t.Fatalf("got %+v, %v", req, err)
			}
		})
	}
}

// An unsupported, required micalg fails the message with a signed
// failed/Failure MDN; we sign it with sha-256.
func TestUnsupportedMICAlgorithmMDN(t *testing.T) {
	w := newWorld(t)
	req, err := BuildRequest(w.them, w.usProfile, Payload{Data: x12}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Disposition-Notification-To", "as2@acme.example")
	req.Header.Set("Disposition-Notification-Options", "signed-receipt-protocol=required, pkcs7-signature; signed-receipt-micalg=required, md5")
	msg, err := w.parse(t, nil, req)
	wantModifier(t, err, UnsupportedMICAlgorithms)
	resp, err := BuildMDN(msg, err, MDNOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mdn, err := w.recvByThem.ParseMDN(context.Background(), resp.Header, bytes.NewReader(resp.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got := mdn.Disposition.String(); got != "automatic-action/MDN-sent-automatically; failed/Failure: unsupported MIC-algorithms" {
		t.Fatalf("disposition = %s", got)
	}
	if !mdn.Security.Signed || mdn.Security.Digest != SHA256 || !errors.Is(mdn.Err(), ErrUnsupportedMICAlgorithms) {
		t.Fatalf("MDN = %+v", mdn)
	}
}

func TestParseDigestSpellings(t *testing.T) {
	for in, want := range map[string]Digest{
		"sha-256": SHA256, "sha256": SHA256, "SHA256": SHA256, "sha_256": SHA256, "SHA-256": SHA256,
		"sha1": SHA1, "sha-1": SHA1, "SHA1": SHA1, "sha_1": SHA1,
		"sha-384": SHA384, "sha384": SHA384, "sha-512": SHA512, "SHA_512": SHA512, ` "sha-512" `: SHA512,
	} {
		if got, err := ParseDigest(in); err != nil || got != want {
			t.Errorf("ParseDigest(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"md5", "sha-224", "", "sha3-256"} {
		if _, err := ParseDigest(in); !errors.Is(err, ErrUnsupportedDigest) {
			t.Errorf("ParseDigest(%q) error = %v", in, err)
		}
	}
	for _, d := range []Digest{SHA1, SHA256, SHA384, SHA512} {
		if s := d.String(); !strings.HasPrefix(s, "sha-") {
			t.Errorf("%v.String() = %q", d, s)
		}
	}
}

// The micalg parameter and the receipt request may use any spelling.
func TestMicalgSpellingOnInput(t *testing.T) {
	w := newWorld(t)
	p := *w.usProfile
	p.Sign, p.Digest = true, SHA512
	req, err := BuildRequest(w.them, &p, Payload{Data: x12}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", strings.Replace(req.Header.Get("Content-Type"), "micalg=sha-512", "micalg=SHA_512", 1))
	req.Header.Set("Disposition-Notification-To", "x")
	req.Header.Set("Disposition-Notification-Options", "signed-receipt-protocol=optional,pkcs7-signature; signed-receipt-micalg=optional,SHA256")
	msg, err := w.parse(t, nil, req)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Security.MICAlgParam != SHA512 || msg.MIC.Digest != SHA512 || !slices.Equal(msg.MDN.MICAlgs, []Digest{SHA256}) {
		t.Fatalf("micalg %s, MIC %s, requested %v", msg.Security.MICAlgParam, msg.MIC, msg.MDN.MICAlgs)
	}
	if !strings.Contains(req.Header.Get("Content-Type"), "SHA_512") {
		t.Fatal("test did not rewrite micalg")
	}
}

func TestMICFormat(t *testing.T) {
	m := computeMIC(SHA256, []byte("abc"))
	s := m.String()
	if s != "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=, sha-256" {
		t.Fatalf("MIC = %q", s)
	}
	for _, in := range []string{s, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=,sha256", " ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0= , SHA-256"} {
		got, err := ParseMIC(in)
		if err != nil || !got.Equal(m) {
			t.Errorf("ParseMIC(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "abc", "AAAA, sha-256", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=, md5"} {
		if _, err := ParseMIC(in); err == nil {
			t.Errorf("ParseMIC(%q) succeeded", in)
		}
	}
}

func TestMDNCheckMIC(t *testing.T) {
	sent := computeMIC(SHA256, []byte("abc"))
	for _, tc := range []struct {
		name string
		got  MIC
		want error
	}{
		{"match", sent, nil},
		{"none", MIC{}, ErrNoMIC},
		{"other value", computeMIC(SHA256, []byte("abd")), ErrMICMismatch},
		{"other algorithm", computeMIC(SHA1, []byte("abc")), ErrMICMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &MDN{MIC: tc.got}
			if err := m.CheckMIC(sent); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("CheckMIC = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDispositions(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "automatic-action/MDN-sent-automatically; processed"},
		{ErrAuthenticationFailed, "automatic-action/MDN-sent-automatically; processed/Error: authentication-failed"},
		{fmt.Errorf("wrapped: %w", newError(DecryptionFailed, "x", errors.New("y"))), "automatic-action/MDN-sent-automatically; processed/Error: decryption-failed"},
		{ErrIntegrityCheckFailed, "automatic-action/MDN-sent-automatically; processed/Error: integrity-check-failed"},
		{ErrDecompressionFailed, "automatic-action/MDN-sent-automatically; processed/Error: decompression-failed"},
		{ErrUnexpectedProcessing, "automatic-action/MDN-sent-automatically; processed/Error: unexpected-processing-error"},
		{errors.New("disk full"), "automatic-action/MDN-sent-automatically; processed/Error: unexpected-processing-error"},
		{ErrUnsupportedFormat, "automatic-action/MDN-sent-automatically; failed/Failure: unsupported format"},
		{ErrUnsupportedMICAlgorithms, "automatic-action/MDN-sent-automatically; failed/Failure: unsupported MIC-algorithms"},
	} {
		d := DispositionFor(tc.err)
		if d.String() != tc.want {
			t.Errorf("DispositionFor(%v) = %q, want %q", tc.err, d, tc.want)
		}
		back, err := ParseDisposition(d.String())
		if err != nil || back != d {
			t.Errorf("ParseDisposition(%q) = %+v, %v", d, back, err)
		}
	}
	d, err := ParseDisposition("Automatic-Action/MDN-Sent-Automatically ; Processed/error : unsupported-format")
	if err != nil || d.Type != "processed" || d.Modifier != UnsupportedFormat || d.OK() {
		t.Fatalf("got %+v, %v", d, err)
	}
	d, _ = ParseDisposition("automatic-action/MDN-sent-automatically; processed/warning: duplicate-document")
	if !d.OK() {
		t.Fatal("warning should count as processed")
	}
}

func TestUnsignedMDNWhenSignedRequested(t *testing.T) {
	w := newWorld(t)
	msg := &Message{MessageID: "<1@acme>", From: "Acme Corp", To: "PAKLOG", MIC: computeMIC(SHA256, x12)}
	resp, err := BuildMDN(msg, nil, MDNOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/signed") {
		t.Fatal("MDN signed although not requested")
	}
	m, err := w.recvByThem.ParseMDN(context.Background(), resp.Header, bytes.NewReader(resp.Body))
	if err != nil || m.Security.Signed || !m.MIC.Equal(msg.MIC) || !strings.Contains(m.Text, "processed") {
		t.Fatalf("MDN %+v, %v", m, err)
	}
	w.usProfile.MDN.Signed = true
	_, err = w.recvByThem.ParseMDN(context.Background(), resp.Header, bytes.NewReader(resp.Body))
	wantModifier(t, err, AuthenticationFailed)
}

func TestAsyncMDNRequest(t *testing.T) {
	w := newWorld(t)
	p := *w.usProfile
	p.MDN = MDNRequest{Mode: MDNAsync, URL: "https://as2.acme.example/mdn", Signed: true}
	req, err := BuildRequest(w.them, &p, Payload{Data: x12}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"Receipt-Delivery-Option":          "https://as2.acme.example/mdn",
		"Disposition-Notification-To":      "https://as2.acme.example/mdn",
		"Disposition-Notification-Options": "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256",
		"AS2-From":                         `"Acme Corp"`,
		"AS2-To":                           "PAKLOG",
		"AS2-Version":                      "1.2",
	} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	msg, err := w.parse(t, nil, req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := BuildMDN(msg, nil, MDNOptions{})
	if err != nil || !resp.Async || resp.URL != p.MDN.URL || resp.Header.Get("AS2-To") != `"Acme Corp"` {
		t.Fatalf("MDN response %+v, %v", resp, err)
	}
}

func TestValidate(t *testing.T) {
	err := (&Partner{Encrypt: true, Cipher: DES3CBC, Digest: 9, MDN: MDNRequest{Mode: MDNAsync}}).Validate()
	for _, want := range []string{"ID is empty", "Certs is empty", "des-ede3-cbc", "Digest 9", "MDN.URL is empty"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, lacks %q", err, want)
		}
	}
	err = Config{}.Validate()
	for _, want := range []string{"MaxBodySize", "MaxDecompressedSize", "MaxHeaderSize", "MaxDepth", "Now"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Config.Validate() = %v, lacks %q", err, want)
		}
	}
}
