package usps

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Config is one USPS account: the developer-portal application that gets OAuth
// tokens, and the Enterprise Payment System (EPS) account and mailer ids that pay
// for and own the labels.
type Config struct {
	// BaseURL is the API host, without a trailing slash: "https://apis.usps.com"
	// (production) or "https://apis-tem.usps.com" (testing environment).
	BaseURL string
	// ClientID and ClientSecret are the application's Consumer Key and Consumer
	// Secret, sent to /oauth2/v3/token. The secret is never logged (see LogValue)
	// and never put into an error.
	ClientID     string
	ClientSecret string
	// Scope is the OAuth scope to ask for, e.g. "labels payments"; empty asks for
	// the application's default scopes.
	Scope string
	// CRID is the Customer Registration ID of the business that pays for and owns
	// the labels (the PAYER and LABEL_OWNER roles of the payment authorization).
	CRID string
	// MID is the Mailer ID (6 or 9 digits) whose label ranges the tracking numbers
	// come from; ManifestMID is the one the manifest goes to (MID when empty).
	MID         string
	ManifestMID string
	// AccountNumber is the EPS account that pays for the labels.
	AccountNumber string
	// LabelType is the label size: 4X6LABEL (default), 4X5LABEL, 4X4LABEL,
	// 6X4LABEL or 2X7LABEL (2X7LABEL cannot be ZPL).
	LabelType string
	// ZPLResolution is 203 (default) or 300 dots per inch: imageType ZPL203DPI or
	// ZPL300DPI for canonical.LabelZPL.
	ZPLResolution int
	// ProcessingCategory is sent with every package: MACHINABLE (default) or
	// NONSTANDARD.
	ProcessingCategory string
	// PaymentTokenLifetime is how long a payment authorization token is used when
	// the token does not say (USPS documents eight hours, the default).
	PaymentTokenLifetime time.Duration
	// Timeout bounds each HTTP call, token calls included (30s when 0).
	Timeout time.Duration
	// Now is the clock for token expiry and the default mailing date (time.Now
	// when nil).
	Now func() time.Time
}

// Defaults.
const (
	DefaultLabelType            = "4X6LABEL"
	DefaultProcessingCategory   = "MACHINABLE"
	DefaultPaymentTokenLifetime = 8 * time.Hour
)

var (
	midPattern  = regexp.MustCompile(`^(\d{6}|\d{9})$`)
	labelTypes  = []string{"4X4LABEL", "4X5LABEL", "4X6LABEL", "6X4LABEL", "2X7LABEL"}
	processings = []string{"MACHINABLE", "NONSTANDARD", "LETTERS", "FLATS"}
)

// withDefaults fills the optional fields.
func (c Config) withDefaults() Config {
	if c.ManifestMID == "" {
		c.ManifestMID = c.MID
	}
	if c.LabelType == "" {
		c.LabelType = DefaultLabelType
	}
	if c.ZPLResolution == 0 {
		c.ZPLResolution = 203
	}
	if c.ProcessingCategory == "" {
		c.ProcessingCategory = DefaultProcessingCategory
	}
	if c.PaymentTokenLifetime <= 0 {
		c.PaymentTokenLifetime = DefaultPaymentTokenLifetime
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports every problem of the configuration, each naming the field.
func (c Config) Validate() error {
	var errs []error
	missing := func(field, value string) {
		if strings.TrimSpace(value) == "" {
			errs = append(errs, fmt.Errorf("usps: %s is required", field))
		}
	}
	missing("BaseURL", c.BaseURL)
	missing("ClientID", c.ClientID)
	missing("ClientSecret", c.ClientSecret)
	missing("CRID", c.CRID)
	missing("MID", c.MID)
	missing("AccountNumber", c.AccountNumber)
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			errs = append(errs, fmt.Errorf("usps: BaseURL %q must be an absolute http(s) URL such as https://apis.usps.com", c.BaseURL))
		case strings.HasSuffix(c.BaseURL, "/"):
			errs = append(errs, fmt.Errorf("usps: BaseURL %q must not end with a slash", c.BaseURL))
		case u.Path != "":
			errs = append(errs, fmt.Errorf("usps: BaseURL %q must be the host only (the client adds /labels/v3, /payments/v3, /oauth2/v3)", c.BaseURL))
		}
	}
	if c.MID != "" && !midPattern.MatchString(c.MID) {
		errs = append(errs, fmt.Errorf("usps: MID %q must be 6 or 9 digits", c.MID))
	}
	if c.ManifestMID != "" && !midPattern.MatchString(c.ManifestMID) {
		errs = append(errs, fmt.Errorf("usps: ManifestMID %q must be 6 or 9 digits", c.ManifestMID))
	}
	if n := len(c.CRID); c.CRID != "" && (n < 2 || n > 18) {
		errs = append(errs, fmt.Errorf("usps: CRID must be 2 to 18 characters, not %d", n))
	}
	if c.LabelType != "" && !slices.Contains(labelTypes, c.LabelType) {
		errs = append(errs, fmt.Errorf("usps: LabelType %q must be one of %s", c.LabelType, strings.Join(labelTypes, ", ")))
	}
	if c.ZPLResolution != 0 && c.ZPLResolution != 203 && c.ZPLResolution != 300 {
		errs = append(errs, fmt.Errorf("usps: ZPLResolution %d must be 203 or 300", c.ZPLResolution))
	}
	if c.ProcessingCategory != "" && !slices.Contains(processings, c.ProcessingCategory) {
		errs = append(errs, fmt.Errorf("usps: ProcessingCategory %q must be one of %s", c.ProcessingCategory, strings.Join(processings, ", ")))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("usps: Timeout %s must not be negative", c.Timeout))
	}
	if c.PaymentTokenLifetime < 0 {
		errs = append(errs, fmt.Errorf("usps: PaymentTokenLifetime %s must not be negative", c.PaymentTokenLifetime))
	}
	return errors.Join(errs...)
}

// LogValue implements [slog.LogValuer]: a logged Config shows the account, never the
// client secret.
func (c Config) LogValue() slog.Value {
	secret := "[unset]"
	if c.ClientSecret != "" {
		secret = "[REDACTED]"
	}
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", secret),
		slog.String("crid", c.CRID),
		slog.String("mid", c.MID),
		slog.String("account_number", c.AccountNumber),
	)
}
