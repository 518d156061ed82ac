package as2

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// KeyPair is one of our certificates with its private key. The key must be
// a crypto.Signer to sign and an RSA crypto.Decrypter to decrypt; keys held
// in an HSM work as long as they implement those interfaces.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.PrivateKey
}

// String names the certificate only; the key is never printed.
func (k KeyPair) String() string { return "KeyPair{" + certName(k.Cert) + "}" }

// LogValue keeps the private key out of slog output.
func (k KeyPair) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Identity is one of our AS2 identities.
type Identity struct {
	ID string // our AS2 id, case-sensitive
	// Keys are our key pairs. Keys[0] signs outgoing messages and MDNs;
	// all of them are tried for decryption, picked by the RecipientInfo's
	// issuer+serial, so the old pair can stay during a certificate rollover.
	Keys []KeyPair
}

// MDNMode says whether and how a receipt is requested.
type MDNMode uint8

// MDN modes.
const (
	MDNNone  MDNMode = iota // no receipt
	MDNSync                 // receipt in the HTTP response
	MDNAsync                // receipt POSTed later to MDNRequest.URL
)

func (m MDNMode) String() string {
	switch m {
	case MDNNone:
		return "none"
	case MDNSync:
		return "sync"
	case MDNAsync:
		return "async"
	}
	return fmt.Sprintf("MDNMode(%d)", uint8(m))
}

// MDNRequest is a receipt request: what we ask partners for when sending,
// and what a partner asked us for when receiving.
type MDNRequest struct {
	Mode MDNMode
	// URL is where an asynchronous MDN goes (Receipt-Delivery-Option).
	URL string
	// NotificationTo is the Disposition-Notification-To value. RFC 4130
	// makes it a required but otherwise ignored field; when empty on
	// sending, the URL or the sender's AS2 id is used.
	NotificationTo string
	// Signed asks for a receipt signed with pkcs7-signature.
	Signed bool
	// MICAlgs lists the digests for the receipt signature and MIC, most
	// preferred first (signed-receipt-micalg). Empty means sha-256.
	MICAlgs []Digest
}

// Partner is a trading-partner profile: how we send to them and what we
// demand of what they send us.
type Partner struct {
	ID string // their AS2 id, case-sensitive
	// Certs are the partner's certificates. Incoming signatures are checked
	// against each of them (several may be valid during a rollover; the
	// match is by issuer and serial). Certs[0] is used to encrypt to them.
	Certs []*x509.Certificate

	Sign     bool        // sign outgoing messages
	Digest   Digest      // signature and MIC digest; zero means SHA256
	Encrypt  bool        // encrypt outgoing messages
	Cipher   Cipher      // zero means DefaultCipher (AES128CBC); DES3CBC is refused for sending
	Compress Compression // whether and where to compress outgoing messages
	MDN      MDNRequest  // the receipt we ask for when sending

	RequireSignature  bool // reject unsigned incoming messages (authentication-failed)
	RequireEncryption bool // reject unencrypted incoming messages (decryption-failed)
}

// Validate reports every problem with p as a sending profile.
func (p *Partner) Validate() error {
	var errs []error
	if p.ID == "" {
		errs = append(errs, errors.New("partner ID is empty"))
	} else if err := checkAS2ID(p.ID); err != nil {
		errs = append(errs, fmt.Errorf("partner ID: %w", err))
	}
	if p.Digest != 0 && !p.Digest.valid() {
		errs = append(errs, fmt.Errorf("partner %q: Digest %d is not a known digest", p.ID, p.Digest))
	}
	if p.Encrypt {
		if len(p.Certs) == 0 || p.Certs[0] == nil {
			errs = append(errs, fmt.Errorf("partner %q: Encrypt is set but Certs is empty", p.ID))
		}
		switch p.Cipher {
		case 0, AES128CBC, AES192CBC, AES256CBC:
		default:
			errs = append(errs, fmt.Errorf("partner %q: Cipher %s cannot be used for sending (want aes128-cbc, aes192-cbc or aes256-cbc)", p.ID, p.Cipher))
		}
	}
	if p.Compress > CompressAfterSigning {
		errs = append(errs, fmt.Errorf("partner %q: Compress %d is not a known choice", p.ID, p.Compress))
	}
	if p.MDN.Mode == MDNAsync && p.MDN.URL == "" {
		errs = append(errs, fmt.Errorf("partner %q: MDN.Mode is async but MDN.URL is empty", p.ID))
	}
	for i, d := range p.MDN.MICAlgs {
		if !d.valid() {
			errs = append(errs, fmt.Errorf("partner %q: MDN.MICAlgs[%d] = %d is not a known digest", p.ID, i, d))
		}
	}
	return errors.Join(errs...)
}

func (p *Partner) digest() Digest {
	if p.Digest == 0 {
		return SHA256
	}
	return p.Digest
}

// DefaultCipher is what a zero Partner.Cipher encrypts with: AES-128-CBC, the
// cipher every AS2 product reads and the default of connectors/as2 profiles and
// of partners[].as2.encrypt in the hub's configuration. Choose AES256CBC
// explicitly where a partner asks for it.
const DefaultCipher = AES128CBC

func (p *Partner) cipher() Cipher {
	if p.Cipher == 0 {
		return DefaultCipher
	}
	return p.Cipher
}

// Payload is the business document carried by an AS2 message.
type Payload struct {
	Data []byte
	// ContentType is the payload's media type with parameters, e.g.
	// "application/edi-x12", "application/edifact", "application/xml",
	// "application/octet-stream" (the default when empty).
	ContentType string
	// Filename is carried in Content-Disposition when not empty.
	Filename string
}

// Config bounds what a Receiver accepts from outside.
type Config struct {
	// MaxBodySize caps the HTTP body read, in bytes. Default 64 MiB.
	MaxBodySize int64
	// MaxDecompressedSize caps the inflated size of CompressedData, in bytes,
	// against decompression bombs. Default 256 MiB.
	MaxDecompressedSize int64
	// MaxHeaderSize caps each MIME header block, in bytes. Default 64 KiB.
	MaxHeaderSize int
	// MaxDepth caps the nesting of encryption, signature and compression
	// layers. Default 6.
	MaxDepth int
	// Now returns the time at which partner certificates must be valid.
	// Default time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults described on Config.
func DefaultConfig() Config {
	return Config{
		MaxBodySize:         64 << 20,
		MaxDecompressedSize: 256 << 20,
		MaxHeaderSize:       64 << 10,
		MaxDepth:            6,
		Now:                 time.Now,
	}
}

// Validate reports every out-of-range field of c.
func (c Config) Validate() error {
	var errs []error
	if c.MaxBodySize <= 0 {
		errs = append(errs, fmt.Errorf("MaxBodySize = %d, want > 0", c.MaxBodySize))
	}
	if c.MaxDecompressedSize <= 0 {
		errs = append(errs, fmt.Errorf("MaxDecompressedSize = %d, want > 0", c.MaxDecompressedSize))
	}
	if c.MaxHeaderSize < 256 {
		errs = append(errs, fmt.Errorf("MaxHeaderSize = %d, want >= 256", c.MaxHeaderSize))
	}
	if c.MaxDepth < 1 || c.MaxDepth > 32 {
		errs = append(errs, fmt.Errorf("MaxDepth = %d, want 1..32", c.MaxDepth))
	}
	if c.Now == nil {
		errs = append(errs, errors.New("Now is nil"))
	}
	return errors.Join(errs...)
}
