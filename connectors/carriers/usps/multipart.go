package usps

import (
	"bytes"
	"mime"
	"strings"
)

// part is one part of a multipart label answer.
type part struct {
	// header keys are lowercased.
	header map[string]string
	body   []byte
}

// name is the part's form name (Content-Disposition: form-data; name="labelImage"),
// or "".
func (p part) name() string {
	cd := p.header["content-disposition"]
	if cd == "" {
		return ""
	}
	if _, params, err := mime.ParseMediaType(cd); err == nil {
		return params["name"]
	}
	// Lenient: name=labelImage or name="labelImage" anywhere in the header.
	i := strings.Index(strings.ToLower(cd), "name=")
	if i < 0 || (i > 0 && cd[i-1] != ' ' && cd[i-1] != ';') {
		return ""
	}
	v := cd[i+len("name="):]
	if end := strings.IndexAny(v, ";"); end >= 0 {
		v = v[:end]
	}
	return strings.Trim(strings.TrimSpace(v), `"`)
}

// mediaType is the part's media type, lowercased, without parameters.
func (p part) mediaType() string {
	mt, _, _ := strings.Cut(p.header["content-type"], ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// splitMultipart splits a multipart body by hand, because USPS's answers are not
// always well-formed MIME: the 2023 sample has a "File Name:" part header (a space
// in a header name, which mime/multipart refuses), LF line ends, and no line end
// after the closing delimiter. When boundary is empty it is taken from the first
// line. Parts are returned in order; a missing closing delimiter is tolerated.
func splitMultipart(body []byte, boundary string) []part {
	if boundary == "" {
		first, _, _ := bytes.Cut(body, []byte("\n"))
		first = bytes.TrimRight(first, "\r \t")
		if !bytes.HasPrefix(first, []byte("--")) || len(first) < 3 {
			return nil
		}
		boundary = string(first[2:])
	}
	delim := []byte("--" + boundary)
	var parts []part
	rest := body
	// Skip the preamble up to the first delimiter at a line start.
	i := indexDelim(rest, delim)
	if i < 0 {
		return nil
	}
	rest = rest[i+len(delim):]
	for len(parts) < 64 {
		if bytes.HasPrefix(rest, []byte("--")) {
			break // closing delimiter
		}
		// The rest of the delimiter line (transport padding) and its line end.
		if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
			rest = rest[nl+1:]
		} else {
			break
		}
		end := indexDelim(rest, delim)
		chunk := rest
		if end >= 0 {
			chunk = rest[:end]
		}
		parts = append(parts, parsePart(chunk))
		if end < 0 {
			break
		}
		rest = rest[end+len(delim):]
	}
	return parts
}

// indexDelim finds delim at the start of a line (or of b).
func indexDelim(b, delim []byte) int {
	off := 0
	for {
		i := bytes.Index(b[off:], delim)
		if i < 0 {
			return -1
		}
		at := off + i
		if at == 0 || b[at-1] == '\n' {
			return at
		}
		off = at + 1
	}
}

// parsePart splits a part into headers and body; the body's last line end belongs
// to the delimiter that follows it.
func parsePart(chunk []byte) part {
	p := part{header: map[string]string{}}
	for {
		line, rest, found := bytes.Cut(chunk, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			if found {
				chunk = rest
			} else {
				chunk = nil
			}
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok {
			key := strings.ToLower(strings.TrimSpace(string(k)))
			if _, dup := p.header[key]; !dup && len(p.header) < 32 {
				p.header[key] = strings.TrimSpace(string(v))
			}
		} else {
			// Not a header: the part has none, this is already the body.
			break
		}
		if !found {
			chunk = nil
			break
		}
		chunk = rest
	}
	chunk = bytes.TrimSuffix(chunk, []byte("\n"))
	chunk = bytes.TrimSuffix(chunk, []byte("\r"))
	p.body = chunk
	return p
}
