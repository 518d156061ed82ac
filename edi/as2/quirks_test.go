package as2

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/paklog/integration-hub/internal/as2test"
)

// The MIC of an unsigned message: the algorithm is the first signed-receipt-micalg
// when (and only when) that list travels, which is with a signed-receipt request;
// otherwise DefaultMICDigest. Before this was explicit, a profile with MICAlgs and
// an unsigned receipt request computed its MIC with MICAlgs[0] while the partner,
// never told, used sha-256: every receipt mismatched.
func TestUnsignedMessageMIC(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mdn     MDNRequest
		encrypt bool
		want    Digest
	}{
		{"no receipt", MDNRequest{}, false, DefaultMICDigest},
		{"unsigned receipt, MICAlgs not sent", MDNRequest{Mode: MDNSync, MICAlgs: []Digest{SHA512}}, false, DefaultMICDigest},
		{"unsigned receipt, encrypted", MDNRequest{Mode: MDNSync, MICAlgs: []Digest{SHA1}}, true, DefaultMICDigest},
		{"signed receipt, sha-384 first", MDNRequest{Mode: MDNSync, Signed: true, MICAlgs: []Digest{SHA384, SHA256}}, false, SHA384},
		{"signed receipt, no list (sent as sha-256)", MDNRequest{Mode: MDNSync, Signed: true}, true, SHA256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			p := *w.usProfile
			p.Sign, p.Encrypt, p.MDN = false, tc.encrypt, tc.mdn
			if got := UnsignedMICDigest(p.MDN); got != tc.want {
				t.Fatalf("UnsignedMICDigest = %s, want %s", got, tc.want)
			}
			req, err := BuildRequest(w.them, &p, Payload{Data: x12, ContentType: "application/edi-x12"}, RequestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if req.MIC.Digest != tc.want {
				t.Fatalf("request MIC %s, want %s", req.MIC, tc.want)
			}
			msg, err := w.parse(t, nil, req)
			if err != nil {
				t.Fatal(err)
			}
			// The receiver computes the same MIC from what the request carries.
			if !msg.MIC.Equal(req.MIC) {
				t.Fatalf("receiver MIC %s, sender MIC %s", msg.MIC, req.MIC)
			}
		})
	}
}

// A zero Partner.Cipher encrypts with AES-128-CBC, the default of profiles and
// of the configuration too.
func TestDefaultCipherIsAES128(t *testing.T) {
	w := newWorld(t)
	p := *w.themProfile
	p.Cipher, p.Certs = 0, []*x509.Certificate{w.them.Keys[0].Cert}
	req, err := BuildRequest(w.us, &p, Payload{Data: x12}, RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := parseEnvelope(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := env.EncryptedContentInfo.ContentEncryptionAlgorithm.Algorithm; !got.Equal(AES128CBC.oid()) {
		t.Fatalf("zero Cipher encrypted with %s, want %s (DefaultCipher)", got, AES128CBC.oid())
	}
	msg, err := w.recvByThem.Parse(context.Background(), req.Header, bytes.NewReader(req.Body))
	if err != nil || msg.Security.Cipher != DefaultCipher {
		t.Fatalf("parsed cipher %s, %v", msg.Security.Cipher, err)
	}
}

// The failures of a signed MDN are told apart: a signer that is not among the
// partner's certificates (configuration), one that is not valid now
// (configuration), a signature damaged in transit (worth a resend). All are
// authentication-failed.
func TestMDNSignatureErrors(t *testing.T) {
	w := newWorld(t)
	mdnBy := func(t *testing.T, kp KeyPair) (http.Header, []byte) {
		t.Helper()
		msg := &Message{MessageID: "<1@paklog>", From: "PAKLOG", To: "Acme Corp", MIC: computeMIC(SHA256, x12),
			Identity: &Identity{ID: "Acme Corp", Keys: []KeyPair{kp}}, MDN: MDNRequest{Mode: MDNSync, Signed: true}}
		resp, err := BuildMDN(msg, nil, MDNOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header, resp.Body
	}
	later := w.them.Keys[0].Cert.NotAfter.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		signer KeyPair
		tamper func(*testing.T, []byte) []byte
		now    *time.Time
		want   error
	}{
		{"valid", w.them.Keys[0], nil, nil, nil},
		{"unknown signer", w.stranger, nil, nil, ErrUnknownSigner},
		{"expired signer", w.them.Keys[0], nil, &later, ErrSignerNotValid},
		{"damaged signature", w.them.Keys[0], as2test.FlipSignatureBit, nil, ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, body := mdnBy(t, tc.signer)
			if tc.tamper != nil {
				body = tc.tamper(t, body)
			}
			r := w.recv
			if tc.now != nil {
				r = w.receiver(t, func(c *Config) { c.Now = func() time.Time { return *tc.now } })
			}
			m, err := r.ParseMDN(context.Background(), h, bytes.NewReader(body))
			if tc.want == nil {
				if err != nil || !m.Security.Signed {
					t.Fatalf("ParseMDN = %+v, %v", m, err)
				}
				return
			}
			wantModifier(t, err, AuthenticationFailed)
			for _, other := range []error{ErrUnknownSigner, ErrSignerNotValid, ErrBadSignature} {
				if got := errors.Is(err, other); got != (other == tc.want) {
					t.Errorf("errors.Is(err, %v) = %v; err: %v", other, got, err)
				}
			}
		})
	}
}
