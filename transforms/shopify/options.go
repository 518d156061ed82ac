package shopify

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/paklog/integration-hub/canonical"
)

// Options are a shop's release rules and mapping choices. The zero value
// is the defaults: only paid (and partly refunded) orders are released,
// test orders are skipped, a line without a SKU is an error, and shipping
// methods map through DefaultServiceLevels.
type Options struct {
	// ReleaseFinancialStatuses lists the financial_status values whose
	// orders are released to the warehouse; others are skipped until an
	// orders/updated or orders/paid brings a listed status. Empty means
	// DefaultReleaseFinancialStatuses. Add "authorized" to ship on
	// authorisation, before capture.
	ReleaseFinancialStatuses []string `yaml:"release_financial_statuses,omitempty" json:"release_financial_statuses,omitempty"`
	// ReleaseTestOrders releases orders marked test: true. The default,
	// false, skips them.
	ReleaseTestOrders bool `yaml:"release_test_orders,omitempty" json:"release_test_orders,omitempty"`
	// SKUFallback names the identifier used as the SKU of a line whose sku
	// is empty: "" (the default: such a line is an error, ErrMissingSKU)
	// or "variant_id" (the decimal variant id).
	SKUFallback string `yaml:"sku_fallback,omitempty" json:"sku_fallback,omitempty"`
	// ServiceLevels maps shipping_lines[0].code or .title, compared
	// case-insensitively with spaces trimmed, to a service level. Entries
	// here override DefaultServiceLevels; map a name to "" to leave it
	// unstated. Unmatched methods get no service level: the fulfilment
	// core applies the shop's default.
	ServiceLevels map[string]canonical.ServiceLevel `yaml:"service_levels,omitempty" json:"service_levels,omitempty"`
}

// DefaultReleaseFinancialStatuses are released when
// Options.ReleaseFinancialStatuses is empty. A partly refunded order was
// paid; its refunded quantities are already gone from fulfillable_quantity.
var DefaultReleaseFinancialStatuses = []string{"paid", "partially_refunded"}

// FinancialStatuses are the financial_status values Shopify sends.
var FinancialStatuses = []string{
	"pending", "authorized", "partially_paid", "paid",
	"partially_refunded", "refunded", "voided", "expired",
}

// SKU fallbacks for Options.SKUFallback.
const (
	SKUFallbackNone      = ""
	SKUFallbackVariantID = "variant_id"
)

// DefaultServiceLevels maps common Shopify shipping rate names and codes
// (lower case) to service levels.
var DefaultServiceLevels = map[string]canonical.ServiceLevel{
	"standard":          canonical.ServiceGround,
	"standard shipping": canonical.ServiceGround,
	"ground":            canonical.ServiceGround,
	"economy":           canonical.ServiceEconomy,
	"economy shipping":  canonical.ServiceEconomy,
	"free shipping":     canonical.ServiceEconomy,
	"express":           canonical.ServiceTwoDay,
	"express shipping":  canonical.ServiceTwoDay,
	"two day":           canonical.ServiceTwoDay,
	"2-day":             canonical.ServiceTwoDay,
	"2 day":             canonical.ServiceTwoDay,
	"next day":          canonical.ServiceNextDay,
	"next day air":      canonical.ServiceNextDay,
	"overnight":         canonical.ServiceNextDay,
	"same day":          canonical.ServiceSameDay,
	"same day delivery": canonical.ServiceSameDay,
	"local delivery":    canonical.ServiceSameDay,
	"local pickup":      canonical.ServicePickup,
	"pickup":            canonical.ServicePickup,
	"in-store pickup":   canonical.ServicePickup,
	"freight":           canonical.ServiceFreight,
}

var serviceLevels = []canonical.ServiceLevel{
	canonical.ServiceNone, canonical.ServiceGround, canonical.ServiceEconomy,
	canonical.ServiceTwoDay, canonical.ServiceNextDay, canonical.ServiceSameDay,
	canonical.ServiceFreight, canonical.ServicePickup,
}

// Validate checks the options, naming the field and value of every
// problem.
func (o Options) Validate() error {
	var errs []error
	for i, s := range o.ReleaseFinancialStatuses {
		if !slices.Contains(FinancialStatuses, s) {
			errs = append(errs, fmt.Errorf("release_financial_statuses[%d]: %q is not a Shopify financial_status (one of %s)",
				i, s, strings.Join(FinancialStatuses, ", ")))
		}
	}
	if o.SKUFallback != SKUFallbackNone && o.SKUFallback != SKUFallbackVariantID {
		errs = append(errs, fmt.Errorf("sku_fallback: %q is not %q or %q", o.SKUFallback, SKUFallbackNone, SKUFallbackVariantID))
	}
	for _, k := range slices.Sorted(maps.Keys(o.ServiceLevels)) {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, errors.New("service_levels: empty shipping method name"))
		}
		if v := o.ServiceLevels[k]; !slices.Contains(serviceLevels, v) {
			errs = append(errs, fmt.Errorf("service_levels[%q]: %q is not a service level (ground, economy, two_day, next_day, same_day, freight, pickup or \"\")", k, v))
		}
	}
	return errors.Join(errs...)
}

// settings are Options with the defaults applied.
type settings struct {
	release      []string
	releaseTests bool
	skuFallback  string
	levels       map[string]canonical.ServiceLevel
}

func (o Options) settings() settings {
	s := settings{
		release:      o.ReleaseFinancialStatuses,
		releaseTests: o.ReleaseTestOrders,
		skuFallback:  o.SKUFallback,
		levels:       maps.Clone(DefaultServiceLevels),
	}
	if len(s.release) == 0 {
		s.release = DefaultReleaseFinancialStatuses
	}
	for k, v := range o.ServiceLevels {
		s.levels[normMethod(k)] = v
	}
	return s
}

func normMethod(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
