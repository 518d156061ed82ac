package magento

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// AuthMode is how requests are authenticated.
type AuthMode string

// Authentication modes.
const (
	// AuthOAuth1 signs every request with OAuth 1.0a using the
	// integration's four credentials: the default, and the only mode
	// Magento 2.4.4+ accepts for integration tokens unless the store
	// allows them as bearer tokens.
	AuthOAuth1 AuthMode = "oauth1"
	// AuthBearer sends the access token as "Authorization: Bearer …"
	// (Stores → Configuration → Services → OAuth → "Allow OAuth Access
	// Tokens to be used as standalone Bearer tokens", or an admin token).
	AuthBearer AuthMode = "bearer"
)

// OAuth 1.0a signature methods.
const (
	HMACSHA256 = "HMAC-SHA256"
	HMACSHA1   = "HMAC-SHA1"
)

// Secret is a credential. It prints and logs as "[redacted]"; convert it
// with string() where the value is needed.
type Secret string

// String returns "[redacted]".
func (Secret) String() string { return "[redacted]" }

// LogValue keeps the secret out of slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Config is one Magento store's connection settings.
type Config struct {
	// BaseURL is the Magento base URL, without /rest: "https://shop.example.com".
	BaseURL string `yaml:"base_url"`
	// Store is the store view code in /rest/<store>/V1/… Default "default".
	Store string `yaml:"store"`
	// Auth is AuthOAuth1 (the default) or AuthBearer.
	Auth AuthMode `yaml:"auth"`
	// ConsumerKey, ConsumerSecret, AccessToken and AccessTokenSecret are
	// the integration's credentials (System → Extensions → Integrations).
	// AuthOAuth1 needs all four; AuthBearer sends AccessToken.
	ConsumerKey       string `yaml:"consumer_key"`
	ConsumerSecret    Secret `yaml:"consumer_secret"`
	AccessToken       Secret `yaml:"access_token"`
	AccessTokenSecret Secret `yaml:"access_token_secret"`
	// SignatureMethod is HMACSHA256 (the default; Magento 2.4.4+) or
	// HMACSHA1 (older stores).
	SignatureMethod string `yaml:"signature_method"`
	// Timeout bounds each HTTP request. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
	// ShipAttempts is how many times Ship tries before giving up. Default 3.
	ShipAttempts int `yaml:"ship_attempts"`
	// RetryWait is the first wait between Ship attempts, doubling after.
	// Default 500ms.
	RetryWait time.Duration `yaml:"retry_wait"`
	// Transport carries the requests; nil is http.DefaultTransport.
	Transport http.RoundTripper `yaml:"-"`
}

// Defaults.
const (
	DefaultStore        = "default"
	DefaultTimeout      = 30 * time.Second
	DefaultShipAttempts = 3
	DefaultRetryWait    = 500 * time.Millisecond
)

func (c Config) withDefaults() Config {
	if c.Store == "" {
		c.Store = DefaultStore
	}
	if c.Auth == "" {
		c.Auth = AuthOAuth1
	}
	if c.SignatureMethod == "" {
		c.SignatureMethod = HMACSHA256
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.ShipAttempts == 0 {
		c.ShipAttempts = DefaultShipAttempts
	}
	if c.RetryWait == 0 {
		c.RetryWait = DefaultRetryWait
	}
	return c
}

// Validate checks c with its defaults applied, naming every field wrong.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("base_url: %q is not an http(s) URL", c.BaseURL))
	}
	if url.PathEscape(c.Store) != c.Store {
		errs = append(errs, fmt.Errorf("store: %q is not a store code", c.Store))
	}
	switch c.Auth {
	case AuthOAuth1:
		for _, f := range []struct{ name, val string }{
			{"consumer_key", c.ConsumerKey}, {"consumer_secret", string(c.ConsumerSecret)},
			{"access_token", string(c.AccessToken)}, {"access_token_secret", string(c.AccessTokenSecret)},
		} {
			if f.val == "" {
				errs = append(errs, fmt.Errorf("%s: required with auth %s", f.name, AuthOAuth1))
			}
		}
		if !slices.Contains([]string{HMACSHA256, HMACSHA1}, c.SignatureMethod) {
			errs = append(errs, fmt.Errorf("signature_method: %q is not %s or %s", c.SignatureMethod, HMACSHA256, HMACSHA1))
		}
	case AuthBearer:
		if c.AccessToken == "" {
			errs = append(errs, fmt.Errorf("access_token: required with auth %s", AuthBearer))
		}
	default:
		errs = append(errs, fmt.Errorf("auth: %q is not %s or %s", c.Auth, AuthOAuth1, AuthBearer))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: %s is negative", c.Timeout))
	}
	if c.ShipAttempts < 1 || c.ShipAttempts > 10 {
		errs = append(errs, fmt.Errorf("ship_attempts: %d is not from 1 to 10", c.ShipAttempts))
	}
	if c.RetryWait < 0 {
		errs = append(errs, fmt.Errorf("retry_wait: %s is negative", c.RetryWait))
	}
	return errors.Join(errs...)
}
