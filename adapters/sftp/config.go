package sftp

import (
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"
)

// Completeness says how the poller decides that a partner has finished writing a file.
type Completeness string

const (
	// Stable takes a file once its size and mtime were unchanged between two looks at
	// least Config.Settle apart. SFTP v3 carries mtime in whole seconds, so a Settle of
	// two seconds or more is advised in production.
	Stable Completeness = "stable"
	// Marker takes a file NAME once a marker file NAME+Config.MarkerSuffix (for example
	// 850_0001.edi.done) exists next to it.
	Marker Completeness = "marker"
)

// AfterAction is what the poller does on the partner's server once a file has been
// committed by the Sink.
type AfterAction string

const (
	// Archive moves the file into Config.ArchiveDir, replacing a file of the same name
	// there when the server supports posix-rename@openssh.com.
	Archive AfterAction = "archive"
	// Rename renames the file to NAME+Config.RenameSuffix in the same directory; files
	// with that suffix are never matched again.
	Rename AfterAction = "rename"
	// Delete removes the file.
	Delete AfterAction = "delete"
)

// Defaults applied by [Config.WithDefaults] to zero-valued fields.
const (
	DefaultPort         = 22
	DefaultGlob         = "*"
	DefaultSettle       = 10 * time.Second
	DefaultMarkerSuffix = ".done"
	DefaultRenameSuffix = ".processed"
	DefaultInterval     = time.Minute
	DefaultMaxFileSize  = 256 << 20 // 256 MiB
	DefaultDialTimeout  = 30 * time.Second
)

// Config describes one partner SFTP endpoint to poll. Secrets (PrivateKey,
// PrivateKeyPassphrase, Password) are redacted by [Config.LogValue].
type Config struct {
	// Partner is the trading partner's name; it is part of every dedupe key and log line.
	Partner string
	// Host and Port of the partner's SFTP server. Port defaults to 22.
	Host string
	Port int
	// User is the login name on the partner's server.
	User string
	// PrivateKey is a PEM-encoded private key (OpenSSH, PKCS#1, PKCS#8 or SEC1).
	// PrivateKeyPassphrase decrypts it when it is encrypted.
	PrivateKey           []byte
	PrivateKeyPassphrase []byte
	// Password is used when the server accepts password authentication. At least one
	// of PrivateKey and Password is required; with both, the key is tried first.
	Password string
	// HostKey pins the server's host key, and is required: either a known_hosts line
	// ("host ssh-ed25519 AAAA…"; the host patterns are not checked, the key is) or an
	// OpenSSH fingerprint "SHA256:…" as printed by `ssh-keygen -lf`. With a fingerprint,
	// pin the key the server offers first (usually ed25519); with a known_hosts line the
	// poller asks the server for that key type.
	HostKey string
	// Dir is the directory to poll, absolute or relative to the login directory.
	Dir string
	// Glob selects files in Dir by base name (path.Match syntax). Default "*".
	Glob string
	// Completeness is Stable (the default) or Marker.
	Completeness Completeness
	// Settle is the minimum time a file's size and mtime must stay unchanged under the
	// Stable rule. Default 10s; a tiny value such as 1ns means "unchanged on the next poll".
	Settle time.Duration
	// MarkerSuffix names the marker file under the Marker rule. Default ".done".
	MarkerSuffix string
	// After is Archive (the default when ArchiveDir is set), Rename or Delete.
	After AfterAction
	// ArchiveDir receives files under Archive, absolute or relative to the login directory.
	ArchiveDir string
	// RenameSuffix is appended under Rename. Default ".processed".
	RenameSuffix string
	// Interval between polls in [Poller.Run]. Default 1m.
	Interval time.Duration
	// MaxFileSize refuses bigger files with a *FileTooLargeError; they stay on the
	// server. Default 256 MiB.
	MaxFileSize int64
	// DialTimeout bounds the TCP connect and SSH handshake. Default 30s.
	DialTimeout time.Duration
}

// WithDefaults returns a copy of c with defaults filled into zero-valued fields.
func (c Config) WithDefaults() Config {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Glob == "" {
		c.Glob = DefaultGlob
	}
	if c.Completeness == "" {
		c.Completeness = Stable
	}
	if c.Settle == 0 {
		c.Settle = DefaultSettle
	}
	if c.MarkerSuffix == "" {
		c.MarkerSuffix = DefaultMarkerSuffix
	}
	if c.After == "" && c.ArchiveDir != "" {
		c.After = Archive
	}
	if c.RenameSuffix == "" {
		c.RenameSuffix = DefaultRenameSuffix
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = DefaultMaxFileSize
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	return c
}

// FieldError is one problem found by [Config.Validate].
type FieldError struct {
	Partner string
	Field   string
	Value   string // empty for secrets
	Problem string
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("sftp partner %q: %s: %s", e.Partner, e.Field, e.Problem)
	}
	return fmt.Sprintf("sftp partner %q: %s %q: %s", e.Partner, e.Field, e.Value, e.Problem)
}

// Validate checks c after defaults and returns every problem found, joined with
// errors.Join; each is a *FieldError.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	bad := func(field, value, problem string) {
		errs = append(errs, &FieldError{Partner: c.Partner, Field: field, Value: value, Problem: problem})
	}
	if strings.TrimSpace(c.Partner) == "" {
		bad("Partner", "", "is required")
	}
	if c.Host == "" {
		bad("Host", "", "is required")
	}
	if c.Port < 1 || c.Port > 65535 {
		bad("Port", fmt.Sprint(c.Port), "must be between 1 and 65535")
	}
	if c.User == "" {
		bad("User", "", "is required")
	}
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
	if c.Dir == "" {
		bad("Dir", "", "is required")
	}
	if _, err := path.Match(c.Glob, ""); err != nil || strings.Contains(c.Glob, "/") {
		bad("Glob", c.Glob, "must be a path.Match pattern on base names, without '/'")
	}
	switch c.Completeness {
	case Stable:
		if c.Settle < 0 {
			bad("Settle", c.Settle.String(), "must not be negative")
		}
	case Marker:
		if c.MarkerSuffix == "" || strings.Contains(c.MarkerSuffix, "/") {
			bad("MarkerSuffix", c.MarkerSuffix, "must be non-empty and without '/'")
		}
	default:
		bad("Completeness", string(c.Completeness), `must be "stable" or "marker"`)
	}
	switch c.After {
	case Archive:
		if c.ArchiveDir == "" {
			bad("ArchiveDir", "", `is required when After is "archive"`)
		} else if path.Clean(c.ArchiveDir) == path.Clean(c.Dir) {
			bad("ArchiveDir", c.ArchiveDir, "must differ from Dir")
		}
	case Rename:
		if c.RenameSuffix == "" || strings.Contains(c.RenameSuffix, "/") {
			bad("RenameSuffix", c.RenameSuffix, "must be non-empty and without '/'")
		}
		if c.Completeness == Marker && c.RenameSuffix == c.MarkerSuffix {
			bad("RenameSuffix", c.RenameSuffix, "must differ from MarkerSuffix")
		}
	case Delete:
	case "":
		bad("After", "", `is required: "archive", "rename" or "delete"`)
	default:
		bad("After", string(c.After), `must be "archive", "rename" or "delete"`)
	}
	if c.Interval <= 0 {
		bad("Interval", c.Interval.String(), "must be positive")
	}
	if c.MaxFileSize <= 0 {
		bad("MaxFileSize", fmt.Sprint(c.MaxFileSize), "must be positive")
	}
	if c.DialTimeout <= 0 {
		bad("DialTimeout", c.DialTimeout.String(), "must be positive")
	}
	return errors.Join(errs...)
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
