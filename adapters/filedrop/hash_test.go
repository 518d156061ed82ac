package filedrop

import (
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"
)

// Hash fills the digest only when exactly the stated bytes were read.
func TestHash(t *testing.T) {
	f, r := Hash(File{Partner: "acme", Path: "/inbound/a.edi", Size: 5}, strings.NewReader("ISA*0"))
	if _, err := f.Key(); !errors.Is(err, ErrNotRead) {
		t.Fatalf("Key before reading: %v", err)
	}
	if b, err := io.ReadAll(r); err != nil || string(b) != "ISA*0" {
		t.Fatalf("read %q, %v", b, err)
	}
	k, err := f.Key()
	if err != nil || k.SHA256 != sha256.Sum256([]byte("ISA*0")) || k.Size != 5 {
		t.Fatalf("Key = %+v, %v", k, err)
	}
	for _, body := range []string{"ISA*", "ISA*00"} {
		f, r := Hash(File{Size: 5}, strings.NewReader(body))
		if _, err := io.ReadAll(r); !errors.Is(err, ErrFileChanged) {
			t.Errorf("%q for 5 bytes: %v, want ErrFileChanged", body, err)
		}
		if _, err := f.Key(); err == nil {
			t.Errorf("%q: Key works after a short or long read", body)
		}
	}
}
