package sftpinbox

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Defaults applied by [Config.WithDefaults] to zero-valued fields.
const (
	DefaultAddr           = "127.0.0.1:2222"
	DefaultMaxFileSize    = 256 << 20 // 256 MiB, as filedrop's poller
	DefaultIdleTimeout    = 5 * time.Minute
	DefaultLoginTimeout   = 30 * time.Second
	DefaultHostKeyFile    = "ssh_host_ed25519_key"
	defaultHostKeyComment = "paklog sftp inbox"
)

// AfterStore is what the inbox does with an upload once the Sink committed it.
type AfterStore string

const (
	// Archive moves the upload to the partner's /archive, replacing a file of the same
	// name there. The partner can list and download it; nobody can delete it over SFTP.
	Archive AfterStore = "archive"
	// Delete removes the upload: the Sink holds the only copy.
	Delete AfterStore = "delete"
)

// Partner is one trading partner allowed to log in.
type Partner struct {
	// Name is the partner's name: the Partner of every filedrop.File it uploads, the
	// directory <Root>/<Name>, and the "partner" attribute of every log line. Letters,
	// digits, '.', '_' and '-', not starting with '.'.
	Name string `yaml:"name"`
	// AuthorizedKeys are the partner's public keys, one authorized_keys line each
	// ("ssh-ed25519 AAAA… comment"; options before the key type are not supported).
	// A key may belong to one partner only: the key is what identifies the partner; the
	// SSH user name is not checked.
	AuthorizedKeys []string `yaml:"authorized_keys"`
}

// Config configures the hosted SFTP inbox. Zero values get the defaults of
// [Config.WithDefaults]; [Config.Validate] reports every problem.
type Config struct {
	// Addr is the TCP address to listen on. Default 127.0.0.1:2222.
	Addr string `yaml:"addr"`
	// HostKey is the server's private host key, PEM-encoded (OpenSSH, PKCS#1, PKCS#8
	// or SEC1, unencrypted). When empty, the key in DataDir/ssh_host_ed25519_key is
	// used, and generated there (mode 0600) on first start: see [LoadOrCreateHostKey].
	// Partners pin its public half; never rotate it without telling them.
	HostKey []byte `yaml:"-"`
	// DataDir holds the generated host key when HostKey is empty.
	DataDir string `yaml:"data_dir"`
	// Root is the directory under which each partner's tree lives:
	// <Root>/<partner>/{inbound,outbound,archive}, plus a private .uploads directory for
	// uploads in progress. The directories are created by [New].
	Root string `yaml:"root"`
	// Partners who may log in. At least one.
	Partners []Partner `yaml:"partners"`
	// MaxFileSize caps each upload, in bytes; a write past it fails and the upload is
	// discarded. Default 256 MiB.
	MaxFileSize int64 `yaml:"max_file_size"`
	// IdleTimeout closes a connection that has sent nothing for that long (an upload
	// being committed does not count as idle). Default 5m; negative disables it.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// LoginTimeout bounds the SSH handshake and authentication. Default 30s.
	LoginTimeout time.Duration `yaml:"login_timeout"`
	// After is what happens to an upload once stored: Archive (default) or Delete.
	After AfterStore `yaml:"after"`
}

// WithDefaults returns a copy of c with defaults filled into zero-valued fields.
func (c Config) WithDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = DefaultMaxFileSize
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.LoginTimeout == 0 {
		c.LoginTimeout = DefaultLoginTimeout
	}
	if c.After == "" {
		c.After = Archive
	}
	return c
}

// FieldError is one problem found by [Config.Validate].
type FieldError struct {
	Partner string // set for a problem in Partners
	Field   string // e.g. "Addr", "Partners[1].AuthorizedKeys[0]"
	Value   string // empty for secrets
	Problem string
}

func (e *FieldError) Error() string {
	who := "sftp inbox"
	if e.Partner != "" {
		who = fmt.Sprintf("sftp inbox partner %q", e.Partner)
	}
	if e.Value == "" {
		return fmt.Sprintf("%s: %s: %s", who, e.Field, e.Problem)
	}
	return fmt.Sprintf("%s: %s %q: %s", who, e.Field, e.Value, e.Problem)
}

var partnerName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)

// Validate checks c after defaults and returns every problem found, joined with
// errors.Join; each is a *FieldError.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	bad := func(partner, field, value, problem string) {
		errs = append(errs, &FieldError{Partner: partner, Field: field, Value: value, Problem: problem})
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		bad("", "Addr", c.Addr, `must be "host:port"`)
	}
	if len(c.HostKey) > 0 {
		if _, err := ssh.ParsePrivateKey(c.HostKey); err != nil {
			bad("", "HostKey", "", fmt.Sprintf("must be an unencrypted PEM private key: %v", err))
		}
	} else if c.DataDir == "" {
		bad("", "HostKey/DataDir", "", "one is required: a host key, or a directory to keep a generated one in")
	}
	if c.Root == "" {
		bad("", "Root", "", "is required")
	}
	if len(c.Partners) == 0 {
		bad("", "Partners", "", "at least one partner is required")
	}
	names := map[string]int{}
	owner := map[string]string{} // marshalled key → partner
	for i, p := range c.Partners {
		field := fmt.Sprintf("Partners[%d]", i)
		if !partnerName.MatchString(p.Name) {
			bad(p.Name, field+".Name", p.Name, "must be letters, digits, '.', '_' or '-', not starting with '.'")
		} else if j, dup := names[p.Name]; dup {
			bad(p.Name, field+".Name", p.Name, fmt.Sprintf("is also the name of Partners[%d]", j))
		} else {
			names[p.Name] = i
		}
		if len(p.AuthorizedKeys) == 0 {
			bad(p.Name, field+".AuthorizedKeys", "", "at least one public key is required")
		}
		for k, line := range p.AuthorizedKeys {
			kf := fmt.Sprintf("%s.AuthorizedKeys[%d]", field, k)
			key, err := parseAuthorizedKey(line)
			if err != nil {
				bad(p.Name, kf, line, err.Error())
				continue
			}
			blob := string(key.Marshal())
			if other, dup := owner[blob]; dup {
				bad(p.Name, kf, ssh.FingerprintSHA256(key), fmt.Sprintf("is also a key of partner %q; a key must identify one partner", other))
				continue
			}
			owner[blob] = p.Name
		}
	}
	if c.MaxFileSize < 0 {
		bad("", "MaxFileSize", fmt.Sprint(c.MaxFileSize), "must be positive")
	}
	if c.LoginTimeout < 0 {
		bad("", "LoginTimeout", c.LoginTimeout.String(), "must be positive")
	}
	switch c.After {
	case Archive, Delete:
	default:
		bad("", "After", string(c.After), `must be "archive" or "delete"`)
	}
	return errors.Join(errs...)
}

// LogValue logs the configuration without the host key.
func (c Config) LogValue() slog.Value {
	names := make([]string, len(c.Partners))
	for i, p := range c.Partners {
		names[i] = p.Name
	}
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.Bool("host_key", len(c.HostKey) > 0),
		slog.String("data_dir", c.DataDir),
		slog.String("root", c.Root),
		slog.Any("partners", names),
		slog.Int64("max_file_size", c.MaxFileSize),
		slog.Duration("idle_timeout", c.IdleTimeout),
		slog.String("after", string(c.After)),
	)
}

func parseAuthorizedKey(line string) (ssh.PublicKey, error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil, errors.New("is empty")
	}
	key, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, fmt.Errorf("parsing authorized_keys line: %w", err)
	}
	if len(options) > 0 {
		return nil, errors.New("authorized_keys options are not supported; give the bare key")
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, errors.New("one key per line")
	}
	return key, nil
}

// LoadOrCreateHostKey returns the PEM host key kept in dataDir/ssh_host_ed25519_key,
// generating an ed25519 key there (file mode 0600, directory 0700 if created) when the
// file does not exist. An existing file that is not a private key is an error, never
// overwritten.
func LoadOrCreateHostKey(dataDir string) ([]byte, error) {
	if dataDir == "" {
		return nil, errors.New("loading host key: no data directory")
	}
	p := filepath.Join(dataDir, DefaultHostKeyFile)
	b, err := os.ReadFile(p)
	if err == nil {
		if _, err := ssh.ParsePrivateKey(b); err != nil {
			return nil, fmt.Errorf("loading host key %s: %w", p, err)
		}
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("loading host key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, defaultHostKeyComment)
	if err != nil {
		return nil, fmt.Errorf("encoding host key: %w", err)
	}
	b = pem.EncodeToMemory(block)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	// Written to a temporary file, then linked into place: a concurrent start never
	// reads half a key, and an existing key is never replaced.
	tmp, err := os.CreateTemp(dataDir, ".host-key-*")
	if err != nil {
		return nil, fmt.Errorf("saving host key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Link(tmp.Name(), p)
	}
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateHostKey(dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("saving host key: %w", err)
	}
	return b, nil
}
