package custom

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"
)

// ErrUnauthorized is the error of a delivery whose signature or token is
// missing or wrong (401, nothing stored).
var ErrUnauthorized = errors.New("unauthorized")

// authenticator checks that a delivery comes from the platform.
type authenticator interface {
	// authenticate returns nil or an error wrapping ErrUnauthorized, whose text
	// says what was expected and never holds a secret or what was received.
	authenticate(h http.Header, body []byte) error
	// challenge is the WWW-Authenticate of a 401, or "".
	challenge() string
}

func newAuthenticator(a Auth) authenticator {
	if a.Bearer != nil {
		b := &bearerAuth{}
		for _, t := range a.Bearer.Tokens {
			b.sums = append(b.sums, sha256.Sum256([]byte(t)))
		}
		return b
	}
	h := a.HMAC
	m := &hmacAuth{header: h.Header, prefix: h.Prefix, encoding: h.Encoding, hash: sha256.New, size: sha256.Size}
	switch h.Algorithm {
	case SHA1:
		m.hash, m.size = sha1.New, sha1.Size
	case SHA512:
		m.hash, m.size = sha512.New, sha512.Size
	}
	if m.encoding == "" {
		m.encoding = Hex
	}
	for _, s := range h.Secrets {
		m.secrets = append(m.secrets, []byte(s))
	}
	return m
}

type hmacAuth struct {
	header, prefix, encoding string
	hash                     func() hash.Hash
	size                     int
	secrets                  [][]byte
}

func (m *hmacAuth) challenge() string { return "" }

// authenticate compares the header's MAC with the body's under every secret,
// matching or not, with hmac.Equal: the time taken does not tell how much of
// a forged signature was right, nor which secret matched.
func (m *hmacAuth) authenticate(h http.Header, body []byte) error {
	sig := strings.TrimSpace(h.Get(m.header))
	if sig == "" {
		return unauthorized(m.header + " is missing")
	}
	if m.prefix != "" {
		if len(sig) < len(m.prefix) || !strings.EqualFold(sig[:len(m.prefix)], m.prefix) {
			return unauthorized(m.header + " does not start with " + m.prefix)
		}
		sig = sig[len(m.prefix):]
	}
	got := m.decode(sig)
	if len(got) != m.size {
		return unauthorized(m.header + " is not a " + m.encoding + "-encoded MAC of the right length")
	}
	ok := false
	for _, secret := range m.secrets {
		mac := hmac.New(m.hash, secret)
		mac.Write(body)
		if hmac.Equal(got, mac.Sum(nil)) {
			ok = true
		}
	}
	if !ok {
		return unauthorized(m.header + " does not match the body under this channel's secrets")
	}
	return nil
}

func (m *hmacAuth) decode(sig string) []byte {
	if m.encoding == Hex {
		b, err := hex.DecodeString(sig)
		if err != nil {
			return nil
		}
		return b
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(sig); err == nil {
			return b
		}
	}
	return nil
}

type bearerAuth struct {
	sums [][sha256.Size]byte
}

func (b *bearerAuth) challenge() string { return `Bearer realm="paklog"` }

// authenticate compares the SHA-256 of the presented token with that of every
// configured token with subtle.ConstantTimeCompare: comparing digests of
// equal length hides the tokens' lengths as well as their contents.
func (b *bearerAuth) authenticate(h http.Header, _ []byte) error {
	scheme, token, found := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return unauthorized("Authorization: Bearer <token> is missing")
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	ok := 0
	for _, want := range b.sums {
		ok |= subtle.ConstantTimeCompare(sum[:], want[:])
	}
	if ok != 1 {
		return unauthorized("the bearer token is not one of this channel's tokens")
	}
	return nil
}

func unauthorized(msg string) error { return fmt.Errorf("%w: %s", ErrUnauthorized, msg) }
