// Package bench measures the hub end to end, as `paklog bench` reports it in
// docs/BENCHMARKS.md: orders per second from POST /api/v1/orders to fulfilment.orders,
// accept latency at a fixed rate, and pgbench's single-row inserts on the same
// PostgreSQL as the ceiling to compare with.
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

// Config says what to run.
type Config struct {
	Hub config.Config
	// Orders is how many orders the throughput run posts.
	Orders int
	// Clients is how many HTTP clients post at once in the throughput run.
	Clients int
	// Rate and Duration shape the fixed-rate latency run.
	Rate     int
	Duration time.Duration
}

// Result is one run's numbers.
type Result struct {
	Store string
	// Throughput run.
	Orders      int
	AcceptedIn  time.Duration // first POST to last 202
	RoutedIn    time.Duration // first POST to the last order in fulfilment.orders
	AcceptRate  float64       // orders/s accepted
	EndToEnd    float64       // orders/s from POST to fulfilment.orders
	FailedPosts int64
	// Fixed-rate run.
	Rate     int
	Sent     int
	P50, P99 time.Duration
	Max      time.Duration
}

type bodyFunc func(n int) []byte

func order(prefix string) bodyFunc {
	return func(n int) []byte {
		return []byte(fmt.Sprintf(`{"order_number":"%s-%d","ship_to":{"name":"Bench Customer","address1":"%d Main St","city":"Springfield","region":"IL","postal_code":"62701","country":"US"},"shipping":{"service_level":"ground"},"lines":[{"line_number":"1","sku":"SKU-%d","quantity":%d,"uom":"EA"},{"line_number":"2","sku":"SKU-%d","quantity":1,"uom":"EA"}]}`,
			prefix, n, n%9999, n%500, 1+n%4, (n+7)%500))
	}
}

// Run starts a hub on cfg.Hub, runs the throughput run, then the fixed-rate run.
func Run(ctx context.Context, cfg Config) (Result, error) {
	h, err := hub.New(ctx, cfg.Hub, nil, hub.Options{})
	if err != nil {
		return Result{}, err
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Run(runCtx) }()
	defer func() { stop(); <-done }()
	<-h.Router.Running()
	base := "http://" + h.Server.Addr() + "/api/v1/orders"
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients + 16, MaxConnsPerHost: 0}}
	res := Result{Store: string(h.Store.Dialect()), Orders: cfg.Orders, Rate: cfg.Rate}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)

	// Throughput: cfg.Clients closed-loop clients post cfg.Orders orders.
	routedBefore, err := countRouted(ctx, h.Store)
	if err != nil {
		return res, err
	}
	body := order("T" + run)
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
				if _, err := post(ctx, client, base, body(n)); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.AcceptedIn = time.Since(start)
	res.FailedPosts = failed.Load()
	want := routedBefore + cfg.Orders - int(res.FailedPosts)
	for {
		n, err := countRouted(ctx, h.Store)
		if err != nil {
			return res, err
		}
		if n >= want {
			break
		}
		if time.Since(start) > 10*time.Minute || ctx.Err() != nil {
			return res, fmt.Errorf("only %d of %d orders reached fulfilment.orders", n-routedBefore, want-routedBefore)
		}
		time.Sleep(5 * time.Millisecond)
	}
	res.RoutedIn = time.Since(start)
	res.AcceptRate = float64(cfg.Orders) / res.AcceptedIn.Seconds()
	res.EndToEnd = float64(cfg.Orders) / res.RoutedIn.Seconds()

	// Latency: an open-loop sender at a fixed rate (a slow answer does not slow the
	// sender down, so queueing shows in the tail).
	if cfg.Rate > 0 && cfg.Duration > 0 {
		body := order("L" + run)
		interval := time.Second / time.Duration(cfg.Rate)
		total := int(cfg.Duration / interval)
		lat := make([]time.Duration, total)
		var lwg sync.WaitGroup
		t0 := time.Now()
		for i := range total {
			if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
			lwg.Add(1)
			go func(i int) {
				defer lwg.Done()
				d, err := post(ctx, client, base, body(i))
				if err != nil {
					d = -1
				}
				lat[i] = d
			}(i)
		}
		lwg.Wait()
		ok := lat[:0]
		for _, d := range lat {
			if d >= 0 {
				ok = append(ok, d)
			}
		}
		slices.Sort(ok)
		res.Sent = total
		if len(ok) > 0 {
			res.P50 = ok[len(ok)/2]
			res.P99 = ok[len(ok)*99/100]
			res.Max = ok[len(ok)-1]
		}
		if len(ok) != total {
			return res, fmt.Errorf("%d of %d fixed-rate posts failed", total-len(ok), total)
		}
	}
	return res, nil
}

func post(ctx context.Context, client *http.Client, url string, body []byte) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	t := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(t)
	if resp.StatusCode != http.StatusAccepted {
		return d, fmt.Errorf("POST answered %s", resp.Status)
	}
	return d, nil
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
