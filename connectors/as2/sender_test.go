package as2

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	as2recv "github.com/paklog/integration-hub/adapters/as2"
	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/as2test"
	"github.com/paklog/integration-hub/internal/fault"
)

func TestSendSyncSignedMDN(t *testing.T) {
	pe := newPeer(t)
	s := newSender(t, Config{})
	res, err := s.Send(context.Background(), pe.profile(t), Message{
		Payload: x12, ContentType: "application/edi-x12", FileName: "856-0001.x12", Subject: "ASN 0001",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusDelivered || res.Warning != "" {
		t.Fatalf("status = %q, warning %q", res.Status, res.Warning)
	}
	if !strings.HasPrefix(res.MessageID, "<") || !strings.HasSuffix(res.MessageID, "@PAKLOG>") {
		t.Fatalf("generated Message-ID = %q, want <…@PAKLOG>", res.MessageID)
	}

	// The partner committed the payload byte for byte, with our MIC.
	items := pe.acc.Accepted()
	if len(items) != 1 {
		t.Fatalf("committed %d items, want 1", len(items))
	}
	it := items[0]
	if !bytes.Equal(it.Payload, x12) || it.ContentType != "application/edi-x12" ||
		it.Metadata[as2recv.MetaFilename] != "856-0001.x12" || it.Metadata[as2recv.MetaSubject] != "ASN 0001" ||
		it.Metadata[as2recv.MetaMessageID] != res.MessageID || it.Metadata[as2recv.MetaFrom] != "PAKLOG" {
		t.Fatalf("committed item = %+v", it)
	}
	if it.Metadata[as2recv.MetaMIC] != res.MIC.String() {
		t.Fatalf("partner's MIC %q, ours %q", it.Metadata[as2recv.MetaMIC], res.MIC)
	}

	// The receipt: signed by the partner, answering our message, with our MIC.
	r := res.Receipt
	if r == nil || !r.Security.Signed || r.Security.Signer != testParties(t).them.Cert {
		t.Fatalf("receipt = %+v", r)
	}
	if !r.MIC.Equal(res.MIC) || res.MIC.Digest != edias2.SHA256 || r.OriginalMessageID != res.MessageID {
		t.Fatalf("Received-Content-MIC %q, ours %q; Original-Message-ID %q", r.MIC, res.MIC, r.OriginalMessageID)
	}
	if !res.Disposition.OK() || res.Disposition.Modifier != "" {
		t.Fatalf("disposition = %s", res.Disposition)
	}
	// What we keep is exactly what the partner kept and sent.
	kept, err := pe.store.Get(context.Background(), "PAKLOG", res.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept.Body, res.MDN) || kept.Header.Get("Content-Type") != res.Header.Get("Content-Type") {
		t.Fatalf("kept MDN differs from the partner's (%d vs %d bytes)", len(res.MDN), len(kept.Body))
	}

	// What went over the wire: signed and encrypted with the defaults.
	msg := pe.last(t)
	if !msg.Security.Signed || msg.Security.Digest != edias2.SHA256 || !msg.Security.Encrypted || msg.Security.Cipher != edias2.AES128CBC ||
		msg.Security.Compressed {
		t.Fatalf("security on the wire = %+v", msg.Security)
	}
	if !msg.MDN.Signed || msg.MDN.Mode != edias2.MDNSync || !slices.Equal(msg.MDN.MICAlgs, []edias2.Digest{edias2.SHA256}) {
		t.Fatalf("receipt request = %+v", msg.MDN)
	}
}

// Every digest × cipher × compression, against the real receiver.
func TestSendAlgorithms(t *testing.T) {
	pe := newPeer(t)
	s := newSender(t, Config{})
	compNames := map[edias2.Compression]string{edias2.CompressNone: "none", edias2.CompressBeforeSigning: "before-signing", edias2.CompressAfterSigning: "after-signing"}
	for _, d := range []edias2.Digest{edias2.SHA1, edias2.SHA256, edias2.SHA384, edias2.SHA512} {
		for _, c := range []edias2.Cipher{edias2.AES128CBC, edias2.AES192CBC, edias2.AES256CBC} {
			for _, comp := range []edias2.Compression{edias2.CompressNone, edias2.CompressBeforeSigning, edias2.CompressAfterSigning} {
				t.Run(fmt.Sprintf("%s/%s/%s", d, c, compNames[comp]), func(t *testing.T) {
					p := pe.profile(t)
					p.Digest, p.Cipher, p.Compression = d, c, comp
					payload := append(append([]byte(nil), x12...), fmt.Sprintf("%s %s %d", d, c, comp)...)
					res, err := s.Send(context.Background(), p, Message{Payload: payload, ContentType: "application/edi-x12"})
					if err != nil {
						t.Fatal(err)
					}
					if res.Status != StatusDelivered || res.MIC.Digest != d || !res.Receipt.MIC.Equal(res.MIC) {
						t.Fatalf("status %s, MIC %s, partner's %s", res.Status, res.MIC, res.Receipt.MIC)
					}
					// signed-receipt-micalg defaults to the signing digest
					if res.Receipt.Security.Digest != d {
						t.Fatalf("MDN signed with %s, want %s", res.Receipt.Security.Digest, d)
					}
					msg := pe.last(t)
					if !bytes.Equal(msg.Payload.Data, payload) {
						t.Fatalf("payload on the wire = %q", msg.Payload.Data)
					}
					sec := msg.Security
					if sec.Digest != d || sec.Cipher != c || sec.Compressed != (comp != edias2.CompressNone) {
						t.Fatalf("security on the wire = %+v", sec)
					}
					wantLayers := map[edias2.Compression][]edias2.Layer{
						edias2.CompressNone:          {edias2.LayerEncrypted, edias2.LayerSigned},
						edias2.CompressBeforeSigning: {edias2.LayerEncrypted, edias2.LayerSigned, edias2.LayerCompressed},
						edias2.CompressAfterSigning:  {edias2.LayerEncrypted, edias2.LayerCompressed, edias2.LayerSigned},
					}[comp]
					if !slices.Equal(sec.Layers, wantLayers) {
						t.Fatalf("layers = %v, want %v", sec.Layers, wantLayers)
					}
					if items := pe.acc.Accepted(); !bytes.Equal(items[len(items)-1].Payload, payload) {
						t.Fatal("the partner committed other bytes")
					}
				})
			}
		}
	}
}

func TestSendWithoutSecurityOrReceipt(t *testing.T) {
	tests := []struct {
		name       string
		mod        func(*Profile)
		wantStatus Status
		wantLayers []edias2.Layer
	}{
		{"plain with unsigned sync MDN", func(p *Profile) {
			p.Unsigned, p.Unencrypted, p.SignedMDN, p.Keys, p.EncryptCerts = true, true, false, nil, nil
		}, StatusDelivered, nil},
		{"signed only, no MDN", func(p *Profile) {
			p.Unencrypted, p.MDN, p.SignedMDN = true, edias2.MDNNone, false
		}, StatusDeliveredWithoutMDN, []edias2.Layer{edias2.LayerSigned}},
		{"encrypted only, compressed", func(p *Profile) {
			p.Unsigned, p.Compression, p.Cipher = true, edias2.CompressBeforeSigning, edias2.AES256CBC
		}, StatusDelivered, []edias2.Layer{edias2.LayerEncrypted, edias2.LayerCompressed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pe := newPeer(t)
			p := pe.profile(t)
			tt.mod(p)
			res, err := newSender(t, Config{}).Send(context.Background(), p, Message{Payload: x12, ContentType: "application/edi-x12"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.wantStatus {
				t.Fatalf("status = %s, want %s", res.Status, tt.wantStatus)
			}
			if tt.wantStatus == StatusDelivered && (!res.Receipt.MIC.Equal(res.MIC) || res.Receipt.Security.Signed != p.SignedMDN) {
				t.Fatalf("receipt MIC %s (ours %s), signed %v", res.Receipt.MIC, res.MIC, res.Receipt.Security.Signed)
			}
			if tt.wantStatus == StatusDeliveredWithoutMDN && (res.MDN != nil || res.Receipt != nil) {
				t.Fatalf("a receipt for a message that asked for none: %q", res.MDN)
			}
			if msg := pe.last(t); !slices.Equal(msg.Security.Layers, tt.wantLayers) || !bytes.Equal(msg.Payload.Data, x12) {
				t.Fatalf("layers on the wire = %v, want %v", msg.Security.Layers, tt.wantLayers)
			}
			if len(pe.acc.Accepted()) != 1 {
				t.Fatal("the partner did not commit the payload")
			}
		})
	}
}

func TestNegativeMDN(t *testing.T) {
	ps := testParties(t)
	tests := []struct {
		name      string
		setup     func(pe *peer, p *Profile)
		want      edias2.Modifier
		sentinel  error
		wantClass fault.Class
	}{
		{"partner does not know our certificate", func(pe *peer, p *Profile) {
			pe.ofUs.Certs = []*x509.Certificate{ps.stranger.Cert}
		}, edias2.AuthenticationFailed, edias2.ErrAuthenticationFailed, fault.Permanent},
		{"encrypted to a certificate the partner does not hold", func(pe *peer, p *Profile) {
			p.EncryptCerts = []*x509.Certificate{ps.stranger.Cert}
		}, edias2.DecryptionFailed, edias2.ErrDecryptionFailed, fault.Permanent},
		{"partner requires encryption", func(pe *peer, p *Profile) {
			pe.ofUs.RequireEncryption = true
			p.Unencrypted, p.EncryptCerts = true, nil
		}, edias2.DecryptionFailed, edias2.ErrDecryptionFailed, fault.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pe := newPeer(t)
			p := pe.profile(t)
			tt.setup(pe, p)
			res, err := newSender(t, Config{}).Send(context.Background(), p, Message{Payload: x12, ContentType: "application/edi-x12"})
			wantClass(t, err, tt.wantClass)
			me := wantMDNError(t, err, tt.want)
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("errors.Is(err, %v) = false: %v", tt.sentinel, err)
			}
			if me.MessageID != res.MessageID || me.Partner != "ACME" || !strings.Contains(me.Text, "could not be processed") {
				t.Fatalf("MDNError = %+v", me)
			}
			if !strings.Contains(err.Error(), "processed/Error: "+string(tt.want)) {
				t.Fatalf("error does not quote the disposition: %v", err)
			}
			// The negative receipt is kept raw, and verified: it is signed.
			if res == nil || len(res.MDN) == 0 || res.Receipt == nil || !res.Receipt.Security.Signed || res.Status != "" {
				t.Fatalf("result = %+v", res)
			}
			if len(pe.acc.Accepted()) != 0 {
				t.Fatal("a refused message was committed")
			}
		})
	}

	// A Message-ID reused for other content: adapters/as2 answers
	// unexpected-processing-error, and a resend (same bytes, same Message-ID)
	// would get the same answer, so the error is permanent, not retried.
	t.Run("unexpected-processing-error for a reused Message-ID is permanent", func(t *testing.T) {
		pe := newPeer(t)
		s := newSender(t, Config{})
		if _, err := s.Send(context.Background(), pe.profile(t), Message{Payload: x12, MessageID: "<reused@PAKLOG>"}); err != nil {
			t.Fatal(err)
		}
		// The same Message-ID with other content: the peer's intake refuses it.
		_, err := s.Send(context.Background(), pe.profile(t), Message{Payload: append([]byte("X"), x12...), MessageID: "reused@PAKLOG"})
		wantClass(t, err, fault.Permanent)
		wantMDNError(t, err, edias2.UnexpectedProcessingError)
		if !strings.Contains(err.Error(), "same Message-ID") {
			t.Errorf("error does not say what to do: %v", err)
		}
	})

	t.Run("resend under the same Message-ID is delivered once", func(t *testing.T) {
		pe := newPeer(t)
		s := newSender(t, Config{})
		r1, err := s.Send(context.Background(), pe.profile(t), Message{Payload: x12, MessageID: "<again@PAKLOG>"})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := s.Send(context.Background(), pe.profile(t), Message{Payload: x12, MessageID: "<again@PAKLOG>"})
		if err != nil {
			t.Fatal(err)
		}
		if r2.Status != StatusDelivered || !bytes.Equal(r1.MDN, r2.MDN) || len(pe.acc.Accepted()) != 2 || pe.acc.Distinct() != 1 {
			t.Fatalf("resend: status %s, same MDN %v, distinct items %d", r2.Status, bytes.Equal(r1.MDN, r2.MDN), pe.acc.Distinct())
		}
	})
}

// A warning is delivered, with the warning carried.
func TestWarningMDN(t *testing.T) {
	ps := testParties(t)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := parseAsPartner(t, captured{r.Header, readAll(t, r.Body)})
		resp, err := edias2.BuildMDN(msg, nil, edias2.MDNOptions{})
		if err != nil {
			t.Error(err)
			return
		}
		body := bytes.Replace(resp.Body, []byte("; processed\r\n"), []byte("; processed/Warning: duplicate-document\r\n"), 1)
		if bytes.Equal(body, resp.Body) {
			t.Error("test MDN has no disposition to rewrite")
		}
		writeMDN(w, resp.Header, body)
	}))
	defer srv.Close()
	p := &Profile{LocalID: "PAKLOG", PartnerID: "ACME", URL: srv.URL, Keys: []edias2.KeyPair{ps.us},
		EncryptCerts: []*x509.Certificate{ps.them.Cert}, SigningCerts: []*x509.Certificate{ps.them.Cert}, MDN: edias2.MDNSync}
	res, err := newSender(t, Config{}).Send(context.Background(), p, Message{Payload: x12})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusDelivered || res.Warning != "duplicate-document" {
		t.Fatalf("status %s, warning %q", res.Status, res.Warning)
	}
}

// proxy forwards to target, letting the test rewrite the request body and the
// response body.
func proxy(t *testing.T, target string, req, resp func([]byte) []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := readAll(t, r.Body)
		if req != nil {
			body = req(body)
		}
		out, err := http.NewRequest(r.Method, target, bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return
		}
		out.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(out)
		if err != nil {
			t.Error(err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		rb := readAll(t, res.Body)
		if resp != nil {
			rb = resp(rb)
		}
		for k, v := range res.Header {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(rb)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTamperedMDN(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(*testing.T, []byte) []byte
		want   edias2.Modifier // what edi/as2 reports underneath
	}{
		{"signature flipped", as2test.FlipSignatureBit, edias2.AuthenticationFailed},
		{"report altered", func(t *testing.T, b []byte) []byte {
			out := bytes.Replace(b, []byte("was received and processed"), []byte("was received and processeD"), 1)
			if bytes.Equal(out, b) {
				t.Fatalf("nothing to alter in\n%s", b)
			}
			return out
		}, edias2.IntegrityCheckFailed},
		{"untouched", func(_ *testing.T, b []byte) []byte { return b }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pe := newPeer(t)
			px := proxy(t, pe.srv.URL+"/as2", nil, func(b []byte) []byte { return tt.tamper(t, b) })
			p := pe.profile(t)
			p.URL = px.URL
			res, err := newSender(t, Config{}).Send(context.Background(), p, Message{Payload: x12})
			if tt.want == "" {
				if err != nil || res.Status != StatusDelivered {
					t.Fatalf("through an honest proxy: %v", err)
				}
				return
			}
			wantClass(t, err, fault.Transient)
			if !errors.Is(err, ErrMDNVerification) {
				t.Fatalf("error = %v, want ErrMDNVerification", err)
			}
			var ae *edias2.Error
			if !errors.As(err, &ae) || ae.Modifier != tt.want {
				t.Fatalf("underlying error = %v, want modifier %s", err, tt.want)
			}
			// A damaged signature is told apart from an unknown signer: it
			// is retried (the resend brings the kept receipt back intact).
			if tt.want == edias2.AuthenticationFailed && (!errors.Is(err, edias2.ErrBadSignature) || errors.Is(err, ErrMDNSigner)) {
				t.Fatalf("error = %v, want edias2.ErrBadSignature and not ErrMDNSigner", err)
			}
			if res == nil || res.Receipt != nil || len(res.MDN) == 0 || res.Status != "" {
				t.Fatalf("result = %+v; the raw MDN must be kept and nothing taken from it", res)
			}
		})
	}
}

// The request is altered in transit: the partner processes other bytes and
// says so in its (valid, signed) receipt.
func TestMICMismatch(t *testing.T) {
	pe := newPeer(t)
	px := proxy(t, pe.srv.URL+"/as2", func(b []byte) []byte {
		return bytes.Replace(b, []byte("SHP-1"), []byte("SHP-7"), 1)
	}, nil)
	p := pe.profile(t)
	p.URL, p.Unsigned, p.Unencrypted, p.Keys, p.EncryptCerts = px.URL, true, true, nil, nil
	res, err := newSender(t, Config{}).Send(context.Background(), p, Message{Payload: x12, ContentType: "application/edi-x12"})
	wantClass(t, err, fault.Transient)
	var me *MICError
	if !errors.As(err, &me) || !errors.Is(err, edias2.ErrMICMismatch) {
		t.Fatalf("error = %v, want *MICError wrapping ErrMICMismatch", err)
	}
	if !me.Sent.Equal(res.MIC) || !me.Received.Equal(res.Receipt.MIC) || me.Sent.Equal(me.Received) {
		t.Fatalf("MICError sent %s received %s; result MIC %s, receipt MIC %s", me.Sent, me.Received, res.MIC, res.Receipt.MIC)
	}
	for _, mic := range []string{me.Sent.String(), me.Received.String()} {
		if !strings.Contains(err.Error(), mic) {
			t.Fatalf("error does not name MIC %q: %v", mic, err)
		}
	}
	if res.Status != "" || !res.Receipt.Disposition.OK() {
		t.Fatalf("status %q, disposition %s", res.Status, res.Receipt.Disposition)
	}
}

// Receipts that are not what we asked for, from a hand-written partner.
func TestReceiptChecks(t *testing.T) {
	ps := testParties(t)
	tests := []struct {
		name      string
		mdn       func(msg *edias2.Message) // changes the message before BuildMDN
		rewrite   func(h http.Header, body []byte) []byte
		profile   func(*Profile)
		want      error
		wantClass fault.Class
	}{
		{"unsigned MDN when a signed one was asked for", func(msg *edias2.Message) { msg.MDN.Signed = false }, nil, nil,
			ErrUnsignedMDN, fault.Permanent},
		{"signed MDN and no SigningCerts", func(msg *edias2.Message) { msg.MDN.Signed = true }, nil, func(p *Profile) { p.SignedMDN, p.SigningCerts = false, nil },
			nil, fault.Permanent},
		// An unknown signer is a configuration matter (the partner changed its
		// certificate): a resend would fail the same way.
		{"signed by a stranger", func(msg *edias2.Message) {
			msg.Identity = &edias2.Identity{ID: "ACME", Keys: []edias2.KeyPair{ps.stranger}}
		}, nil, nil,
			ErrMDNSigner, fault.Permanent},
		{"answers another message", func(msg *edias2.Message) { msg.MessageID = "<other@PAKLOG>" }, nil, nil,
			ErrMessageIDMismatch, fault.Permanent},
		{"from another partner", func(msg *edias2.Message) { msg.To = "ACME-TEST" }, nil, nil,
			ErrWrongParties, fault.Permanent},
		{"no Received-Content-MIC", func(msg *edias2.Message) { msg.MIC = edias2.MIC{} }, nil, nil,
			edias2.ErrNoMIC, fault.Transient},
		{"MIC with another digest", func(msg *edias2.Message) { msg.MIC = edias2.MIC{Digest: edias2.SHA1, Value: make([]byte, 20)} }, nil, nil,
			edias2.ErrMICMismatch, fault.Transient},
		{"not an MDN", nil, func(h http.Header, _ []byte) []byte { h.Set("Content-Type", "text/plain"); return []byte("OK") }, nil,
			ErrMDNVerification, fault.Transient},
		{"too large", nil, func(h http.Header, b []byte) []byte { return append(b, bytes.Repeat([]byte(" "), 2<<20)...) }, nil,
			ErrMDNTooLarge, fault.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				msg := parseAsPartner(t, captured{r.Header, readAll(t, r.Body)})
				if tt.mdn != nil {
					tt.mdn(msg)
				}
				resp, err := edias2.BuildMDN(msg, nil, edias2.MDNOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				body := resp.Body
				if tt.rewrite != nil {
					body = tt.rewrite(resp.Header, body)
				}
				writeMDN(w, resp.Header, body)
			}))
			defer srv.Close()
			p := &Profile{LocalID: "PAKLOG", PartnerID: "ACME", URL: srv.URL, Keys: []edias2.KeyPair{ps.us},
				EncryptCerts: []*x509.Certificate{ps.them.Cert}, SigningCerts: []*x509.Certificate{ps.them.Cert},
				MDN: edias2.MDNSync, SignedMDN: true}
			if tt.profile != nil {
				tt.profile(p)
			}
			res, err := newSender(t, Config{}).Send(context.Background(), p, Message{Payload: x12})
			wantClass(t, err, tt.wantClass)
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if tt.name == "signed MDN and no SigningCerts" {
				var pe *ProfileError
				if !errors.As(err, &pe) || !pe.Has("SigningCerts") {
					t.Fatalf("error = %v, want a ProfileError naming SigningCerts", err)
				}
			}
			if res == nil || res.Status != "" || res.MessageID == "" {
				t.Fatalf("result = %+v", res)
			}
		})
	}
}

func TestHTTPErrors(t *testing.T) {
	long := append(bytes.Repeat([]byte("a"), MaxErrorBody), bytes.Repeat([]byte("Z"), 1500)...)
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       []byte
		wantClass  fault.Class
		wantRetry  time.Duration
		wantInBody string
	}{
		{"503 with Retry-After", 503, http.Header{"Retry-After": {"7"}}, []byte("maintenance"), fault.Transient, 7 * time.Second, "maintenance"},
		{"500", 500, nil, nil, fault.Transient, 0, ""},
		{"429", 429, http.Header{"Retry-After": {"120"}}, nil, fault.Transient, 2 * time.Minute, ""},
		{"408", 408, nil, nil, fault.Transient, 0, ""},
		{"400 keeps 512 bytes of the body", 400, nil, long, fault.Permanent, 0, string(long[:MaxErrorBody])},
		{"403", 403, nil, []byte("unknown AS2-From"), fault.Permanent, 0, "unknown AS2-From"},
		{"404", 404, nil, nil, fault.Permanent, 0, ""},
		{"302 is not followed", 302, http.Header{"Location": {"https://elsewhere.example/as2"}}, nil, fault.Permanent, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCapture(t, tt.status, tt.header, tt.body)
			pe := &peer{srv: c.srv}
			p := pe.profile(t)
			res, err := newSender(t, Config{}).Send(context.Background(), p, Message{Payload: x12})
			wantClass(t, err, tt.wantClass)
			if got := fault.RetryAfter(err); got != tt.wantRetry {
				t.Fatalf("RetryAfter = %s, want %s", got, tt.wantRetry)
			}
			var he *HTTPError
			if !errors.As(err, &he) || he.Status != tt.status {
				t.Fatalf("error = %v, want *HTTPError %d", err, tt.status)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(tt.status)) || !strings.Contains(err.Error(), tt.wantInBody) {
				t.Fatalf("error does not name status and body: %v", err)
			}
			if len(he.Body) > MaxErrorBody || bytes.Contains(he.Body, []byte("Z")) || strings.Contains(err.Error(), "Z") {
				t.Fatalf("more than %d bytes of the body kept: %d", MaxErrorBody, len(he.Body))
			}
			if tt.status == 302 && (he.Location != "https://elsewhere.example/as2" || len(c.requests()) != 1) {
				t.Fatalf("redirect: location %q, requests %d", he.Location, len(c.requests()))
			}
			if res == nil || res.MessageID == "" || res.Status != "" {
				t.Fatalf("result = %+v", res)
			}
		})
	}

	t.Run("2xx without the sync MDN", func(t *testing.T) {
		c := newCapture(t, 200, nil, nil)
		_, err := newSender(t, Config{}).Send(context.Background(), (&peer{srv: c.srv}).profile(t), Message{Payload: x12})
		wantClass(t, err, fault.Transient)
		if !errors.Is(err, ErrNoMDN) {
			t.Fatalf("error = %v, want ErrNoMDN", err)
		}
	})

	t.Run("the receiver's intake is down", func(t *testing.T) {
		pe := newPeer(t)
		pe.acc.Fail(errors.New("database is down"))
		_, err := newSender(t, Config{}).Send(context.Background(), pe.profile(t), Message{Payload: x12})
		wantClass(t, err, fault.Transient)
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != 503 || fault.RetryAfter(err) != 30*time.Second {
			t.Fatalf("error = %v, RetryAfter %s", err, fault.RetryAfter(err))
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		p := (&peer{srv: srv}).profile(t)
		srv.Close()
		res, err := newSender(t, Config{}).Send(context.Background(), p, Message{Payload: x12})
		wantClass(t, err, fault.Transient)
		if res == nil || res.MessageID == "" {
			t.Fatalf("result = %+v, want the Message-ID to resend under", res)
		}
	})
}

func TestTimeoutAndCancel(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-r.Context().Done() // hang until the client gives up
	}))
	defer srv.Close()

	t.Run("partner hangs", func(t *testing.T) {
		p := (&peer{srv: srv}).profile(t)
		p.Timeout = 50 * time.Millisecond
		_, err := newSender(t, Config{}).Send(context.Background(), p, Message{Payload: x12})
		<-arrived
		wantClass(t, err, fault.Transient)
		if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "50ms") {
			t.Fatalf("error = %v, want ErrTimeout naming the timeout", err)
		}
	})

	t.Run("caller cancels", func(t *testing.T) {
		p := (&peer{srv: srv}).profile(t)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-arrived
			cancel()
		}()
		_, err := newSender(t, Config{}).Send(ctx, p, Message{Payload: x12})
		wantClass(t, err, fault.Transient)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
	})
}

func TestMessageValidation(t *testing.T) {
	c := newCapture(t, 200, nil, nil)
	p := (&peer{srv: c.srv}).profile(t)
	p.MDN, p.SignedMDN = edias2.MDNNone, false
	s := newSender(t, Config{})
	for _, tt := range []struct {
		name string
		m    Message
		want string
	}{
		{"empty payload", Message{}, "Payload is empty"},
		{"bad content type", Message{Payload: x12, ContentType: "application/"}, "ContentType"},
		{"header injection", Message{Payload: x12, ContentType: "text/plain\r\nX-Evil: 1"}, "line break"},
		{"file name with control", Message{Payload: x12, FileName: "a\nb"}, "FileName"},
		{"message id without @", Message{Payload: x12, MessageID: "<abc>"}, "<left@right>"},
		{"message id with space", Message{Payload: x12, MessageID: "<a b@c>"}, "printable ASCII"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Send(context.Background(), p, tt.m)
			wantClass(t, err, fault.Validation)
			if !errors.Is(err, ErrInvalidMessage) || !strings.Contains(err.Error(), tt.want) || res != nil {
				t.Fatalf("error = %v, want ErrInvalidMessage naming %q", err, tt.want)
			}
		})
	}
	if n := len(c.requests()); n != 0 {
		t.Fatalf("%d requests sent for invalid messages", n)
	}
	// A Message-ID without angle brackets gets them.
	res, err := s.Send(context.Background(), p, Message{Payload: x12, MessageID: "delivery-42@PAKLOG"})
	if err != nil || res.MessageID != "<delivery-42@PAKLOG>" || c.requests()[0].Header.Get("Message-ID") != "<delivery-42@PAKLOG>" {
		t.Fatalf("Message-ID = %q, %v", res.MessageID, err)
	}
}

// The first certificate valid at send time is used: listing the next one first
// configures a rollover ahead. pkcs7 stamps the real signing time, so the test
// moves the sender's clock back rather than forward: ten days ago the next
// certificates were not valid yet.
func TestCertificateRollover(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	usOld := newKeyPair(t, 0, "PAKLOG AS2 old", 2001, now.Add(-300*day), now.Add(-200*day)) // expired
	usCur := newKeyPair(t, 0, "PAKLOG AS2", 2002, now.Add(-100*day), now.Add(30*day))
	usNext := newKeyPair(t, 3, "PAKLOG AS2 next", 2003, now.Add(-day), now.Add(400*day))
	themCur := newKeyPair(t, 1, "ACME AS2", 3001, now.Add(-100*day), now.Add(30*day))
	themNext := newKeyPair(t, 2, "ACME AS2 next", 3002, now.Add(-day), now.Add(400*day))

	c := newCapture(t, 200, nil, nil)
	p := (&peer{srv: c.srv}).profile(t)
	p.MDN, p.SignedMDN = edias2.MDNNone, false
	p.Keys = []edias2.KeyPair{usNext, usOld, usCur}
	p.EncryptCerts = []*x509.Certificate{themNext.Cert, themCur.Cert}

	// parse reads the last request as the partner holding both its key pairs.
	parse := func() *edias2.Message {
		t.Helper()
		recv, err := edias2.NewReceiver(edias2.DefaultConfig(), edias2.ResolverFunc(func(context.Context, string, string) (*edias2.Partner, *edias2.Identity, error) {
			return &edias2.Partner{ID: "PAKLOG", Certs: []*x509.Certificate{usCur.Cert, usNext.Cert}},
				&edias2.Identity{ID: "ACME", Keys: []edias2.KeyPair{themCur, themNext}}, nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		reqs := c.requests()
		last := reqs[len(reqs)-1]
		msg, err := recv.Parse(context.Background(), last.Header, bytes.NewReader(last.Body))
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}

	before := now.Add(-10 * day)
	if _, err := newSender(t, Config{Now: func() time.Time { return before }}).Send(context.Background(), p, Message{Payload: x12}); err != nil {
		t.Fatal(err)
	}
	if msg := parse(); msg.Security.Signer != usCur.Cert || msg.Security.DecryptedWith != themCur.Cert {
		t.Fatalf("before the rollover: signed with %s, encrypted to %s", certName(msg.Security.Signer), certName(msg.Security.DecryptedWith))
	}
	if _, err := newSender(t, Config{}).Send(context.Background(), p, Message{Payload: x12}); err != nil {
		t.Fatal(err)
	}
	if msg := parse(); msg.Security.Signer != usNext.Cert || msg.Security.DecryptedWith != themNext.Cert {
		t.Fatalf("after the rollover: signed with %s, encrypted to %s", certName(msg.Security.Signer), certName(msg.Security.DecryptedWith))
	}

	n := len(c.requests())
	p.Keys = []edias2.KeyPair{usOld}
	_, err := newSender(t, Config{}).Send(context.Background(), p, Message{Payload: x12})
	wantClass(t, err, fault.Permanent)
	if !errors.Is(err, ErrNoValidCert) || !strings.Contains(err.Error(), "PAKLOG AS2 old") {
		t.Fatalf("error = %v, want ErrNoValidCert naming the expired certificate", err)
	}
	p.Keys, p.EncryptCerts = []edias2.KeyPair{usCur}, []*x509.Certificate{themCur.Cert}
	_, err = newSender(t, Config{Now: func() time.Time { return now.Add(60 * day) }}).Send(context.Background(), p, Message{Payload: x12})
	if !errors.Is(err, ErrNoValidCert) || fault.ClassOf(err) != fault.Permanent {
		t.Fatalf("error = %v, want a permanent ErrNoValidCert", err)
	}
	if len(c.requests()) != n {
		t.Fatal("sent without a valid key or certificate")
	}
}

// pkcs7 keeps its cipher choice in package variables: concurrent sends with
// different ciphers must each get their own.
func TestConcurrentCiphers(t *testing.T) {
	c := newCapture(t, 200, nil, nil)
	s := newSender(t, Config{})
	ciphers := []edias2.Cipher{edias2.AES128CBC, edias2.AES192CBC, edias2.AES256CBC}
	const perCipher = 8
	var wg sync.WaitGroup
	errs := make(chan error, len(ciphers)*perCipher)
	for ci, cipher := range ciphers {
		for i := range perCipher {
			wg.Go(func() {
				p := (&peer{srv: c.srv}).profile(t)
				p.MDN, p.SignedMDN, p.Cipher = edias2.MDNNone, false, cipher
				_, err := s.Send(context.Background(), p, Message{Payload: x12, MessageID: fmt.Sprintf("<c%d.n%d@PAKLOG>", ci, i)})
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	reqs := c.requests()
	if len(reqs) != len(ciphers)*perCipher {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		msg := parseAsPartner(t, r)
		var ci, i int
		if _, err := fmt.Sscanf(r.Header.Get("Message-ID"), "<c%d.n%d@PAKLOG>", &ci, &i); err != nil {
			t.Fatal(err)
		}
		if want := ciphers[ci]; msg.Security.Cipher != want {
			t.Fatalf("message %s went out with %s", r.Header.Get("Message-ID"), msg.Security.Cipher)
		}
	}
}

func readAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Error(err)
	}
	return b
}

func writeMDN(w http.ResponseWriter, h http.Header, body []byte) {
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
