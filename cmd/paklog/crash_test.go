package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paklog/integration-hub/fixtures/fulfilsim"
	"github.com/paklog/integration-hub/internal/cli"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

// TestMain lets the test binary play `paklog` itself: a child started with
// PAKLOG_TEST_CHILD=1 runs the command line, so crash tests kill a real hub process
// without building a separate binary.
func TestMain(m *testing.M) {
	if os.Getenv("PAKLOG_TEST_CHILD") == "1" {
		os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

type child struct {
	cmd  *exec.Cmd
	addr string
	log  *bytes.Buffer
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `paklog serve --simulate-fulfilment` as a child process and waits
// for /readyz.
func startServe(t *testing.T, env []string, addr string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{addr: addr, log: &bytes.Buffer{}}
	c.cmd = exec.Command(exe, "serve", "--simulate-fulfilment", "--addr", addr)
	c.cmd.Env = append(append(os.Environ(), "PAKLOG_TEST_CHILD=1"), env...)
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("paklog serve did not become ready: %v\n%s", err, c.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func orderBody(n int) []byte {
	return []byte(fmt.Sprintf(`{"order_number":"C-%d","ship_to":{"name":"Crash Test","address1":"1 Main St","city":"Springfield","region":"IL","postal_code":"62701","country":"US"},"lines":[{"line_number":"1","sku":"SKU-%d","quantity":%d}]}`, n, n%50, 1+n%3))
}

// The hub is killed with SIGKILL while 5,000 orders are being posted concurrently,
// then restarted. Every order that got a 202 reaches fulfilment.orders (and the
// simulated core) exactly once; every order that did not is either wholly there (its
// commit happened, the answer was lost) or wholly absent — never half-there.
func TestCrashDuringConcurrentOrders(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test posts 5,000 orders; run without -short")
	}
	t.Run("sqlite", func(t *testing.T) {
		cfg := storetest.SQLiteConfig(t)
		cfg.Synchronous = "full"
		crashTest(t, cfg, []string{"PAKLOG_STORE_DRIVER=sqlite", "PAKLOG_DATA_DIR=" + filepath.Dir(cfg.SQLitePath)})
	})
	t.Run("postgres", func(t *testing.T) {
		cfg := storetest.PostgresConfig(t)
		crashTest(t, cfg, []string{"PAKLOG_STORE_DRIVER=postgres", "PAKLOG_POSTGRES_DSN=" + cfg.PostgresDSN})
	})
}

func crashTest(t *testing.T, cfg store.Config, env []string) {
	const total = 5000
	addr := freeAddr(t)
	hub := startServe(t, env, addr)

	type outcome struct {
		accepted bool
		orderID  string
	}
	outcomes := make([]outcome, total)
	var acceptedN atomic.Int64
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	// post sends the orders whose numbers come out of todo from 64 clients at once.
	post := func(todo []int) *sync.WaitGroup {
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(todo) {
						return
					}
					n := todo[i]
					req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/orders", bytes.NewReader(orderBody(n)))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Idempotency-Key", fmt.Sprintf("crash-%d", n))
					resp, err := client.Do(req)
					if err != nil {
						continue // the hub died: no 202
					}
					var res struct {
						OrderID string `json:"order_id"`
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusAccepted && json.Unmarshal(body, &res) == nil && res.OrderID != "" {
						outcomes[n] = outcome{accepted: true, orderID: res.OrderID}
						acceptedN.Add(1)
					}
				}
			}()
		}
		return &wg
	}
	all := make([]int, total)
	for i := range all {
		all[i] = i
	}
	wg := post(all)
	// Kill the hub in the middle of the load.
	for acceptedN.Load() < total/3 {
		time.Sleep(time.Millisecond)
	}
	if err := hub.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = hub.cmd.Wait()
	killedAt := acceptedN.Load()
	wg.Wait()
	t.Logf("killed the hub after %d accepted orders; %d orders got a 202 in all", killedAt, acceptedN.Load())
	if acceptedN.Load() >= total {
		t.Fatal("every order got a 202: the kill came too late to test anything")
	}

	// Restart; the hub finishes what was committed.
	hub = startServe(t, env, addr)
	st := storetest.Open(t, cfg)
	ctx := context.Background()
	var ingested int
	defer func() {
		// Then the senders retry what got no 202: each is accepted once, whether its
		// first attempt had committed or not.
		var retry []int
		for n, o := range outcomes {
			if !o.accepted {
				retry = append(retry, n)
			}
		}
		if t.Failed() || len(retry) == 0 {
			return
		}
		hub = startServe(t, env, addr)
		post(retry).Wait()
		if got := acceptedN.Load(); got != total {
			t.Fatalf("after the senders retried, %d of %d orders have a 202", got, total)
		}
		waitRouted(t, st, hub, total)
		stopServe(t, hub)
		checkExactlyOnce(t, st, total)
		t.Logf("after retrying the %d orders without a 202, all %d reached the core exactly once", len(retry), total)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ingested = storetest.Count(t, st, `SELECT COUNT(*) FROM ingest`)
		routed := storetest.Count(t, st, `SELECT COUNT(*) FROM `+st.MessagesTable(router.TopicFulfilmentOrders))
		seen := storetest.Count(t, st, `SELECT COUNT(*) FROM fulfilsim_orders`)
		if routed == ingested && seen == ingested {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restart: %d accepted, %d routed to fulfilment.orders, %d seen by the core\n%s", ingested, routed, seen, hub.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopServe(t, hub)

	// Per order: a 202 means it reached the core once; no 202 means all or nothing.
	seen, err := fulfilsim.Orders(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	perOrder := map[string]int{}
	for _, s := range seen {
		perOrder[s.OrderID] = s.Deliveries
	}
	accepted := 0
	for n, o := range outcomes {
		ext := fmt.Sprintf("C-%d", n)
		var ingestRows, idRows int
		ingestRows = storetest.Count(t, st, `SELECT COUNT(*) FROM ingest WHERE idempotency_key = ?`, fmt.Sprintf("crash-%d", n))
		idRows = storetest.Count(t, st, `SELECT COUNT(*) FROM order_ids WHERE external_id = ?`, ext)
		if o.accepted {
			accepted++
			if s := seen[o.orderID]; s.Deliveries != 1 {
				t.Errorf("order %s (202) reached the core %d times, want 1", ext, s.Deliveries)
			}
			if ingestRows != 1 || idRows != 1 {
				t.Errorf("order %s (202): %d ingest rows, %d order id rows", ext, ingestRows, idRows)
			}
			continue
		}
		// No 202: all or nothing.
		if ingestRows != idRows {
			t.Errorf("order %s (no 202) is half-there: %d ingest rows, %d order id rows", ext, ingestRows, idRows)
		}
	}
	checkExactlyOnce(t, st, ingested)
	t.Logf("%d orders got a 202 and reached the core once each; %d more were committed but their answer was lost to the kill; %d were never accepted",
		accepted, ingested-accepted, total-ingested)
}

func stopServe(t *testing.T, hub *child) {
	t.Helper()
	if err := hub.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := hub.cmd.Wait(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, hub.log.String())
	}
}

// waitRouted waits until want orders are in fulfilment.orders and seen by the core.
func waitRouted(t *testing.T, st *store.Store, hub *child, want int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		routed := storetest.Count(t, st, `SELECT COUNT(*) FROM `+st.MessagesTable(router.TopicFulfilmentOrders))
		seen := storetest.Count(t, st, `SELECT COUNT(*) FROM fulfilsim_orders`)
		if routed == want && seen == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d routed to fulfilment.orders, %d seen by the core, want %d\n%s", routed, seen, want, hub.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkExactlyOnce checks that want distinct orders are in fulfilment.orders once
// each, and that the simulated core got each once.
func checkExactlyOnce(t *testing.T, st *store.Store, want int) {
	t.Helper()
	perOrder := map[string]int{}
	rows, err := st.ReadDB().Query(`SELECT metadata FROM ` + st.MessagesTable(router.TopicFulfilmentOrders))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var md []byte
		if err := rows.Scan(&md); err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(md, &m); err != nil {
			t.Fatal(err)
		}
		perOrder[m[router.MetaOrderID]]++
	}
	for id, n := range perOrder {
		if n != 1 {
			t.Errorf("order %s is in fulfilment.orders %d times", id, n)
		}
	}
	if len(perOrder) != want {
		t.Errorf("%d distinct orders in fulfilment.orders, want %d", len(perOrder), want)
	}
	seen, err := fulfilsim.Orders(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	for id, s := range seen {
		if s.Deliveries != 1 {
			t.Errorf("order %s reached the core %d times", id, s.Deliveries)
		}
	}
	if len(seen) != want {
		t.Errorf("the core saw %d orders, want %d", len(seen), want)
	}
}
