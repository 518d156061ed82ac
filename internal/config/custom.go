package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/paklog/integration-hub/adapters/custom"
)

// Custom configures the custom platform channels: shops whose own software posts
// orders to POST /webhooks/custom/{channel}, mapped to canonical orders by a jq
// program.
type Custom struct {
	Channels []CustomChannel `yaml:"channels"`
}

// CustomChannel is one custom platform.
type CustomChannel struct {
	Name         string            `yaml:"name"`           // the {channel} of the URL and source.partner of its orders
	HMAC         CustomHMAC        `yaml:"hmac"`           // signed deliveries (set this or bearer_tokens)
	BearerTokens []Secret          `yaml:"bearer_tokens"`  // Authorization: Bearer deliveries; two during a rotation
	Mapping      string            `yaml:"mapping"`        // jq program: webhook body -> paklog.order.v1
	Idempotency  CustomIdempotency `yaml:"idempotency"`    // where the delivery's idempotency key comes from
	Release      string            `yaml:"release"`        // optional jq expression; false stores nothing (200, accepted:false)
	MaxBodyBytes Size              `yaml:"max_body_bytes"` // larger bodies get 413; default 1MiB
	Timeout      Duration          `yaml:"timeout"`        // bound on the jq programs of one delivery; default 1s
}

// CustomHMAC is how a channel signs: an HMAC of the raw body in a header.
type CustomHMAC struct {
	Header    string   `yaml:"header"`    // e.g. X-Signature
	Algorithm string   `yaml:"algorithm"` // sha256 (default), sha1 or sha512
	Encoding  string   `yaml:"encoding"`  // hex (default) or base64
	Prefix    string   `yaml:"prefix"`    // e.g. "sha256=" before the signature
	Secrets   []Secret `yaml:"secrets"`   // one, or two during a rotation
}

// CustomIdempotency names the idempotency key's source.
type CustomIdempotency struct {
	Key    string `yaml:"key"`    // jq expression over the body; default .id
	Header string `yaml:"header"` // or a request header
}

// Adapter is the channel as adapters/custom takes it, secrets resolved.
func (c CustomChannel) Adapter() custom.ChannelConfig {
	out := custom.ChannelConfig{Name: c.Name, Mapping: c.Mapping, Release: c.Release,
		Idempotency:  custom.Idempotency{Key: c.Idempotency.Key, Header: c.Idempotency.Header},
		MaxBodyBytes: int64(c.MaxBodyBytes), Timeout: c.Timeout.Std()}
	if len(c.HMAC.Secrets) > 0 || c.HMAC.Header != "" {
		h := &custom.HMAC{Header: c.HMAC.Header, Algorithm: c.HMAC.Algorithm, Encoding: c.HMAC.Encoding, Prefix: c.HMAC.Prefix}
		for _, s := range c.HMAC.Secrets {
			h.Secrets = append(h.Secrets, s.Value())
		}
		out.Auth.HMAC = h
	}
	if len(c.BearerTokens) > 0 {
		b := &custom.Bearer{}
		for _, s := range c.BearerTokens {
			b.Tokens = append(b.Tokens, s.Value())
		}
		out.Auth.Bearer = b
	}
	return out
}

// CustomConfig is every custom channel as adapters/custom takes them.
func CustomConfig(c Config) custom.Config {
	var out custom.Config
	for _, ch := range c.Channels.Custom.Channels {
		out.Channels = append(out.Channels, ch.Adapter())
	}
	return out
}

func (c *Config) validateCustom(v *validator) {
	for i, ch := range c.Channels.Custom.Channels {
		field := fmt.Sprintf("channels.custom.channels[%d]", i)
		for j, s := range ch.HMAC.Secrets {
			v.secret(fmt.Sprintf("%s.hmac.secrets[%d]", field, j), s, "is empty")
		}
		for j, s := range ch.BearerTokens {
			v.secret(fmt.Sprintf("%s.bearer_tokens[%d]", field, j), s, "is empty")
		}
		for _, e := range joined(ch.Adapter().Validate()) {
			var ce *custom.ConfigError
			if !errors.As(e, &ce) {
				v.add(field, e.Error())
				continue
			}
			f := ce.Field
			switch {
			case f == "auth":
				f = "hmac"
			case strings.HasPrefix(f, "auth.bearer.tokens"):
				f = "bearer_tokens" + strings.TrimPrefix(f, "auth.bearer.tokens")
			case strings.HasPrefix(f, "auth."):
				f = strings.TrimPrefix(f, "auth.")
			}
			msg := ce.Message
			if ce.Line > 0 {
				msg = fmt.Sprintf("%s (line %d, column %d of the program)", msg, ce.Line, ce.Column)
			}
			v.add(field+"."+f, msg)
		}
	}
	seen := map[string]int{}
	for i, ch := range c.Channels.Custom.Channels {
		if first, dup := seen[ch.Name]; dup {
			v.add(fmt.Sprintf("channels.custom.channels[%d].name", i), fmt.Sprintf("%q is already channels.custom.channels[%d]", ch.Name, first))
		}
		seen[ch.Name] = i
	}
}
