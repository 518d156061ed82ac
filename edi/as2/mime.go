package as2

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

// entity is one MIME entity: its exact bytes as transmitted (headers, blank
// line, body), the parsed header and the raw (still transfer-encoded) body.
type entity struct {
	raw    []byte
	header textproto.MIMEHeader
	body   []byte
}

// field is one header line of an entity we build, kept in order.
type field struct{ name, value string }

// buildEntity serialises header fields and body with CRLF line ends.
func buildEntity(fields []field, body []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(body) + 256)
	for _, f := range fields {
		b.WriteString(f.name)
		b.WriteString(": ")
		b.WriteString(f.value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// parseEntity splits b into header and body. Header lines may end in CRLF
// or bare LF; the header block is limited to maxHeader bytes.
func parseEntity(b []byte, maxHeader int) (*entity, error) {
	off := 0
	for {
		nl := bytes.IndexByte(b[off:], '\n')
		if nl < 0 {
			return nil, errors.New("MIME entity has no header/body separator (blank line)")
		}
		line := b[off : off+nl]
		off += nl + 1
		if off > maxHeader {
			return nil, fmt.Errorf("%w: MIME header block longer than %d bytes", ErrTooLarge, maxHeader)
		}
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			break
		}
	}
	hdr := textproto.MIMEHeader{}
	if off > 2 {
		r := textproto.NewReader(bufio.NewReader(bytes.NewReader(b[:off])))
		h, err := r.ReadMIMEHeader()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading MIME header: %w", err)
		}
		hdr = h
	}
	return &entity{raw: b, header: hdr, body: b[off:]}, nil
}

// mediaType returns the lower-cased media type and parameters of e.
func (e *entity) mediaType() (string, map[string]string, error) {
	ct := e.header.Get("Content-Type")
	if ct == "" {
		return "text/plain", map[string]string{}, nil // RFC 2045 §5.2 default
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", nil, fmt.Errorf("parsing Content-Type %q: %w", ct, err)
	}
	return mt, params, nil
}

// decodedBody undoes the Content-Transfer-Encoding. Absent, binary, 7bit and
// 8bit bodies are returned unchanged: binary payloads without any
// Content-Transfer-Encoding header are accepted as they are.
func (e *entity) decodedBody() ([]byte, error) {
	cte := strings.ToLower(strings.TrimSpace(e.header.Get("Content-Transfer-Encoding")))
	switch cte {
	case "", "binary", "7bit", "8bit":
		return e.body, nil
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, e.body)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil {
			return nil, fmt.Errorf("decoding base64 body: %w", err)
		}
		return out[:n], nil
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(e.body)))
		if err != nil {
			return nil, fmt.Errorf("decoding quoted-printable body: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown Content-Transfer-Encoding %q", cte)
}

// filename returns the filename parameter of Content-Disposition, or "".
func (e *entity) filename() string {
	cd := e.header.Get("Content-Disposition")
	if cd == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(cd)
	if err != nil {
		return ""
	}
	return params["filename"]
}

// splitMultipart returns the exact bytes of each body part of a multipart
// body (RFC 2046 §5.1.1): the CRLF (or bare LF) before a delimiter belongs to
// the delimiter, not to the part. Preamble and epilogue are dropped.
func splitMultipart(body []byte, boundary string, maxParts int) ([][]byte, error) {
	if boundary == "" || len(boundary) > 70 {
		return nil, fmt.Errorf("multipart boundary %q missing or longer than 70 characters", boundary)
	}
	delim := []byte("--" + boundary)
	// find the first delimiter at the start of a line
	pos := -1
	for i := 0; i <= len(body); {
		j := bytes.Index(body[i:], delim)
		if j < 0 {
			break
		}
		j += i
		if j == 0 || body[j-1] == '\n' {
			pos = j
			break
		}
		i = j + 1
	}
	if pos < 0 {
		return nil, fmt.Errorf("multipart body has no boundary %q", boundary)
	}
	var parts [][]byte
	for {
		after := pos + len(delim)
		if bytes.HasPrefix(body[after:], []byte("--")) {
			if len(parts) == 0 {
				return nil, errors.New("multipart body has no parts")
			}
			return parts, nil
		}
		// rest of the delimiter line: optional whitespace, then line end
		nl := bytes.IndexByte(body[after:], '\n')
		if nl < 0 {
			return nil, errors.New("multipart delimiter line not terminated")
		}
		if len(bytes.TrimRight(body[after:after+nl], " \t\r")) != 0 {
			return nil, fmt.Errorf("text after multipart boundary %q", boundary)
		}
		start := after + nl + 1
		// next delimiter: LF "--boundary" followed by "--", whitespace or line end
		end := -1
		for i := start; i <= len(body); {
			j := bytes.Index(body[i:], append([]byte("\n"), delim...))
			if j < 0 {
				break
			}
			j += i
			k := j + 1 + len(delim)
			if k == len(body) || body[k] == '-' || body[k] == '\r' || body[k] == '\n' || body[k] == ' ' || body[k] == '\t' {
				end = j
				break
			}
			i = j + 1
		}
		if end < 0 {
			return nil, fmt.Errorf("multipart body ends without closing boundary %q", boundary)
		}
		partEnd := end
		if partEnd > start && body[partEnd-1] == '\r' {
			partEnd--
		}
		if len(parts) >= maxParts {
			return nil, fmt.Errorf("%w: more than %d parts in a multipart body", ErrTooLarge, maxParts)
		}
		parts = append(parts, body[start:partEnd])
		pos = end + 1
	}
}

// newBoundary returns a boundary that does not occur in any of contents.
func newBoundary(contents ...[]byte) string {
	for {
		var r [18]byte
		_, _ = rand.Read(r[:])
		b := "----=_Part_" + hex.EncodeToString(r[:])
		clash := false
		for _, c := range contents {
			clash = clash || bytes.Contains(c, []byte(b))
		}
		if !clash {
			return b
		}
	}
}

// newMessageID returns an RFC 5322 msg-id with random left side.
func newMessageID(from string) string {
	var r [16]byte
	_, _ = rand.Read(r[:])
	host := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			return c
		}
		return -1
	}, from)
	if host == "" {
		host = "as2"
	}
	return "<" + hex.EncodeToString(r[:]) + "@" + host + ">"
}

// quoteParam formats a MIME parameter value, quoting it when needed.
func quoteParam(v string) string {
	if v != "" && strings.IndexFunc(v, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?=`, r)
	}) < 0 {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}
