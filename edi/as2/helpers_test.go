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

// world is two AS2 parties, "PAKLOG" (us) and "Acme Corp" (them, an id with
// a space, so it travels quoted), each holding a profile of the other.
type world struct {
	us, them         *Identity
	usOld            KeyPair  // our previous key pair (rollover), Keys[1] of us
	themProfile      *Partner // our profile of them
	usProfile        *Partner // their profile of us
	stranger         KeyPair  // a key pair neither side trusts
	themAlt          KeyPair  // a second, also trusted, certificate of theirs
	recv, recvByThem *Receiver
}

func newWorld(t testing.TB) *world {
	t.Helper()
	now := time.Now()
	nb, na := now.Add(-time.Hour), now.Add(365*24*time.Hour)
	w := &world{}
	ourCur := KeyPair{as2test.SelfSigned(t, "PAKLOG AS2 2026", as2test.RSAKey(t, 0), 1001, nb, na), as2test.RSAKey(t, 0)}
	w.usOld = KeyPair{as2test.SelfSigned(t, "PAKLOG AS2 2025", as2test.RSAKey(t, 1), 1000, nb, na), as2test.RSAKey(t, 1)}
	theirs := KeyPair{as2test.SelfSigned(t, "Acme AS2", as2test.RSAKey(t, 2), 77, nb, na), as2test.RSAKey(t, 2)}
	w.themAlt = KeyPair{as2test.SelfSigned(t, "Acme AS2 next", as2test.RSAKey(t, 4), 78, nb, na), as2test.RSAKey(t, 4)}
	w.stranger = KeyPair{as2test.SelfSigned(t, "Mallory", as2test.RSAKey(t, 3), 666, nb, na), as2test.RSAKey(t, 3)}
	w.us = &Identity{ID: "PAKLOG", Keys: []KeyPair{ourCur, w.usOld}}
	w.them = &Identity{ID: "Acme Corp", Keys: []KeyPair{theirs}}
	w.themProfile = &Partner{ID: "Acme Corp", Certs: []*x509.Certificate{w.themAlt.Cert, theirs.Cert}, Sign: true, Encrypt: true}
	w.usProfile = &Partner{ID: "PAKLOG", Certs: []*x509.Certificate{ourCur.Cert}}
	var err error
	w.recv, err = NewReceiver(DefaultConfig(), ResolverFunc(func(_ context.Context, partner, ours string) (*Partner, *Identity, error) {
		if partner != w.themProfile.ID || ours != w.us.ID {
			return nil, nil, ErrUnknownPartner
		}
		return w.themProfile, w.us, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	w.recvByThem, err = NewReceiver(DefaultConfig(), ResolverFunc(func(_ context.Context, partner, ours string) (*Partner, *Identity, error) {
		if partner != w.usProfile.ID || ours != w.them.ID {
			return nil, nil, ErrUnknownPartner
		}
		return w.usProfile, w.them, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// receiver returns a Receiver for "us" with a modified config.
func (w *world) receiver(t testing.TB, mod func(*Config)) *Receiver {
	t.Helper()
	cfg := DefaultConfig()
	mod(&cfg)
	r, err := NewReceiver(cfg, w.recv.resolver)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (w *world) parse(t testing.TB, r *Receiver, req *Request) (*Message, error) {
	t.Helper()
	if r == nil {
		r = w.recv
	}
	return r.Parse(context.Background(), req.Header, bytes.NewReader(req.Body))
}

// wantModifier fails unless err is an *Error with modifier m.
func wantModifier(t testing.TB, err error, m Modifier) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error with modifier %q", err, err, m)
	}
	if e.Modifier != m {
		t.Fatalf("modifier = %q, want %q; error: %v", e.Modifier, m, err)
	}
	return e
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// x12 is a small X12 payload with CRLF segment terminators.
var x12 = []byte("ISA*00*          *00*          *ZZ*ACME           *ZZ*PAKLOG         *260101*1200*U*00401*000000001*0*P*>~\r\n" +
	"GS*PO*ACME*PAKLOG*20260101*1200*1*X*004010~\r\nST*850*0001~\r\nSE*2*0001~\r\nGE*1*1~\r\nIEA*1*000000001~\r\n")
