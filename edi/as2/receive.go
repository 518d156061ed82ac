package as2

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/smallstep/pkcs7"
)

// Resolver finds the partner profile and our identity for an exchange.
// Implementations must be safe for concurrent use. Return an error wrapping
// ErrUnknownPartner when the pair is not configured; any other error is
// treated as our own failure (Parse returns it without a disposition).
type Resolver interface {
	// Resolve returns the profile of partner and our identity ours, where
	// partner is the remote AS2 id and ours is our AS2 id.
	Resolve(ctx context.Context, partner, ours string) (*Partner, *Identity, error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, partner, ours string) (*Partner, *Identity, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(ctx context.Context, partner, ours string) (*Partner, *Identity, error) {
	return f(ctx, partner, ours)
}

// Layer is one S/MIME layer found on an inbound message.
type Layer string

// Layers.
const (
	LayerEncrypted  Layer = "encrypted"
	LayerSigned     Layer = "signed"
	LayerCompressed Layer = "compressed"
)

// Security says what protection an inbound message or MDN carried.
type Security struct {
	Layers []Layer // outermost first, e.g. [encrypted signed compressed]

	Encrypted     bool
	Cipher        Cipher
	DecryptedWith *x509.Certificate // which of our certificates the sender encrypted to

	Signed bool
	Digest Digest            // the signature's digest algorithm
	Signer *x509.Certificate // which of the partner's certificates verified
	// MICAlgParam is the micalg parameter of multipart/signed, normalised
	// (zero if absent or unknown). Digest, read from the signature, wins.
	MICAlgParam Digest
	// CRLFConverted: the signed part arrived with bare LF line ends and the
	// signature verified only over its CRLF-canonical form (see package doc).
	CRLFConverted bool

	Compressed bool
}

// Message is an inbound AS2 message after unwrapping.
type Message struct {
	MessageID string // Message-ID header, as sent (with angle brackets)
	From      string // AS2-From, unquoted, case preserved
	To        string // AS2-To, unquoted, case preserved
	Subject   string

	Partner  *Partner  // as resolved; nil if resolution failed
	Identity *Identity // ours, as resolved; nil if resolution failed

	Payload  Payload
	Security Security
	// MIC is the value to return in Received-Content-MIC (RFC 4130 §7.3.1);
	// zero when processing stopped before it could be computed.
	MIC MIC
	MDN MDNRequest // the receipt the sender asked for
}

// Receiver parses inbound AS2 messages and MDNs. It is safe for concurrent use.
type Receiver struct {
	cfg      Config
	resolver Resolver
}

// NewReceiver returns a Receiver bounded by cfg that finds partners with r.
func NewReceiver(cfg Config, r Resolver) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("as2 receiver config: %w", err)
	}
	if r == nil {
		return nil, errors.New("as2 receiver: nil Resolver")
	}
	return &Receiver{cfg: cfg, resolver: r}, nil
}

// Parse reads an inbound AS2 HTTP request (its header and body), resolves
// the partner, decrypts, verifies and decompresses in whatever order the
// layers were applied, and returns the payload with what was done.
//
// On error Parse still returns a *Message filled as far as processing got
// (ids, Message-ID, the receipt request, possibly the MIC), so the caller
// can answer with BuildMDN(msg, err, …). Errors of type *Error are the
// sender's fault and map to an MDN disposition; other errors (the Resolver
// failing, ctx cancelled) are ours and should become HTTP 5xx.
//
// Cancelling ctx is passed to the Resolver and stops processing between
// layers; the body is read with at most Config.MaxBodySize bytes.
func (r *Receiver) Parse(ctx context.Context, h http.Header, body io.Reader) (*Message, error) {
	msg := &Message{MessageID: strings.TrimSpace(h.Get(hdrMessageID))}
	if s, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err == nil {
		msg.Subject = s
	}
	var err, optErr error
	if msg.From, err = parseAS2ID(h.Get(hdrAS2From)); err != nil {
		return msg, newError(UnexpectedProcessingError, "reading AS2-From", err)
	}
	if msg.To, err = parseAS2ID(h.Get(hdrAS2To)); err != nil {
		return msg, newError(UnexpectedProcessingError, "reading AS2-To", err)
	}
	if dn := h.Get(hdrDNTo); dn != "" {
		msg.MDN.Mode, msg.MDN.NotificationTo = MDNSync, dn
		if u := strings.TrimSpace(h.Get(hdrReceiptOpt)); u != "" {
			msg.MDN.Mode, msg.MDN.URL = MDNAsync, u
		}
		// An unsupported required option fails the message, but only after
		// resolving, so that the failure receipt can still be signed.
		optErr = parseDNOptions(h.Get(hdrDNOptions), &msg.MDN)
	}
	if msg.MessageID == "" {
		return msg, errorf(UnexpectedProcessingError, "reading Message-ID", "%v; the sender must set one (RFC 4130 §5.3.3)", errNoHeader)
	}
	p, self, err := r.resolver.Resolve(ctx, msg.From, msg.To)
	if err != nil {
		if errors.Is(err, ErrUnknownPartner) {
			return msg, newError(AuthenticationFailed, "resolving partner",
				fmt.Errorf("no relationship from %q to %q is configured: %w", msg.From, msg.To, err))
		}
		return msg, fmt.Errorf("as2: resolving partner %q to %q: %w", msg.From, msg.To, err)
	}
	if p == nil || self == nil {
		return msg, fmt.Errorf("as2: resolver returned no partner or identity for %q to %q", msg.From, msg.To)
	}
	msg.Partner, msg.Identity = p, self
	if optErr != nil {
		return msg, optErr
	}

	data, err := readCapped(body, r.cfg.MaxBodySize)
	if err != nil {
		return msg, newError(UnexpectedProcessingError, "reading body", err)
	}
	top, err := topEntity(h, data)
	if err != nil {
		return msg, newError(UnexpectedProcessingError, "reading body", err)
	}
	u := unwrapper{r: r, ctx: ctx, certs: p.Certs, keys: self.Keys, sec: &msg.Security}
	payload, err := u.run(top)
	if err != nil {
		return msg, err
	}
	if !msg.Security.Signed {
		// The first signed-receipt-micalg the request carried, else
		// DefaultMICDigest: what UnsignedMICDigest gives the sender.
		msg.MIC = computeMIC(firstDigest(msg.MDN.MICAlgs), payload.raw)
	} else {
		msg.MIC = u.mic
	}
	if p.RequireEncryption && !msg.Security.Encrypted {
		return msg, errorf(DecryptionFailed, "checking policy", "message from %q was not encrypted but the partner profile requires encryption; ask the partner to encrypt, or clear RequireEncryption", msg.From)
	}
	if p.RequireSignature && !msg.Security.Signed {
		return msg, errorf(AuthenticationFailed, "checking policy", "message from %q was not signed but the partner profile requires a signature; ask the partner to sign, or clear RequireSignature", msg.From)
	}
	data, err = payload.decodedBody()
	if err != nil {
		return msg, newError(UnexpectedProcessingError, "decoding payload", err)
	}
	msg.Payload = Payload{Data: data, ContentType: payload.header.Get(hdrContentType), Filename: payload.filename()}
	if msg.Payload.ContentType == "" {
		msg.Payload.ContentType = "text/plain"
	}
	return msg, nil
}

func readCapped(r io.Reader, max int64) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: body exceeds %d bytes", ErrTooLarge, mbe.Limit)
		}
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: body exceeds %d bytes (Config.MaxBodySize)", ErrTooLarge, max)
	}
	return b, nil
}

// topEntity rebuilds the outermost MIME entity from the HTTP header fields
// that describe content. The header lines are written in a fixed order
// (Content-Type, Content-Transfer-Encoding, Content-Disposition), which is
// also the order BuildRequest uses, so that an unsigned, unencrypted message
// has the same MIC on both sides.
func topEntity(h http.Header, body []byte) (*entity, error) {
	ct := h.Get(hdrContentType)
	if ct == "" {
		return nil, errors.New("Content-Type header missing")
	}
	var f []field
	for _, name := range []string{hdrContentType, hdrCTE, hdrCD} {
		if v := strings.TrimSpace(h.Get(name)); v != "" {
			if strings.ContainsAny(v, "\r\n") {
				return nil, fmt.Errorf("%s header contains a line break", name)
			}
			f = append(f, field{name, v})
		}
	}
	raw := buildEntity(f, body)
	hdr := map[string][]string{}
	for _, x := range f {
		hdr[x.name] = []string{x.value}
	}
	return &entity{raw: raw, header: hdr, body: raw[len(raw)-len(body):]}, nil
}

// unwrapper peels S/MIME layers in whatever order they were applied.
type unwrapper struct {
	r     *Receiver
	ctx   context.Context
	certs []*x509.Certificate
	keys  []KeyPair
	sec   *Security
	mic   MIC // MIC of the outermost signed part
}

func (u *unwrapper) run(e *entity) (*entity, error) {
	for depth := 0; ; depth++ {
		if err := u.ctx.Err(); err != nil {
			return nil, fmt.Errorf("as2: unwrapping message: %w", err)
		}
		if depth > u.r.cfg.MaxDepth {
			return nil, errorf(UnexpectedProcessingError, "unwrapping message", "more than %d nested S/MIME layers (Config.MaxDepth)", u.r.cfg.MaxDepth)
		}
		mt, params, err := e.mediaType()
		if err != nil {
			return nil, newError(UnexpectedProcessingError, "unwrapping message", err)
		}
		switch mt {
		case "application/pkcs7-mime", "application/x-pkcs7-mime":
			der, err := e.decodedBody()
			if err != nil {
				return nil, newError(UnexpectedProcessingError, "reading "+mt, err)
			}
			var inner []byte
			switch kind := smimeType(params, der); kind {
			case "enveloped-data":
				d, err := decrypt(der, u.keys)
				if err != nil {
					return nil, err
				}
				u.sec.Layers = append(u.sec.Layers, LayerEncrypted)
				u.sec.Encrypted, u.sec.Cipher, u.sec.DecryptedWith = true, d.cipher, d.cert
				inner = d.plain
			case "compressed-data":
				if inner, err = decompress(der, u.r.cfg.MaxDecompressedSize); err != nil {
					return nil, err
				}
				u.sec.Layers = append(u.sec.Layers, LayerCompressed)
				u.sec.Compressed = true
			default:
				return nil, errorf(UnsupportedFormat, "unwrapping message",
					"%s with smime-type %q is not supported (enveloped-data, compressed-data; sign with multipart/signed)", mt, kind)
			}
			if e, err = parseEntity(inner, u.r.cfg.MaxHeaderSize); err != nil {
				return nil, newError(UnexpectedProcessingError, "reading the entity inside "+string(u.sec.Layers[len(u.sec.Layers)-1])+" data", err)
			}
		case "multipart/signed":
			signed, v, crlf, err := verifyMultipartSigned(e, params, u.certs, u.r.cfg)
			if err != nil {
				return nil, err
			}
			if !u.sec.Signed {
				u.sec.Signed, u.sec.Digest, u.sec.Signer, u.sec.CRLFConverted = true, v.digest, v.cert, crlf
				u.sec.MICAlgParam, _ = ParseDigest(params["micalg"])
				u.mic = computeMIC(v.digest, signed)
			}
			u.sec.Layers = append(u.sec.Layers, LayerSigned)
			if e, err = parseEntity(signed, u.r.cfg.MaxHeaderSize); err != nil {
				return nil, newError(UnexpectedProcessingError, "reading the signed entity", err)
			}
		default:
			return e, nil
		}
	}
}

// smimeType returns the smime-type parameter, or when absent, derives it
// from the CMS content type.
func smimeType(params map[string]string, der []byte) string {
	if t := strings.ToLower(params["smime-type"]); t != "" {
		return t
	}
	ci, err := parseContentInfo(der)
	if err != nil {
		return ""
	}
	switch {
	case ci.ContentType.Equal(oidCompressedData):
		return "compressed-data"
	case ci.ContentType.Equal(pkcs7.OIDEnvelopedData):
		return "enveloped-data"
	}
	return ci.ContentType.String()
}

// verifyMultipartSigned checks a multipart/signed entity and returns the
// bytes that were signed.
//
// Canonicalisation rule: the signature is checked over the first body part
// exactly as received. Only if that fails with a digest mismatch and the part
// contains bare LF line ends is it checked again over the part with every
// bare LF turned into CRLF (the RFC 5751 canonical form the sender should
// have transmitted); crlf reports that the second form verified, and signed
// is then the converted form, which also yields the MIC.
func verifyMultipartSigned(e *entity, params map[string]string, certs []*x509.Certificate, cfg Config) (signed []byte, v verified, crlf bool, err error) {
	const op = "verifying signature"
	parts, err := splitMultipart(e.body, params["boundary"], 8)
	if err != nil {
		return nil, v, false, newError(UnexpectedProcessingError, "reading multipart/signed", err)
	}
	if len(parts) != 2 {
		return nil, v, false, errorf(UnexpectedProcessingError, "reading multipart/signed", "%d body parts, want 2 (content and signature)", len(parts))
	}
	sigEnt, err := parseEntity(parts[1], cfg.MaxHeaderSize)
	if err != nil {
		return nil, v, false, newError(AuthenticationFailed, op, fmt.Errorf("%w: reading signature part: %w", ErrBadSignature, err))
	}
	if mt, _, _ := sigEnt.mediaType(); mt != "application/pkcs7-signature" && mt != "application/x-pkcs7-signature" {
		return nil, v, false, errorf(UnsupportedFormat, op, "signature part is %q, want application/pkcs7-signature", mt)
	}
	sig, err := sigEnt.decodedBody()
	if err != nil {
		return nil, v, false, newError(AuthenticationFailed, op, fmt.Errorf("%w: reading signature part: %w", ErrBadSignature, err))
	}
	signed = parts[0]
	now := cfg.Now()
	v, err = verifySignature(sig, signed, certs, now)
	if err != nil && errors.Is(err, ErrIntegrityCheckFailed) && hasBareLF(signed) {
		canon := toCRLF(signed)
		if v2, err2 := verifySignature(sig, canon, certs, now); err2 == nil {
			return canon, v2, true, nil
		}
	}
	if err != nil {
		return nil, v, false, err
	}
	return signed, v, false, nil
}
