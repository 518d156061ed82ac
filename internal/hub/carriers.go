package hub

import (
	"fmt"
	"strings"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/connectors/carriers/fedex"
	"github.com/paklog/integration-hub/connectors/carriers/ups"
	"github.com/paklog/integration-hub/connectors/carriers/usps"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/labels"
)

// CarrierClient builds the client of one configured carrier account.
func CarrierClient(a config.CarrierAccount) (carriers.Client, error) {
	timeout := a.Timeout.Std()
	var (
		c   carriers.Client
		err error
	)
	switch a.Carrier {
	case config.CarrierUPS:
		c, err = ups.New(ups.Config{BaseURL: strings.TrimRight(a.URL, "/"), ClientID: a.ClientID.Value(), ClientSecret: a.ClientSecret.Value(),
			AccountNumber: a.AccountNumber, Version: a.Version, Timeout: timeout}, nil)
	case config.CarrierFedEx:
		c, err = fedex.New(fedex.Config{BaseURL: strings.TrimRight(a.URL, "/"), ClientID: a.ClientID.Value(), ClientSecret: fedex.Secret(a.ClientSecret.Value()),
			AccountNumber: a.AccountNumber, Timeout: timeout}, nil)
	case config.CarrierUSPS:
		c, err = usps.New(usps.Config{BaseURL: strings.TrimRight(a.URL, "/"), ClientID: a.ClientID.Value(), ClientSecret: a.ClientSecret.Value(),
			CRID: a.CRID, MID: a.MID, ManifestMID: a.ManifestMID, AccountNumber: a.AccountNumber, Timeout: timeout}, nil)
	default:
		return nil, fmt.Errorf("carrier account %s: unknown carrier %q", a.Name, a.Carrier)
	}
	if err != nil {
		return nil, fmt.Errorf("carrier account %s: %w", a.Name, err)
	}
	return c, nil
}

// LabelsConfig turns the carriers section into the label service's configuration,
// building a client per account.
func LabelsConfig(c config.Config) (labels.Config, error) {
	cc := c.Carriers
	out := labels.Config{
		Breaker: labels.BreakerConfig{MinRequests: uint32(cc.Breaker.MinRequests), FailureRatio: cc.Breaker.FailureRatio,
			Window: cc.Breaker.Window.Std(), OpenFor: cc.Breaker.OpenFor.Std()},
		Retry: labels.RetryConfig{Attempts: cc.Retry.Attempts, Initial: cc.Retry.Initial.Std(), Max: cc.Retry.Max.Std(),
			Budget: cc.Retry.Budget.Std()},
		Workers:        cc.Labels.Workers,
		Dir:            cc.Labels.Dir,
		ReconcileAfter: cc.Labels.ReconcileAfter.Std(),
	}
	for _, a := range cc.Accounts {
		client, err := CarrierClient(a)
		if err != nil {
			return labels.Config{}, err
		}
		out.Accounts = append(out.Accounts, labels.Account{Name: a.Name, Client: client})
	}
	for _, r := range cc.Rules {
		rule := labels.Rule{Name: r.Name, Countries: r.Countries, Partners: r.Partners, MaxWeightLb: r.MaxWeightLb}
		for _, sl := range r.ServiceLevels {
			rule.ServiceLevels = append(rule.ServiceLevels, canonical.ServiceLevel(sl))
		}
		for _, u := range r.Use {
			acct, svc, _ := strings.Cut(u, ":")
			rule.Use = append(rule.Use, labels.Choice{Account: acct, Service: svc})
		}
		out.Rules = append(out.Rules, rule)
	}
	return out, nil
}
