package as2

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	as2recv "github.com/paklog/integration-hub/adapters/as2"
	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/as2test"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/intake/intaketest"
)

var x12 = []byte("ISA*00*          *00*          *ZZ*PAKLOG         *ZZ*ACME           *260101*1200*U*00401*000000001*0*P*>~\r\n" +
	"GS*SH*PAKLOG*ACME*20260101*1200*1*X*004010~\r\nST*856*0001~\r\nBSN*00*SHP-1*20260101*1200~\r\nSE*3*0001~\r\nGE*1*1~\r\nIEA*1*000000001~\r\n")

// newKeyPair makes a self-signed certificate (a CA, so that openssl -CAfile
// accepts it as a trust anchor) for test key i.
func newKeyPair(t testing.TB, i int, cn string, serial int64, notBefore, notAfter time.Time) edias2.KeyPair {
	t.Helper()
	key := as2test.RSAKey(t, i)
	return edias2.KeyPair{Cert: as2test.SelfSigned(t, cn, key, serial, notBefore, notAfter), Key: key}
}

// parties are the key pairs of a test, valid from an hour ago for a year.
type parties struct {
	us, them, stranger edias2.KeyPair
}

var (
	partiesOnce sync.Once
	theParties  parties
)

func testParties(t testing.TB) parties {
	t.Helper()
	partiesOnce.Do(func() {
		nb, na := time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour)
		theParties = parties{
			us:       newKeyPair(t, 0, "PAKLOG AS2", 1001, nb, na),
			them:     newKeyPair(t, 1, "ACME AS2", 77, nb, na),
			stranger: newKeyPair(t, 2, "Mallory", 666, nb, na),
		}
	})
	return theParties
}

// captured is one request as it reached the peer.
type captured struct {
	Header http.Header
	Body   []byte
}

// peer is the trading partner "ACME": the hub's own AS2 receiver
// (adapters/as2) on httptest, with the partner's keys, receiving from "PAKLOG".
type peer struct {
	them  *edias2.Identity
	ofUs  *edias2.Partner // ACME's profile of us; tests may change it before sending
	acc   *intaketest.Memory
	store *as2recv.MemoryStore
	h     *as2recv.Receiver
	srv   *httptest.Server
	recv  *edias2.Receiver

	mu   sync.Mutex
	reqs []captured
}

func newPeer(t testing.TB) *peer {
	t.Helper()
	ps := testParties(t)
	pe := &peer{
		them:  &edias2.Identity{ID: "ACME", Keys: []edias2.KeyPair{ps.them}},
		ofUs:  &edias2.Partner{ID: "PAKLOG", Certs: []*x509.Certificate{ps.us.Cert}},
		acc:   &intaketest.Memory{},
		store: as2recv.NewMemoryStore(),
	}
	var err error
	pe.recv, err = edias2.NewReceiver(edias2.DefaultConfig(), edias2.ResolverFunc(
		func(_ context.Context, partner, ours string) (*edias2.Partner, *edias2.Identity, error) {
			if partner == "PAKLOG" && ours == "ACME" {
				return pe.ofUs, pe.them, nil
			}
			return nil, nil, edias2.ErrUnknownPartner
		}))
	if err != nil {
		t.Fatal(err)
	}
	pe.h, err = as2recv.New(as2recv.Config{Receiver: pe.recv,
		Retry: as2recv.Retry{MaxAttempts: 3, InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond}},
		pe.acc, pe.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	pe.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		pe.mu.Lock()
		pe.reqs = append(pe.reqs, captured{r.Header.Clone(), body})
		pe.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		pe.h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		pe.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = pe.h.Close(ctx)
	})
	return pe
}

// profile is our default profile of the peer: signed, encrypted, sync signed MDN.
func (pe *peer) profile(t testing.TB) *Profile {
	ps := testParties(t)
	return &Profile{
		LocalID:      "PAKLOG",
		PartnerID:    "ACME",
		URL:          pe.srv.URL + "/as2",
		Keys:         []edias2.KeyPair{ps.us},
		EncryptCerts: []*x509.Certificate{ps.them.Cert},
		SigningCerts: []*x509.Certificate{ps.them.Cert},
		MDN:          edias2.MDNSync,
		SignedMDN:    true,
		Timeout:      30 * time.Second,
	}
}

// last parses the last request the peer received, with the partner's keys.
func (pe *peer) last(t testing.TB) *edias2.Message {
	t.Helper()
	pe.mu.Lock()
	c := pe.reqs[len(pe.reqs)-1]
	pe.mu.Unlock()
	return parseAsPartner(t, c)
}

func parseAsPartner(t testing.TB, c captured) *edias2.Message {
	t.Helper()
	ps := testParties(t)
	recv, err := edias2.NewReceiver(edias2.DefaultConfig(), edias2.ResolverFunc(
		func(context.Context, string, string) (*edias2.Partner, *edias2.Identity, error) {
			return &edias2.Partner{ID: "PAKLOG", Certs: []*x509.Certificate{ps.us.Cert}},
				&edias2.Identity{ID: "ACME", Keys: []edias2.KeyPair{ps.them}}, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := recv.Parse(context.Background(), c.Header, bytes.NewReader(c.Body))
	if err != nil {
		t.Fatalf("the partner cannot read what we sent: %v", err)
	}
	return msg
}

func newSender(t testing.TB, cfg Config) *Sender {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// capture is a partner endpoint that records requests and answers with status
// and body (200 and nothing by default).
type capture struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []captured
	status int
	header http.Header
	body   []byte
}

func newCapture(t testing.TB, status int, header http.Header, body []byte) *capture {
	t.Helper()
	c := &capture{status: status, header: header, body: body}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.reqs = append(c.reqs, captured{r.Header.Clone(), b})
		c.mu.Unlock()
		for k, v := range c.header {
			w.Header()[k] = v
		}
		w.WriteHeader(c.status)
		_, _ = w.Write(c.body)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *capture) requests() []captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]captured(nil), c.reqs...)
}

func wantClass(t testing.TB, err error, want fault.Class) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want a %s error", want)
	}
	if got := fault.ClassOf(err); got != want {
		t.Fatalf("class = %s, want %s; error: %v", got, want, err)
	}
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error is not classified with internal/fault: %v", err)
	}
}

func wantMDNError(t testing.TB, err error, mod edias2.Modifier) *MDNError {
	t.Helper()
	var me *MDNError
	if !errors.As(err, &me) {
		t.Fatalf("error = %v (%T), want *MDNError with %q", err, err, mod)
	}
	if me.Modifier != mod {
		t.Fatalf("modifier = %q, want %q; error: %v", me.Modifier, mod, err)
	}
	return me
}
