package as2

import (
	"errors"
	"fmt"
	"strings"
)

// AS2 header names (RFC 4130 §6).
const (
	hdrAS2From     = "AS2-From"
	hdrAS2To       = "AS2-To"
	hdrAS2Version  = "AS2-Version"
	hdrMessageID   = "Message-ID"
	hdrDNTo        = "Disposition-Notification-To"
	hdrDNOptions   = "Disposition-Notification-Options"
	hdrReceiptOpt  = "Receipt-Delivery-Option"
	hdrContentType = "Content-Type"
	hdrCTE         = "Content-Transfer-Encoding"
	hdrCD          = "Content-Disposition"
)

// checkAS2ID enforces RFC 4130 §6.2: 1 to 128 printable ASCII characters.
func checkAS2ID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("AS2 id %q must be 1 to 128 characters", id)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return fmt.Errorf("AS2 id %q has a non-printable or non-ASCII byte at %d", id, i)
		}
	}
	return nil
}

// parseAS2ID reads an AS2-From/AS2-To value, unquoting "…" forms with
// backslash escapes. Ids are case-sensitive and returned as sent.
func parseAS2ID(v string) (string, error) {
	v = strings.Trim(v, " \t")
	if strings.HasPrefix(v, `"`) {
		if len(v) < 2 || !strings.HasSuffix(v, `"`) {
			return "", fmt.Errorf("AS2 id %q: unterminated quoted string", v)
		}
		var b strings.Builder
		in := v[1 : len(v)-1]
		for i := 0; i < len(in); i++ {
			c := in[i]
			if c == '\\' {
				if i+1 == len(in) {
					return "", fmt.Errorf("AS2 id %q: dangling backslash", v)
				}
				i++
				c = in[i]
			} else if c == '"' {
				return "", fmt.Errorf("AS2 id %q: unescaped quote inside quoted string", v)
			}
			b.WriteByte(c)
		}
		v = b.String()
	}
	if err := checkAS2ID(v); err != nil {
		return "", err
	}
	return v, nil
}

// formatAS2ID quotes an id when it contains spaces or specials.
func formatAS2ID(id string) string {
	if strings.ContainsAny(id, " \t\"\\()<>@,;:/[]?={}") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(id) + `"`
	}
	return id
}

// parseDNOptions interprets Disposition-Notification-Options, e.g.
//
//	signed-receipt-protocol=optional, pkcs7-signature;
//	signed-receipt-micalg=optional, sha-256, sha1
//
// into req. Unsupported choices marked "required" yield UnsupportedFormat or
// UnsupportedMICAlgorithms errors (RFC 4130 §7.5.3, "failed/Failure");
// marked "optional" they are ignored: the receipt is then unsigned
// (unknown protocol) or signed with sha-256 (no known micalg).
func parseDNOptions(v string, req *MDNRequest) error {
	const op = "reading Disposition-Notification-Options"
	for _, param := range strings.Split(v, ";") {
		name, val, ok := strings.Cut(param, "=")
		if !ok {
			if strings.TrimSpace(param) == "" {
				continue
			}
			return errorf(UnexpectedProcessingError, op, "parameter %q has no '='", strings.TrimSpace(param))
		}
		items := strings.Split(val, ",")
		importance := strings.ToLower(strings.TrimSpace(items[0]))
		var values []string
		for _, it := range items[1:] {
			if it = strings.Trim(strings.TrimSpace(it), `"`); it != "" {
				values = append(values, it)
			}
		}
		required := importance == "required"
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "signed-receipt-protocol":
			for _, p := range values {
				if strings.EqualFold(p, "pkcs7-signature") {
					req.Signed = true
				}
			}
			if !req.Signed && required {
				return errorf(UnsupportedFormat, op, "signed-receipt-protocol %q is required but we only sign receipts with pkcs7-signature", strings.Join(values, ", "))
			}
		case "signed-receipt-micalg":
			var unknown []string
			for _, a := range values {
				d, err := ParseDigest(a)
				if err != nil {
					unknown = append(unknown, a)
					continue
				}
				req.MICAlgs = append(req.MICAlgs, d)
			}
			if len(req.MICAlgs) == 0 && len(values) > 0 && required {
				return errorf(UnsupportedMICAlgorithms, op, "signed-receipt-micalg %q is required but none is supported (we support sha-1, sha-256, sha-384, sha-512)", strings.Join(unknown, ", "))
			}
		}
	}
	return nil
}

// formatDNOptions writes the Disposition-Notification-Options we send.
func formatDNOptions(req MDNRequest) string {
	if !req.Signed {
		return ""
	}
	algs := req.MICAlgs
	if len(algs) == 0 {
		algs = []Digest{SHA256}
	}
	names := make([]string, len(algs))
	for i, d := range algs {
		names[i] = d.String()
	}
	return "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, " + strings.Join(names, ", ")
}

// DefaultMICDigest is the MIC algorithm when no signed-receipt-micalg list
// travels: for an unsigned message whose sender asked for an unsigned receipt (or
// for none). RFC 4130 §7.3.1 ties the Received-Content-MIC algorithm to that list
// and names none for this case; both sides here use sha-256, and a partner that
// uses sha-1 shows up as a MIC mismatch naming both algorithms.
const DefaultMICDigest = SHA256

// UnsignedMICDigest is the algorithm of the MIC of an unsigned message sent with
// the receipt request req, the same on both sides (RFC 4130 §7.3.1): the first
// signed-receipt-micalg when a signed receipt is asked for (the list is only sent
// then; an empty one is sent as sha-256), otherwise DefaultMICDigest. A signed
// message's MIC uses its signature digest instead.
func UnsignedMICDigest(req MDNRequest) Digest {
	if req.Mode == MDNNone || !req.Signed {
		return DefaultMICDigest
	}
	return firstDigest(req.MICAlgs)
}

// firstDigest returns the first valid digest of algs, or DefaultMICDigest.
func firstDigest(algs []Digest) Digest {
	for _, d := range algs {
		if d.valid() {
			return d
		}
	}
	return DefaultMICDigest
}

var errNoHeader = errors.New("header missing")
