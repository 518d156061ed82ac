package as2

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds are messages built with the current test keys, so that the
// fuzzer starts from inputs that pass every layer.
func fuzzSeeds(t testing.TB, w *world) []*Request {
	var out []*Request
	for _, p := range []Partner{
		{},
		{Sign: true},
		{Compress: CompressBeforeSigning},
		{Sign: true, Compress: CompressAfterSigning},
		{Encrypt: true, Cipher: AES128CBC},
		{Sign: true, Encrypt: true, Compress: CompressBeforeSigning},
	} {
		p.ID, p.Certs = w.usProfile.ID, w.usProfile.Certs
		req, err := BuildRequest(w.them, &p, Payload{Data: x12, ContentType: "application/edi-x12", Filename: "a.x12"}, RequestOptions{MessageID: "<seed@acme>"})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, req)
	}
	return out
}

func FuzzParseMessage(f *testing.F) {
	w := newWorld(f)
	for _, req := range fuzzSeeds(f, w) {
		f.Add(req.Header.Get("Content-Type"), req.Body)
	}
	cfg := DefaultConfig()
	cfg.MaxBodySize, cfg.MaxDecompressedSize = 1<<20, 1<<20
	r := w.receiver(f, func(c *Config) { *c = cfg })
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		h := header("Content-Type", contentType, "AS2-From", `"Acme Corp"`, "AS2-To", "PAKLOG", "Message-ID", "<fuzz@acme>",
			"Disposition-Notification-To", "x", "Disposition-Notification-Options", "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256")
		msg, err := r.Parse(context.Background(), h, bytes.NewReader(body))
		if msg == nil {
			t.Fatal("Parse returned a nil *Message")
		}
		if _, merr := BuildMDN(msg, err, MDNOptions{}); merr != nil {
			t.Fatalf("BuildMDN after Parse: %v", merr)
		}
		if err != nil {
			return
		}
		// read → write → read agrees
		p := Partner{ID: "PAKLOG"}
		req, err := BuildRequest(w.them, &p, msg.Payload, RequestOptions{})
		if err != nil {
			return // e.g. a Content-Type we would not send
		}
		again, err := r.Parse(context.Background(), as2Headers(req.Header, "<again@acme>"), bytes.NewReader(req.Body))
		if err != nil {
			t.Fatalf("re-parsing our rebuild: %v", err)
		}
		if !bytes.Equal(again.Payload.Data, msg.Payload.Data) || again.Payload.Filename != msg.Payload.Filename {
			t.Fatalf("payload changed on rebuild: %q → %q", msg.Payload.Data, again.Payload.Data)
		}
	})
}

func FuzzParseMDN(f *testing.F) {
	w := newWorld(f)
	msg := &Message{MessageID: "<m@acme>", From: "Acme Corp", To: "PAKLOG", Identity: w.us, MIC: computeMIC(SHA256, x12)}
	for _, signed := range []bool{false, true} {
		for _, e := range []error{nil, ErrDecryptionFailed, ErrUnsupportedMICAlgorithms} {
			msg.MDN.Signed = signed
			resp, err := BuildMDN(msg, e, MDNOptions{})
			if err != nil {
				f.Fatal(err)
			}
			f.Add(resp.Header.Get("Content-Type"), resp.Body)
		}
	}
	r := w.recvByThem
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		h := header("Content-Type", contentType, "AS2-From", "PAKLOG", "AS2-To", `"Acme Corp"`, "Message-ID", "<mdn@paklog>")
		m, err := r.ParseMDN(context.Background(), h, bytes.NewReader(body))
		if err != nil {
			return
		}
		// read → write → read agrees on disposition and MIC
		back := &Message{MessageID: "<m@acme>", From: "Acme Corp", To: "PAKLOG", MIC: m.MIC}
		var procErr error
		if !m.Disposition.OK() {
			procErr = m.Err()
		}
		resp, err := BuildMDN(back, procErr, MDNOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m2, err := r.ParseMDN(context.Background(), resp.Header, bytes.NewReader(resp.Body))
		if err != nil {
			t.Fatalf("re-parsing our MDN: %v", err)
		}
		if !m2.MIC.Equal(m.MIC) || m2.Disposition.OK() != m.Disposition.OK() {
			t.Fatalf("MDN changed on rebuild: %+v → %+v", m, m2)
		}
	})
}

// TestWriteFuzzCorpus regenerates the seed corpus in testdata/fuzz when run
// with AS2_WRITE_FUZZ_CORPUS=1. The committed files need no keys to be useful:
// unsigned and compressed ones pass every layer, the others exercise the
// CMS parsers up to the key/certificate match.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("AS2_WRITE_FUZZ_CORPUS") != "1" {
		t.Skip("set AS2_WRITE_FUZZ_CORPUS=1 to regenerate testdata/fuzz")
	}
	w := newWorld(t)
	write := func(target string, i int, ct string, body []byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		data := fmt.Sprintf("go test fuzz v1\nstring(%q)\n[]byte(%q)\n", ct, body)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, req := range fuzzSeeds(t, w) {
		write("FuzzParseMessage", i, req.Header.Get("Content-Type"), req.Body)
	}
	lf := fuzzSeeds(t, w)[1]
	write("FuzzParseMessage", 10, lf.Header.Get("Content-Type"), bytes.ReplaceAll(lf.Body, []byte("\r\n"), []byte("\n")))
	msg := &Message{MessageID: "<m@acme>", From: "Acme Corp", To: "PAKLOG", Identity: w.us, MIC: computeMIC(SHA256, x12)}
	for i, e := range []error{nil, ErrIntegrityCheckFailed, ErrUnsupportedFormat} {
		msg.MDN.Signed = i == 1
		resp, err := BuildMDN(msg, e, MDNOptions{})
		if err != nil {
			t.Fatal(err)
		}
		write("FuzzParseMDN", i, resp.Header.Get("Content-Type"), resp.Body)
	}
}
