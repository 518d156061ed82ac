package as2

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"
	"time"

	edias2 "github.com/paklog/integration-hub/edi/as2"
)

// Defaults for the zero values of Profile.
const (
	// DefaultTimeout bounds one HTTP exchange: connecting, sending the message and
	// reading the synchronous MDN.
	DefaultTimeout = 60 * time.Second
	// DefaultAsyncMDNTimeout is how long an asynchronous MDN is awaited before the
	// send shows up in PendingStore.Expired. Raise it for partners that batch their
	// receipts.
	DefaultAsyncMDNTimeout = time.Hour
)

// Profile is one trading partner as the sender sees it: who we are to them, where
// their AS2 endpoint is, which keys and algorithms to use and which receipt to ask
// for. The zero values of the algorithm fields are the safe defaults (sign with
// sha-256, encrypt with AES-128-CBC, no compression); signing and encryption are on
// unless switched off with Unsigned and Unencrypted.
//
// A Profile is read, never modified, by Send; it may be shared between goroutines.
type Profile struct {
	// LocalID is our AS2 id, sent as AS2-From (1 to 128 printable ASCII
	// characters, case-sensitive). Required.
	LocalID string
	// PartnerID is the partner's AS2 id, sent as AS2-To. Required.
	PartnerID string
	// URL is the partner's AS2 endpoint, http or https. Required. Redirects are
	// not followed by the default client: a moved endpoint is a configuration
	// change.
	URL string

	// Keys are our key pairs for signing. The first whose certificate is valid at
	// send time signs, so during a rollover list the new pair first: it takes
	// over at its NotBefore. Required unless Unsigned.
	Keys []edias2.KeyPair
	// EncryptCerts are the partner's certificates to encrypt to. The first valid
	// at send time is used (list the partner's next certificate first).
	// RSA keys only. Required unless Unencrypted.
	EncryptCerts []*x509.Certificate
	// SigningCerts are the partner's certificates that may sign MDNs. All are
	// tried (matched by issuer and serial), so several may be active during the
	// partner's rollover. Required when SignedMDN.
	SigningCerts []*x509.Certificate

	// Unsigned sends messages without a signature: nothing then proves the
	// message came from us. Off by default.
	Unsigned bool
	// Digest signs the message and is the MIC algorithm: SHA1, SHA256 (the
	// default when zero), SHA384 or SHA512.
	Digest edias2.Digest
	// Unencrypted sends messages in the clear (inside TLS only, if URL is https).
	// Off by default.
	Unencrypted bool
	// Cipher encrypts the content: AES128CBC (the default when zero), AES192CBC
	// or AES256CBC, always with RSA PKCS#1 v1.5 key transport. AES-GCM and
	// RSA-OAEP are never sent: OpenSSL-based AS2 products do not read them.
	Cipher edias2.Cipher
	// Compression is CompressNone (default), CompressBeforeSigning or
	// CompressAfterSigning (RFC 5402).
	Compression edias2.Compression

	// MDN is the receipt asked for: MDNNone (the zero value: no receipt, no
	// proof of delivery), MDNSync (in the HTTP response) or MDNAsync (POSTed
	// later to ReceiptURL).
	MDN edias2.MDNMode
	// ReceiptURL is where the partner POSTs an asynchronous MDN (the hub's async
	// MDN endpoint). Required for MDNAsync, refused otherwise.
	ReceiptURL string
	// SignedMDN asks for a signed receipt and refuses an unsigned one.
	SignedMDN bool
	// MICAlgs is the signed-receipt-micalg list, most preferred first; empty
	// means Digest. Only sent with SignedMDN.
	MICAlgs []edias2.Digest

	// Timeout bounds one HTTP exchange including reading a synchronous MDN;
	// zero means DefaultTimeout.
	Timeout time.Duration
	// AsyncMDNTimeout is how long an asynchronous MDN is awaited; zero means
	// DefaultAsyncMDNTimeout.
	AsyncMDNTimeout time.Duration
}

// FieldError is one problem with one Profile field.
type FieldError struct {
	Field   string // e.g. "URL", "Keys[0].Key", "Cipher"
	Problem string // what is wrong, with the value and what is allowed
}

func (e FieldError) Error() string { return e.Field + ": " + e.Problem }

// ProfileError lists every problem Validate found in a Profile.
type ProfileError struct {
	LocalID, PartnerID string
	Fields             []FieldError
}

func (e *ProfileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "as2 profile %q to %q: %d problem(s)", e.LocalID, e.PartnerID, len(e.Fields))
	for _, f := range e.Fields {
		b.WriteString("; ")
		b.WriteString(f.Error())
	}
	return b.String()
}

// Has reports whether field is among the problems.
func (e *ProfileError) Has(field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Validate reports every problem of p as a *ProfileError naming each field, or nil.
// It checks structure only; whether a certificate is valid is decided at send time.
func (p *Profile) Validate() error {
	if p == nil {
		return &ProfileError{Fields: []FieldError{{"Profile", "is nil"}}}
	}
	var fs []FieldError
	bad := func(field, format string, args ...any) {
		fs = append(fs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	if err := checkAS2ID(p.LocalID); err != "" {
		bad("LocalID", "%s", err)
	}
	if err := checkAS2ID(p.PartnerID); err != "" {
		bad("PartnerID", "%s", err)
	}
	if err := checkURL(p.URL); err != "" {
		bad("URL", "%s", err)
	}
	if !p.Unsigned && len(p.Keys) == 0 {
		bad("Keys", "empty; signing needs our key pair (or set Unsigned)")
	}
	for i, kp := range p.Keys {
		checkKeyPair(kp, fmt.Sprintf("Keys[%d]", i), bad)
	}
	if !p.Unencrypted && len(p.EncryptCerts) == 0 {
		bad("EncryptCerts", "empty; encryption needs the partner's certificate (or set Unencrypted)")
	}
	for i, c := range p.EncryptCerts {
		switch {
		case c == nil:
			bad(fmt.Sprintf("EncryptCerts[%d]", i), "is nil")
		case !isRSA(c.PublicKey):
			bad(fmt.Sprintf("EncryptCerts[%d]", i), "%s has a %T key; AS2 key transport needs RSA", certName(c), c.PublicKey)
		}
	}
	if p.SignedMDN && len(p.SigningCerts) == 0 {
		bad("SigningCerts", "empty; a signed MDN can only be verified with the partner's certificates")
	}
	for i, c := range p.SigningCerts {
		if c == nil {
			bad(fmt.Sprintf("SigningCerts[%d]", i), "is nil")
		}
	}
	if p.Digest != 0 && p.Digest.Hash() == 0 {
		bad("Digest", "%s is not a digest; want sha-1, sha-256, sha-384 or sha-512", p.Digest)
	}
	switch p.Cipher {
	case 0, edias2.AES128CBC, edias2.AES192CBC, edias2.AES256CBC:
	default:
		bad("Cipher", "%s cannot be sent; want aes128-cbc, aes192-cbc or aes256-cbc", p.Cipher)
	}
	if p.Compression > edias2.CompressAfterSigning {
		bad("Compression", "%d is not none (0), before-signing (1) or after-signing (2)", p.Compression)
	}
	switch p.MDN {
	case edias2.MDNNone:
		if p.SignedMDN {
			bad("SignedMDN", "is set but MDN is none: no receipt is asked for")
		}
	case edias2.MDNSync:
	case edias2.MDNAsync:
		if err := checkURL(p.ReceiptURL); err != "" {
			bad("ReceiptURL", "%s (required for an asynchronous MDN)", err)
		}
	default:
		bad("MDN", "%s is not none, sync or async", p.MDN)
	}
	if p.MDN != edias2.MDNAsync && p.ReceiptURL != "" {
		bad("ReceiptURL", "%q is set but MDN is %s; it is only sent for async", p.ReceiptURL, p.MDN)
	}
	if len(p.MICAlgs) > 0 && !p.SignedMDN {
		// edi/as2 would compute an unsigned message's MIC with MICAlgs[0] while
		// the partner, never told, uses sha-256: every receipt would mismatch.
		bad("MICAlgs", "is set but SignedMDN is not; signed-receipt-micalg is only sent with a signed-receipt request")
	}
	for i, d := range p.MICAlgs {
		if d.Hash() == 0 {
			bad(fmt.Sprintf("MICAlgs[%d]", i), "%s is not a digest; want sha-1, sha-256, sha-384 or sha-512", d)
		}
	}
	if p.Timeout < 0 {
		bad("Timeout", "%s is negative (0 means %s)", p.Timeout, DefaultTimeout)
	}
	if p.AsyncMDNTimeout < 0 {
		bad("AsyncMDNTimeout", "%s is negative (0 means %s)", p.AsyncMDNTimeout, DefaultAsyncMDNTimeout)
	}
	if len(fs) == 0 {
		return nil
	}
	return &ProfileError{LocalID: p.LocalID, PartnerID: p.PartnerID, Fields: fs}
}

// checkAS2ID applies RFC 4130 §6.2: 1 to 128 printable ASCII characters.
func checkAS2ID(id string) string {
	if id == "" || len(id) > 128 {
		return fmt.Sprintf("%q must be 1 to 128 characters", id)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return fmt.Sprintf("%q has a non-printable or non-ASCII byte at %d", id, i)
		}
	}
	return ""
}

func checkURL(s string) string {
	if s == "" {
		return "empty"
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Sprintf("%q does not parse: %v", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not an absolute http or https URL", s)
	}
	return ""
}

func checkKeyPair(kp edias2.KeyPair, field string, bad func(field, format string, args ...any)) {
	if kp.Cert == nil {
		bad(field+".Cert", "is nil")
	}
	signer, ok := kp.Key.(crypto.Signer)
	if !ok {
		bad(field+".Key", "a %T cannot sign (want a crypto.Signer)", kp.Key)
		return
	}
	if kp.Cert == nil {
		return
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(kp.Cert.PublicKey) {
		bad(field+".Key", "does not belong to certificate %s", certName(kp.Cert))
	}
}

func isRSA(k crypto.PublicKey) bool {
	_, ok := k.(*rsa.PublicKey)
	return ok
}

func (p *Profile) digest() edias2.Digest {
	if p.Digest == 0 {
		return edias2.SHA256
	}
	return p.Digest
}

func (p *Profile) cipher() edias2.Cipher {
	if p.Cipher == 0 {
		return edias2.AES128CBC
	}
	return p.Cipher
}

func (p *Profile) timeout() time.Duration {
	if p.Timeout == 0 {
		return DefaultTimeout
	}
	return p.Timeout
}

func (p *Profile) asyncMDNTimeout() time.Duration {
	if p.AsyncMDNTimeout == 0 {
		return DefaultAsyncMDNTimeout
	}
	return p.AsyncMDNTimeout
}

// signingKey is the first of our key pairs whose certificate is valid at now.
func (p *Profile) signingKey(now time.Time) (edias2.KeyPair, error) {
	for _, kp := range p.Keys {
		if validAt(kp.Cert, now) {
			return kp, nil
		}
	}
	certs := make([]*x509.Certificate, len(p.Keys))
	for i, kp := range p.Keys {
		certs[i] = kp.Cert
	}
	return edias2.KeyPair{}, fmt.Errorf("%w: none of our Keys is valid at %s (%s); install a current key pair and send its certificate to %q",
		ErrNoValidCert, now.UTC().Format(time.RFC3339), validities(certs), p.PartnerID)
}

// encryptCert is the first of the partner's encryption certificates valid at now.
func (p *Profile) encryptCert(now time.Time) (*x509.Certificate, error) {
	for _, c := range p.EncryptCerts {
		if validAt(c, now) {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: none of the EncryptCerts of %q is valid at %s (%s); ask the partner for their current certificate",
		ErrNoValidCert, p.PartnerID, now.UTC().Format(time.RFC3339), validities(p.EncryptCerts))
}

// partner is the edi/as2 profile that BuildRequest needs.
func (p *Profile) partner(encryptTo *x509.Certificate) *edias2.Partner {
	ep := &edias2.Partner{
		ID:       p.PartnerID,
		Sign:     !p.Unsigned,
		Digest:   p.digest(),
		Encrypt:  !p.Unencrypted,
		Cipher:   p.cipher(),
		Compress: p.Compression,
		MDN:      edias2.MDNRequest{Mode: p.MDN, URL: p.ReceiptURL, Signed: p.SignedMDN},
	}
	if encryptTo != nil {
		ep.Certs = []*x509.Certificate{encryptTo}
	}
	if p.SignedMDN {
		ep.MDN.MICAlgs = p.MICAlgs
		if len(ep.MDN.MICAlgs) == 0 {
			ep.MDN.MICAlgs = []edias2.Digest{p.digest()}
		}
	}
	return ep
}

func validAt(c *x509.Certificate, now time.Time) bool {
	return c != nil && !now.Before(c.NotBefore) && !now.After(c.NotAfter)
}

func validities(certs []*x509.Certificate) string {
	if len(certs) == 0 {
		return "none configured"
	}
	s := make([]string, len(certs))
	for i, c := range certs {
		if c == nil {
			s[i] = "(nil)"
			continue
		}
		s[i] = fmt.Sprintf("%s valid %s to %s", certName(c),
			c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	}
	return strings.Join(s, "; ")
}

// certName identifies a certificate in messages.
func certName(c *x509.Certificate) string {
	if c == nil {
		return "(no certificate)"
	}
	return fmt.Sprintf("%q serial %s", c.Subject.String(), c.SerialNumber.Text(16))
}
