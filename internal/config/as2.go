package config

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/smallstep/pkcs7"

	edias2 "github.com/paklog/integration-hub/edi/as2"
)

// AS2 is the hub's own AS2 identity: POST /as2 receives with it, and messages to
// partners are sent from it.
type AS2 struct {
	ID            string   `yaml:"id"`             // our AS2 id (AS2-To of what partners send), case-sensitive
	Keys          []AS2Key `yaml:"keys"`           // our key pairs: the first signs; all decrypt (a rollover keeps the old one listed)
	MaxBody       Size     `yaml:"max_body"`       // larger messages get 413; default 64MiB
	ExpiryWarning Duration `yaml:"expiry_warning"` // /readyz warns this long before a certificate expires; default 720h
	// RefusedBodyMax is how much of a refused message's body the DLQ keeps when
	// the message did not prove its sender (no signature of a configured
	// partner verified: an unknown AS2-From, an AS2-To that is not ours, or a
	// partner's AS2 id with a signature that did not verify): anyone can post
	// those, so they must not fill the DLQ. A body that fits is kept whole and
	// can be replayed once the partner (or its new certificate) is configured;
	// a longer one keeps only this prefix and is not replayable. Default 64KiB;
	// 1KiB up to max_body.
	RefusedBodyMax Size `yaml:"refused_body_max"`
	// ReceiptURL is the hub's POST /as2 as partners reach it (e.g.
	// https://as2.paklog.example/as2): sent as Receipt-Delivery-Option to the
	// partners with mdn: async, which POST their MDNs there. Required when a
	// partner has mdn: async.
	ReceiptURL string `yaml:"receipt_url"`
}

// AS2Key is one of our certificates and its private key.
type AS2Key struct {
	Cert string `yaml:"cert"` // certificate file: PEM or DER
	Key  Secret `yaml:"key"`  // the private key, PEM (PKCS#1 or PKCS#8): {file: …}
}

// AS2Partner is how the hub talks AS2 with one partner.
type AS2Partner struct {
	ID       string   `yaml:"id"`       // the partner's AS2 id (AS2-From of what it sends), case-sensitive
	URL      string   `yaml:"url"`      // where messages to the partner are POSTed (outbound via: as2)
	Certs    []string `yaml:"certs"`    // the partner's certificate files (PEM, DER or .p7b): several during a rollover, the first encrypts
	Sign     string   `yaml:"sign"`     // sha256 (default), sha1, sha384, sha512, or none
	Encrypt  string   `yaml:"encrypt"`  // aes128-cbc (default), aes192-cbc, aes256-cbc, or none
	Compress string   `yaml:"compress"` // none (default), before-signing, after-signing
	MDN      string   `yaml:"mdn"`      // the receipt asked for: sync (default), async (POSTed to as2.receipt_url) or none
	// UnsignedMDN asks for receipts without a signature (default: signed receipts).
	UnsignedMDN bool `yaml:"unsigned_mdn"`
	// AcceptUnsigned and AcceptUnencrypted take the partner's messages without a
	// signature or without encryption (default: both required).
	AcceptUnsigned    bool     `yaml:"accept_unsigned"`
	AcceptUnencrypted bool     `yaml:"accept_unencrypted"`
	Timeout           Duration `yaml:"timeout"` // one send and its synchronous MDN; default 60s
	// AsyncMDNTimeout is how long an asynchronous MDN is awaited before the
	// message is resent under the same Message-ID (and, once the delivery's
	// attempts are used up, parked in the DLQ); default 1h, at least 1s, and at
	// least timeout (the send that asks for it may take that long).
	AsyncMDNTimeout Duration `yaml:"async_mdn_timeout"`
}

// DefaultAS2Timeout is partners[].as2.timeout when unset (connectors/as2
// DefaultTimeout).
const DefaultAS2Timeout = 60 * time.Second

// SendTimeout is how long one send and its synchronous MDN may take.
func (p AS2Partner) SendTimeout() time.Duration {
	if p.Timeout == 0 {
		return DefaultAS2Timeout
	}
	return p.Timeout.Std()
}

// DefaultAS2AsyncMDNTimeout is partners[].as2.async_mdn_timeout when unset.
const DefaultAS2AsyncMDNTimeout = time.Hour

// MDNWait is how long the partner's asynchronous MDN is awaited.
func (p AS2Partner) MDNWait() time.Duration {
	if p.AsyncMDNTimeout == 0 {
		return DefaultAS2AsyncMDNTimeout
	}
	return p.AsyncMDNTimeout.Std()
}

// ViaAS2 sends the partner's files by AS2 to partners[].as2.url.
const ViaAS2 = "as2"

// Enabled reports whether the partner exchanges AS2.
func (p AS2Partner) Enabled() bool { return p.ID != "" }

// DefaultAS2RefusedBodyMax is as2.refused_body_max when unset.
const DefaultAS2RefusedBodyMax = 64 * KiB

// RefusedBodyLimit is how many bytes of an unrecognised sender's refused body
// are kept.
func (a AS2) RefusedBodyLimit() int64 {
	if a.RefusedBodyMax == 0 {
		return int64(DefaultAS2RefusedBodyMax)
	}
	return int64(a.RefusedBodyMax)
}

// DefaultAS2ExpiryWarning is how long before expiry /readyz warns of a certificate.
const DefaultAS2ExpiryWarning = 30 * 24 * time.Hour

// Warning is the expiry warning period.
func (a AS2) Warning() time.Duration {
	if a.ExpiryWarning == 0 {
		return DefaultAS2ExpiryWarning
	}
	return a.ExpiryWarning.Std()
}

// AS2Identity loads our identity: the key pairs in order.
func AS2Identity(a AS2) (*edias2.Identity, error) {
	id := &edias2.Identity{ID: a.ID}
	for i, k := range a.Keys {
		certs, err := LoadCertificates(k.Cert)
		if err != nil {
			return nil, fmt.Errorf("as2.keys[%d].cert: %w", i, err)
		}
		key, err := parsePrivateKey([]byte(k.Key.Value()))
		if err != nil {
			return nil, fmt.Errorf("as2.keys[%d].key: %w", i, err)
		}
		id.Keys = append(id.Keys, edias2.KeyPair{Cert: certs[0], Key: key})
	}
	return id, nil
}

// AS2Certificates loads the partner's certificates, in the order listed.
func AS2Certificates(p AS2Partner, field string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for i, f := range p.Certs {
		certs, err := LoadCertificates(f)
		if err != nil {
			return nil, fmt.Errorf("%s.certs[%d]: %w", field, i, err)
		}
		out = append(out, certs...)
	}
	return out, nil
}

// LoadCertificates reads X.509 certificates from a file in PEM (one or more
// CERTIFICATE blocks, or a PKCS7 block), DER, or a .p7b bundle (PKCS#7 in DER or PEM).
func LoadCertificates(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	if bytes.Contains(b, []byte("-----BEGIN")) {
		rest := b
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			switch blk.Type {
			case "CERTIFICATE":
				c, err := x509.ParseCertificate(blk.Bytes)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", path, err)
				}
				certs = append(certs, c)
			case "PKCS7":
				cs, err := p7bCertificates(blk.Bytes)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", path, err)
				}
				certs = append(certs, cs...)
			}
		}
	} else if c, err := x509.ParseCertificate(b); err == nil {
		certs = append(certs, c)
	} else if cs, perr := p7bCertificates(b); perr == nil {
		certs = cs
	} else {
		return nil, fmt.Errorf("%s is not a certificate in PEM, DER or PKCS#7 (.p7b): %w", path, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s holds no certificate", path)
	}
	return certs, nil
}

func p7bCertificates(der []byte) ([]*x509.Certificate, error) {
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, err
	}
	if len(p7.Certificates) == 0 {
		return nil, errors.New("the PKCS#7 bundle holds no certificate")
	}
	return p7.Certificates, nil
}

func parsePrivateKey(b []byte) (crypto.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("not a PEM private key")
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("a %s block that is neither PKCS#8 nor PKCS#1", blk.Type)
}

// AS2Algorithms turns the partner's choices into edi/as2 values.
func AS2Algorithms(p AS2Partner) (sign edias2.Digest, signOn bool, cipher edias2.Cipher, encOn bool, comp edias2.Compression, err error) {
	var errs []error
	signOn, encOn = p.Sign != "none", p.Encrypt != "none"
	sign = edias2.SHA256
	if p.Sign != "" && p.Sign != "none" {
		if sign, err = edias2.ParseDigest(p.Sign); err != nil {
			errs = append(errs, fmt.Errorf("sign: %w", err))
		}
	}
	switch p.Encrypt {
	case "", "aes128-cbc":
		cipher = edias2.AES128CBC
	case "aes192-cbc":
		cipher = edias2.AES192CBC
	case "aes256-cbc":
		cipher = edias2.AES256CBC
	case "none":
	default:
		errs = append(errs, fmt.Errorf(`encrypt: must be "aes128-cbc", "aes192-cbc", "aes256-cbc" or "none", got %q`, p.Encrypt))
	}
	switch p.Compress {
	case "", "none":
		comp = edias2.CompressNone
	case "before-signing":
		comp = edias2.CompressBeforeSigning
	case "after-signing":
		comp = edias2.CompressAfterSigning
	default:
		errs = append(errs, fmt.Errorf(`compress: must be "none", "before-signing" or "after-signing", got %q`, p.Compress))
	}
	return sign, signOn, cipher, encOn, comp, errors.Join(errs...)
}

func (c Config) validateAS2(v *validator) {
	enabled := false
	ids := map[string]int{}
	for i, p := range c.Partners {
		a := p.AS2
		field := fmt.Sprintf("partners[%d].as2", i)
		if !a.Enabled() {
			if a.URL != "" || len(a.Certs) > 0 {
				v.add(field+".id", "is required: the partner's AS2 id")
			}
			if p.Outbound.Via == ViaAS2 {
				v.add(fmt.Sprintf("partners[%d].outbound.via", i), `is "as2" but the partner has no as2 section`)
			}
			continue
		}
		enabled = true
		if first, dup := ids[a.ID]; dup {
			v.add(field+".id", fmt.Sprintf("%q is already partners[%d].as2.id", a.ID, first))
		}
		ids[a.ID] = i
		if len(a.ID) > 128 {
			v.add(field+".id", "is longer than 128 characters (RFC 4130)")
		}
		if len(a.Certs) == 0 {
			v.add(field+".certs", "needs the partner's certificate (to verify its signatures and encrypt to it)")
		} else if _, err := AS2Certificates(a, field); err != nil {
			v.add(field+".certs", err.Error())
		}
		if _, _, _, _, _, err := AS2Algorithms(a); err != nil {
			for _, e := range joined(err) {
				v.add(field, e.Error())
			}
		}
		if a.MDN != "" {
			v.oneOf(field+".mdn", a.MDN, "sync", "async", "none")
		}
		if a.MDN == "async" {
			if c.AS2.ReceiptURL == "" {
				v.add(field+".mdn", `is "async", which needs as2.receipt_url: the hub's POST /as2 URL as the partner reaches it`)
			}
		}
		if a.AsyncMDNTimeout != 0 {
			if a.MDN != "async" {
				v.add(field+".async_mdn_timeout", fmt.Sprintf("is set but mdn is %q; it only applies to mdn: async", cmp.Or(a.MDN, "sync")))
			} else {
				v.durRange(field+".async_mdn_timeout", a.AsyncMDNTimeout, Duration(time.Second), Duration(30*24*time.Hour))
			}
		}
		if send := a.SendTimeout(); a.MDN == "async" && a.MDNWait() < send {
			// The MDN would be overdue before the POST that asks for it ends.
			f, what := field+".async_mdn_timeout", fmt.Sprintf("is %s", a.MDNWait())
			if a.AsyncMDNTimeout == 0 {
				f, what = field+".timeout", fmt.Sprintf("is %s, longer than async_mdn_timeout (default %s)", send, a.MDNWait())
			} else {
				what += fmt.Sprintf(", shorter than the send timeout %s (%s.timeout, default %s)", send, field, DefaultAS2Timeout)
			}
			v.add(f, what+": an asynchronous MDN must be awaited at least as long as the send that asks for it may take; raise async_mdn_timeout or lower timeout")
		}
		if p.Outbound.Via == ViaAS2 {
			if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.add(field+".url", fmt.Sprintf("must be the partner's AS2 URL (http or https) for outbound via as2, got %q", a.URL))
			}
		}
	}
	if c.AS2.ReceiptURL != "" {
		if u, err := url.Parse(c.AS2.ReceiptURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add("as2.receipt_url", fmt.Sprintf("must be an absolute http or https URL (the hub's POST /as2 as partners reach it), got %q", c.AS2.ReceiptURL))
		}
	}
	if m := c.AS2.RefusedBodyMax; m != 0 && (m < KiB || (c.AS2.MaxBody > 0 && m > c.AS2.MaxBody)) {
		v.add("as2.refused_body_max", fmt.Sprintf("is %d bytes; it must be between 1KiB and as2.max_body (%d bytes)", int64(m), int64(c.AS2.MaxBody)))
	}
	if !enabled && c.AS2.ID == "" {
		return
	}
	if c.AS2.ID == "" {
		v.add("as2.id", "is required when a partner exchanges AS2: our AS2 id")
	}
	if len(c.AS2.Keys) == 0 {
		v.add("as2.keys", "needs our certificate and private key")
	}
	for i, k := range c.AS2.Keys {
		v.secret(fmt.Sprintf("as2.keys[%d].key", i), k.Key, "is required (a PEM private key, {file: …})")
	}
	if len(c.AS2.Keys) > 0 && len(v.problems) == 0 {
		if _, err := AS2Identity(c.AS2); err != nil {
			v.add("as2.keys", err.Error())
		}
	}
}
