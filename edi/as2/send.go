package as2

import (
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// Request is an outbound AS2 message ready for HTTP POST.
type Request struct {
	Header    http.Header // Content-Type, AS2-*, Message-ID, MIME-Version, receipt request fields
	Body      []byte
	MessageID string // as in the Message-ID header, with angle brackets
	// MIC is what the partner should return in Received-Content-MIC
	// (RFC 4130 §7.3.1); keep it to check the MDN with MDN.CheckMIC.
	MIC MIC
}

// RequestOptions are optional per-message settings for BuildRequest.
type RequestOptions struct {
	MessageID string // default: generated "<random@our-id>"
	Subject   string // default: none
}

// BuildRequest builds an AS2 message from us (self) to partner p carrying
// payload, applying p's compression, signature and encryption choices in
// the order: [compress] → [sign] → [compress] → [encrypt].
func BuildRequest(self *Identity, p *Partner, payload Payload, opt RequestOptions) (*Request, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("building AS2 request: %w", err)
	}
	if self == nil || checkAS2ID(self.ID) != nil {
		return nil, errors.New("building AS2 request: our identity has no valid AS2 id")
	}
	if p.Sign && (len(self.Keys) == 0 || self.Keys[0].Cert == nil || self.Keys[0].Key == nil) {
		return nil, fmt.Errorf("building AS2 request to %q: signing requested but identity %q has no key pair", p.ID, self.ID)
	}
	ent, err := payloadEntity(payload)
	if err != nil {
		return nil, fmt.Errorf("building AS2 request to %q: %w", p.ID, err)
	}
	var mic MIC
	if !p.Sign {
		// RFC 4130 §7.3.1: unsigned → MIC over the payload entity with headers,
		// in the algorithm the receipt request names (only a signed-receipt
		// request carries signed-receipt-micalg).
		mic = computeMIC(UnsignedMICDigest(p.MDN), buildEntity(ent.fields, ent.body))
	}
	if p.Compress == CompressBeforeSigning || (p.Compress == CompressAfterSigning && !p.Sign) {
		if ent, err = compressEntity(ent); err != nil {
			return nil, fmt.Errorf("building AS2 request to %q: %w", p.ID, err)
		}
	}
	if p.Sign {
		signed := buildEntity(ent.fields, ent.body)
		mic = computeMIC(p.digest(), signed)
		if ent, err = signEntity(signed, self.Keys[0], p.digest()); err != nil {
			return nil, fmt.Errorf("building AS2 request to %q: %w", p.ID, err)
		}
		if p.Compress == CompressAfterSigning {
			if ent, err = compressEntity(ent); err != nil {
				return nil, fmt.Errorf("building AS2 request to %q: %w", p.ID, err)
			}
		}
	}
	if p.Encrypt {
		der, err := encrypt(buildEntity(ent.fields, ent.body), p.Certs[0], p.cipher())
		if err != nil {
			return nil, fmt.Errorf("building AS2 request to %q: %w", p.ID, err)
		}
		ent = pkcs7MimeEntity("enveloped-data", "smime.p7m", der)
	}
	id := opt.MessageID
	if id == "" {
		id = newMessageID(self.ID)
	}
	h := http.Header{}
	for _, f := range ent.fields {
		h.Set(f.name, f.value)
	}
	h.Set("MIME-Version", "1.0")
	h.Set(hdrAS2Version, "1.2")
	h.Set(hdrAS2From, formatAS2ID(self.ID))
	h.Set(hdrAS2To, formatAS2ID(p.ID))
	h.Set(hdrMessageID, id)
	if opt.Subject != "" {
		h.Set("Subject", mime.QEncoding.Encode("utf-8", opt.Subject))
	}
	if p.MDN.Mode != MDNNone {
		to := p.MDN.NotificationTo
		if to == "" {
			to = p.MDN.URL
		}
		if to == "" {
			to = self.ID
		}
		h.Set(hdrDNTo, to)
		if o := formatDNOptions(p.MDN); o != "" {
			h.Set(hdrDNOptions, o)
		}
		if p.MDN.Mode == MDNAsync {
			h.Set(hdrReceiptOpt, p.MDN.URL)
		}
	}
	return &Request{Header: h, Body: ent.body, MessageID: id, MIC: mic}, nil
}

// outEntity is an entity under construction.
type outEntity struct {
	fields []field
	body   []byte
}

func payloadEntity(p Payload) (outEntity, error) {
	ct := p.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		return outEntity{}, fmt.Errorf("payload Content-Type %q: %w", ct, err)
	}
	if strings.ContainsAny(ct, "\r\n") || strings.ContainsAny(p.Filename, "\r\n") {
		return outEntity{}, errors.New("payload Content-Type or Filename contains a line break")
	}
	f := []field{{hdrContentType, ct}, {hdrCTE, "binary"}}
	if p.Filename != "" {
		f = append(f, field{hdrCD, "attachment; filename=" + quoteParam(p.Filename)})
	}
	return outEntity{fields: f, body: p.Data}, nil
}

func pkcs7MimeEntity(smimeType, name string, der []byte) outEntity {
	return outEntity{fields: []field{
		{hdrContentType, "application/pkcs7-mime; smime-type=" + smimeType + "; name=" + quoteParam(name)},
		{hdrCTE, "binary"},
		{hdrCD, "attachment; filename=" + quoteParam(name)},
	}, body: der}
}

func compressEntity(e outEntity) (outEntity, error) {
	der, err := compress(buildEntity(e.fields, e.body))
	if err != nil {
		return outEntity{}, err
	}
	return pkcs7MimeEntity("compressed-data", "smime.p7z", der), nil
}

// signEntity wraps the exact bytes signed (a MIME entity) in
// multipart/signed with a detached pkcs7-signature part.
func signEntity(signed []byte, kp KeyPair, d Digest) (outEntity, error) {
	sig, err := sign(signed, kp, d)
	if err != nil {
		return outEntity{}, err
	}
	b64 := base64.StdEncoding.EncodeToString(sig)
	var sb strings.Builder
	for len(b64) > 76 {
		sb.WriteString(b64[:76])
		sb.WriteString("\r\n")
		b64 = b64[76:]
	}
	sb.WriteString(b64)
	sb.WriteString("\r\n")
	sigPart := buildEntity([]field{
		{hdrContentType, `application/pkcs7-signature; name="smime.p7s"`},
		{hdrCTE, "base64"},
		{hdrCD, `attachment; filename="smime.p7s"`},
	}, []byte(sb.String()))
	boundary := newBoundary(signed)
	body := make([]byte, 0, len(signed)+len(sigPart)+3*len(boundary)+16)
	body = append(body, "--"+boundary+"\r\n"...)
	body = append(body, signed...)
	body = append(body, "\r\n--"+boundary+"\r\n"...)
	body = append(body, sigPart...)
	body = append(body, "\r\n--"+boundary+"--\r\n"...)
	return outEntity{fields: []field{{hdrContentType,
		`multipart/signed; protocol="application/pkcs7-signature"; micalg=` + d.String() + `; boundary="` + boundary + `"`}}, body: body}, nil
}
