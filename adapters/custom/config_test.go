package custom_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/paklog/integration-hub/adapters/custom"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*custom.ChannelConfig)
		want   []string // one per problem, in order
	}{
		{name: "valid", change: func(*custom.ChannelConfig) {}},
		{name: "no name, no auth, no mapping", change: func(c *custom.ChannelConfig) {
			c.Name, c.Auth, c.Mapping = "", custom.Auth{}, " "
		}, want: []string{
			`custom channel: name: must be 1 to 64 letters, digits, "_", "." or "-", got ""`,
			"custom channel: auth: set hmac or bearer: every channel must authenticate its deliveries",
			"custom channel: mapping: is required",
		}},
		{name: "both auths", change: func(c *custom.ChannelConfig) { c.Auth.Bearer = &custom.Bearer{Tokens: []string{token}} },
			want: []string{`custom channel "woo": auth: set hmac or bearer, not both`}},
		{name: "bad hmac", change: func(c *custom.ChannelConfig) {
			c.Auth.HMAC = &custom.HMAC{Header: "X Sig", Algorithm: "md5", Encoding: "base32", Secrets: []string{"a", "", "c"}}
		}, want: []string{
			`auth.hmac.header: must be a header name such as X-Signature, got "X Sig"`,
			`auth.hmac.algorithm: must be "sha256" (default), "sha1" or "sha512", got "md5"`,
			`auth.hmac.encoding: must be "hex" (default) or "base64", got "base32"`,
			"auth.hmac.secrets: has 3 secrets; at most 2",
			"auth.hmac.secrets[1]: is empty",
		}},
		{name: "short bearer token", change: func(c *custom.ChannelConfig) {
			c.Auth = custom.Auth{Bearer: &custom.Bearer{Tokens: []string{"short-secret"}}}
		}, want: []string{"auth.bearer.tokens[0]: must be at least 16 characters, got 12"}},
		{name: "key and header", change: func(c *custom.ChannelConfig) { c.Idempotency = custom.Idempotency{Key: ".id", Header: "X-Id"} },
			want: []string{"idempotency: set key or header, not both"}},
		{name: "limits", change: func(c *custom.ChannelConfig) { c.MaxBodyBytes, c.Timeout = -1, 2*3600e9 }, want: []string{
			"max_body_bytes: must be between 1 and 67108864 (0 for the default 1048576), got -1",
			"timeout: must be between 1ms and 1m0s (0 for the default 1s), got 2h0m0s",
		}},
		{name: "jq syntax errors", change: func(c *custom.ChannelConfig) {
			c.Mapping = "{\n  order_number: .number\n  lines: []\n}"
			c.Idempotency.Key = `.id |`
			c.Release = `.status == "processing`
		}, want: []string{
			`mapping: jq syntax error at line 3, column 3: unexpected token "lines" (in "lines: []")`,
			`idempotency.key: jq syntax error at line 1, column 6: unexpected EOF (in ".id |")`,
			`release: jq syntax error at line 1, column 12: unterminated string literal (in ".status == \"processing")`,
		}},
		{name: "jq undefined names", change: func(c *custom.ChannelConfig) { c.Mapping = "{lines: $items,\n sku: foo(1)}" }, want: []string{
			"mapping: jq: variable not defined: $items at line 1, column 9",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := wooChannel(t)
			tt.change(&cfg)
			err := cfg.Validate()
			var got []string
			for _, e := range unjoin(err) {
				var ce *custom.ConfigError
				if !errors.As(e, &ce) {
					t.Errorf("%v is not a *ConfigError", e)
				}
				got = append(got, e.Error())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d:\n got %s\nwant …%s…", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func TestConfigRejectsDuplicateNames(t *testing.T) {
	err := custom.Config{Channels: []custom.ChannelConfig{wooChannel(t), wooChannel(t)}}.Validate()
	if err == nil || !strings.Contains(err.Error(), `"woo" is also the name of channels[0]`) {
		t.Errorf("err %v", err)
	}
	if _, err := custom.New(custom.Config{Channels: []custom.ChannelConfig{wooChannel(t)}}, nil, nil); err == nil {
		t.Error("New without an intake")
	}
}

func TestLogValueHidesSecrets(t *testing.T) {
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, nil))
	log.Info("config", "channel", wooChannel(t), "kiosk", kioskChannel(t))
	for _, s := range []string{secretNew, secretOld, token} {
		if strings.Contains(b.String(), s) {
			t.Errorf("log shows a secret: %s", b.String())
		}
	}
	if !strings.Contains(b.String(), "secrets=2") || !strings.Contains(b.String(), "tokens=1") {
		t.Errorf("log: %s", b.String())
	}
}
