package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/paklog/integration-hub/adapters/filedrop"
	"github.com/paklog/integration-hub/adapters/ftp"
	"github.com/paklog/integration-hub/adapters/sftp"
	"github.com/paklog/integration-hub/adapters/sftpinbox"
)

// FileDrop is what to take from a directory on a partner's server and what to do
// with each file once the hub has committed it.
type FileDrop struct {
	Dir          string   `yaml:"dir"`           // directory to poll, absolute or relative to the login directory
	Glob         string   `yaml:"glob"`          // base names to take (path.Match); default "*"
	Completeness string   `yaml:"completeness"`  // "stable" (size and mtime unchanged for settle; default) or "marker"
	Settle       Duration `yaml:"settle"`        // how long a file must stay unchanged under "stable"; default 10s
	MarkerSuffix string   `yaml:"marker_suffix"` // marker next to a complete file under "marker"; default ".done"
	After        string   `yaml:"after"`         // "archive" (default when archive_dir is set), "rename" or "delete"
	ArchiveDir   string   `yaml:"archive_dir"`   // where "archive" moves files
	RenameSuffix string   `yaml:"rename_suffix"` // what "rename" appends; default ".processed"
	Interval     Duration `yaml:"interval"`      // between polls; default 1m
	MaxFileSize  Size     `yaml:"max_file_size"` // larger files are left on the server and reported; default 256MiB
}

func (d FileDrop) adapter(partner string) filedrop.Config {
	return filedrop.Config{
		Partner:      partner,
		Dir:          d.Dir,
		Glob:         d.Glob,
		Completeness: filedrop.Completeness(d.Completeness),
		Settle:       d.Settle.Std(),
		MarkerSuffix: d.MarkerSuffix,
		After:        filedrop.AfterAction(d.After),
		ArchiveDir:   d.ArchiveDir,
		RenameSuffix: d.RenameSuffix,
		Interval:     d.Interval.Std(),
		MaxFileSize:  int64(d.MaxFileSize),
	}
}

// SFTPLogin is how the hub reaches and logs in to a partner's SFTP server.
type SFTPLogin struct {
	Host                 string   `yaml:"host"`
	Port                 int      `yaml:"port"`                   // default 22
	User                 string   `yaml:"user"`                   // login name
	PrivateKey           Secret   `yaml:"private_key"`            // PEM private key, usually {file: PATH}
	PrivateKeyPassphrase Secret   `yaml:"private_key_passphrase"` // when the key is encrypted
	Password             Secret   `yaml:"password"`               // when the server takes passwords
	HostKey              string   `yaml:"host_key"`               // pinned: a known_hosts line or "SHA256:…" fingerprint; required
	DialTimeout          Duration `yaml:"dial_timeout"`           // TCP connect and SSH handshake; default 30s
}

func (l SFTPLogin) adapter() sftp.Config {
	c := sftp.Config{Host: l.Host, Port: l.Port, User: l.User, HostKey: l.HostKey, DialTimeout: l.DialTimeout.Std(),
		Password: l.Password.Value()}
	if k := l.PrivateKey.Value(); k != "" {
		c.PrivateKey = []byte(k + "\n")
	}
	if p := l.PrivateKeyPassphrase.Value(); p != "" {
		c.PrivateKeyPassphrase = []byte(p)
	}
	return c
}

// FTPLogin is how the hub reaches and logs in to a partner's FTP server.
type FTPLogin struct {
	Host            string   `yaml:"host"`
	Port            int      `yaml:"port"`             // default 21
	User            string   `yaml:"user"`             // "anonymous" for anonymous FTP
	Password        Secret   `yaml:"password"`         //
	Security        string   `yaml:"security"`         // "explicit-tls" (FTPS, default) or "plain" (only for partners who insist)
	CACertFile      string   `yaml:"ca_cert_file"`     // PEM file of the CA (or self-signed certificate) to trust; default system roots
	CertFingerprint string   `yaml:"cert_fingerprint"` // pin the server certificate's SHA-256 instead of a CA
	ServerName      string   `yaml:"server_name"`      // name checked in the certificate; default host
	DialTimeout     Duration `yaml:"dial_timeout"`     // connect, TLS handshake and any stalled read; default 30s
}

func (l FTPLogin) adapter() (ftp.Config, error) {
	c := ftp.Config{Host: l.Host, Port: l.Port, User: l.User, Password: l.Password.Value(), Security: ftp.Security(l.Security),
		CertFingerprint: l.CertFingerprint, ServerName: l.ServerName, DialTimeout: l.DialTimeout.Std()}
	if l.CACertFile != "" {
		pem, err := os.ReadFile(l.CACertFile)
		if err != nil {
			return c, fmt.Errorf("cannot read %s: %w", l.CACertFile, err)
		}
		c.CACert = pem
	}
	return c, nil
}

// SFTPPoll is a partner SFTP endpoint the hub polls for files.
type SFTPPoll struct {
	SFTPLogin `yaml:",inline"`
	FileDrop  `yaml:",inline"`
}

// FTPPoll is a partner FTP endpoint the hub polls for files.
type FTPPoll struct {
	FTPLogin `yaml:",inline"`
	FileDrop `yaml:",inline"`
}

// Inbox lets a partner push files to the hub's hosted SFTP inbox.
type Inbox struct {
	// AuthorizedKeys are the partner's public keys, one authorized_keys line each
	// ("ssh-ed25519 AAAA… comment"). The key identifies the partner.
	AuthorizedKeys []string `yaml:"authorized_keys"`
}

// The ways a file reaches a partner.
const (
	ViaSFTP  = "sftp"  // put on the partner's SFTP server
	ViaFTP   = "ftp"   // put on the partner's FTP server
	ViaInbox = "inbox" // placed in the partner's /outbound of the hosted inbox, for it to fetch
)

// Outbound says how files for a partner (997/999 acknowledgements, 856s, 945s) reach
// it.
type Outbound struct {
	Via  string    `yaml:"via"`  // "sftp", "ftp" or "inbox"; empty: nothing is delivered
	Dir  string    `yaml:"dir"`  // directory on the partner's server ("sftp", "ftp")
	SFTP SFTPLogin `yaml:"sftp"` // the server, for via: sftp
	FTP  FTPLogin  `yaml:"ftp"`  // the server, for via: ftp
}

// SFTPInbox is the hub's hosted SFTP server, where partners listed with an inbox
// upload into /inbound and fetch from /outbound.
type SFTPInbox struct {
	Addr        string   `yaml:"addr"`          // listen address; default 127.0.0.1:2222
	Root        string   `yaml:"root"`          // the partners' trees: ROOT/<partner>/{inbound,outbound,archive}; default DATA_DIR/inbox
	HostKey     Secret   `yaml:"host_key"`      // PEM host key; default generated once into the data directory
	MaxFileSize Size     `yaml:"max_file_size"` // per upload; default 256MiB
	IdleTimeout Duration `yaml:"idle_timeout"`  // closes silent connections; default 5m
	After       string   `yaml:"after"`         // what happens to a stored upload: "archive" (default) or "delete"
}

// SFTPPollConfig is endpoint i of partner p as the SFTP adapter takes it.
func SFTPPollConfig(p Partner, e SFTPPoll) sftp.Config {
	c := e.SFTPLogin.adapter()
	c.Config = e.FileDrop.adapter(p.Name)
	return c
}

// FTPPollConfig is an FTP endpoint of partner p as the FTP adapter takes it.
func FTPPollConfig(p Partner, e FTPPoll) (ftp.Config, error) {
	c, err := e.FTPLogin.adapter()
	c.Config = e.FileDrop.adapter(p.Name)
	return c, err
}

// OutboundSFTPConfig is the partner's outbound SFTP server as the SFTP adapter takes
// it (the file-drop part names the directory; it is not polled).
func OutboundSFTPConfig(p Partner) sftp.Config {
	c := p.Outbound.SFTP.adapter()
	c.Config = filedrop.Config{Partner: p.Name, Dir: p.Outbound.Dir, After: filedrop.Delete}
	return c
}

// OutboundFTPConfig is the partner's outbound FTP server as the FTP adapter takes it.
func OutboundFTPConfig(p Partner) (ftp.Config, error) {
	c, err := p.Outbound.FTP.adapter()
	c.Config = filedrop.Config{Partner: p.Name, Dir: p.Outbound.Dir, After: filedrop.Delete}
	return c, err
}

// InboxConfig is the hosted inbox's configuration with every partner that has keys;
// ok is false when no partner has an inbox.
func InboxConfig(c Config) (cfg sftpinbox.Config, ok bool) {
	cfg = sftpinbox.Config{
		Addr:        c.SFTPInbox.Addr,
		HostKey:     []byte(c.SFTPInbox.HostKey.Value()),
		DataDir:     c.DataDir(),
		Root:        c.SFTPInbox.Root,
		MaxFileSize: int64(c.SFTPInbox.MaxFileSize),
		IdleTimeout: c.SFTPInbox.IdleTimeout.Std(),
		After:       sftpinbox.AfterStore(c.SFTPInbox.After),
	}
	if cfg.Root == "" {
		cfg.Root = filepath.Join(c.DataDir(), "inbox")
	}
	if len(cfg.HostKey) == 0 {
		cfg.HostKey = nil
	} else {
		cfg.HostKey = append(cfg.HostKey, '\n')
	}
	for _, p := range c.Partners {
		if len(p.Inbox.AuthorizedKeys) > 0 {
			cfg.Partners = append(cfg.Partners, sftpinbox.Partner{Name: p.Name, AuthorizedKeys: p.Inbox.AuthorizedKeys})
		}
	}
	return cfg, len(cfg.Partners) > 0
}

// DataDir is the directory of the hub's own files besides the database: the spool,
// the inbox's generated host key. It is the SQLite file's directory, or
// ./paklog-data on PostgreSQL.
func (c Config) DataDir() string {
	if c.Store.Driver == DriverSQLite && c.Store.SQLite.Path != "" {
		return filepath.Dir(c.Store.SQLite.Path)
	}
	return "./paklog-data"
}

// validateFiles reports the problems of partner i's file endpoints, with the
// adapters' own checks translated to the file's field names.
func (c *Config) validateFiles(v *validator, i int, p Partner) {
	field := fmt.Sprintf("partners[%d]", i)
	for j, e := range p.SFTP {
		f := fmt.Sprintf("%s.sftp[%d]", field, j)
		v.secretRef(f+".private_key", e.PrivateKey)
		v.secretRef(f+".private_key_passphrase", e.PrivateKeyPassphrase)
		v.secretRef(f+".password", e.Password)
		v.adapterProblems(f, SFTPPollConfig(p, e).Validate())
	}
	for j, e := range p.FTP {
		f := fmt.Sprintf("%s.ftp[%d]", field, j)
		v.secretRef(f+".password", e.Password)
		cfg, err := FTPPollConfig(p, e)
		if err != nil {
			v.add(f+".ca_cert_file", err.Error())
		}
		v.adapterProblems(f, cfg.Validate())
	}
	o := p.Outbound
	f := field + ".outbound"
	switch o.Via {
	case "":
	case ViaSFTP:
		v.secretRef(f+".sftp.private_key", o.SFTP.PrivateKey)
		v.secretRef(f+".sftp.private_key_passphrase", o.SFTP.PrivateKeyPassphrase)
		v.secretRef(f+".sftp.password", o.SFTP.Password)
		v.outboundProblems(f, "sftp", OutboundSFTPConfig(p).Validate())
	case ViaFTP:
		v.secretRef(f+".ftp.password", o.FTP.Password)
		cfg, err := OutboundFTPConfig(p)
		if err != nil {
			v.add(f+".ftp.ca_cert_file", err.Error())
		}
		v.outboundProblems(f, "ftp", cfg.Validate())
	case ViaAS2: // checked with the partner's as2 section
	case ViaInbox:
		if len(p.Inbox.AuthorizedKeys) == 0 {
			v.add(f+".via", `is "inbox" but the partner has no inbox.authorized_keys to log in with and fetch its files`)
		}
	default:
		v.oneOf(f+".via", o.Via, ViaSFTP, ViaFTP, ViaInbox, ViaAS2)
	}
}

// validateInbox checks the hosted inbox when some partner has one.
func (c *Config) validateInbox(v *validator) {
	cfg, ok := InboxConfig(*c)
	v.secretRef("sftp_inbox.host_key", c.SFTPInbox.HostKey)
	if !ok {
		return
	}
	for _, e := range joined(cfg.Validate()) {
		var fe *sftpinbox.FieldError
		if !errors.As(e, &fe) {
			v.add("sftp_inbox", e.Error())
			continue
		}
		path := "sftp_inbox." + snake(fe.Field)
		if strings.HasPrefix(fe.Field, "Partners[") {
			// Partners[k] of the inbox is the k-th partner with keys.
			path = c.inboxPartnerPath(fe.Partner, fe.Field)
		}
		msg := fe.Problem
		if fe.Value != "" {
			msg = fmt.Sprintf("%s, got %q", fe.Problem, fe.Value)
		}
		v.add(path, msg)
	}
}

func (c *Config) inboxPartnerPath(name, field string) string {
	for i, p := range c.Partners {
		if p.Name == name {
			rest := field[strings.IndexByte(field, ']')+1:]
			rest = strings.Replace(rest, ".AuthorizedKeys", ".inbox.authorized_keys", 1)
			rest = strings.Replace(rest, ".Name", ".name", 1)
			return fmt.Sprintf("partners[%d]%s", i, rest)
		}
	}
	return "partners"
}

// secretRef reports a secret whose reference could not be read (an unset variable, an
// unreadable file); an empty secret is left to the adapter's checks.
func (v *validator) secretRef(field string, s Secret) {
	if s.err != nil {
		v.add(field, s.err.Error())
	}
}

// adapterProblems adds an adapter's *filedrop.FieldError problems under prefix, with
// the adapter's Go field names turned into the file's names.
func (v *validator) adapterProblems(prefix string, err error) {
	for _, e := range joined(err) {
		var fe *filedrop.FieldError
		if !errors.As(e, &fe) {
			v.add(prefix, e.Error())
			continue
		}
		if fe.Field == "Partner" || fe.Field == "MinBackoff" {
			continue // the partner's name is checked once; min_backoff is not configurable
		}
		names := strings.Split(fe.Field, "/")
		for k, n := range names {
			if n == "CACert" {
				names[k] = "ca_cert_file"
			} else {
				names[k] = snake(n)
			}
		}
		msg := fe.Problem
		if len(names) > 1 {
			msg = fmt.Sprintf("%s or %s: %s", names[0], names[1], fe.Problem)
		}
		if fe.Value != "" {
			msg = fmt.Sprintf("%s, got %q", msg, fe.Value)
		}
		v.add(prefix+"."+names[0], msg)
	}
}

// outboundProblems is adapterProblems for an outbound section, whose directory is
// outbound.dir, not outbound.<via>.dir.
func (v *validator) outboundProblems(prefix, via string, err error) {
	var sub validator
	sub.adapterProblems(prefix+"."+via, err)
	for _, p := range sub.problems {
		if p.Field == prefix+"."+via+".dir" {
			p.Field = prefix + ".dir"
		}
		v.problems = append(v.problems, p)
	}
}

// joined splits an errors.Join result.
func joined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// snake turns a Go field name into the file's: ArchiveDir → archive_dir.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 && !unicode.IsUpper(rune(s[i-1])) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
