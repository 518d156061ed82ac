package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paklog/integration-hub/fixtures/fulfilsim"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/router"
)

func serveCmd() *cobra.Command {
	var addr string
	var simulate bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the hub",
		Long: `Run the hub: the router and its handlers, and the HTTP listener (order API, DLQ API,
/healthz, /readyz, /metrics). With no configuration file it keeps its data in SQLite
under ./paklog-data and listens on 127.0.0.1:8080. SIGINT or SIGTERM stops it gracefully:
requests in flight finish, accepted payloads are committed, handlers finish.`,
		Example: `  paklog serve
  paklog serve --config hub.yaml
  PAKLOG_STORE_DRIVER=postgres PAKLOG_POSTGRES_DSN=postgres://paklog@db/paklog paklog serve
  paklog serve --simulate-fulfilment   # also play the fulfilment core (demos, tests)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, func(c *config.Config) {
				if addr != "" {
					c.HTTP.Addr = addr
				}
			})
			if err != nil {
				return err
			}
			log := newLogger(cfg, cmd.ErrOrStderr())
			var opts hub.Options
			if simulate {
				opts.Register = func(ctx context.Context, r *router.Router) error {
					return (&fulfilsim.Sim{}).Register(ctx, r)
				}
			}
			h, err := hub.New(cmd.Context(), cfg, log, opts)
			if err != nil {
				return fmt.Errorf("starting the hub: %w", err)
			}
			return h.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "HTTP listen address (overrides http.addr and PAKLOG_HTTP_ADDR)")
	cmd.Flags().BoolVar(&simulate, "simulate-fulfilment", false, "play the fulfilment core in-process (consume fulfilment.orders, emit shipments)")
	return cmd
}
