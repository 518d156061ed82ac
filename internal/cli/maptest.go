package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paklog/integration-hub/adapters/custom"
	"github.com/paklog/integration-hub/internal/config"
)

func mapCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "map",
		Short: "Try a custom channel's jq mapping on a payload",
	}
	cmd.AddCommand(mapTestCmd())
	return cmd
}

func mapTestCmd() *cobra.Command {
	var channel string
	cmd := &cobra.Command{
		Use:   "test --channel NAME PAYLOAD.json",
		Short: "Print the canonical order a custom channel's mapping makes of a payload, or every problem",
		Long: `Run the mapping, idempotency and release programs of one custom channel
(channels.custom.channels) on a webhook body, as POST /webhooks/custom/{channel} would,
without checking a signature and without storing anything ("-" reads stdin). Prints the
paklog.order.v1 document, or each problem with the canonical field and the jq
expression that produced it. Exit 0 when the payload maps to a valid order (or the
release expression holds it back), 1 otherwise.`,
		Example: `  paklog map test --channel acme-web order.json --config hub.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			var names []string
			var ch *config.CustomChannel
			for i, c := range cfg.Channels.Custom.Channels {
				names = append(names, c.Name)
				if c.Name == channel {
					ch = &cfg.Channels.Custom.Channels[i]
				}
			}
			if ch == nil {
				if len(names) == 0 {
					return fmt.Errorf("no custom channel %q: the configuration has none (channels.custom.channels)", channel)
				}
				return fmt.Errorf("no custom channel %q; configured: %s", channel, strings.Join(names, ", "))
			}
			var payload []byte
			if args[0] == "-" {
				payload, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), custom.MaxMaxBody+1))
			} else {
				payload, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			trial := custom.MapTest(cmd.Context(), ch.Adapter(), payload)
			fmt.Fprint(cmd.OutOrStdout(), trial.String())
			if !trial.OK() {
				return &exitError{code: 1, msg: "the payload does not map to a valid order"}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "the custom channel (channels.custom.channels[].name)")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}
