package as2

import (
	"bytes"
	"context"
	"testing"
)

func tenKB() []byte {
	seg := []byte("PO1*1*10*EA*9.95**VP*SKU-0001*UP*012345678905~\r\n")
	return bytes.Repeat(seg, 10240/len(seg)+1)[:10240]
}

// BenchmarkReceive10KB: parse + verify + decrypt a signed, encrypted 10 KB
// message and build the signed MDN.
func BenchmarkReceive10KB(b *testing.B) {
	w := newWorld(b)
	p := *w.usProfile
	p.Sign, p.Encrypt, p.Cipher = true, true, AES256CBC
	p.MDN = MDNRequest{Mode: MDNSync, Signed: true}
	req, err := BuildRequest(w.them, &p, Payload{Data: tenKB(), ContentType: "application/edi-x12"}, RequestOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(req.Body)))
	b.ReportAllocs()
	for b.Loop() {
		msg, err := w.recv.Parse(context.Background(), req.Header, bytes.NewReader(req.Body))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := BuildMDN(msg, nil, MDNOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSend10KB: build a signed, encrypted 10 KB message.
func BenchmarkSend10KB(b *testing.B) {
	w := newWorld(b)
	p := *w.usProfile
	p.Sign, p.Encrypt, p.Cipher = true, true, AES256CBC
	p.MDN = MDNRequest{Mode: MDNSync, Signed: true}
	data := tenKB()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildRequest(w.them, &p, Payload{Data: data, ContentType: "application/edi-x12"}, RequestOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
