package sftp

import (
	"log/slog"
	"time"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

// Defaults applied by [Config.WithDefaults] to zero-valued fields, on top of
// filedrop's.
const (
	DefaultPort        = 22
	DefaultDialTimeout = 30 * time.Second
)

// Config describes one partner SFTP endpoint to poll: how to reach it here, what to
// take from it in the embedded [filedrop.Config]. Secrets (PrivateKey,
// PrivateKeyPassphrase, Password) are redacted by [Config.LogValue].
type Config struct {
	// Host and Port of the partner's SFTP server. Port defaults to 22.
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// User is the login name on the partner's server.
	User string `yaml:"user"`
	// PrivateKey is a PEM-encoded private key (OpenSSH, PKCS#1, PKCS#8 or SEC1).
	// PrivateKeyPassphrase decrypts it when it is encrypted.
	PrivateKey           []byte `yaml:"-"`
	PrivateKeyPassphrase []byte `yaml:"-"`
	// Password is used when the server accepts password authentication. At least one
	// of PrivateKey and Password is required; with both, the key is tried first.
	Password string `yaml:"-"`
	// HostKey pins the server's host key, and is required: either a known_hosts line
	// ("host ssh-ed25519 AAAA…"; the host patterns are not checked, the key is) or an
	// OpenSSH fingerprint "SHA256:…" as printed by `ssh-keygen -lf`. With a fingerprint,
	// pin the key the server offers first (usually ed25519); with a known_hosts line the
	// poller asks the server for that key type.
	HostKey string `yaml:"host_key"`
	// DialTimeout bounds the TCP connect and SSH handshake. Default 30s.
	DialTimeout time.Duration `yaml:"dial_timeout"`

	// Config holds Partner, Dir, Glob, the completeness rule, the after-action, the
	// interval and the size cap.
	filedrop.Config `yaml:",inline"`
}

// WithDefaults returns a copy of c with defaults filled into zero-valued fields.
func (c Config) WithDefaults() Config {
	c.Config = c.Config.WithDefaults()
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	return c
}

// Validate checks c after defaults and returns every problem found, joined with
// errors.Join; each is a *filedrop.FieldError. Partner comes first, then the
// connection's fields, then the rest of filedrop.Config's.
func (c Config) Validate() error {
	c = c.WithDefaults()
	return filedrop.ValidateTransport(filedrop.Transport{Adapter: "sftp", Host: c.Host, Port: c.Port, User: c.User,
		DialTimeout: c.DialTimeout}, c.Config, func(bad func(field, value, problem string)) {
		if len(c.PrivateKey) == 0 && c.Password == "" {
			bad("PrivateKey/Password", "", "one of them is required")
		}
		if len(c.PrivateKey) > 0 {
			if _, err := parseSigner(c.PrivateKey, c.PrivateKeyPassphrase); err != nil {
				bad("PrivateKey", "", err.Error())
			}
		}
		if c.HostKey == "" {
			bad("HostKey", "", `is required: a known_hosts line or a "SHA256:…" fingerprint (there is no way to skip host key checking)`)
		} else if _, err := parsePin(c.HostKey); err != nil {
			bad("HostKey", c.HostKey, err.Error())
		}
	})
}

// LogValue logs the endpoint without its secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("partner", c.Partner),
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("user", c.User),
		slog.Bool("private_key", len(c.PrivateKey) > 0),
		slog.Bool("password", c.Password != ""),
		slog.String("dir", c.Dir),
		slog.String("glob", c.Glob),
	)
}
