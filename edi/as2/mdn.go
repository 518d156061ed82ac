package as2

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
)

// Disposition is the Disposition field of an MDN (RFC 3798 §3.2.6 as
// profiled by RFC 4130 §7.5.3), e.g.
//
//	automatic-action/MDN-sent-automatically; processed/Error: decryption-failed
type Disposition struct {
	ActionMode  string // "automatic-action"
	SendingMode string // "MDN-sent-automatically"
	Type        string // "processed" or "failed" (lower case)
	// ModifierKind is "Error", "Warning" or "Failure" (as written by RFC
	// 4130; compare case-insensitively), empty for a plain "processed".
	ModifierKind string
	Modifier     Modifier
}

// String formats d as in the Disposition field.
func (d Disposition) String() string {
	s := d.ActionMode + "/" + d.SendingMode + "; " + d.Type
	if d.ModifierKind != "" {
		s += "/" + d.ModifierKind + ": " + string(d.Modifier)
	}
	return s
}

// OK reports whether d says the message was processed without error
// (warnings count as processed).
func (d Disposition) OK() bool {
	return strings.EqualFold(d.Type, "processed") && (d.ModifierKind == "" || strings.EqualFold(d.ModifierKind, "warning"))
}

// DispositionFor maps a Parse error to the disposition to send: nil →
// "processed"; *Error → its modifier, as "processed/Error: …" or, for
// unsupported format and unsupported MIC-algorithms, "failed/Failure: …"
// (RFC 4130 §7.5.3); any other error → "processed/Error:
// unexpected-processing-error". This is the one place that mapping is made.
func DispositionFor(err error) Disposition {
	d := Disposition{ActionMode: "automatic-action", SendingMode: "MDN-sent-automatically", Type: "processed"}
	if err == nil {
		return d
	}
	m := UnexpectedProcessingError
	var e *Error
	if errors.As(err, &e) && e.Modifier != "" {
		m = e.Modifier
	}
	d.ModifierKind, d.Modifier = "Error", m
	if m.failure() {
		d.Type, d.ModifierKind = "failed", "Failure"
	}
	return d
}

// ParseDisposition parses a Disposition field value.
func ParseDisposition(s string) (Disposition, error) {
	var d Disposition
	mode, rest, ok := strings.Cut(s, ";")
	if !ok {
		return d, fmt.Errorf("parsing Disposition %q: no ';' between mode and type", s)
	}
	d.ActionMode, d.SendingMode, _ = strings.Cut(strings.TrimSpace(mode), "/")
	d.ActionMode, d.SendingMode = strings.TrimSpace(d.ActionMode), strings.TrimSpace(d.SendingMode)
	typ, mod, hasMod := strings.Cut(rest, "/")
	d.Type = strings.ToLower(strings.TrimSpace(typ))
	if d.Type == "" {
		return d, fmt.Errorf("parsing Disposition %q: empty disposition type", s)
	}
	if hasMod {
		kind, text, _ := strings.Cut(mod, ":")
		d.ModifierKind = strings.TrimSpace(kind)
		d.Modifier = parseModifier(text)
	}
	return d, nil
}

// MDNOptions are optional settings for BuildMDN.
type MDNOptions struct {
	ReportingUA string // default "PakLog Integration Hub; edi/as2"
	MessageID   string // Message-ID of the MDN; default generated
	// Text replaces the generated human-readable part.
	Text string
}

// MDNResponse is an MDN ready to send: as the HTTP response to the
// original POST (Async false), or POSTed to URL (Async true).
type MDNResponse struct {
	Header    http.Header
	Body      []byte
	MessageID string
	Async     bool
	URL       string
}

// BuildMDN builds the receipt for msg (as returned by Receiver.Parse) with
// the disposition DispositionFor(procErr). The MDN is signed with
// msg.Identity.Keys[0] when the sender asked for a signed receipt, using the
// first of the sender's micalg choices we support (sha-256 if none); if no
// identity was resolved it is sent unsigned. Received-Content-MIC is
// included whenever a MIC was computed.
func BuildMDN(msg *Message, procErr error, opt MDNOptions) (*MDNResponse, error) {
	if msg == nil || msg.MessageID == "" || msg.From == "" || msg.To == "" {
		return nil, errors.New("building MDN: the message lacks Message-ID, AS2-From or AS2-To; answer with HTTP 400 instead")
	}
	disp := DispositionFor(procErr)
	ua := opt.ReportingUA
	if ua == "" {
		ua = "PakLog Integration Hub; edi/as2"
	}
	var fields bytes.Buffer
	for _, f := range []field{
		{"Reporting-UA", ua},
		{"Original-Recipient", "rfc822; " + msg.To},
		{"Final-Recipient", "rfc822; " + msg.To},
		{"Original-Message-ID", msg.MessageID},
		{"Disposition", disp.String()},
	} {
		fmt.Fprintf(&fields, "%s: %s\r\n", f.name, oneLine(f.value))
	}
	if !msg.MIC.IsZero() {
		fmt.Fprintf(&fields, "Received-Content-MIC: %s\r\n", msg.MIC)
	}
	text := opt.Text
	if text == "" {
		text = mdnText(msg, disp, procErr)
	}
	textPart := buildEntity([]field{{hdrContentType, "text/plain; charset=us-ascii"}, {hdrCTE, "7bit"}}, []byte(toCRLFText(text)))
	dnPart := buildEntity([]field{{hdrContentType, "message/disposition-notification"}, {hdrCTE, "7bit"}}, fields.Bytes())
	boundary := newBoundary(textPart, dnPart)
	var body bytes.Buffer
	body.WriteString("--" + boundary + "\r\n")
	body.Write(textPart)
	body.WriteString("\r\n--" + boundary + "\r\n")
	body.Write(dnPart)
	body.WriteString("\r\n--" + boundary + "--\r\n")
	ent := outEntity{fields: []field{{hdrContentType, `multipart/report; report-type=disposition-notification; boundary="` + boundary + `"`}}, body: body.Bytes()}

	if msg.MDN.Signed && msg.Identity != nil && len(msg.Identity.Keys) > 0 && msg.Identity.Keys[0].Key != nil {
		var err error
		if ent, err = signEntity(buildEntity(ent.fields, ent.body), msg.Identity.Keys[0], firstDigest(msg.MDN.MICAlgs)); err != nil {
			return nil, fmt.Errorf("building MDN for %s: %w", msg.MessageID, err)
		}
	}
	id := opt.MessageID
	if id == "" {
		id = newMessageID(msg.To)
	}
	h := http.Header{}
	for _, f := range ent.fields {
		h.Set(f.name, f.value)
	}
	h.Set("MIME-Version", "1.0")
	h.Set(hdrAS2Version, "1.2")
	h.Set(hdrAS2From, formatAS2ID(msg.To))
	h.Set(hdrAS2To, formatAS2ID(msg.From))
	h.Set(hdrMessageID, id)
	h.Set("Subject", "Message Disposition Notification")
	return &MDNResponse{Header: h, Body: ent.body, MessageID: id, Async: msg.MDN.Mode == MDNAsync, URL: msg.MDN.URL}, nil
}

func mdnText(msg *Message, d Disposition, err error) string {
	if err == nil {
		return fmt.Sprintf("The AS2 message %s from %s to %s was received and processed.\n"+
			"This receipt confirms receipt and integrity checks only, not that the content was read or accepted.\n",
			msg.MessageID, msg.From, msg.To)
	}
	reason := "an unexpected processing error occurred on our side"
	var e *Error
	if errors.As(err, &e) {
		reason = e.Error()
	}
	return fmt.Sprintf("The AS2 message %s from %s to %s could not be processed (%s).\nReason: %s\n",
		msg.MessageID, msg.From, msg.To, d, reason)
}

func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

func toCRLFText(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// MDN is a parsed receipt.
type MDN struct {
	MessageID string // the MDN's own Message-ID
	From, To  string // AS2-From (the partner) and AS2-To (us)

	ReportingUA       string
	OriginalRecipient string
	FinalRecipient    string
	OriginalMessageID string // the Message-ID of the message this MDN answers
	Disposition       Disposition
	MIC               MIC    // Received-Content-MIC; zero if absent
	Text              string // the human-readable part

	Security Security // whether and how the MDN was signed
}

// CheckMIC compares the returned MIC with the one computed when sending
// (Request.MIC). It returns ErrNoMIC if the MDN carries none and an error
// wrapping ErrMICMismatch if algorithm or value differ.
func (m *MDN) CheckMIC(sent MIC) error {
	if m.MIC.IsZero() {
		return fmt.Errorf("as2: MDN %s for %s: %w", m.MessageID, m.OriginalMessageID, ErrNoMIC)
	}
	if m.MIC.Digest != sent.Digest {
		return fmt.Errorf("as2: MDN for %s: %w: partner used %s, we computed %s; check the signed-receipt-micalg we send and the partner's MIC setting",
			m.OriginalMessageID, ErrMICMismatch, m.MIC.Digest, sent.Digest)
	}
	if !m.MIC.Equal(sent) {
		return fmt.Errorf("as2: MDN for %s: %w: partner computed %q, we computed %q; the partner received different bytes than we sent",
			m.OriginalMessageID, ErrMICMismatch, m.MIC, sent)
	}
	return nil
}

// Err returns nil if the partner processed the message, else an *Error
// carrying the partner's modifier.
func (m *MDN) Err() error {
	if m.Disposition.OK() {
		return nil
	}
	mod := m.Disposition.Modifier
	if mod == "" {
		mod = UnexpectedProcessingError
	}
	return errorf(mod, "partner receipt", "partner %q reported %q for message %s", m.From, m.Disposition, m.OriginalMessageID)
}

// IsMDN reports whether an AS2 POST (its header fields and body) carries an MDN
// rather than a message: a multipart/report, or a multipart/signed whose signed
// part is a multipart/report. A receipt URL that is also the message endpoint
// (RFC 4130 allows one URL for both) routes with it. It reads nothing but the
// outer structure and never fails: anything unreadable is not an MDN.
func IsMDN(h http.Header, body []byte) bool {
	e, err := topEntity(h, body)
	if err != nil {
		return false
	}
	mt, params, err := e.mediaType()
	switch {
	case err != nil:
		return false
	case mt == "multipart/report":
		return true
	case mt != "multipart/signed":
		return false
	}
	parts, err := splitMultipart(e.body, params["boundary"], 8)
	if err != nil || len(parts) == 0 {
		return false
	}
	signed, err := parseEntity(parts[0], DefaultConfig().MaxHeaderSize)
	if err != nil {
		return false
	}
	mt, _, err = signed.mediaType()
	return err == nil && mt == "multipart/report"
}

// ParseMDN reads an MDN (the HTTP response to our POST, or an asynchronous
// MDN POSTed to us). The partner is resolved from AS2-From (partner) and
// AS2-To (us); a signed MDN is verified against the partner's certificates
// with the same canonicalisation rule as messages. An unsigned MDN is
// rejected (authentication-failed) when the partner profile asks for
// signed receipts. Cancelling ctx is passed to the Resolver.
func (r *Receiver) ParseMDN(ctx context.Context, h http.Header, body io.Reader) (*MDN, error) {
	m := &MDN{MessageID: strings.TrimSpace(h.Get(hdrMessageID))}
	var err error
	if m.From, err = parseAS2ID(h.Get(hdrAS2From)); err != nil {
		return nil, newError(UnexpectedProcessingError, "reading MDN AS2-From", err)
	}
	if m.To, err = parseAS2ID(h.Get(hdrAS2To)); err != nil {
		return nil, newError(UnexpectedProcessingError, "reading MDN AS2-To", err)
	}
	p, _, err := r.resolver.Resolve(ctx, m.From, m.To)
	if err != nil {
		if errors.Is(err, ErrUnknownPartner) {
			return nil, newError(AuthenticationFailed, "resolving MDN sender", fmt.Errorf("no relationship from %q to %q is configured: %w", m.From, m.To, err))
		}
		return nil, fmt.Errorf("as2: resolving MDN sender %q to %q: %w", m.From, m.To, err)
	}
	if p == nil {
		return nil, fmt.Errorf("as2: resolver returned no partner for %q", m.From)
	}
	data, err := readCapped(body, r.cfg.MaxBodySize)
	if err != nil {
		return nil, newError(UnexpectedProcessingError, "reading MDN body", err)
	}
	e, err := topEntity(h, data)
	if err != nil {
		return nil, newError(UnexpectedProcessingError, "reading MDN body", err)
	}
	mt, params, err := e.mediaType()
	if err != nil {
		return nil, newError(UnexpectedProcessingError, "reading MDN", err)
	}
	if mt == "multipart/signed" {
		signed, v, crlf, err := verifyMultipartSigned(e, params, p.Certs, r.cfg)
		if err != nil {
			return nil, err
		}
		m.Security = Security{Layers: []Layer{LayerSigned}, Signed: true, Digest: v.digest, Signer: v.cert, CRLFConverted: crlf}
		m.Security.MICAlgParam, _ = ParseDigest(params["micalg"])
		if e, err = parseEntity(signed, r.cfg.MaxHeaderSize); err != nil {
			return nil, newError(UnexpectedProcessingError, "reading signed MDN", err)
		}
		if mt, params, err = e.mediaType(); err != nil {
			return nil, newError(UnexpectedProcessingError, "reading signed MDN", err)
		}
	} else if p.MDN.Signed {
		return nil, errorf(AuthenticationFailed, "reading MDN", "MDN from %q is not signed but the partner profile asks for signed receipts", m.From)
	}
	if mt != "multipart/report" {
		return nil, errorf(UnsupportedFormat, "reading MDN", "MDN is %q, want multipart/report; report-type=disposition-notification", mt)
	}
	parts, err := splitMultipart(e.body, params["boundary"], 16)
	if err != nil {
		return nil, newError(UnexpectedProcessingError, "reading MDN report", err)
	}
	found := false
	for _, raw := range parts {
		pe, err := parseEntity(raw, r.cfg.MaxHeaderSize)
		if err != nil {
			return nil, newError(UnexpectedProcessingError, "reading MDN report part", err)
		}
		pmt, _, _ := pe.mediaType()
		body, err := pe.decodedBody()
		if err != nil {
			return nil, newError(UnexpectedProcessingError, "reading MDN report part", err)
		}
		switch {
		case pmt == "message/disposition-notification" && !found:
			found = true
			if err := m.readFields(body, r.cfg.MaxHeaderSize); err != nil {
				return nil, err
			}
		case strings.HasPrefix(pmt, "text/") && m.Text == "":
			m.Text = string(body)
		}
	}
	if !found {
		return nil, errorf(UnexpectedProcessingError, "reading MDN report", "no message/disposition-notification part")
	}
	return m, nil
}

func (m *MDN) readFields(b []byte, max int) error {
	const op = "reading disposition-notification fields"
	if len(b) > max {
		return newError(UnexpectedProcessingError, op, fmt.Errorf("%w: fields longer than %d bytes", ErrTooLarge, max))
	}
	b = append(bytes.TrimRight(b, "\r\n"), "\r\n\r\n"...)
	f, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(b))).ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return newError(UnexpectedProcessingError, op, err)
	}
	m.ReportingUA = f.Get("Reporting-UA")
	m.OriginalRecipient = f.Get("Original-Recipient")
	m.FinalRecipient = f.Get("Final-Recipient")
	m.OriginalMessageID = f.Get("Original-Message-ID")
	d := f.Get("Disposition")
	if d == "" {
		return errorf(UnexpectedProcessingError, op, "Disposition field missing")
	}
	if m.Disposition, err = ParseDisposition(d); err != nil {
		return newError(UnexpectedProcessingError, op, err)
	}
	if mic := f.Get("Received-Content-MIC"); mic != "" {
		if m.MIC, err = ParseMIC(mic); err != nil {
			return newError(UnexpectedProcessingError, op, err)
		}
	}
	return nil
}
