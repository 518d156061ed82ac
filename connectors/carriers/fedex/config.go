package fedex

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Hosts of FedEx's APIs, for Config.BaseURL.
const (
	ProductionURL = "https://apis.fedex.com"
	SandboxURL    = "https://apis-sandbox.fedex.com"
)

// Defaults for Config.
const (
	DefaultTimeout = 30 * time.Second
	DefaultLocale  = "en_US"
	// DefaultThrottleWindow is FedEx's rate-limit window: over 1400 transactions in
	// 10 seconds, the rest of the window answers 429, without Retry-After.
	DefaultThrottleWindow = 10 * time.Second
	// TokenThresholdBlock is how long FedEx's OAuth endpoint refuses an IP address
	// that crossed its request thresholds (403 on /oauth/token).
	TokenThresholdBlock = 10 * time.Minute
)

// Secret is a credential: it prints, formats and logs as "[REDACTED]". Convert it
// with string(s) only where it is sent.
type Secret string

const redacted = "[REDACTED]"

// String hides the secret from fmt's %s and %v.
func (Secret) String() string { return redacted }

// GoString hides the secret from fmt's %#v.
func (Secret) GoString() string { return redacted }

// LogValue hides the secret from log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// Config is one FedEx shipping account.
type Config struct {
	// BaseURL is the API host without a trailing slash: ProductionURL,
	// SandboxURL, or a simulator's address.
	BaseURL string
	// ClientID is the project's API Key from the FedEx Developer Portal.
	ClientID string
	// ClientSecret is the project's Secret Key.
	ClientSecret Secret
	// AccountNumber is the 9-digit FedEx shipping account labels are billed to.
	AccountNumber string
	// Timeout bounds each HTTP call, reading the answer included (DefaultTimeout
	// when zero). It is the http.Client's only when New builds the client.
	Timeout time.Duration
	// Locale is sent as x-locale (DefaultLocale when empty).
	Locale string
	// ThrottleWindow is the wait a 429 without Retry-After asks for
	// (DefaultThrottleWindow when zero).
	ThrottleWindow time.Duration
	// Now is the clock for token expiry and default ship dates (time.Now when nil).
	Now func() time.Time
}

// withDefaults fills in the zero fields that have defaults.
func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Locale == "" {
		c.Locale = DefaultLocale
	}
	if c.ThrottleWindow == 0 {
		c.ThrottleWindow = DefaultThrottleWindow
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports every problem with c, each naming the field.
func (c Config) Validate() error {
	var errs []error
	switch u, err := url.Parse(c.BaseURL); {
	case c.BaseURL == "":
		errs = append(errs, errors.New("fedex: BaseURL is required (e.g. "+ProductionURL+")"))
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		errs = append(errs, fmt.Errorf("fedex: BaseURL %q must be an absolute http(s) URL", c.BaseURL))
	case strings.HasSuffix(c.BaseURL, "/"):
		errs = append(errs, fmt.Errorf("fedex: BaseURL %q must not end with a slash", c.BaseURL))
	case u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, fmt.Errorf("fedex: BaseURL %q must not have a query or fragment", c.BaseURL))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("fedex: ClientID (API Key) is required"))
	}
	if c.ClientSecret == "" {
		errs = append(errs, errors.New("fedex: ClientSecret (Secret Key) is required"))
	}
	switch {
	case c.AccountNumber == "":
		errs = append(errs, errors.New("fedex: AccountNumber is required"))
	case !isDigits(c.AccountNumber) || len(c.AccountNumber) != 9:
		errs = append(errs, fmt.Errorf("fedex: AccountNumber %q must be 9 digits", c.AccountNumber))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("fedex: Timeout %s must not be negative", c.Timeout))
	}
	if c.ThrottleWindow < 0 {
		errs = append(errs, fmt.Errorf("fedex: ThrottleWindow %s must not be negative", c.ThrottleWindow))
	}
	return errors.Join(errs...)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
