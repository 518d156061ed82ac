// Package bench measures the hub end to end, as `paklog bench` reports it in
// docs/BENCHMARKS.md: orders per second from the intake to fulfilment.orders, accept
// latency at a fixed rate, and pgbench's single-row inserts on the same PostgreSQL as
// the ceiling to compare with.
//
// Two intakes can be measured (Config.Target): canonical orders posted to
// POST /api/v1/orders, and Shopify orders/create webhooks posted to
// POST /webhooks/shopify by a shop the bench configures, each a distinct order built
// from a real Shopify sample and signed with the shop's secret before the clock starts.
//
// The hub runs in-process on real HTTP over loopback, with its real store; the clients
// share the machine's cores with it, as a sidecar would.
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

// Target is the intake endpoint a run posts to.
type Target string

const (
	// TargetAPI posts canonical orders to POST /api/v1/orders; 202 is accepted.
	TargetAPI Target = "api"
	// TargetShopify posts signed orders/create webhooks of one shop (ShopName,
	// ShopDomain, a random client secret added to the hub's configuration) to
	// POST /webhooks/shopify; 200 {"accepted": true, "duplicate": false} is accepted.
	TargetShopify Target = "shopify"
)

// Targets are the valid values of Config.Target.
var Targets = []Target{TargetAPI, TargetShopify}

// Config says what to run.
type Config struct {
	Hub config.Config
	// Target is the endpoint posted to; "" is TargetAPI.
	Target Target
	// Orders is how many orders the throughput run posts.
	Orders int
	// Clients is how many HTTP clients post at once in the throughput run.
	Clients int
	// Rate and Duration shape the fixed-rate latency run; either 0 skips it.
	Rate     int
	Duration time.Duration
}

// Validate reports every problem of c, naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.Target != "" && !slices.Contains(Targets, c.Target) {
		errs = append(errs, fmt.Errorf("target: %q is not one of %v", c.Target, Targets))
	}
	if c.Orders < 1 {
		errs = append(errs, fmt.Errorf("orders: %d; at least 1", c.Orders))
	}
	if c.Clients < 1 {
		errs = append(errs, fmt.Errorf("clients: %d; at least 1", c.Clients))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate: %d is negative", c.Rate))
	}
	if c.Duration < 0 {
		errs = append(errs, fmt.Errorf("duration: %s is negative", c.Duration))
	}
	return errors.Join(errs...)
}

// Result is one run's numbers.
type Result struct {
	Store  string
	Target Target
	// Throughput run.
	Orders      int
	AcceptedIn  time.Duration // first POST to the last answer
	RoutedIn    time.Duration // first POST to the last order in fulfilment.orders
	AcceptRate  float64       // orders/s accepted
	EndToEnd    float64       // orders/s from POST to fulfilment.orders
	FailedPosts int64         // posts not accepted
	// Fixed-rate run. Latencies are from each post's scheduled send time to its
	// answer, so a sender that falls behind shows in them.
	Rate       int
	Sent       int
	FailedRate int64 // posts not accepted
	P50, P99   time.Duration
	Max        time.Duration
	// SendLagP99 is the 99th percentile of how late posts went out after their
	// scheduled time: the client's share of P99 when the machine is saturated.
	SendLagP99 time.Duration
	// Failures counts the posts of both runs that were not accepted, by answer
	// ("503 Service Unavailable", "200 duplicate", or the transport error).
	Failures map[string]int
}

// Run starts a hub on cfg.Hub (for TargetShopify with the bench shop added), runs
// the throughput run, then the fixed-rate run, and stops the hub. Any post that is
// not accepted makes Run return an error along with the numbers. Cancelling ctx
// stops the runs and the hub.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	t, err := newTarget(&cfg)
	if err != nil {
		return Result{}, err
	}
	h, stop, err := startHub(ctx, cfg.Hub)
	if err != nil {
		return Result{}, err
	}
	defer stop()
	return measure(ctx, cfg, h, t)
}

// A target is what a run posts and what answer means accepted.
type target struct {
	path string
	// request returns delivery n: its body and headers. It runs while the clock
	// runs, so it does no more than build bytes; anything costly (signing) is done by
	// newTarget.
	request func(n int) ([]byte, http.Header)
	status  int                     // the accepted answer's status
	check   func(body []byte) error // of an answer with status; nil: any body
}

type bodyFunc func(n int) []byte

func order(prefix string) bodyFunc {
	return func(n int) []byte {
		return []byte(fmt.Sprintf(`{"order_number":"%s-%d","ship_to":{"name":"Bench Customer","address1":"%d Main St","city":"Springfield","region":"IL","postal_code":"62701","country":"US"},"shipping":{"service_level":"ground"},"lines":[{"line_number":"1","sku":"SKU-%d","quantity":%d,"uom":"EA"},{"line_number":"2","sku":"SKU-%d","quantity":1,"uom":"EA"}]}`,
			prefix, n, n%9999, n%500, 1+n%4, (n+7)%500))
	}
}

// fixedRateTotal is the number of posts of the fixed-rate run.
func (c Config) fixedRateTotal() int {
	if c.Rate <= 0 || c.Duration <= 0 {
		return 0
	}
	return int(c.Duration / (time.Second / time.Duration(c.Rate)))
}

// newTarget prepares cfg.Target's deliveries 0 to cfg.Orders+fixedRateTotal, adding
// what the hub needs to take them to cfg.Hub.
func newTarget(cfg *Config) (*target, error) {
	switch cfg.Target {
	case TargetShopify:
		s, err := newShopifyOrders(time.Now())
		if err != nil {
			return nil, err
		}
		s.sign(cfg.Orders + cfg.fixedRateTotal())
		cfg.Hub.Channels.Shopify.Shops = append(slices.Clone(cfg.Hub.Channels.Shopify.Shops), s.shop())
		return &target{path: "/webhooks/shopify", request: s.request, status: http.StatusOK, check: accepted}, nil
	default:
		body := order(strconv.FormatInt(time.Now().UnixNano(), 36))
		return &target{path: "/api/v1/orders", status: http.StatusAccepted, request: func(n int) ([]byte, http.Header) {
			return body(n), http.Header{"Content-Type": {"application/json"}}
		}}, nil
	}
}

// startHub starts a hub on cfg and waits until its router runs; stop stops it.
func startHub(ctx context.Context, cfg config.Config) (h *hub.Hub, stop func(), err error) {
	h, err = hub.New(ctx, cfg, nil, hub.Options{})
	if err != nil {
		return nil, nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Run(runCtx) }()
	select {
	case <-h.Router.Running():
	case err := <-done:
		cancel()
		if err == nil {
			err = context.Cause(ctx)
		}
		return nil, nil, fmt.Errorf("the hub stopped before its router ran: %w", err)
	}
	return h, func() { cancel(); <-done }, nil
}

// failures counts posts that were not accepted, by answer.
type failures struct {
	mu sync.Mutex
	by map[string]int
}

func (f *failures) add(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.by == nil {
		f.by = map[string]int{}
	}
	f.by[err.Error()]++
}

// measure runs the throughput run and the fixed-rate run against h.
func measure(ctx context.Context, cfg Config, h *hub.Hub, t *target) (Result, error) {
	url := "http://" + h.Server.Addr() + t.path
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients + 16, MaxConnsPerHost: 0}}
	defer client.CloseIdleConnections()
	target := cfg.Target
	if target == "" {
		target = TargetAPI
	}
	res := Result{Store: string(h.Store.Dialect()), Target: target, Orders: cfg.Orders, Rate: cfg.Rate}
	var fails failures

	// Throughput: cfg.Clients closed-loop clients post cfg.Orders orders.
	routedBefore, err := countRouted(ctx, h.Store)
	if err != nil {
		return res, err
	}
	var next atomic.Int64
	var failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1)) - 1
				if n >= cfg.Orders || ctx.Err() != nil {
					return
				}
				if _, _, err := post(ctx, client, url, t, n, time.Now()); err != nil {
					failed.Add(1)
					fails.add(err)
				}
			}
		}()
	}
	wg.Wait()
	res.AcceptedIn = time.Since(start)
	res.FailedPosts = failed.Load()
	want := routedBefore + cfg.Orders - int(res.FailedPosts)
	for {
		n, err := routedUpTo(ctx, h.Store, want)
		if err != nil {
			return res, err
		}
		if n >= want {
			break
		}
		if time.Since(start) > 10*time.Minute || ctx.Err() != nil {
			if n, err = countRouted(context.WithoutCancel(ctx), h.Store); err != nil {
				return res, err
			}
			return res, fmt.Errorf("only %d of %d orders reached fulfilment.orders", n-routedBefore, want-routedBefore)
		}
		time.Sleep(5 * time.Millisecond)
	}
	res.RoutedIn = time.Since(start)
	res.AcceptRate = float64(cfg.Orders-int(res.FailedPosts)) / res.AcceptedIn.Seconds()
	res.EndToEnd = float64(cfg.Orders-int(res.FailedPosts)) / res.RoutedIn.Seconds()

	// Latency: an open-loop sender at a fixed rate. A slow answer does not slow the
	// sender down, and each latency is counted from the post's scheduled time, not
	// from when it went out, so neither a slow hub nor a late sender hides queueing
	// (coordinated omission).
	if total := cfg.fixedRateTotal(); total > 0 {
		interval := time.Second / time.Duration(cfg.Rate)
		lat := make([]time.Duration, total)
		lags := make([]time.Duration, total)
		var lwg sync.WaitGroup
		t0 := time.Now()
		for i := range total {
			at := t0.Add(time.Duration(i) * interval)
			if d := time.Until(at); d > 0 {
				time.Sleep(d)
			}
			if ctx.Err() != nil {
				break
			}
			lwg.Add(1)
			go func(i int) {
				defer lwg.Done()
				lag, d, err := post(ctx, client, url, t, cfg.Orders+i, at)
				lags[i] = lag
				if err != nil {
					fails.add(err)
					d = -1
				}
				lat[i] = d
			}(i)
		}
		lwg.Wait()
		ok := make([]time.Duration, 0, total)
		for _, d := range lat {
			if d > 0 {
				ok = append(ok, d)
			}
		}
		slices.Sort(ok)
		res.Sent = total
		res.FailedRate = int64(total - len(ok))
		if len(ok) > 0 {
			res.P50 = ok[len(ok)/2]
			res.P99 = ok[len(ok)*99/100]
			res.Max = ok[len(ok)-1]
		}
		slices.Sort(lags)
		if len(lags) > 0 {
			res.SendLagP99 = lags[len(lags)*99/100]
		}
	}
	res.Failures = fails.by
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if res.FailedPosts > 0 || res.FailedRate > 0 {
		return res, fmt.Errorf("%d of %d throughput posts and %d of %d fixed-rate posts not accepted: %v",
			res.FailedPosts, res.Orders, res.FailedRate, res.Sent, res.Failures)
	}
	return res, nil
}

// post sends delivery n and returns how late after sched it went out and the time
// from sched to the end of its answer.
func post(ctx context.Context, client *http.Client, url string, t *target, n int, sched time.Time) (lag, d time.Duration, err error) {
	body, header := t.request(n)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header = header
	lag = time.Since(sched)
	resp, err := client.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // the operation and URL add nothing
		}
		return lag, 0, err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d = time.Since(sched)
	switch {
	case err != nil:
		return lag, d, fmt.Errorf("reading the answer: %w", err)
	case resp.StatusCode != t.status:
		return lag, d, errors.New(resp.Status)
	case t.check != nil:
		return lag, d, t.check(answer)
	}
	return lag, d, nil
}

// routedUpTo returns a number of messages in fulfilment.orders that is exact when it
// is at least want, and below want otherwise. Counting the table is a scan (some
// milliseconds per ten thousand rows, on the cores the hub shares), so it first reads
// the last offset handed out, in constant time: offsets count from 1, one per row, so
// there are at most that many rows, and the table is counted only once the last
// offset has reached want.
func routedUpTo(ctx context.Context, st *store.Store, want int) (int, error) {
	table := st.MessagesTable(router.TopicFulfilmentOrders)
	var last int
	var err error
	if st.Dialect() == store.Postgres {
		// The primary key is (transaction_id, "offset"): MAX("offset") would scan.
		err = st.ReadDB().QueryRowContext(ctx, `SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence($1, 'offset')), 0)`, table).Scan(&last)
	} else {
		// "offset" is the rowid: MAX is one lookup.
		err = st.ReadDB().QueryRowContext(ctx, `SELECT COALESCE(MAX("offset"), 0) FROM `+table).Scan(&last)
	}
	if err != nil || last < want {
		return last, err
	}
	return countRouted(ctx, st)
}

func countRouted(ctx context.Context, st *store.Store) (int, error) {
	var n int
	err := st.ReadDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+st.MessagesTable(router.TopicFulfilmentOrders)).Scan(&n)
	return n, err
}

// PGBenchResult is pgbench's single-row insert throughput.
type PGBenchResult struct {
	Clients int
	TPS     float64
	Command string
}

var tpsRE = regexp.MustCompile(`tps = ([0-9.]+)`)

// PGBench runs pgbench with one single-row INSERT per transaction against the
// database at host/port/user/db for d, with the given clients, and returns its tps.
func PGBench(ctx context.Context, host, port, user, db string, clients int, d time.Duration) (PGBenchResult, error) {
	path, err := exec.LookPath("pgbench")
	if err != nil {
		return PGBenchResult{}, errors.New("pgbench is not installed (apt-get install postgresql-client)")
	}
	psql := func(sql string) error {
		out, err := exec.CommandContext(ctx, "psql", "-h", host, "-p", port, "-U", user, "-d", db, "-qc", sql).CombinedOutput()
		if err != nil {
			return fmt.Errorf("psql: %v: %s", err, out)
		}
		return nil
	}
	if err := psql(`DROP TABLE IF EXISTS paklog_pgbench; CREATE TABLE paklog_pgbench (id BIGSERIAL PRIMARY KEY, payload BYTEA NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return PGBenchResult{}, err
	}
	defer psql(`DROP TABLE IF EXISTS paklog_pgbench`) //nolint:errcheck
	script := `INSERT INTO paklog_pgbench (payload) VALUES (convert_to(repeat('x', 400), 'UTF8'));`
	f, err := os.CreateTemp("", "paklog-pgbench-*.sql")
	if err != nil {
		return PGBenchResult{}, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(script + "\n"); err != nil {
		return PGBenchResult{}, err
	}
	f.Close()
	args := []string{"-n", "-h", host, "-p", port, "-U", user, "-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(int(d.Seconds())), "-f", f.Name(), db}
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		return PGBenchResult{}, fmt.Errorf("pgbench: %v: %s", err, out)
	}
	m := tpsRE.FindSubmatch(out)
	if m == nil {
		return PGBenchResult{}, fmt.Errorf("pgbench printed no tps: %s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	return PGBenchResult{Clients: clients, TPS: tps, Command: fmt.Sprintf("pgbench -n -c %d -j 2 -T %d -f insert.sql (insert.sql: %s)", clients, int(d.Seconds()), script)}, nil
}
