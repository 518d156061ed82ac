package magento

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	magentoapi "github.com/paklog/integration-hub/connectors/magento"
)

// DefaultMaxBody is Config.MaxBody when it is zero. A trigger names one order; an
// event that carries the whole order entity runs to some tens of kilobytes.
const DefaultMaxBody = 1 << 20

// Config lists the Magento stores the hub polls.
type Config struct {
	// Stores to poll, at least one.
	Stores []StoreConfig
	// MaxBody is the largest trigger body read, in bytes (default DefaultMaxBody);
	// larger bodies are answered 413.
	MaxBody int64
	// Registerer receives the paklog_magento_* series; nil: not exported.
	Registerer prometheus.Registerer
}

// StoreConfig is one Magento store view.
type StoreConfig struct {
	// Name is the store's key: the partner of its inbound messages (source.partner
	// of its orders) and the {store} of the trigger URL. 1 to 64 letters, digits,
	// "_", "." or "-".
	Name string
	// Client is how to reach the store's REST API.
	Client magentoapi.Config
	// Poll tunes the poller; zero fields get connectors/magento's defaults. Its
	// Logger is replaced by the adapter's, with the store's name.
	Poll magentoapi.PollerConfig
	// Lookback is where the first pass of a store never polled before starts: this
	// long before now. 0 polls the store's whole history.
	Lookback time.Duration
	// Trigger is who may call POST /webhooks/magento/{Name}; empty turns the
	// endpoint off for this store (404).
	Trigger Trigger
}

// Trigger lists the credentials of a store's trigger endpoint. Empty entries are
// ignored.
type Trigger struct {
	// HMACSecrets are the keys of the X-Paklog-Signature header: the hex
	// HMAC-SHA256 of the raw body. One, or two during a rotation.
	HMACSecrets []string
	// BearerTokens are accepted as "Authorization: Bearer <token>". One, or two
	// during a rotation.
	BearerTokens []string
}

func nonEmpty(list []string) [][]byte {
	var out [][]byte
	for _, s := range list {
		if s != "" {
			out = append(out, []byte(s))
		}
	}
	return out
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Validate reports every problem of the configuration, naming the store and the
// field.
func (c Config) Validate() error {
	var errs []error
	if len(c.Stores) == 0 {
		errs = append(errs, errors.New("magento: stores: at least one store is required"))
	}
	if c.MaxBody < 0 {
		errs = append(errs, fmt.Errorf("magento: max_body: %d is negative", c.MaxBody))
	}
	seen := map[string]int{}
	for i, s := range c.Stores {
		field := fmt.Sprintf("magento: stores[%d]", i)
		if !nameRE.MatchString(s.Name) {
			errs = append(errs, fmt.Errorf("%s.name: %q is not 1 to 64 letters, digits, \"_\", \".\" or \"-\"", field, s.Name))
		} else if first, dup := seen[s.Name]; dup {
			errs = append(errs, fmt.Errorf("%s.name: %q is also stores[%d]", field, s.Name, first))
		} else {
			seen[s.Name] = i
		}
		if err := s.Client.Validate(); err != nil {
			for _, e := range unjoin(err) {
				errs = append(errs, fmt.Errorf("%s (%s).client.%w", field, s.Name, e))
			}
		}
		if p := s.Poll; p.Interval < 0 || p.Overlap < 0 || p.PageSize < 0 {
			errs = append(errs, fmt.Errorf("%s (%s).poll: interval %s, overlap %s, page_size %d: none may be negative", field, s.Name, p.Interval, p.Overlap, p.PageSize))
		}
		if s.Lookback < 0 {
			errs = append(errs, fmt.Errorf("%s (%s).lookback: %s is negative", field, s.Name, s.Lookback))
		}
	}
	return errors.Join(errs...)
}

// unjoin splits an errors.Join result.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
