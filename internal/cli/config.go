package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paklog/integration-hub/internal/config"
)

func configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print or check the configuration",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "example",
		Short: "Print a configuration file documenting every field, with its default",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(config.ExampleYAML())
			return err
		},
	}, &cobra.Command{
		Use:     "check",
		Short:   "Load the configuration and report every problem with its file, line and field",
		Example: "  paklog config check --config hub.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "configuration is valid: store %s, http %s\n", cfg.Store.Driver, cfg.HTTP.Addr)
			return nil
		},
	})
	return cmd
}
