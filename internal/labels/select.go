package labels

import (
	"fmt"
	"slices"
	"strings"

	"github.com/paklog/integration-hub/canonical"
)

// Choice is one carrier service to try: an account and the carrier's service code.
type Choice struct {
	Account string
	Service string
}

func (c Choice) String() string { return c.Account + ":" + c.Service }

// Rule maps shipments to an ordered list of carrier services. Empty conditions match
// everything.
type Rule struct {
	Name string
	// ServiceLevels the rule applies to ("" matches a shipment without one).
	ServiceLevels []canonical.ServiceLevel
	// Countries are ISO 3166-1 alpha-2 destination countries.
	Countries []string
	// Partners are the source partners (shop, trading partner) the rule applies to.
	Partners []string
	// MaxWeightLb is the heaviest package the rule takes (0: no limit).
	MaxWeightLb float64
	// Use is the carrier services to try, in order.
	Use []Choice
}

// matches reports whether the rule applies to s from partner, and if not, why.
func (r Rule) matches(s canonical.Shipment, partner string) (bool, string) {
	if len(r.ServiceLevels) > 0 && !slices.Contains(r.ServiceLevels, s.ServiceLevel) {
		return false, fmt.Sprintf("service level %q", s.ServiceLevel)
	}
	if len(r.Countries) > 0 && !slices.ContainsFunc(r.Countries, func(c string) bool { return strings.EqualFold(c, s.ShipTo.Country) }) {
		return false, fmt.Sprintf("destination country %q", s.ShipTo.Country)
	}
	if len(r.Partners) > 0 && !slices.Contains(r.Partners, partner) {
		return false, fmt.Sprintf("partner %q", partner)
	}
	if r.MaxWeightLb > 0 {
		for _, p := range s.Packages {
			if w := Pounds(p.Weight); w > r.MaxWeightLb {
				return false, fmt.Sprintf("package %s weighs %.2f lb, over %.2f lb", p.PackageID, w, r.MaxWeightLb)
			}
		}
	}
	return true, ""
}

// Pounds converts a weight to pounds.
func Pounds(w canonical.Weight) float64 {
	switch w.Unit {
	case canonical.Kilogram:
		return w.Value * 2.20462262
	case canonical.Ounce:
		return w.Value / 16
	case canonical.Gram:
		return w.Value / 453.59237
	}
	return w.Value
}

// ErrNoRule is returned when no rule takes a shipment.
type ErrNoRule struct {
	ShipmentID string
	Why        []string
}

func (e *ErrNoRule) Error() string {
	return fmt.Sprintf("no carrier rule takes shipment %s (%s): add a rule to carriers.rules in the configuration",
		e.ShipmentID, strings.Join(e.Why, "; "))
}

// Select is the first rule that takes s and its carrier services, with the
// shipment's preferred carrier (Shipment.Carrier, e.g. "UPS") moved to the front.
// carrierOf names an account's carrier.
func Select(rules []Rule, s canonical.Shipment, partner string, carrierOf func(account string) string) (Rule, []Choice, error) {
	var why []string
	for _, r := range rules {
		ok, reason := r.matches(s, partner)
		if !ok {
			why = append(why, fmt.Sprintf("rule %s: %s", r.Name, reason))
			continue
		}
		use := slices.Clone(r.Use)
		if s.Carrier != "" {
			slices.SortStableFunc(use, func(a, b Choice) int {
				pa := strings.EqualFold(carrierOf(a.Account), s.Carrier)
				pb := strings.EqualFold(carrierOf(b.Account), s.Carrier)
				switch {
				case pa && !pb:
					return -1
				case pb && !pa:
					return 1
				}
				return 0
			})
		}
		return r, use, nil
	}
	if len(rules) == 0 {
		why = append(why, "there are no rules")
	}
	return Rule{}, nil, &ErrNoRule{ShipmentID: s.ShipmentID, Why: why}
}
