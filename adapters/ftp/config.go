package ftp

import (
	"crypto/x509"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/paklog/integration-hub/adapters/filedrop"
)

// Security says whether the control and data connections are encrypted.
type Security string

const (
	// ExplicitTLS (FTPS, RFC 4217) connects in plain text, sends AUTH TLS, verifies the
	// server certificate, and protects every data connection (PROT P). The default.
	ExplicitTLS Security = "explicit-tls"
	// Plain is unencrypted FTP, for partners who insist; the password and the files
	// cross the network in the clear. It must be chosen explicitly.
	Plain Security = "plain"
)

// Defaults applied by [Config.WithDefaults] to zero-valued fields, on top of filedrop's.
const (
	DefaultPort        = 21
	DefaultDialTimeout = 30 * time.Second
)

// Config describes one partner FTP endpoint to poll: how to reach it here, what to
// take from it in the embedded [filedrop.Config]. Password is redacted by
// [Config.LogValue].
type Config struct {
	// Host and Port of the partner's FTP server. Port defaults to 21.
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// User and Password log in; "anonymous" with an empty Password is allowed.
	User     string `yaml:"user"`
	Password string `yaml:"-"`
	// Security is ExplicitTLS (the default) or Plain.
	Security Security `yaml:"security"`
	// CACert holds PEM certificates trusted to sign the server certificate (or the
	// server's self-signed certificate itself). Empty means the system roots. The
	// certificate must name ServerName. Not used with CertFingerprint.
	CACert []byte `yaml:"ca_cert"`
	// CertFingerprint pins the server certificate instead of verifying a chain: the
	// SHA-256 of its DER encoding in hex, colons optional, as printed by
	// `openssl x509 -noout -fingerprint -sha256`. Use it for partners with a
	// self-signed certificate whose name does not match.
	CertFingerprint string `yaml:"cert_fingerprint"`
	// ServerName is the name verified in the certificate. Default Host.
	ServerName string `yaml:"server_name"`
	// DialTimeout bounds the TCP connect and TLS handshake, and how long any read or
	// write may wait (an idle or stuck server). Default 30s.
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
	if c.Security == "" {
		c.Security = ExplicitTLS
	}
	if c.ServerName == "" {
		c.ServerName = c.Host
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
	return filedrop.ValidateTransport(filedrop.Transport{Adapter: "ftp", Host: c.Host, Port: c.Port, User: c.User,
		UserHint: `("anonymous" for anonymous FTP)`, DialTimeout: c.DialTimeout}, c.Config, func(bad func(field, value, problem string)) {
		switch c.Security {
		case ExplicitTLS:
			if len(c.CACert) > 0 {
				if c.CertFingerprint != "" {
					bad("CACert/CertFingerprint", "", "set one of them, not both")
				}
				if !x509.NewCertPool().AppendCertsFromPEM(c.CACert) {
					bad("CACert", "", "holds no PEM certificate")
				}
			}
			if c.CertFingerprint != "" {
				if _, err := parseFingerprint(c.CertFingerprint); err != nil {
					bad("CertFingerprint", c.CertFingerprint, err.Error())
				}
			}
		case Plain:
			if len(c.CACert) > 0 || c.CertFingerprint != "" {
				bad("Security", string(c.Security), "plain FTP cannot verify CACert or CertFingerprint; use explicit-tls")
			}
		default:
			bad("Security", string(c.Security), `must be "explicit-tls" or "plain"`)
		}
	})
}

// parseFingerprint accepts 64 hex digits, with or without colons and a "SHA256:" prefix.
func parseFingerprint(s string) ([32]byte, error) {
	var fp [32]byte
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ':'); i > 0 && strings.EqualFold(s[:i], "sha256") {
		s = s[i+1:]
	}
	s = strings.ReplaceAll(s, ":", "")
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(fp) {
		return fp, errors.New("must be a SHA-256 fingerprint: 64 hex digits, colons allowed")
	}
	copy(fp[:], b)
	return fp, nil
}

// LogValue logs the endpoint without its password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("partner", c.Partner),
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("user", c.User),
		slog.Bool("password", c.Password != ""),
		slog.String("security", string(c.Security)),
		slog.String("dir", c.Dir),
		slog.String("glob", c.Glob),
	)
}
