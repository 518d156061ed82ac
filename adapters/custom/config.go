package custom

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Limits and defaults of a ChannelConfig.
const (
	// DefaultMaxBody is ChannelConfig.MaxBodyBytes when it is zero.
	DefaultMaxBody = 1 << 20
	// MaxMaxBody is the largest MaxBodyBytes accepted.
	MaxMaxBody = 64 << 20
	// DefaultTimeout is ChannelConfig.Timeout when it is zero: how long the jq
	// programs of one delivery may run, together.
	DefaultTimeout = time.Second
	// MaxTimeout is the longest Timeout accepted.
	MaxTimeout = time.Minute
	// DefaultIdempotencyKey is the jq expression of the idempotency key when
	// neither Idempotency.Key nor Idempotency.Header is set.
	DefaultIdempotencyKey = ".id"
	// MaxKey is the longest idempotency key accepted, from a header or jq.
	MaxKey = 255
	// MinTokenLength is the shortest bearer token accepted.
	MinTokenLength = 16
	// MaxSecrets is how many HMAC secrets a channel may have: the current one
	// and, during a rotation, the previous one.
	MaxSecrets = 2
)

// HMAC algorithms.
const (
	SHA256 = "sha256"
	SHA1   = "sha1"
	SHA512 = "sha512"
)

// Signature encodings.
const (
	Hex    = "hex"
	Base64 = "base64"
)

// Config lists the custom channels whose webhooks are taken at
// POST /webhooks/custom/{channel}.
type Config struct {
	Channels []ChannelConfig `yaml:"channels"`
}

// ChannelConfig is one custom shop platform. The hub's configuration embeds it
// (secrets resolved to plain strings before it gets here).
type ChannelConfig struct {
	// Name is the channel's key: the {channel} of the webhook URL and the
	// source.partner of its orders. 1 to 64 letters, digits, "_", "." or "-".
	Name string `yaml:"name"`
	// Auth says how a delivery proves it comes from the platform: hmac or bearer,
	// exactly one.
	Auth Auth `yaml:"auth"`
	// Mapping is a jq program that turns the webhook body into a paklog.order.v1
	// object; see the package documentation for what the hub fills in.
	Mapping string `yaml:"mapping"`
	// Idempotency says where the delivery's idempotency key comes from (default:
	// the jq expression .id).
	Idempotency Idempotency `yaml:"idempotency"`
	// Release is an optional jq expression over the body giving true or false:
	// false answers 200 {"accepted": false} and stores nothing (say, an order
	// not paid yet, which the platform will post again once it is).
	Release string `yaml:"release"`
	// MaxBodyBytes is the largest body read, 1..MaxMaxBody (default
	// DefaultMaxBody); larger bodies are answered 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// Timeout bounds the jq programs of one delivery, 1ms..MaxTimeout (default
	// DefaultTimeout); a program that runs longer is a mapping error (422).
	Timeout time.Duration `yaml:"timeout"`
}

// Auth is how a channel authenticates deliveries: set HMAC or Bearer.
type Auth struct {
	HMAC   *HMAC   `yaml:"hmac"`
	Bearer *Bearer `yaml:"bearer"`
}

// HMAC is a signature of the raw body in a header:
// Prefix + Encoding(HMAC-Algorithm(body, secret)).
type HMAC struct {
	// Header carries the signature, e.g. X-Signature or X-WC-Webhook-Signature.
	Header string `yaml:"header"`
	// Algorithm is sha256 (default), sha1 or sha512.
	Algorithm string `yaml:"algorithm"`
	// Encoding is hex (default; either case is accepted) or base64 (standard or
	// URL alphabet, padded or not).
	Encoding string `yaml:"encoding"`
	// Prefix is text before the signature, e.g. "sha256="; the header must start
	// with it (compared case-insensitively).
	Prefix string `yaml:"prefix"`
	// Secrets are the signing secrets: one, or two during a rotation (new and
	// old). Both are tried on every delivery.
	Secrets []string `yaml:"secrets"`
}

// LogValue implements [slog.LogValuer]: a logged HMAC shows everything but the
// secrets, of which it shows only the count.
func (h HMAC) LogValue() slog.Value {
	return slog.GroupValue(slog.String("header", h.Header), slog.String("algorithm", h.Algorithm),
		slog.String("encoding", h.Encoding), slog.String("prefix", h.Prefix), slog.Int("secrets", len(h.Secrets)))
}

// Bearer is a token in the Authorization header: "Authorization: Bearer <token>".
type Bearer struct {
	// Tokens are the accepted tokens, at least MinTokenLength characters each;
	// more than one during a rotation.
	Tokens []string `yaml:"tokens"`
}

// LogValue implements [slog.LogValuer]: it shows how many tokens there are,
// never the tokens.
func (b Bearer) LogValue() slog.Value { return slog.GroupValue(slog.Int("tokens", len(b.Tokens))) }

// LogValue implements [slog.LogValuer]: a logged ChannelConfig never shows a
// secret or a token.
func (c ChannelConfig) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("name", c.Name)}
	if c.Auth.HMAC != nil {
		attrs = append(attrs, slog.Any("hmac", *c.Auth.HMAC))
	}
	if c.Auth.Bearer != nil {
		attrs = append(attrs, slog.Any("bearer", *c.Auth.Bearer))
	}
	return slog.GroupValue(attrs...)
}

// Idempotency is where a delivery's idempotency key comes from: a jq
// expression over the body, or a request header. Set at most one.
type Idempotency struct {
	// Key is a jq expression giving a non-empty string or a number (default
	// DefaultIdempotencyKey).
	Key string `yaml:"key"`
	// Header names a request header holding the key, e.g. X-Event-Id.
	Header string `yaml:"header"`
}

// ConfigError is one problem of a ChannelConfig.
type ConfigError struct {
	// Channel is the channel's name ("" when it has none).
	Channel string
	// Field is the field's path inside the channel: "auth.hmac.algorithm",
	// "mapping", "idempotency.key".
	Field string
	// Message says what is wrong, naming the value and the limit.
	Message string
	// Line and Column locate a jq syntax error in the program (1-based; zero
	// for other problems).
	Line, Column int
	// Err is the jq parser's or compiler's error, if any.
	Err error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.Channel != "" {
		b.WriteString("custom channel " + strconv.Quote(e.Channel) + ": ")
	} else {
		b.WriteString("custom channel: ")
	}
	b.WriteString(e.Field + ": " + e.Message)
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

var (
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	headerRE = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")
)

// Validate reports every problem of every channel, and names used twice.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]int{}
	for i, ch := range c.Channels {
		if err := ch.Validate(); err != nil {
			errs = append(errs, err)
		}
		if first, dup := seen[ch.Name]; dup && ch.Name != "" {
			errs = append(errs, &ConfigError{Channel: ch.Name, Field: "name",
				Message: fmt.Sprintf("%q is also the name of channels[%d]; names must be unique", ch.Name, first)})
		}
		seen[ch.Name] = i
	}
	return errors.Join(errs...)
}

// Validate reports every problem of the channel, each a *ConfigError naming
// the field; the jq programs are compiled, and a syntax error is located by
// line and column.
func (c ChannelConfig) Validate() error {
	_, err := compile(c)
	return err
}

// validateFields checks everything but the jq programs.
func (c ChannelConfig) validateFields() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Channel: c.Name, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !nameRE.MatchString(c.Name) {
		add("name", `must be 1 to 64 letters, digits, "_", "." or "-", got %q`, c.Name)
	}
	switch a := c.Auth; {
	case a.HMAC == nil && a.Bearer == nil:
		add("auth", "set hmac or bearer: every channel must authenticate its deliveries")
	case a.HMAC != nil && a.Bearer != nil:
		add("auth", "set hmac or bearer, not both")
	case a.HMAC != nil:
		h := a.HMAC
		if !headerRE.MatchString(h.Header) {
			add("auth.hmac.header", "must be a header name such as X-Signature, got %q", h.Header)
		}
		if h.Algorithm != "" && h.Algorithm != SHA256 && h.Algorithm != SHA1 && h.Algorithm != SHA512 {
			add("auth.hmac.algorithm", "must be %q (default), %q or %q, got %q", SHA256, SHA1, SHA512, h.Algorithm)
		}
		if h.Encoding != "" && h.Encoding != Hex && h.Encoding != Base64 {
			add("auth.hmac.encoding", "must be %q (default) or %q, got %q", Hex, Base64, h.Encoding)
		}
		switch {
		case len(h.Secrets) == 0:
			add("auth.hmac.secrets", "needs the secret the platform signs with")
		case len(h.Secrets) > MaxSecrets:
			add("auth.hmac.secrets", "has %d secrets; at most %d (the new and the old one during a rotation)", len(h.Secrets), MaxSecrets)
		}
		for i, s := range h.Secrets {
			if strings.TrimSpace(s) == "" {
				add(fmt.Sprintf("auth.hmac.secrets[%d]", i), "is empty")
			}
		}
	case a.Bearer != nil:
		if len(a.Bearer.Tokens) == 0 {
			add("auth.bearer.tokens", "needs at least one token")
		}
		for i, t := range a.Bearer.Tokens {
			if len(t) < MinTokenLength {
				// The token's length, never the token.
				add(fmt.Sprintf("auth.bearer.tokens[%d]", i), "must be at least %d characters, got %d", MinTokenLength, len(t))
			}
		}
	}
	if strings.TrimSpace(c.Mapping) == "" {
		add("mapping", "is required: a jq program producing a paklog.order.v1 object")
	}
	if c.Idempotency.Key != "" && c.Idempotency.Header != "" {
		add("idempotency", "set key or header, not both")
	}
	if h := c.Idempotency.Header; h != "" && !headerRE.MatchString(h) {
		add("idempotency.header", "must be a header name such as X-Event-Id, got %q", h)
	}
	if c.MaxBodyBytes < 0 || c.MaxBodyBytes > MaxMaxBody {
		add("max_body_bytes", "must be between 1 and %d (0 for the default %d), got %d", MaxMaxBody, DefaultMaxBody, c.MaxBodyBytes)
	}
	if c.Timeout != 0 && (c.Timeout < time.Millisecond || c.Timeout > MaxTimeout) {
		add("timeout", "must be between 1ms and %s (0 for the default %s), got %s", MaxTimeout, DefaultTimeout, c.Timeout)
	}
	return errs
}
