package as2

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // registers crypto.SHA1
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/subtle"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/smallstep/pkcs7"
)

// Digest is a message digest algorithm used for signatures and MICs.
type Digest uint8

// Supported digests. The zero Digest means "not set".
const (
	SHA1 Digest = iota + 1
	SHA256
	SHA384
	SHA512
)

// String returns the RFC 5751 spelling used in micalg and
// Received-Content-MIC: "sha-1", "sha-256", "sha-384", "sha-512".
func (d Digest) String() string {
	switch d {
	case SHA1:
		return "sha-1"
	case SHA256:
		return "sha-256"
	case SHA384:
		return "sha-384"
	case SHA512:
		return "sha-512"
	}
	return fmt.Sprintf("Digest(%d)", uint8(d))
}

// Hash returns the crypto.Hash for d, or 0 if d is not valid.
func (d Digest) Hash() crypto.Hash {
	switch d {
	case SHA1:
		return crypto.SHA1
	case SHA256:
		return crypto.SHA256
	case SHA384:
		return crypto.SHA384
	case SHA512:
		return crypto.SHA512
	}
	return 0
}

func (d Digest) valid() bool { return d >= SHA1 && d <= SHA512 }

func (d Digest) oid() asn1.ObjectIdentifier {
	switch d {
	case SHA1:
		return pkcs7.OIDDigestAlgorithmSHA1
	case SHA256:
		return pkcs7.OIDDigestAlgorithmSHA256
	case SHA384:
		return pkcs7.OIDDigestAlgorithmSHA384
	case SHA512:
		return pkcs7.OIDDigestAlgorithmSHA512
	}
	return nil
}

func digestForOID(oid asn1.ObjectIdentifier) (Digest, bool) {
	for _, d := range []Digest{SHA1, SHA256, SHA384, SHA512} {
		if oid.Equal(d.oid()) {
			return d, true
		}
	}
	return 0, false
}

func (d Digest) sum(b []byte) []byte {
	h := d.Hash().New()
	h.Write(b)
	return h.Sum(nil)
}

// ParseDigest normalises any common spelling of a digest name: "sha-256",
// "sha256", "SHA256", "sha_256", "SHA-256", and likewise for sha-1 ("sha1",
// "sha-1"), sha-384 and sha-512. Unknown names (md5, sha-224, …) return an
// error wrapping ErrUnsupportedDigest.
func ParseDigest(s string) (Digest, error) {
	n := strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', ' ', '\t', '"':
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
	switch n {
	case "sha1":
		return SHA1, nil
	case "sha256":
		return SHA256, nil
	case "sha384":
		return SHA384, nil
	case "sha512":
		return SHA512, nil
	}
	return 0, fmt.Errorf("%w %q (supported: sha-1, sha-256, sha-384, sha-512)", ErrUnsupportedDigest, s)
}

// Cipher is a CMS content-encryption algorithm.
type Cipher uint8

// Ciphers. Outbound encryption supports the AES-CBC ciphers only; DES3CBC is
// accepted on receipt for older partners. AES-GCM and RSA-OAEP are never
// emitted: OpenSSL-based AS2 products do not read them.
const (
	AES128CBC Cipher = iota + 1
	AES192CBC
	AES256CBC
	DES3CBC
)

func (c Cipher) String() string {
	switch c {
	case AES128CBC:
		return "aes128-cbc"
	case AES192CBC:
		return "aes192-cbc"
	case AES256CBC:
		return "aes256-cbc"
	case DES3CBC:
		return "des-ede3-cbc"
	}
	return fmt.Sprintf("Cipher(%d)", uint8(c))
}

var (
	oidAES192CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
)

func (c Cipher) oid() asn1.ObjectIdentifier {
	switch c {
	case AES128CBC:
		return pkcs7.OIDEncryptionAlgorithmAES128CBC
	case AES192CBC:
		return oidAES192CBC
	case AES256CBC:
		return pkcs7.OIDEncryptionAlgorithmAES256CBC
	case DES3CBC:
		return pkcs7.OIDEncryptionAlgorithmDESEDE3CBC
	}
	return nil
}

func (c Cipher) keyLen() int {
	switch c {
	case AES128CBC:
		return 16
	case AES192CBC, DES3CBC:
		return 24
	case AES256CBC:
		return 32
	}
	return 0
}

func cipherForOID(oid asn1.ObjectIdentifier) (Cipher, bool) {
	for _, c := range []Cipher{AES128CBC, AES192CBC, AES256CBC, DES3CBC} {
		if oid.Equal(c.oid()) {
			return c, true
		}
	}
	return 0, false
}

// Compression says whether and where an outbound message is compressed
// (RFC 5402).
type Compression uint8

// Compression choices.
const (
	CompressNone Compression = iota
	// CompressBeforeSigning compresses the payload entity, then signs the
	// compressed entity (the MIC covers the compressed entity).
	CompressBeforeSigning
	// CompressAfterSigning signs the payload, then compresses the whole
	// multipart/signed entity (the MIC covers the uncompressed payload part).
	CompressAfterSigning
)

// MIC is a message integrity check value as carried in the
// Received-Content-MIC field of an MDN.
type MIC struct {
	Digest Digest
	Value  []byte
}

// String formats m as in Received-Content-MIC: base64 value, ", ", algorithm,
// e.g. "Q2hlY2s=, sha-256". The zero MIC formats as "".
func (m MIC) String() string {
	if !m.Digest.valid() {
		return ""
	}
	return base64.StdEncoding.EncodeToString(m.Value) + ", " + m.Digest.String()
}

// IsZero reports whether m is unset.
func (m MIC) IsZero() bool { return m.Digest == 0 && len(m.Value) == 0 }

// Equal reports whether m and o have the same algorithm and value (constant
// time in the value).
func (m MIC) Equal(o MIC) bool {
	return m.Digest == o.Digest && len(m.Value) == len(o.Value) &&
		subtle.ConstantTimeCompare(m.Value, o.Value) == 1
}

// ParseMIC parses a Received-Content-MIC value ("base64, algorithm"). Any
// algorithm spelling accepted by ParseDigest is accepted.
func ParseMIC(s string) (MIC, error) {
	val, alg, ok := strings.Cut(s, ",")
	if !ok {
		return MIC{}, fmt.Errorf("parsing MIC %q: want \"base64, algorithm\"", s)
	}
	d, err := ParseDigest(strings.TrimSpace(alg))
	if err != nil {
		return MIC{}, fmt.Errorf("parsing MIC %q: %w", s, err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(val), ""))
	if err != nil {
		return MIC{}, fmt.Errorf("parsing MIC %q: decoding base64: %w", s, err)
	}
	if len(raw) != d.Hash().Size() {
		return MIC{}, fmt.Errorf("parsing MIC %q: %d bytes, %s digests are %d", s, len(raw), d, d.Hash().Size())
	}
	return MIC{Digest: d, Value: raw}, nil
}

func computeMIC(d Digest, b []byte) MIC {
	return MIC{Digest: d, Value: d.sum(b)}
}

// hasBareLF reports whether b contains an LF not preceded by CR.
func hasBareLF(b []byte) bool {
	for i := bytes.IndexByte(b, '\n'); i >= 0; {
		if i == 0 || b[i-1] != '\r' {
			return true
		}
		j := bytes.IndexByte(b[i+1:], '\n')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// toCRLF converts every bare LF in b to CRLF (RFC 5751 §3.1.1 canonical form).
func toCRLF(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/32)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}
