package sftp

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

// ErrHostKeyMismatch is matched (errors.Is) by every *HostKeyError.
var ErrHostKeyMismatch = errors.New("sftp host key does not match the pinned key")

// HostKeyError refuses a connection whose server key is not the pinned one: the server
// is not the one configured, or the partner rotated its key. It is permanent: the
// poller stops instead of retrying.
type HostKeyError struct {
	Partner  string
	Addr     string // host:port dialled
	Seen     string // SHA256 fingerprint the server offered
	SeenType string // key type the server offered, e.g. ssh-ed25519
	Expected string // SHA256 fingerprint pinned in the config
}

func (e *HostKeyError) Error() string {
	return fmt.Sprintf("sftp partner %q at %s: host key %s (%s) offered by the server does not match the pinned %s; "+
		"refusing to connect. If the partner rotated its key, confirm the new fingerprint with them out of band and update HostKey",
		e.Partner, e.Addr, e.Seen, e.SeenType, e.Expected)
}

// Is reports ErrHostKeyMismatch and filedrop.ErrPermanent.
func (e *HostKeyError) Is(target error) bool {
	return target == ErrHostKeyMismatch || target == filedrop.ErrPermanent
}

// pin is a parsed Config.HostKey.
type pin struct {
	key         ssh.PublicKey // nil when pinned by fingerprint only
	fingerprint string
}

func parsePin(s string) (pin, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "SHA256:") {
		fp := strings.TrimRight(s, "=") // ssh-keygen prints no padding; tolerate it
		if len(fp) != len("SHA256:")+43 {
			return pin{}, errors.New(`fingerprint must be "SHA256:" followed by 43 base64 characters`)
		}
		return pin{fingerprint: fp}, nil
	}
	marker, _, key, _, _, err := ssh.ParseKnownHosts([]byte(s))
	if err != nil {
		// Also accept the bare "ssh-ed25519 AAAA…" form of an authorized_keys line.
		k, _, _, _, err2 := ssh.ParseAuthorizedKey([]byte(s))
		if err2 != nil {
			return pin{}, fmt.Errorf("parsing known_hosts line: %w", err)
		}
		key = k
	}
	if marker == "revoked" {
		return pin{}, errors.New("a @revoked known_hosts line cannot pin a key")
	}
	return pin{key: key, fingerprint: ssh.FingerprintSHA256(key)}, nil
}

// hostKeyAlgorithms asks the server for the pinned key's type, so a server with several
// host keys presents the one we pinned. Nil means the library default.
func (p pin) hostKeyAlgorithms() []string {
	if p.key == nil {
		return nil
	}
	if p.key.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{p.key.Type()}
}

func (p pin) callback(partner string) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		if p.key != nil {
			if bytes.Equal(key.Marshal(), p.key.Marshal()) {
				return nil
			}
		} else if ssh.FingerprintSHA256(key) == p.fingerprint {
			return nil
		}
		return &HostKeyError{
			Partner:  partner,
			Addr:     hostname,
			Seen:     ssh.FingerprintSHA256(key),
			SeenType: key.Type(),
			Expected: p.fingerprint,
		}
	}
}

func parseSigner(pemBytes, passphrase []byte) (ssh.Signer, error) {
	var (
		s   ssh.Signer
		err error
	)
	if len(passphrase) > 0 {
		s, err = ssh.ParsePrivateKeyWithPassphrase(pemBytes, passphrase)
	} else {
		s, err = ssh.ParsePrivateKey(pemBytes)
	}
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, errors.New("key is encrypted and PrivateKeyPassphrase is empty")
		}
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	return s, nil
}
