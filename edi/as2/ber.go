package as2

import (
	"bytes"
	"errors"
	"fmt"
)

// berToDER rewrites one BER-encoded element into the subset of DER that
// encoding/asn1 accepts: indefinite lengths become definite and constructed
// OCTET STRINGs (as streamed by Bouncy Castle and OpenSSL -stream) are
// flattened into primitive ones. It does not sort SETs; the parsers here do
// not need that. Hostile input is bounded by maxBERDepth and by the input size.
func berToDER(b []byte) ([]byte, error) {
	n, end, err := parseBER(b, 0, 0)
	if err != nil {
		return nil, err
	}
	if end != len(b) {
		return nil, fmt.Errorf("ber: %d trailing bytes after the outer element", len(b)-end)
	}
	var out bytes.Buffer
	out.Grow(len(b))
	n.encode(&out)
	return out.Bytes(), nil
}

const maxBERDepth = 64

type berNode struct {
	tag         []byte // identifier octets as read (constructed bit may be cleared on flattening)
	constructed bool
	content     []byte     // primitive content
	kids        []*berNode // constructed content
}

var errBERTruncated = errors.New("ber: truncated element")

func parseBER(b []byte, off, depth int) (*berNode, int, error) {
	if depth > maxBERDepth {
		return nil, 0, fmt.Errorf("ber: nesting deeper than %d", maxBERDepth)
	}
	start := off
	if off >= len(b) {
		return nil, 0, errBERTruncated
	}
	constructed := b[off]&0x20 != 0
	if b[off]&0x1f == 0x1f { // high tag number form
		off++
		for n := 0; ; n++ {
			if off >= len(b) || n > 4 {
				return nil, 0, errors.New("ber: bad high tag number")
			}
			c := b[off]
			off++
			if c&0x80 == 0 {
				break
			}
		}
	} else {
		off++
	}
	tag := b[start:off]
	if off >= len(b) {
		return nil, 0, errBERTruncated
	}
	l := int(b[off])
	off++
	n := &berNode{tag: tag, constructed: constructed}
	if l == 0x80 { // indefinite length
		if !constructed {
			return nil, 0, errors.New("ber: indefinite length on a primitive element")
		}
		for {
			if off+2 > len(b) {
				return nil, 0, errBERTruncated
			}
			if b[off] == 0 && b[off+1] == 0 {
				return n, off + 2, nil
			}
			kid, next, err := parseBER(b, off, depth+1)
			if err != nil {
				return nil, 0, err
			}
			n.kids = append(n.kids, kid)
			off = next
		}
	}
	if l > 0x80 {
		nb := l & 0x7f
		if nb > 4 {
			return nil, 0, errors.New("ber: length field too long")
		}
		l = 0
		for i := 0; i < nb; i++ {
			if off >= len(b) {
				return nil, 0, errBERTruncated
			}
			l = l<<8 | int(b[off])
			off++
		}
	}
	if l < 0 || l > len(b)-off {
		return nil, 0, errBERTruncated
	}
	end := off + l
	if !constructed {
		n.content = b[off:end]
		return n, end, nil
	}
	for off < end {
		kid, next, err := parseBER(b[:end], off, depth+1)
		if err != nil {
			return nil, 0, err
		}
		n.kids = append(n.kids, kid)
		off = next
	}
	return n, end, nil
}

// isOctetString reports a universal OCTET STRING tag (primitive or constructed).
func (n *berNode) isOctetString() bool {
	return len(n.tag) == 1 && n.tag[0]&^0x20 == 0x04
}

func (n *berNode) flatten(out *bytes.Buffer) {
	if !n.constructed {
		out.Write(n.content)
		return
	}
	for _, k := range n.kids {
		k.flatten(out)
	}
}

func (n *berNode) encode(out *bytes.Buffer) {
	if n.constructed && n.isOctetString() {
		var content bytes.Buffer
		n.flatten(&content)
		out.WriteByte(0x04)
		writeLength(out, content.Len())
		out.Write(content.Bytes())
		return
	}
	out.Write(n.tag)
	if !n.constructed {
		writeLength(out, len(n.content))
		out.Write(n.content)
		return
	}
	var content bytes.Buffer
	for _, k := range n.kids {
		k.encode(&content)
	}
	writeLength(out, content.Len())
	out.Write(content.Bytes())
}

func writeLength(out *bytes.Buffer, l int) {
	if l < 0x80 {
		out.WriteByte(byte(l))
		return
	}
	var buf [4]byte
	n := 0
	for v := l; v > 0; v >>= 8 {
		n++
	}
	for i := 0; i < n; i++ {
		buf[i] = byte(l >> (8 * (n - 1 - i)))
	}
	out.WriteByte(0x80 | byte(n))
	out.Write(buf[:n])
}
