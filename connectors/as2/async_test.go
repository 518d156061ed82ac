package as2

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/fault"
)

type outcome struct {
	res *Result
	err error
}

// receiptEndpoint is the hub's async MDN route as the doc tells the wiring to
// write it: HandleAsyncMDN, then 4xx/5xx for a refused MDN, 200 otherwise. It is
// created unstarted so that the sender can be built with its URL first.
type receiptEndpoint struct {
	srv      *httptest.Server
	URL      string
	outcomes chan outcome
}

func newReceiptEndpoint(t *testing.T, s **Sender) *receiptEndpoint {
	t.Helper()
	ep := &receiptEndpoint{outcomes: make(chan outcome, 8)}
	ep.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := (*s).HandleAsyncMDN(r.Context(), r.Header, r.Body)
		ep.outcomes <- outcome{res, err}
		switch {
		case res == nil && fault.ClassOf(err) == fault.Transient:
			w.WriteHeader(http.StatusServiceUnavailable)
		case res == nil:
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	ep.URL = "http://" + ep.srv.Listener.Addr().String() + "/as2/mdn"
	t.Cleanup(ep.srv.Close)
	return ep
}

func (ep *receiptEndpoint) wait(t *testing.T) outcome {
	t.Helper()
	select {
	case o := <-ep.outcomes:
		return o
	case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("no asynchronous MDN arrived")
		return outcome{}
	}
}

// asyncSetup is a sender with a MemoryPending, a receipt endpoint and a profile
// of pe asking for an asynchronous signed MDN there.
func asyncSetup(t *testing.T, pe *peer) (*Sender, *MemoryPending, *receiptEndpoint, *Profile) {
	t.Helper()
	var s *Sender
	ep := newReceiptEndpoint(t, &s)
	p := pe.profile(t)
	p.MDN, p.ReceiptURL = edias2.MDNAsync, ep.URL
	pending := NewMemoryPending()
	s = newSender(t, Config{Pending: pending, Profiles: func(_ context.Context, partner, local string) (*Profile, error) {
		if partner == p.PartnerID && local == p.LocalID {
			return p, nil
		}
		return nil, fmt.Errorf("%q to %q: %w", local, partner, edias2.ErrUnknownPartner)
	}})
	ep.srv.Start()
	return s, pending, ep, p
}

func TestAsyncMDN(t *testing.T) {
	pe := newPeer(t)
	s, pending, ep, p := asyncSetup(t, pe)
	res, err := s.Send(context.Background(), p, Message{Payload: x12, ContentType: "application/edi-x12"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusPendingMDN || res.MDN != nil || res.Receipt != nil {
		t.Fatalf("result = %+v", res)
	}
	if msg := pe.last(t); msg.MDN.Mode != edias2.MDNAsync || msg.MDN.URL != ep.URL || !msg.MDN.Signed {
		t.Fatalf("receipt request on the wire = %+v", msg.MDN)
	}

	o := ep.wait(t)
	if o.err != nil {
		t.Fatal(o.err)
	}
	got := o.res
	if got.Status != StatusDelivered || got.MessageID != res.MessageID || !got.MIC.Equal(res.MIC) ||
		!got.Receipt.MIC.Equal(res.MIC) || !got.Receipt.Security.Signed {
		t.Fatalf("async result = %+v", got)
	}
	if pending.Len() != 0 {
		t.Fatalf("%d sends still pending after their MDN", pending.Len())
	}
	kept, err := pe.store.Get(context.Background(), "PAKLOG", res.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if string(kept.Body) != string(got.MDN) || got.Header.Get("Content-Type") != kept.Header.Get("Content-Type") {
		t.Fatal("the MDN we got is not the one the partner kept")
	}
	if items := pe.acc.Accepted(); len(items) != 1 || string(items[0].Payload) != string(x12) {
		t.Fatalf("committed %d items", len(items))
	}
}

func TestAsyncNegativeMDN(t *testing.T) {
	pe := newPeer(t)
	s, pending, ep, p := asyncSetup(t, pe)
	p.EncryptCerts = []*x509.Certificate{testParties(t).stranger.Cert}
	res, err := s.Send(context.Background(), p, Message{Payload: x12})
	if err != nil || res.Status != StatusPendingMDN {
		t.Fatalf("send: %v, %+v", err, res)
	}
	o := ep.wait(t)
	if o.res == nil || o.res.MessageID != res.MessageID {
		t.Fatalf("outcome = %+v, %v; want the message's result", o.res, o.err)
	}
	wantClass(t, o.err, fault.Permanent)
	wantMDNError(t, o.err, edias2.DecryptionFailed)
	if pending.Len() != 0 {
		t.Fatal("the refused send is still pending")
	}
}

// A partner that ignores Receipt-Delivery-Option and answers in the response:
// the MDN is taken from there and the pending record dropped.
func TestAsyncAnsweredSynchronously(t *testing.T) {
	pe := newPeer(t)
	target, _ := url.Parse(pe.srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	director := rp.Director
	rp.Director = func(r *http.Request) {
		director(r)
		r.Header.Del("Receipt-Delivery-Option")
	}
	px := httptest.NewServer(rp)
	defer px.Close()
	s, pending, _, p := asyncSetup(t, pe)
	p.URL = px.URL + "/as2"
	res, err := s.Send(context.Background(), p, Message{Payload: x12})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusDelivered || !res.Receipt.MIC.Equal(res.MIC) {
		t.Fatalf("result = %+v", res)
	}
	if pending.Len() != 0 {
		t.Fatal("a send answered synchronously is still pending")
	}
}

// A send that failed for good will get no MDN; one that failed transiently may
// (the partner may have processed it) and is retried under the same Message-ID.
func TestAsyncPendingRecord(t *testing.T) {
	now := time.Now().Add(-24 * time.Hour).Truncate(time.Second) // the sender's clock, fixed
	for _, tt := range []struct {
		status      int
		wantPending int
	}{{200, 1}, {503, 1}, {400, 0}} {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			c := newCapture(t, tt.status, nil, nil)
			pending := NewMemoryPending()
			// certificates valid at the fixed clock and now (pkcs7 stamps the real time)
			us := newKeyPair(t, 0, "PAKLOG AS2", 9001, now.Add(-time.Hour), time.Now().Add(time.Hour))
			p := (&peer{srv: c.srv}).profile(t)
			p.Keys, p.EncryptCerts = []edias2.KeyPair{us}, []*x509.Certificate{newKeyPair(t, 1, "ACME AS2", 9002, now.Add(-time.Hour), time.Now().Add(time.Hour)).Cert}
			p.MDN, p.ReceiptURL, p.AsyncMDNTimeout = edias2.MDNAsync, "https://hub.example/as2/mdn", 2*time.Hour
			res, err := newSender(t, Config{Pending: pending, Now: func() time.Time { return now }}).Send(context.Background(), p, Message{Payload: x12})
			if tt.status == 200 && (err != nil || res.Status != StatusPendingMDN) {
				t.Fatalf("send: %v", err)
			}
			if pending.Len() != tt.wantPending {
				t.Fatalf("%d pending, want %d", pending.Len(), tt.wantPending)
			}
			if tt.wantPending == 0 {
				return
			}
			if exp, _ := pending.Expired(context.Background(), now.Add(2*time.Hour)); len(exp) != 0 {
				t.Fatalf("expired at the deadline itself: %+v", exp)
			}
			exp, err := pending.Expired(context.Background(), now.Add(2*time.Hour+time.Second))
			if err != nil || len(exp) != 1 {
				t.Fatalf("expired = %+v, %v", exp, err)
			}
			want := Pending{MessageID: res.MessageID, Partner: "ACME", MIC: res.MIC, SentAt: now, Deadline: now.Add(2 * time.Hour)}
			got := exp[0]
			if got.MessageID != want.MessageID || got.Partner != want.Partner || !got.MIC.Equal(want.MIC) ||
				!got.SentAt.Equal(want.SentAt) || !got.Deadline.Equal(want.Deadline) {
				t.Fatalf("pending = %+v, want %+v", got, want)
			}
		})
	}
}

func TestHandleAsyncMDNRefusals(t *testing.T) {
	ps := testParties(t)
	acme := &Profile{LocalID: "PAKLOG", PartnerID: "ACME", URL: "https://acme.example/as2", Keys: []edias2.KeyPair{ps.us},
		EncryptCerts: []*x509.Certificate{ps.them.Cert}, SigningCerts: []*x509.Certificate{ps.them.Cert},
		MDN: edias2.MDNAsync, ReceiptURL: "https://hub.example/mdn", SignedMDN: true}
	other := *acme
	other.PartnerID, other.SigningCerts, other.EncryptCerts = "OTHER", []*x509.Certificate{ps.stranger.Cert}, []*x509.Certificate{ps.stranger.Cert}
	profiles := func(_ context.Context, partner, local string) (*Profile, error) {
		switch {
		case local != "PAKLOG":
		case partner == "ACME":
			return acme, nil
		case partner == "OTHER":
			return &other, nil
		case partner == "FLAKY":
			return nil, errors.New("partner database is down")
		}
		return nil, edias2.ErrUnknownPartner
	}
	pending := NewMemoryPending()
	s := newSender(t, Config{Pending: pending, Profiles: profiles})
	mic := edias2.MIC{Digest: edias2.SHA256, Value: make([]byte, 32)}
	mic.Value[0] = 42
	ctx := context.Background()
	if err := pending.Save(ctx, Pending{MessageID: "<m1@PAKLOG>", Partner: "ACME", MIC: mic}); err != nil {
		t.Fatal(err)
	}

	// mdn is a receipt from partner (signed with kp unless unsigned) for origID.
	mdn := func(partner string, kp edias2.KeyPair, signed bool, origID string, mic edias2.MIC) (http.Header, *strings.Reader) {
		t.Helper()
		msg := &edias2.Message{MessageID: origID, From: "PAKLOG", To: partner, MIC: mic,
			Identity: &edias2.Identity{ID: partner, Keys: []edias2.KeyPair{kp}},
			MDN:      edias2.MDNRequest{Mode: edias2.MDNAsync, URL: "https://hub.example/mdn", Signed: signed}}
		resp, err := edias2.BuildMDN(msg, nil, edias2.MDNOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header, strings.NewReader(string(resp.Body))
	}

	refusals := []struct {
		name      string
		h         http.Header
		body      *strings.Reader
		want      error
		wantClass fault.Class
	}{
		{"unknown Original-Message-ID", nil, nil, ErrUnknownMessage, fault.Permanent},
		{"unsigned (forged) receipt", nil, nil, ErrUnsignedMDN, fault.Permanent},
		{"signed by a stranger", nil, nil, ErrMDNSigner, fault.Permanent},
		{"another partner's receipt for our message", nil, nil, ErrUnknownMessage, fault.Permanent},
		{"unknown partner", nil, nil, edias2.ErrUnknownPartner, fault.Permanent},
		{"profile lookup fails", nil, nil, nil, fault.Transient},
	}
	refusals[0].h, refusals[0].body = mdn("ACME", ps.them, true, "<nobody@PAKLOG>", mic)
	refusals[1].h, refusals[1].body = mdn("ACME", ps.them, false, "<m1@PAKLOG>", mic)
	refusals[2].h, refusals[2].body = mdn("ACME", ps.stranger, true, "<m1@PAKLOG>", mic)
	refusals[3].h, refusals[3].body = mdn("OTHER", ps.stranger, true, "<m1@PAKLOG>", mic)
	refusals[4].h, refusals[4].body = mdn("NOBODY", ps.stranger, true, "<m1@PAKLOG>", mic)
	refusals[5].h, refusals[5].body = mdn("FLAKY", ps.stranger, true, "<m1@PAKLOG>", mic)
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.HandleAsyncMDN(ctx, tt.h, tt.body)
			wantClass(t, err, tt.wantClass)
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if res != nil {
				t.Fatalf("a refused MDN produced a result: %+v", res)
			}
			if pending.Len() != 1 {
				t.Fatal("a refused MDN settled the pending send")
			}
		})
	}

	t.Run("MIC mismatch settles the send with an error", func(t *testing.T) {
		other := edias2.MIC{Digest: edias2.SHA256, Value: make([]byte, 32)}
		h, body := mdn("ACME", ps.them, true, "m1@PAKLOG", other) // brackets dropped, as some products do
		res, err := s.HandleAsyncMDN(ctx, h, body)
		wantClass(t, err, fault.Transient)
		var me *MICError
		if !errors.As(err, &me) || !me.Sent.Equal(mic) || !me.Received.Equal(other) {
			t.Fatalf("error = %v, want *MICError", err)
		}
		if res == nil || res.MessageID != "<m1@PAKLOG>" || len(res.MDN) == 0 || res.Status != "" {
			t.Fatalf("result = %+v", res)
		}
		if pending.Len() != 0 {
			t.Fatal("the settled send is still pending")
		}
	})

	t.Run("a second MDN for a settled send", func(t *testing.T) {
		h, body := mdn("ACME", ps.them, true, "<m1@PAKLOG>", mic)
		res, err := s.HandleAsyncMDN(ctx, h, body)
		if res != nil || !errors.Is(err, ErrUnknownMessage) {
			t.Fatalf("result %+v, error %v; want ErrUnknownMessage", res, err)
		}
	})

	t.Run("not configured", func(t *testing.T) {
		h, body := mdn("ACME", ps.them, true, "<m1@PAKLOG>", mic)
		_, err := newSender(t, Config{}).HandleAsyncMDN(ctx, h, body)
		wantClass(t, err, fault.Permanent)
		if !errors.Is(err, ErrNotConfigured) {
			t.Fatalf("error = %v", err)
		}
		p := *acme
		_, err = newSender(t, Config{}).Send(ctx, &p, Message{Payload: x12})
		if !errors.Is(err, ErrNotConfigured) || fault.ClassOf(err) != fault.Permanent {
			t.Fatalf("async send without a PendingStore: %v", err)
		}
	})
}

func TestMemoryPending(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewMemoryPending()
	for i, p := range []Pending{
		{MessageID: "<b@x>", Partner: "ACME", Deadline: t0.Add(2 * time.Hour)},
		{MessageID: "<a@x>", Partner: "ACME", Deadline: t0.Add(time.Hour)},
		{MessageID: "<a@x>", Partner: "OTHER", Deadline: t0.Add(3 * time.Hour)},
	} {
		if err := s.Save(ctx, p); err != nil {
			t.Fatal(i, err)
		}
	}
	exp, err := s.Expired(ctx, t0.Add(150*time.Minute))
	if err != nil || len(exp) != 2 || exp[0].MessageID != "<a@x>" || exp[1].MessageID != "<b@x>" {
		t.Fatalf("expired = %+v, %v; want a then b", exp, err)
	}
	if s.Len() != 3 {
		t.Fatal("Expired removed records")
	}
	if _, err := s.Match(ctx, "OTHER", "<b@x>"); !errors.Is(err, ErrUnknownMessage) {
		t.Fatalf("matched another partner's record: %v", err)
	}
	// A resend replaces the record.
	if err := s.Save(ctx, Pending{MessageID: "<b@x>", Partner: "ACME", Deadline: t0.Add(5 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if exp, _ := s.Expired(ctx, t0.Add(150*time.Minute)); len(exp) != 1 {
		t.Fatalf("after the resend, expired = %+v", exp)
	}

	// Concurrent claims: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 16 {
		wg.Go(func() {
			if _, err := s.Match(ctx, "ACME", "<a@x>"); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent claims won, want 1", wins)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Save(cctx, Pending{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Save with a cancelled context: %v", err)
	}
}
