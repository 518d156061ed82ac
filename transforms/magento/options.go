package magento

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/paklog/integration-hub/canonical"
)

// Options are a store's release rules and mapping choices. The zero value
// is the defaults: orders in state processing are released (whatever their
// status), state canceled becomes a cancel, every other state is skipped,
// bundles without a stated shipment type ship together, and shipping
// methods map through DefaultServiceLevels.
type Options struct {
	// ReleaseStates lists the order states (the fixed set in States) whose
	// orders are released to the warehouse. Empty means
	// DefaultReleaseStates. Add "new" to ship before the invoice (payment
	// on account), "complete" to re-send an order already shipped.
	ReleaseStates []string `yaml:"release_states,omitempty" json:"release_states,omitempty"`
	// ReleaseStatuses, when not empty, narrows ReleaseStates to these
	// statuses (a store's own statuses, such as "ready_to_ship", are
	// free-form). Empty releases every status of a released state.
	ReleaseStatuses []string `yaml:"release_statuses,omitempty" json:"release_statuses,omitempty"`
	// SkipStatuses are never released, whatever the state: "fraud",
	// "payment_review", a store's "on_hold_manual".
	SkipStatuses []string `yaml:"skip_statuses,omitempty" json:"skip_statuses,omitempty"`
	// CancelStates lists the states translated to a cancel of the whole
	// order. Empty means DefaultCancelStates. Add "closed" when a store
	// refunds unshipped orders in full instead of cancelling them.
	CancelStates []string `yaml:"cancel_states,omitempty" json:"cancel_states,omitempty"`
	// BundleShipment is how a bundle ships when its item does not say:
	// "together" (the default: one line for the bundle's own SKU) or
	// "separately" (one line per child item). Magento keeps the bundle's
	// shipment_type in product_options, which the REST API does not
	// always return.
	BundleShipment string `yaml:"bundle_shipment,omitempty" json:"bundle_shipment,omitempty"`
	// ServiceLevels maps the shipping method code (carrier_method, such as
	// "tablerate_bestway" or "ups_GND") or, failing that, the
	// shipping_description, compared case-insensitively with spaces
	// trimmed, to a service level. Entries here override
	// DefaultServiceLevels; map a name to "" to leave it unstated.
	ServiceLevels map[string]canonical.ServiceLevel `yaml:"service_levels,omitempty" json:"service_levels,omitempty"`
}

// States are Magento's order states (sales_order.state). Statuses are
// free-form per store; states are fixed.
var States = []string{
	"new", "pending_payment", "payment_review", "processing",
	"complete", "closed", "canceled", "holded",
}

// DefaultReleaseStates are released when Options.ReleaseStates is empty:
// Magento moves an order to processing once it is invoiced (paid) or
// shipped in part.
var DefaultReleaseStates = []string{"processing"}

// DefaultCancelStates become a cancel when Options.CancelStates is empty.
var DefaultCancelStates = []string{"canceled"}

// Bundle shipment types for Options.BundleShipment and an item's
// shipment_type.
const (
	ShipTogether   = "together"
	ShipSeparately = "separately"
)

// DefaultServiceLevels maps common Magento shipping method codes and
// descriptions (lower case) to service levels.
var DefaultServiceLevels = map[string]canonical.ServiceLevel{
	"flatrate_flatrate":         canonical.ServiceGround,
	"tablerate_bestway":         canonical.ServiceGround,
	"freeshipping_freeshipping": canonical.ServiceEconomy,
	"instore_pickup":            canonical.ServicePickup,
	"ups_gnd":                   canonical.ServiceGround,
	"ups_03":                    canonical.ServiceGround,
	"ups_2da":                   canonical.ServiceTwoDay,
	"ups_02":                    canonical.ServiceTwoDay,
	"ups_1da":                   canonical.ServiceNextDay,
	"ups_01":                    canonical.ServiceNextDay,
	"fedex_fedex_ground":        canonical.ServiceGround,
	"fedex_fedex_2_day":         canonical.ServiceTwoDay,
	"fedex_standard_overnight":  canonical.ServiceNextDay,
	"fedex_priority_overnight":  canonical.ServiceNextDay,
	"usps_1":                    canonical.ServiceTwoDay,  // Priority Mail
	"usps_3":                    canonical.ServiceNextDay, // Priority Mail Express
	"flat rate - fixed":         canonical.ServiceGround,
	"best way - table rate":     canonical.ServiceGround,
	"free shipping - free":      canonical.ServiceEconomy,
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
	checkStates := func(field string, states []string) {
		for i, s := range states {
			if !slices.Contains(States, s) {
				errs = append(errs, fmt.Errorf("%s[%d]: %q is not a Magento order state (one of %s)",
					field, i, s, strings.Join(States, ", ")))
			}
		}
	}
	checkStates("release_states", o.ReleaseStates)
	checkStates("cancel_states", o.CancelStates)
	for i, s := range o.ReleaseStates {
		if slices.Contains(o.cancelStates(), s) {
			errs = append(errs, fmt.Errorf("release_states[%d]: %q is also a cancel state", i, s))
		}
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"release_statuses", o.ReleaseStatuses}, {"skip_statuses", o.SkipStatuses}} {
		for i, s := range f.list {
			if strings.TrimSpace(s) == "" {
				errs = append(errs, fmt.Errorf("%s[%d]: empty status", f.name, i))
			}
		}
	}
	if o.BundleShipment != "" && o.BundleShipment != ShipTogether && o.BundleShipment != ShipSeparately {
		errs = append(errs, fmt.Errorf("bundle_shipment: %q is not %q or %q", o.BundleShipment, ShipTogether, ShipSeparately))
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

func (o Options) cancelStates() []string {
	if len(o.CancelStates) == 0 {
		return DefaultCancelStates
	}
	return o.CancelStates
}

// settings are Options with the defaults applied.
type settings struct {
	release         []string
	releaseStatuses []string
	skipStatuses    []string
	cancel          []string
	bundle          string
	levels          map[string]canonical.ServiceLevel
}

func (o Options) settings() settings {
	s := settings{
		release:         o.ReleaseStates,
		releaseStatuses: o.ReleaseStatuses,
		skipStatuses:    o.SkipStatuses,
		cancel:          o.cancelStates(),
		bundle:          o.BundleShipment,
		levels:          maps.Clone(DefaultServiceLevels),
	}
	if len(s.release) == 0 {
		s.release = DefaultReleaseStates
	}
	if s.bundle == "" {
		s.bundle = ShipTogether
	}
	for k, v := range o.ServiceLevels {
		s.levels[normMethod(k)] = v
	}
	return s
}

func normMethod(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
