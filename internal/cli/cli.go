// Package cli is the `paklog` command line: each subcommand a cobra command whose work
// lives in the hub's packages. cmd/paklog only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/paklog/integration-hub/internal/config"
)

// Version is stamped at build time: go build -ldflags "-X github.com/paklog/integration-hub/internal/cli.Version=v1.2.3".
var Version = "dev"

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := Root(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "paklog:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "paklog:", err)
	return 1
}

// exitError ends the process with a code, after the command has said why.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return fmt.Sprintf("exit %d: %s", e.code, e.msg) }

// Root is the `paklog` command with every subcommand.
func Root(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "paklog",
		Short: "PakLog Integration Hub: orders in from shops, partners and ERPs; labels and confirmations out",
		Long: `paklog connects the PakLog fulfilment platform to the outside world.

  paklog demo                 run the whole chain on an embedded database and print what happened
  paklog serve                run the hub (SQLite in ./paklog-data, HTTP on 127.0.0.1:8080)
  paklog import orders.csv    accept a CSV file of orders
  paklog dlq list             the dead-letter queue: list, show, replay, discard
  paklog edi validate FILE    check an X12 file and print every problem with its line
  paklog config example       print a documented configuration file`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringP("config", "c", os.Getenv("PAKLOG_CONFIG"), "configuration file (default: built-in defaults; env PAKLOG_CONFIG)")
	root.AddCommand(serveCmd(), demoCmd(), importCmd(), dlqCmd(), configCmd(), benchCmd(), ediCmd(), carrierCmd(), partnerCmd(), mapCmd())
	return root
}

// loadConfig reads --config (or the defaults), applies the environment, then lets the
// command's flags override, and validates the result.
func loadConfig(cmd *cobra.Command, override func(*config.Config)) (config.Config, error) {
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(path)
	if err != nil {
		return config.Config{}, err
	}
	if override != nil {
		override(&cfg)
		if err := cfg.Validate(); err != nil {
			return config.Config{}, fmt.Errorf("after command-line flags: %w", err)
		}
	}
	return cfg, nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
