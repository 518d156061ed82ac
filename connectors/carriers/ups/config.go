package ups

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Defaults applied by New.
const (
	// DefaultVersion is the Ship and Void API version in the path.
	DefaultVersion = "v2409"
	// DefaultRecoveryVersion is the Label Recovery API version in the path.
	DefaultRecoveryVersion = "v1"
	// DefaultTransactionSrc names the hub in the transactionSrc header.
	DefaultTransactionSrc = "paklog"
	// DefaultTimeout bounds each HTTP call when New builds the http.Client.
	DefaultTimeout = 30 * time.Second
)

// Config is one UPS account.
type Config struct {
	// BaseURL is the API host, without a trailing slash: "https://onlinetools.ups.com"
	// (production) or "https://wwwcie.ups.com" (Customer Integration Environment).
	// The client adds "/security/v1/oauth/token" and "/api/...".
	BaseURL string
	// ClientID and ClientSecret are the OAuth client credentials of the app
	// registered on developer.ups.com (sent with HTTP Basic to the token endpoint).
	// The secret never appears in errors or logs (see LogValue).
	ClientID     string
	ClientSecret string
	// AccountNumber is the 6-character UPS shipper number: Shipper/ShipperNumber,
	// BillShipper/AccountNumber, the x-merchant-id header and Label Recovery's
	// ReferenceValues/ShipperNumber.
	AccountNumber string
	// Version is the Ship and Void API version in the path (default DefaultVersion).
	// Versions before v2403 answer a one-package shipment's PackageResults as an
	// object; the client reads both forms.
	Version string
	// RecoveryVersion is the Label Recovery API version in the path (default
	// DefaultRecoveryVersion).
	RecoveryVersion string
	// TransactionSrc is the transactionSrc header (default DefaultTransactionSrc).
	TransactionSrc string
	// Timeout bounds each HTTP call, token fetch included, when New builds the
	// http.Client (default DefaultTimeout). A Ship that times out after it was sent
	// is Ambiguous.
	Timeout time.Duration
	// Now is the clock that dates token expiry (time.Now when nil).
	Now func() time.Time
}

var (
	accountRE = regexp.MustCompile(`^[A-Za-z0-9]{6}$`)
	versionRE = regexp.MustCompile(`^v[0-9]{1,4}$`)
)

// Validate reports every missing or malformed field, joined.
func (c Config) Validate() error {
	var errs []error
	if c.BaseURL == "" {
		errs = append(errs, errors.New("ups config: BaseURL is required, e.g. https://onlinetools.ups.com"))
	} else if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("ups config: BaseURL %q must be an absolute http(s) URL", c.BaseURL))
	} else if u.Path != "" || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("ups config: BaseURL %q must be the host only, with no path or trailing slash", c.BaseURL))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("ups config: ClientID is required"))
	}
	if c.ClientSecret == "" {
		errs = append(errs, errors.New("ups config: ClientSecret is required"))
	}
	if c.AccountNumber == "" {
		errs = append(errs, errors.New("ups config: AccountNumber (the 6-character shipper number) is required"))
	} else if !accountRE.MatchString(c.AccountNumber) {
		errs = append(errs, fmt.Errorf("ups config: AccountNumber %q must be 6 letters or digits", c.AccountNumber))
	}
	if c.Version != "" && !versionRE.MatchString(c.Version) {
		errs = append(errs, fmt.Errorf("ups config: Version %q must look like %q", c.Version, DefaultVersion))
	}
	if c.RecoveryVersion != "" && !versionRE.MatchString(c.RecoveryVersion) {
		errs = append(errs, fmt.Errorf("ups config: RecoveryVersion %q must look like %q", c.RecoveryVersion, DefaultRecoveryVersion))
	}
	if len(c.TransactionSrc) > 512 {
		errs = append(errs, fmt.Errorf("ups config: TransactionSrc is %d characters, at most 512", len(c.TransactionSrc)))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("ups config: Timeout %s must not be negative", c.Timeout))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.AccountNumber = strings.ToUpper(c.AccountNumber)
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.RecoveryVersion == "" {
		c.RecoveryVersion = DefaultRecoveryVersion
	}
	if c.TransactionSrc == "" {
		c.TransactionSrc = DefaultTransactionSrc
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// LogValue logs the configuration without its secret.
func (c Config) LogValue() slog.Value {
	secret := ""
	if c.ClientSecret != "" {
		secret = "REDACTED"
	}
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", secret),
		slog.String("account_number", c.AccountNumber),
		slog.String("version", c.Version),
		slog.Duration("timeout", c.Timeout),
	)
}
