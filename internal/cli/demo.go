package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/paklog/integration-hub/adapters/csvimport"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/dlq"
	"github.com/paklog/integration-hub/fixtures/carriersim"
	"github.com/paklog/integration-hub/fixtures/carriersim/simset"
	"github.com/paklog/integration-hub/fixtures/demo"
	"github.com/paklog/integration-hub/fixtures/fulfilsim"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/httpapi"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/server"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

func demoCmd() *cobra.Command {
	var keep, verbose bool
	var addr, dataDir string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole chain on an embedded database and print what happened to each order",
		Long: `Start a hub on a fresh SQLite database, play the fulfilment core, send the sample orders
through every channel the hub has (the order API and a CSV import), and follow each order
to its end. Prints a table of every order and the stage it reached; exits 0 only if every
accepted order reached the end. With --keep the hub stays up afterwards.`,
		Example: `  go run ./cmd/paklog demo
  paklog demo --keep --addr 127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if dataDir == "" {
				d, err := os.MkdirTemp("", "paklog-demo-")
				if err != nil {
					return err
				}
				if !keep {
					defer os.RemoveAll(d)
				}
				dataDir = d
			}
			sims, err := simset.Start(nil)
			if err != nil {
				return fmt.Errorf("starting the carrier simulators: %w", err)
			}
			defer sims.Close()
			files, err := startDemoPartners()
			if err != nil {
				return err
			}
			defer files.Close()
			shop := startDemoShop()
			defer shop.Close()
			mage := startDemoMagento()
			defer mage.Close()
			as2p, err := startDemoAS2()
			if err != nil {
				return err
			}
			defer as2p.Close()
			var as2Err error
			// UPS sells two labels, then answers 503 until the end of the demo: its
			// breaker opens and the next carrier of each rule takes over.
			sims.UPS.Faults.Inject(carriersim.Fault{Kind: carriersim.Unavailable, Op: "ship", After: 2})
			if addr == "" {
				addr = "127.0.0.1:0"
				if keep {
					addr = "127.0.0.1:8080"
				}
			}
			cfg, err := loadConfig(cmd, func(c *config.Config) {
				c.Store.Driver = config.DriverSQLite
				c.Store.SQLite.Path = filepath.Join(dataDir, "paklog.db")
				c.HTTP.Addr = addr
				if !verbose {
					c.Log.Level = "warn"
				}
				files.configure(c)
				shop.configure(c)
				mage.configure(c)
				as2Err = as2p.configure(c, dataDir)
				if len(c.Carriers.Accounts) == 0 {
					c.Carriers.Accounts, c.Carriers.Rules = sims.Accounts(), simset.Rules()
					c.Carriers.Breaker = config.CarrierBreaker{MinRequests: 2, FailureRatio: 0.5, Window: config.Duration(time.Minute), OpenFor: config.Duration(time.Minute)}
					c.Carriers.Retry.Budget = config.Duration(time.Second)
					c.Carriers.Labels.Dir = filepath.Join(dataDir, "labels")
				}
			})
			if err != nil {
				return err
			}
			if as2Err != nil {
				return as2Err
			}
			log := newLogger(cfg, cmd.ErrOrStderr())
			h, err := hub.New(cmd.Context(), cfg, log, hub.Options{Register: func(ctx context.Context, r *router.Router) error {
				return (&fulfilsim.Sim{AwaitLabels: true}).Register(ctx, r)
			}})
			if err != nil {
				return fmt.Errorf("starting the hub: %w", err)
			}
			runCtx, stop := context.WithCancel(cmd.Context())
			defer stop()
			runErr := make(chan error, 1)
			go func() { runErr <- h.Run(runCtx) }()
			select {
			case <-h.Router.Running():
			case err := <-runErr:
				return fmt.Errorf("the hub stopped: %w", err)
			}
			base := "http://" + h.Server.Addr()
			fmt.Fprintf(out, "PakLog hub on %s, data in %s\n\n", base, dataDir)

			ok, err := runDemo(cmd.Context(), out, h, base, timeout, sims, files, shop, mage, as2p)
			if err != nil {
				return err
			}
			if keep {
				fmt.Fprintf(out, "\nThe hub stays up (--keep); Ctrl-C stops it.\n  %s/api/v1/orders/<order_id>\n  %s/api/v1/dlq\n  %s/metrics\n", base, base, base)
				<-cmd.Context().Done()
			}
			stop()
			if err := <-runErr; err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "stopping the hub:", err)
			}
			if !ok {
				return &exitError{code: 1, msg: "not every order reached the end of the chain"}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&keep, "keep", false, "stay up after the demo (HTTP on 127.0.0.1:8080 unless --addr)")
	cmd.Flags().StringVar(&addr, "addr", "", "HTTP listen address (default: a free port; 127.0.0.1:8080 with --keep)")
	cmd.Flags().StringVar(&dataDir, "data", "", "directory for the demo's SQLite database (default: a new temporary one)")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "how long to wait for every order to reach its end")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log what the hub does")
	return cmd
}

type demoOrder struct {
	channel, number, orderID, note string
	start                          time.Time
	took                           time.Duration
	stage                          string
	confirm                        bool // the source is told it shipped: the order ends at confirmed
	trail                          []store.TrailEntry
}

func runDemo(ctx context.Context, out io.Writer, h *hub.Hub, base string, timeout time.Duration, sims *simset.Set, files *demoPartners, shop *demoShopify, mage *demoMagentoStore, as2p *demoAS2) (bool, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	var orders []*demoOrder

	fmt.Fprintln(out, "1. Order API: POST /api/v1/orders")
	bodies, err := demo.APIOrders()
	if err != nil {
		return false, err
	}
	for i, body := range bodies {
		o := &demoOrder{channel: "api", start: time.Now()}
		var doc struct {
			OrderNumber string `json:"order_number"`
		}
		_ = json.Unmarshal(body, &doc)
		o.number = doc.OrderNumber
		status, res, err := postOrder(ctx, client, base, body, fmt.Sprintf("demo-api-%d", i))
		if err != nil {
			return false, err
		}
		if status != http.StatusAccepted {
			return false, fmt.Errorf("order %s: expected 202, got %d", o.number, status)
		}
		o.orderID = res.OrderID
		orders = append(orders, o)
		fmt.Fprintf(out, "   %s -> 202 Accepted, %s\n", o.number, o.orderID)
	}
	status, res, err := postOrder(ctx, client, base, bodies[0], "demo-api-0")
	if err != nil {
		return false, err
	}
	fmt.Fprintf(out, "   %s again with the same Idempotency-Key -> %d, duplicate=%v, same id %v\n", orders[0].number, status, res.Duplicate, res.OrderID == orders[0].orderID)

	fmt.Fprintln(out, "   an invalid order ->")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/orders", bytes.NewReader(demo.InvalidOrder))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	var prob httpapi.Problem
	_ = json.NewDecoder(resp.Body).Decode(&prob)
	resp.Body.Close()
	fmt.Fprintf(out, "     %d %s:\n", resp.StatusCode, prob.Title)
	for _, p := range prob.Problems {
		fmt.Fprintf(out, "       %s\n", p)
	}

	fmt.Fprintln(out, "\n2. CSV import (paklog import orders.csv)")
	start := time.Now()
	rep, err := csvimport.Import(ctx, h.Intake, bytes.NewReader(demo.OrdersCSV), csvimport.Config{Partner: "demo-csv"})
	if err != nil {
		return false, err
	}
	fmt.Fprintf(out, "   %d orders read: %d accepted, %d rejected\n", rep.Orders, rep.Accepted, rep.Rejected)
	for _, e := range rep.Errors {
		fmt.Fprintf(out, "   %s\n", e.Error())
	}
	for _, im := range rep.Imported {
		orders = append(orders, &demoOrder{channel: "csv", number: im.OrderNumber, orderID: im.OrderID, start: start})
	}

	fmt.Fprintf(out, "\n3. Shopify: the shop %s (simulated) posts signed webhooks to POST /webhooks/shopify\n", demoShopDomain)
	shopOrders, err := shop.send(ctx, out, client, base, h)
	if err != nil {
		return false, err
	}
	orders = append(orders, shopOrders...)

	fmt.Fprintln(out, "\n4. Magento: the store demo-magento (simulated) is polled over REST with OAuth 1.0a")
	mageOrder, err := mage.send(ctx, out, client, base, h)
	if err != nil {
		return false, err
	}
	orders = append(orders, mageOrder)

	fmt.Fprintln(out, "\n5. Trading partners: X12 850s by SFTP, the hosted inbox and AS2")
	fileOrders, err := files.send(ctx, out, h)
	if err != nil {
		return false, err
	}
	orders = append(orders, fileOrders...)
	as2Order, err := as2p.send(ctx, out, base, h)
	if err != nil {
		return false, err
	}
	orders = append(orders, as2Order)

	fmt.Fprintf(out, "\n6. Following %d orders through the hub and the (simulated) fulfilment core\n\n", len(orders))
	deadline := time.Now().Add(timeout)
	for {
		done := 0
		for _, o := range orders {
			if o.took > 0 {
				done++
				continue
			}
			st, err := orderStatus(ctx, client, base, o.orderID)
			if err != nil {
				return false, err
			}
			o.stage, o.trail = st.Stage, st.Trail
			end := []string{store.StagePacked, store.StageLabelled, store.StageShipped}
			if o.confirm {
				end = append(end, store.StageConfirmed) // its source takes shipments back
			}
			if store.HasStages(o.trail, end...) {
				o.took = time.Since(o.start)
				done++
			}
		}
		if done == len(orders) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tORDER\tORDER ID\tSTAGE\tTRAIL\tTIME")
	all := true
	for _, o := range orders {
		var stages []string
		for _, t := range o.trail {
			stages = append(stages, t.Stage)
		}
		// The core's packed and shipped events are recorded by separate consumers, in
		// either order; show the stages in the order an order moves through them.
		slices.SortStableFunc(stages, func(a, b string) int { return store.StageOrder(a) - store.StageOrder(b) })
		took := "-"
		if o.took > 0 {
			took = o.took.Round(time.Millisecond).String()
		} else {
			all = false
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.channel, o.number, o.orderID, o.stage, strings.Join(stages, " > "), took)
	}
	tw.Flush()
	if err := demoLabels(ctx, out, h, sims); err != nil {
		return false, err
	}
	filesOK, err := files.report(ctx, out, h)
	if err != nil {
		return false, err
	}
	all = as2p.report(ctx, out) && filesOK && all
	fmt.Fprintln(out, "\n9. Shipments back to the shops")
	all = shop.report(ctx, out) && all
	all = mage.report(out) && all
	entries, err := h.DLQ.List(ctx, dlq.Filter{Status: dlq.StatusOpen})
	if err != nil {
		return false, err
	}
	fmt.Fprintf(out, "\nDead-letter queue: %d open entries\n", len(entries))
	if all {
		confirmed := 0
		for _, o := range orders {
			if o.confirm {
				confirmed++
			}
		}
		fmt.Fprintf(out, "All %d orders reached the end: accepted > routed > packed > labelled > shipped, and > confirmed for the %d whose source takes shipments back.\n", len(orders), confirmed)
	} else {
		fmt.Fprintln(out, "Some orders did not reach the end in time; see the STAGE column and 'paklog dlq list'.")
	}
	return all && len(entries) == 0, nil
}

type postResult struct {
	OrderID   string `json:"order_id"`
	Duplicate bool   `json:"duplicate"`
}

func postOrder(ctx context.Context, client *http.Client, base string, body []byte, key string) (int, postResult, error) {
	var res postResult
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/orders", bytes.NewReader(body))
	if err != nil {
		return 0, res, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := client.Do(req)
	if err != nil {
		return 0, res, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return resp.StatusCode, res, fmt.Errorf("POST /api/v1/orders answered %s with an unreadable body: %w", resp.Status, err)
	}
	return resp.StatusCode, res, nil
}

func orderStatus(ctx context.Context, client *http.Client, base, id string) (server.OrderStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/orders/"+id, nil)
	if err != nil {
		return server.OrderStatus{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return server.OrderStatus{}, err
	}
	defer resp.Body.Close()
	var st server.OrderStatus
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /api/v1/orders/%s: %s", id, resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// demoLabels prints the label each shipment got and what the carriers went through.
func demoLabels(ctx context.Context, out io.Writer, h *hub.Hub, sims *simset.Set) error {
	rows, err := h.Store.ReadDB().QueryContext(ctx, `SELECT s.order_id, r.account, r.service, r.rule, r.tracking_number, r.label_format
		FROM label_requests r JOIN label_shipments s ON s.shipment_id = r.shipment_id WHERE r.state = 'created' ORDER BY r.created_at`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintln(out, "\n7. Labels bought for the packed shipments (carrier simulators; UPS fails after its 2nd label)")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORDER ID\tACCOUNT\tSERVICE\tRULE\tTRACKING\tFORMAT")
	for rows.Next() {
		var order, acct, svc, rule, trk, format string
		if err := rows.Scan(&order, &acct, &svc, &rule, &trk, &format); err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", order, acct, svc, rule, trk, format)
	}
	tw.Flush()
	if err := rows.Err(); err != nil {
		return err
	}
	if h.Labels != nil && sims != nil {
		fmt.Fprintf(out, "   UPS answered 503 to %d label requests; its breaker is %s. Labels sold: UPS %d, FedEx %d, USPS %d.\n",
			sims.UPS.Faults.Played(carriersim.Unavailable), h.Labels.BreakerState(simset.UPS, carriers.OpShip),
			sims.UPS.Ledger.Active(), sims.FedEx.Ledger.Active(), sims.USPS.Ledger.Active())
	}
	return nil
}
