package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/labels"
)

func carrierCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "carrier",
		Short: "Check carrier accounts and buy a label by hand",
		Long: `Onboarding tools for the carrier accounts in the configuration (carriers.accounts).
They call the carrier directly, not through a running hub: what they buy is not recorded
in the hub's store.`,
	}
	cmd.AddCommand(carrierTestCmd(), carrierLabelCmd())
	return cmd
}

// testShipment is what `carrier test` labels: one 1 lb parcel between two US
// addresses.
func testShipment() canonical.Shipment {
	return canonical.Shipment{
		ShipmentID: "paklog-carrier-test", ServiceLevel: canonical.ServiceGround, LabelFormat: canonical.LabelZPL,
		ShipFrom: canonical.Address{Name: "PakLog Carrier Test", Company: "PakLog", Address1: "1200 Logistics Pkwy",
			City: "Columbus", Region: "OH", PostalCode: "43217", Country: "US", Phone: "6145550100"},
		ShipTo: canonical.Address{Name: "Receiving Dock", Company: "PakLog", Address1: "500 Commerce St",
			City: "Nashville", Region: "TN", PostalCode: "37203", Country: "US", Phone: "6155550100"},
		Packages: []canonical.Package{{PackageID: "1", Weight: canonical.Weight{Value: 1, Unit: canonical.Pound},
			Dimensions: canonical.Dimensions{Length: 10, Width: 8, Height: 4, Unit: canonical.Inch}}},
	}
}

// account finds a configured carrier account and builds its client.
func account(cfg config.Config, name string) (config.CarrierAccount, carriers.Client, error) {
	var names []string
	for _, a := range cfg.Carriers.Accounts {
		if a.Name == name {
			c, err := hub.CarrierClient(a)
			return a, c, err
		}
		names = append(names, a.Name)
	}
	if len(names) == 0 {
		return config.CarrierAccount{}, nil, fmt.Errorf("no carrier account %q: the configuration has none (carriers.accounts; see paklog config example)", name)
	}
	return config.CarrierAccount{}, nil, fmt.Errorf("no carrier account %q; configured: %s", name, strings.Join(names, ", "))
}

// serviceFor is the service the rules use with account first, or def.
func serviceFor(cfg config.Config, account, def string) string {
	for _, r := range cfg.Carriers.Rules {
		for _, u := range r.Use {
			if a, svc, _ := strings.Cut(u, ":"); a == account {
				return svc
			}
		}
	}
	return def
}

var defaultService = map[string]string{config.CarrierUPS: "03", config.CarrierFedEx: "FEDEX_GROUND", config.CarrierUSPS: "USPS_GROUND_ADVANTAGE"}

func carrierTestCmd() *cobra.Command {
	var service, format string
	var keep bool
	cmd := &cobra.Command{
		Use:   "test NAME",
		Short: "Get a token, buy a test label and void it, with a verdict per step",
		Long: `Check one carrier account end to end: obtain its OAuth token(s), buy a label for a 1 lb
test parcel with the service the rules use for the account (or --service), and void it
again (unless --keep). Each step prints PASS or FAIL with the carrier's own error code
and message. Exit 0 when every step passed, 1 otherwise.`,
		Example: `  paklog carrier test ups-main --config hub.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			acct, client, err := account(cfg, args[0])
			if err != nil {
				return err
			}
			if service == "" {
				service = serviceFor(cfg, acct.Name, defaultService[acct.Carrier])
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Carrier account %s (%s at %s)\n", acct.Name, acct.Carrier, acct.URL)
			failed := false
			step := func(name string, fn func(ctx context.Context) (string, error)) bool {
				ctx, cancel := context.WithTimeout(cmd.Context(), 60*time.Second)
				defer cancel()
				start := time.Now()
				detail, err := fn(ctx)
				took := time.Since(start).Round(time.Millisecond)
				if err != nil {
					failed = true
					fmt.Fprintf(out, "  FAIL  %-8s %s (%s)\n        %s\n", name, carrierAdvice(err), took, err)
					return false
				}
				fmt.Fprintf(out, "  PASS  %-8s %s (%s)\n", name, detail, took)
				return true
			}
			var label *carriers.Label
			if step("token", func(ctx context.Context) (string, error) { return "access token obtained", client.Token(ctx) }) &&
				step("label", func(ctx context.Context) (string, error) {
					s := testShipment()
					s.LabelFormat = canonical.LabelFormat(strings.ToUpper(format))
					p := s.Packages[0]
					id := uuid.NewString()
					l, err := client.Ship(ctx, carriers.ShipRequest{RequestID: id, Reference: labels.Reference(id), Service: service,
						Format: s.LabelFormat, From: s.ShipFrom, To: s.ShipTo, Weight: p.Weight, Dimensions: p.Dimensions})
					if err != nil {
						return "", err
					}
					label = l
					return fmt.Sprintf("service %s, tracking %s, %s label of %d bytes", service, l.TrackingNumber, l.Format, len(l.Data)), nil
				}) && !keep {
				step("void", func(ctx context.Context) (string, error) {
					return "label " + label.TrackingNumber + " voided",
						client.Void(ctx, carriers.VoidRequest{TrackingNumber: label.TrackingNumber, ShipmentID: label.ShipmentID})
				})
			}
			if failed {
				return &exitError{code: 1, msg: "carrier test failed"}
			}
			fmt.Fprintln(out, "All steps passed.")
			return nil
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "carrier service code (default: the one the rules use with this account)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the test label (do not void it)")
	cmd.Flags().StringVar(&format, "format", "ZPL", "label format: ZPL, PDF or PNG")
	return cmd
}

// carrierAdvice says what a failed carrier call means for the operator.
func carrierAdvice(err error) string {
	var ce *carriers.Error
	if !errors.As(err, &ce) {
		return "the call failed"
	}
	switch ce.Class {
	case carriers.Auth:
		return "the carrier refused the credentials: check client_id, client_secret and the account's API access"
	case carriers.Permanent:
		return "the carrier refused the request: see its code and field below"
	case carriers.Throttled:
		return "the carrier is rate limiting this account: try again later"
	case carriers.Ambiguous:
		return "no answer after the request was sent: the label may exist; check the carrier's shipment history"
	}
	return "the carrier could not be reached or failed: check url and the network, then retry"
}

func carrierLabelCmd() *cobra.Command {
	var acctName, service, outPath string
	cmd := &cobra.Command{
		Use:   "label SHIPMENT.json",
		Short: "Buy the labels of a paklog.shipment.v1 document",
		Long: `Buy one label per package of a canonical shipment (paklog.shipment.v1; "-" reads stdin),
choosing the carrier service with the configured rules as the hub would (or --account
and --service), and write the label files next to --out (default: the shipment id).
The call goes straight to the carrier, without the hub's breakers, retries or records.`,
		Example: `  paklog carrier label shipment.json --config hub.yaml
  paklog carrier label shipment.json --account fedex-main --service FEDEX_2_DAY --out /tmp/label`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			var raw []byte
			if args[0] == "-" {
				raw, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 10<<20))
			} else {
				raw, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			s, err := canonical.DecodeShipment(raw)
			if err != nil {
				return fmt.Errorf("%s is not a valid %s: %w", args[0], canonical.SchemaShipment, err)
			}
			choice := labels.Choice{Account: acctName, Service: service}
			rule := "--account"
			if acctName == "" {
				lc, err := hub.LabelsConfig(cfg)
				if err != nil {
					return err
				}
				carrierOf := func(name string) string {
					i := slices.IndexFunc(cfg.Carriers.Accounts, func(a config.CarrierAccount) bool { return a.Name == name })
					if i < 0 {
						return ""
					}
					return cfg.Carriers.Accounts[i].Carrier
				}
				r, choices, err := labels.Select(lc.Rules, s, "", carrierOf)
				if err != nil {
					return err
				}
				choice, rule = choices[0], "rule "+r.Name
			}
			acct, client, err := account(cfg, choice.Account)
			if err != nil {
				return err
			}
			if choice.Service == "" {
				choice.Service = serviceFor(cfg, acct.Name, defaultService[acct.Carrier])
			}
			if outPath == "" {
				outPath = s.ShipmentID
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Shipment %s: %s service %s (%s)\n", s.ShipmentID, acct.Name, choice.Service, rule)
			for i, p := range s.Packages {
				id := uuid.NewString()
				l, err := client.Ship(cmd.Context(), carriers.ShipRequest{RequestID: id, Reference: labels.Reference(id), Service: choice.Service,
					Format: s.LabelFormat, From: s.ShipFrom, To: s.ShipTo, Weight: p.Weight, Dimensions: p.Dimensions})
				if err != nil {
					return fmt.Errorf("package %s: %s: %w", p.PackageID, carrierAdvice(err), err)
				}
				name := fmt.Sprintf("%s-%d.%s", outPath, i+1, strings.ToLower(string(l.Format)))
				if err := os.WriteFile(name, l.Data, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(out, "  package %s: tracking %s, %s written (%d bytes)\n", p.PackageID, l.TrackingNumber, name, len(l.Data))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&acctName, "account", "", "carrier account to use (default: the first service of the rule that takes the shipment)")
	cmd.Flags().StringVar(&service, "service", "", "carrier service code (with --account)")
	cmd.Flags().StringVar(&outPath, "out", "", "label file name prefix (default: the shipment id)")
	return cmd
}
