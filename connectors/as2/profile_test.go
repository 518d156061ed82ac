package as2

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/fault"
)

func validProfile(t *testing.T) *Profile {
	ps := testParties(t)
	return &Profile{
		LocalID: "PAKLOG", PartnerID: "Acme Corp", URL: "https://as2.acme.example/receive",
		Keys:         []edias2.KeyPair{ps.us},
		EncryptCerts: []*x509.Certificate{ps.them.Cert},
		SigningCerts: []*x509.Certificate{ps.them.Cert},
		MDN:          edias2.MDNSync, SignedMDN: true, MICAlgs: []edias2.Digest{edias2.SHA256, edias2.SHA1},
	}
}

func ecdsaCert(t *testing.T) *x509.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(5), Subject: pkix.Name{CommonName: "EC"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestProfileValidate(t *testing.T) {
	ps := testParties(t)
	if err := validProfile(t).Validate(); err != nil {
		t.Fatalf("valid profile: %v", err)
	}
	tests := []struct {
		name string
		mod  func(*Profile)
		want []string
	}{
		{"zero profile lists everything", func(p *Profile) { *p = Profile{} },
			[]string{"LocalID", "PartnerID", "URL", "Keys", "EncryptCerts"}},
		{"AS2 id too long", func(p *Profile) { p.LocalID = strings.Repeat("x", 129) }, []string{"LocalID"}},
		{"AS2 id not ASCII", func(p *Profile) { p.PartnerID = "ACMÉ" }, []string{"PartnerID"}},
		{"URL not http", func(p *Profile) { p.URL = "ftp://acme.example/as2" }, []string{"URL"}},
		{"URL relative", func(p *Profile) { p.URL = "/as2" }, []string{"URL"}},
		{"key of another certificate", func(p *Profile) { p.Keys = []edias2.KeyPair{{Cert: ps.us.Cert, Key: ps.them.Key}} }, []string{"Keys[0].Key"}},
		{"key pair without certificate", func(p *Profile) { p.Keys = append(p.Keys, edias2.KeyPair{Key: ps.us.Key}) }, []string{"Keys[1].Cert"}},
		{"key that cannot sign", func(p *Profile) { p.Keys = []edias2.KeyPair{{Cert: ps.us.Cert, Key: "secret"}} }, []string{"Keys[0].Key"}},
		{"EC encryption certificate", func(p *Profile) { p.EncryptCerts = []*x509.Certificate{ecdsaCert(t)} }, []string{"EncryptCerts[0]"}},
		{"nil certificates", func(p *Profile) {
			p.EncryptCerts, p.SigningCerts = []*x509.Certificate{nil}, []*x509.Certificate{ps.them.Cert, nil}
		}, []string{"EncryptCerts[0]", "SigningCerts[1]"}},
		{"signed MDN without partner certificates", func(p *Profile) { p.SigningCerts = nil }, []string{"SigningCerts"}},
		{"unknown digest", func(p *Profile) { p.Digest = 9 }, []string{"Digest"}},
		{"3DES is receive-only", func(p *Profile) { p.Cipher = edias2.DES3CBC }, []string{"Cipher"}},
		{"unknown cipher", func(p *Profile) { p.Cipher = 42 }, []string{"Cipher"}},
		{"unknown compression", func(p *Profile) { p.Compression = 3 }, []string{"Compression"}},
		{"unknown MDN mode", func(p *Profile) { p.MDN = 7 }, []string{"MDN"}},
		{"async without receipt URL", func(p *Profile) { p.MDN = edias2.MDNAsync }, []string{"ReceiptURL"}},
		{"async with a bad receipt URL", func(p *Profile) { p.MDN, p.ReceiptURL = edias2.MDNAsync, "mailto:as2@hub" }, []string{"ReceiptURL"}},
		{"receipt URL for sync", func(p *Profile) { p.ReceiptURL = "https://hub.example/mdn" }, []string{"ReceiptURL"}},
		{"signed MDN without MDN", func(p *Profile) { p.MDN, p.MICAlgs = edias2.MDNNone, nil }, []string{"SignedMDN"}},
		{"micalg without signed MDN", func(p *Profile) { p.SignedMDN = false }, []string{"MICAlgs"}},
		{"unknown micalg", func(p *Profile) { p.MICAlgs = []edias2.Digest{edias2.SHA256, 0} }, []string{"MICAlgs[1]"}},
		{"negative timeouts", func(p *Profile) { p.Timeout, p.AsyncMDNTimeout = -time.Second, -time.Minute }, []string{"Timeout", "AsyncMDNTimeout"}},
		{"unsigned and unencrypted need no keys", func(p *Profile) {
			p.Unsigned, p.Unencrypted, p.Keys, p.EncryptCerts = true, true, nil, nil
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProfile(t)
			tt.mod(p)
			err := p.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var pe *ProfileError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v (%T), want *ProfileError", err, err)
			}
			var got []string
			for _, f := range pe.Fields {
				got = append(got, f.Field)
				if f.Problem == "" || !strings.Contains(err.Error(), f.Field+": ") {
					t.Errorf("field %s: problem %q, error %q", f.Field, f.Problem, err)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("fields = %v, want %v\n%v", got, tt.want, err)
			}
		})
	}
}

// An invalid profile is a permanent error and nothing is sent.
func TestSendInvalidProfile(t *testing.T) {
	c := newCapture(t, 200, nil, nil)
	p := (&peer{srv: c.srv}).profile(t)
	p.Cipher = edias2.DES3CBC
	res, err := newSender(t, Config{}).Send(context.Background(), p, Message{Payload: x12})
	wantClass(t, err, fault.Permanent)
	var pe *ProfileError
	if !errors.As(err, &pe) || !pe.Has("Cipher") || res != nil || len(c.requests()) != 0 {
		t.Fatalf("error = %v, result %+v, requests %d", err, res, len(c.requests()))
	}
	if _, err := newSender(t, Config{}).Send(context.Background(), nil, Message{Payload: x12}); fault.ClassOf(err) != fault.Permanent {
		t.Fatalf("nil profile: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	_, err := New(Config{MaxMDNSize: -1, UserAgent: "a\r\nb"})
	if err == nil || !strings.Contains(err.Error(), "MaxMDNSize") || !strings.Contains(err.Error(), "UserAgent") {
		t.Fatalf("error = %v, want both fields named", err)
	}
}

func TestNormalizeID(t *testing.T) {
	for in, want := range map[string]string{
		"<a@b>": "<a@b>", "a@b": "<a@b>", " <a@b> ": "<a@b>", "": "", "<a@b": "<a@b>",
	} {
		if got := normalizeID(in); got != want {
			t.Errorf("normalizeID(%q) = %q, want %q", in, got, want)
		}
	}
}
