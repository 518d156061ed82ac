package filedrop

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
	// least Config.Settle apart. SFTP v3 and FTP MDTM carry mtime in whole seconds, so a
	// Settle of two seconds or more is advised in production.
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
	// there where the server allows it.
	Archive AfterAction = "archive"
	// Rename renames the file to NAME+Config.RenameSuffix in the same directory; files
	// with that suffix are never matched again.
	Rename AfterAction = "rename"
	// Delete removes the file.
	Delete AfterAction = "delete"
)

// Defaults applied by [Config.WithDefaults] to zero-valued fields.
const (
	DefaultGlob         = "*"
	DefaultSettle       = 10 * time.Second
	DefaultMarkerSuffix = ".done"
	DefaultRenameSuffix = ".processed"
	DefaultInterval     = time.Minute
	DefaultMinBackoff   = time.Second
	DefaultMaxFileSize  = 256 << 20 // 256 MiB
)

// Config says what to take from one partner endpoint and what to do with it; how to
// reach the endpoint is the [Dialer]'s business. Protocol adapters embed it in their
// own Config.
type Config struct {
	// Partner is the trading partner's name; it is part of every dedupe key and log line.
	Partner string `yaml:"partner"`
	// Dir is the directory to poll, absolute or relative to the login directory.
	Dir string `yaml:"dir"`
	// Glob selects files in Dir by base name (path.Match syntax). Default "*".
	Glob string `yaml:"glob"`
	// Completeness is Stable (the default) or Marker.
	Completeness Completeness `yaml:"completeness"`
	// Settle is the minimum time a file's size and mtime must stay unchanged under the
	// Stable rule. Default 10s; a tiny value such as 1ns means "unchanged on the next poll".
	Settle time.Duration `yaml:"settle"`
	// MarkerSuffix names the marker file under the Marker rule. Default ".done".
	MarkerSuffix string `yaml:"marker_suffix"`
	// After is Archive (the default when ArchiveDir is set), Rename or Delete.
	After AfterAction `yaml:"after"`
	// ArchiveDir receives files under Archive, absolute or relative to the login directory.
	ArchiveDir string `yaml:"archive_dir"`
	// RenameSuffix is appended under Rename. Default ".processed".
	RenameSuffix string `yaml:"rename_suffix"`
	// Interval between polls in [Poller.Run]. Default 1m.
	Interval time.Duration `yaml:"interval"`
	// MinBackoff is the first wait after a failed poll in [Poller.Run]; it doubles up
	// to Interval. Default 1s.
	MinBackoff time.Duration `yaml:"min_backoff"`
	// MaxFileSize refuses bigger files with a *FileTooLargeError; they stay on the
	// server. Default 256 MiB.
	MaxFileSize int64 `yaml:"max_file_size"`
}

// WithDefaults returns a copy of c with defaults filled into zero-valued fields.
func (c Config) WithDefaults() Config {
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
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = DefaultMaxFileSize
	}
	return c
}

// FieldError is one problem found by [Config.Validate] (or a protocol adapter's).
type FieldError struct {
	Adapter string // "sftp", "ftp"; empty for the protocol-neutral part
	Partner string
	Field   string
	Value   string // empty for secrets
	Problem string
}

func (e *FieldError) Error() string {
	who := "file drop"
	if e.Adapter != "" {
		who = e.Adapter
	}
	if e.Value == "" {
		return fmt.Sprintf("%s partner %q: %s: %s", who, e.Partner, e.Field, e.Problem)
	}
	return fmt.Sprintf("%s partner %q: %s %q: %s", who, e.Partner, e.Field, e.Value, e.Problem)
}

// Validate checks c after defaults and returns every problem found, joined with
// errors.Join; each is a *FieldError.
func (c Config) Validate() error {
	var errs []error
	for _, fe := range c.Problems() {
		errs = append(errs, fe)
	}
	return errors.Join(errs...)
}

// Problems is [Config.Validate] as a list, in the order of Config's fields, for
// adapters that merge them with their own.
func (c Config) Problems() []*FieldError {
	c = c.WithDefaults()
	var errs []*FieldError
	bad := func(field, value, problem string) {
		errs = append(errs, &FieldError{Partner: c.Partner, Field: field, Value: value, Problem: problem})
	}
	if strings.TrimSpace(c.Partner) == "" {
		bad("Partner", "", "is required")
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
	if c.MinBackoff <= 0 {
		bad("MinBackoff", c.MinBackoff.String(), "must be positive")
	}
	if c.MaxFileSize <= 0 {
		bad("MaxFileSize", fmt.Sprint(c.MaxFileSize), "must be positive")
	}
	return errs
}

// LogValue logs what is polled.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("partner", c.Partner),
		slog.String("dir", c.Dir),
		slog.String("glob", c.Glob),
	)
}

// Transport is the connection part of a transport's configuration (SFTP, FTP), for
// ValidateTransport.
type Transport struct {
	Adapter     string // "sftp", "ftp": named in every problem
	Host        string
	Port        int
	User        string
	UserHint    string // added to "is required" for User
	DialTimeout time.Duration
}

// ValidateTransport checks a transport's configuration and returns every problem,
// joined with errors.Join, each a *FieldError naming t.Adapter: c's Partner first,
// then host, port and user, then what check reports through bad (the transport's own
// fields), then the rest of c, then the dial timeout.
func ValidateTransport(t Transport, c Config, check func(bad func(field, value, problem string))) error {
	drop := c.Problems()
	var errs []error
	bad := func(field, value, problem string) {
		errs = append(errs, &FieldError{Partner: c.Partner, Field: field, Value: value, Problem: problem})
	}
	for _, fe := range drop {
		if fe.Field == "Partner" {
			errs = append(errs, fe)
		}
	}
	if t.Host == "" {
		bad("Host", "", "is required")
	}
	if t.Port < 1 || t.Port > 65535 {
		bad("Port", fmt.Sprint(t.Port), "must be between 1 and 65535")
	}
	if t.User == "" {
		bad("User", "", strings.TrimSpace("is required "+t.UserHint))
	}
	check(bad)
	for _, fe := range drop {
		if fe.Field != "Partner" {
			errs = append(errs, fe)
		}
	}
	if t.DialTimeout <= 0 {
		bad("DialTimeout", t.DialTimeout.String(), "must be positive")
	}
	for _, e := range errs {
		e.(*FieldError).Adapter = t.Adapter
	}
	return errors.Join(errs...)
}
