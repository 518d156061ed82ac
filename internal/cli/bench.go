package cli

import (
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	"github.com/spf13/cobra"

	"github.com/paklog/integration-hub/internal/bench"
	"github.com/paklog/integration-hub/internal/config"
)

func benchCmd() *cobra.Command {
	var stores []string
	var orders, clients, rate, pgClients int
	var duration, pgDuration time.Duration
	var pgDSN string
	var batch int
	var target string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure orders/s from POST to fulfilment.orders, and accept latency at a fixed rate",
		Long: `Start a hub in-process on a fresh database of each store, post --orders orders from
--clients concurrent HTTP clients and time them until the last one is in
fulfilment.orders; then post at a fixed --rate for --duration and report the accept
latency, from each post's scheduled time to its answer ("p99 send lag" is how late
the posts went out: the client's share when the machine is saturated). With PostgreSQL it also runs
pgbench's single-row inserts on the same server, the ceiling to compare with. Prints a
Markdown table (docs/BENCHMARKS.md).

--target says what is posted:
  api      canonical orders to POST /api/v1/orders (accepted: 202)
  shopify  orders/create webhooks to POST /webhooks/shopify from a shop the bench
           configures with a random client secret, each a distinct order built from
           a real Shopify sample and signed (X-Shopify-Hmac-Sha256) before the clock
           starts (accepted: 200 {"accepted": true, "duplicate": false})

Any post that is not accepted is counted in the "not accepted" column, listed under
the table, and makes the command fail.`,
		Example: `  paklog bench
  paklog bench --store postgres --orders 50000 --clients 128
  paklog bench --store sqlite --rate 1000 --duration 20s
  paklog bench --target shopify --orders 40000 --rate 1000 --duration 10s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(bench.Targets, bench.Target(target)) {
				return fmt.Errorf("--target %q: api or shopify", target)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "machine: %s/%s, %d CPUs, %s; %s\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format(time.DateOnly))
			fmt.Fprintln(out, "| store | target | orders | clients | accepted/s | end-to-end orders/s | fixed rate | p50 accept | p99 accept | max | p99 send lag | not accepted |")
			fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|---|---|")
			var errs []error
			var notes []string
			for _, s := range stores {
				cfg := config.Default()
				cfg.Log.Level = "error"
				cfg.HTTP.Addr = "127.0.0.1:0"
				if batch > 0 {
					cfg.Router.BatchSize = batch
				}
				switch s {
				case "sqlite":
					dir, err := mkdirTemp()
					if err != nil {
						return err
					}
					defer os.RemoveAll(dir)
					cfg.Store.SQLite.Path = dir + "/paklog.db"
				case "postgres":
					cfg.Store.Driver = config.DriverPostgres
					cfg.Store.Postgres.DSN = config.NewSecret(pgDSN)
					if err := resetSchema(cmd, pgDSN); err != nil {
						return err
					}
				default:
					return fmt.Errorf("--store %q: sqlite or postgres", s)
				}
				res, err := bench.Run(cmd.Context(), bench.Config{Hub: cfg, Target: bench.Target(target), Orders: orders, Clients: clients, Rate: rate, Duration: duration})
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", s, err))
				}
				if res.AcceptedIn == 0 {
					continue // nothing measured
				}
				fmt.Fprintf(out, "| %s | %s | %d | %d | %.0f | %.0f | %d/s for %s | %s | %s | %s | %s | %d |\n", res.Store, res.Target, res.Orders, clients,
					res.AcceptRate, res.EndToEnd, rate, duration, ms(res.P50), ms(res.P99), ms(res.Max), ms(res.SendLagP99), res.FailedPosts+res.FailedRate)
				for _, why := range slices.Sorted(maps.Keys(res.Failures)) {
					notes = append(notes, fmt.Sprintf("%s: not accepted: %s × %d", res.Store, why, res.Failures[why]))
				}
			}
			if len(notes) > 0 {
				fmt.Fprintf(out, "\n%s\n", strings.Join(notes, "\n"))
			}
			if len(errs) > 0 {
				return errors.Join(errs...)
			}
			for _, s := range stores {
				if s != "postgres" || pgDuration <= 0 {
					continue
				}
				u, err := url.Parse(pgDSN)
				if err != nil {
					return err
				}
				port := u.Port()
				if port == "" {
					port = "5432"
				}
				pg, err := bench.PGBench(cmd.Context(), u.Hostname(), port, u.User.Username(), strings.TrimPrefix(u.Path, "/"), pgClients, pgDuration)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "\npgbench, same server, single-row INSERT per transaction, %d clients: %.0f tps\n  %s\n", pg.Clients, pg.TPS, pg.Command)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&stores, "store", []string{"sqlite", "postgres"}, "stores to measure")
	cmd.Flags().StringVar(&target, "target", string(bench.TargetAPI), "what to post: api (POST /api/v1/orders) or shopify (signed webhooks to POST /webhooks/shopify)")
	cmd.Flags().IntVar(&orders, "orders", 20000, "orders in the throughput run")
	cmd.Flags().IntVar(&clients, "clients", 64, "concurrent HTTP clients in the throughput run")
	cmd.Flags().IntVar(&rate, "rate", 500, "orders/s in the fixed-rate latency run (0: skip)")
	cmd.Flags().DurationVar(&duration, "duration", 10*time.Second, "length of the fixed-rate run")
	cmd.Flags().IntVar(&batch, "batch", 0, "router.batch_size (default: the configuration's)")
	cmd.Flags().StringVar(&pgDSN, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=paklog_bench", "PostgreSQL to measure (its search_path schema is dropped and recreated)")
	cmd.Flags().DurationVar(&pgDuration, "pgbench", 10*time.Second, "run pgbench for this long on the same server (0: skip)")
	cmd.Flags().IntVar(&pgClients, "pgbench-clients", 16, "pgbench clients")
	return cmd
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

func mkdirTemp() (string, error) { return os.MkdirTemp("", "paklog-bench-") }

// resetSchema drops and recreates the search_path schema of dsn.
func resetSchema(cmd *cobra.Command, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return err
	}
	schema := u.Query().Get("search_path")
	if schema == "" {
		return fmt.Errorf("--postgres needs a search_path: the bench drops and recreates that schema")
	}
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(cmd.Context(), `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE; CREATE SCHEMA "`+schema+`"`)
	return err
}
