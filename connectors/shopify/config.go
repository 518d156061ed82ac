package shopify

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Defaults applied by New.
const (
	// DefaultAPIVersion is the Admin API version in the GraphQL path.
	DefaultAPIVersion = "2025-10"
	// DefaultTimeout bounds each HTTP call when New builds the http.Client.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxRetries is how many times a throttled or transiently failed
	// call is tried again.
	DefaultMaxRetries = 8
	// DefaultRetryBase is the first backoff wait; it doubles with jitter.
	DefaultRetryBase = 500 * time.Millisecond
	// DefaultMaxWait caps a single wait for the cost budget or a Retry-After.
	DefaultMaxWait = time.Minute
)

// Config is one shop the hub talks to through the GraphQL Admin API.
type Config struct {
	// Shop is the shop's key in the hub configuration (the partner of its
	// messages).
	Shop string
	// Domain is the shop's myshopify.com domain: acme.myshopify.com.
	Domain string
	// AccessToken is the Admin API access token (X-Shopify-Access-Token). It
	// never appears in errors or logs (see LogValue).
	AccessToken string
	// APIVersion is the Admin API version (default DefaultAPIVersion).
	APIVersion string
	// BaseURL replaces "https://" + Domain, without a trailing slash: a
	// simulator's address in tests.
	BaseURL string
	// HTTPClient makes the calls (default: a client with Timeout).
	HTTPClient *http.Client
	// Timeout bounds each HTTP call when New builds the client (default
	// DefaultTimeout). A mutation that times out is Ambiguous.
	Timeout time.Duration
	// MaxRetries, RetryBase and MaxWait shape retries of throttled and
	// transient failures (defaults DefaultMaxRetries, DefaultRetryBase,
	// DefaultMaxWait). MaxRetries -1 turns retries off.
	MaxRetries int
	RetryBase  time.Duration
	MaxWait    time.Duration
	// Logger receives retries and waits (discarded when nil).
	Logger *slog.Logger
}

var (
	versionRE = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}|unstable)$`)
	domainRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)+$`)
)

// LogValue implements slog.LogValuer: the token is never logged.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("shop", c.Shop), slog.String("domain", c.Domain),
		slog.String("api_version", c.APIVersion), slog.Bool("access_token_set", c.AccessToken != ""))
}

// Validate reports every problem, naming the field and the value.
func (c Config) Validate() error {
	var errs []error
	if c.Shop == "" {
		errs = append(errs, errors.New("shopify: shop: is required"))
	}
	if d := strings.ToLower(c.Domain); !domainRE.MatchString(d) {
		errs = append(errs, fmt.Errorf("shopify: domain: %q is not a shop domain like acme.myshopify.com", c.Domain))
	}
	if c.AccessToken == "" {
		errs = append(errs, errors.New("shopify: access_token: is required"))
	}
	if c.APIVersion != "" && !versionRE.MatchString(c.APIVersion) {
		errs = append(errs, fmt.Errorf("shopify: api_version: %q is not YYYY-MM", c.APIVersion))
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "https://") && !strings.HasPrefix(c.BaseURL, "http://") {
		errs = append(errs, fmt.Errorf("shopify: base_url: %q is not an http(s) URL", c.BaseURL))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"timeout", c.Timeout}, {"retry_base", c.RetryBase}, {"max_wait", c.MaxWait}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("shopify: %s: %s is negative", d.name, d.v))
		}
	}
	if c.MaxRetries < -1 {
		errs = append(errs, fmt.Errorf("shopify: max_retries: %d is below -1", c.MaxRetries))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if c.BaseURL == "" {
		c.BaseURL = "https://" + strings.ToLower(c.Domain)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.Timeout}
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.RetryBase == 0 {
		c.RetryBase = DefaultRetryBase
	}
	if c.MaxWait == 0 {
		c.MaxWait = DefaultMaxWait
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
