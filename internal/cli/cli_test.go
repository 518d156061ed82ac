package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/adapters/csvimport"
	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/dlq"
	"github.com/paklog/integration-hub/internal/cli"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/hubtest"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
	csvorders "github.com/paklog/integration-hub/transforms/csv"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the commands' output")

// paklog runs the command line as a user would and returns its exit status and what it
// printed.
func paklog(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// cleanEnv blanks the variables that would redirect the commands to another database or
// configuration, so that a developer's or CI's environment does not leak into the tests.
// An empty variable changes nothing (config.ApplyEnv).
func cleanEnv(t *testing.T) {
	t.Setenv("PAKLOG_CONFIG", "")
	for _, k := range []string{config.EnvStoreDriver, config.EnvPostgresDSN, config.EnvHTTPAddr, config.EnvDataDir} {
		t.Setenv(k, "")
	}
}

// hubConfig writes a hub.yaml that keeps the hub's data in a new SQLite file and returns
// the file's path and the database's.
func hubConfig(t *testing.T) (cfgPath, dbPath string) {
	t.Helper()
	dir := t.TempDir()
	dbPath = filepath.Join(dir, "paklog.db")
	cfgPath = writeFile(t, dir, "hub.yaml", fmt.Sprintf("store:\n  driver: sqlite\n  sqlite:\n    path: %s\n    synchronous: normal\n", dbPath))
	return cfgPath, dbPath
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// openStore opens the database the commands use, as the hub would.
func openStore(t *testing.T, dbPath string) *store.Store {
	return storetest.Open(t, store.Config{Driver: store.SQLite, SQLitePath: dbPath, Synchronous: "normal"})
}

// checkGolden compares got with testdata/name, or rewrites the file with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// A file of five orders: SO-2 (line 4) has a bad quantity and SO-4 (line 7, after a
// quoted note that spans lines 5-6) has no country. SO-1 has two rows.
const ordersWithErrors = `order_number,ship_to_name,ship_to_address1,ship_to_city,ship_to_country,sku,quantity,notes
SO-1,Dana Whitfield,1200 Market St,San Francisco,US,TENT-2P-GRN,1,
SO-1,,,,,STOVE-TI-1,2,
SO-2,Eli Brandt,8 Elm St,Portland,US,TENT-2P-GRN,4x,
SO-3,Fay Ortiz,3 Oak Ave,Toronto,CA,STOVE-TI-1,2,"Leave at
the side door"
SO-4,Gus Hale,4 Pine Rd,Leeds,,TENT-2P-GRN,1,
SO-5,Hana Mori,5 Ash Ln,London,gb,STOVE-TI-1,3,
`

const rejectedRows = `
Rejected rows (fix them and import the file again; accepted orders will not be doubled):
  line 4, column quantity: "4x" is not a number
  line 7, column ship_to_country: is required
`

// TestImport runs `paklog import` on one database as an operator would: a file with bad
// rows, the same file again, a fixed file, stdin, and files that cannot be read. After
// each step the database holds exactly the orders accepted so far.
func TestImport(t *testing.T) {
	cleanEnv(t)
	cfg, db := hubConfig(t)
	dir := filepath.Dir(cfg)
	st := openStore(t, db) // applies the migrations: the commands then log nothing
	withErrors := writeFile(t, dir, "orders.csv", ordersWithErrors)
	good := writeFile(t, dir, "fixed.csv", `order_number,ship_to_name,ship_to_address1,ship_to_city,ship_to_country,sku,quantity
SO-2,Eli Brandt,8 Elm St,Portland,US,TENT-2P-GRN,4
SO-4,Gus Hale,4 Pine Rd,Leeds,GB,TENT-2P-GRN,1
`)
	noCountry := writeFile(t, dir, "no-country.csv", "order_number,ship_to_name,ship_to_address1,ship_to_city,sku,quantity\nSO-9,A,B,C,D,1\n")
	missing := filepath.Join(dir, "does-not-exist.csv")

	steps := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderr     string
		wantOrders []string // external ids of every order in the database afterwards
	}{
		{
			name:       "good orders accepted, bad rows reported",
			args:       []string{"import", "--config", cfg, withErrors},
			code:       2,
			stdout:     "5 orders read: 3 accepted, 0 already imported, 2 rejected\n" + rejectedRows,
			wantOrders: []string{"SO-1", "SO-3", "SO-5"},
		},
		{
			name:       "same file again accepts nothing twice",
			args:       []string{"import", "--config", cfg, withErrors},
			code:       2,
			stdout:     "5 orders read: 0 accepted, 3 already imported, 2 rejected\n" + rejectedRows,
			wantOrders: []string{"SO-1", "SO-3", "SO-5"},
		},
		{
			name:       "the fixed rows",
			args:       []string{"import", "-c", cfg, good},
			code:       0,
			stdout:     "2 orders read: 2 accepted, 0 already imported, 0 rejected\n",
			wantOrders: []string{"SO-1", "SO-2", "SO-3", "SO-4", "SO-5"},
		},
		{
			name:       "missing required column",
			args:       []string{"import", "--config", cfg, noCountry},
			code:       1,
			stderr:     "paklog: csv header (line 1): missing required column(s) ship_to_country\n",
			wantOrders: []string{"SO-1", "SO-2", "SO-3", "SO-4", "SO-5"},
		},
		{
			name:       "file does not exist",
			args:       []string{"import", "--config", cfg, missing},
			code:       1,
			stderr:     "paklog: open " + missing + ": no such file or directory\n",
			wantOrders: []string{"SO-1", "SO-2", "SO-3", "SO-4", "SO-5"},
		},
		{
			name:   "no file",
			args:   []string{"import", "--config", cfg},
			code:   1,
			stderr: "paklog: accepts 1 arg(s), received 0\n",
		},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, stdout, stderr := paklog(t, s.args...)
			if code != s.code || stdout != s.stdout || stderr != s.stderr {
				t.Fatalf("paklog %s\n= exit %d\n--- stdout\n%s--- stderr\n%s\nwant exit %d\n--- stdout\n%s--- stderr\n%s",
					strings.Join(s.args, " "), code, stdout, stderr, s.code, s.stdout, s.stderr)
			}
			if s.wantOrders != nil {
				checkOrders(t, st, s.wantOrders)
			}
		})
	}
}

// checkOrders checks that the database holds exactly these CSV orders: one accepted
// payload and one inbound.csv message each.
func checkOrders(t *testing.T, st *store.Store, externalIDs []string) {
	t.Helper()
	rows, err := st.ReadDB().Query(`SELECT external_id FROM order_ids WHERE channel = 'csv' ORDER BY external_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, externalIDs) {
		t.Errorf("orders in the database: %q, want %q", got, externalIDs)
	}
	if n := storetest.Count(t, st, `SELECT COUNT(*) FROM ingest WHERE source = 'csv'`); n != len(externalIDs) {
		t.Errorf("%d accepted CSV payloads (ingest rows), want %d", n, len(externalIDs))
	}
	if n := storetest.Count(t, st, `SELECT COUNT(*) FROM `+st.MessagesTable("inbound.csv")); n != len(externalIDs) {
		t.Errorf("%d inbound.csv messages, want %d", n, len(externalIDs))
	}
}

// --json prints the report for scripts: the counts, the order id of every order and
// every rejected row with its line and column.
func TestImportJSON(t *testing.T) {
	cleanEnv(t)
	cfg, db := hubConfig(t)
	file := writeFile(t, filepath.Dir(cfg), "orders.csv", ordersWithErrors)
	for _, run := range []struct {
		name                 string
		accepted, duplicates int
	}{{"first", 3, 0}, {"again", 0, 3}} {
		t.Run(run.name, func(t *testing.T) {
			code, stdout, stderr := paklog(t, "import", "--json", "--config", cfg, file)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			var rep csvimport.Report
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout)
			}
			want := csvimport.Summary{Orders: 5, Accepted: run.accepted, Duplicates: run.duplicates, Rejected: 2}
			if rep.Summary != want {
				t.Errorf("counts = %+v, want %+v", rep.Summary, want)
			}
			wantErrors := []csvorders.RowError{
				{Line: 4, Column: "quantity", Value: "4x", Reason: "is not a number"},
				{Line: 7, Column: "ship_to_country", Reason: "is required"},
			}
			if !reflect.DeepEqual(rep.Errors, wantErrors) {
				t.Errorf("errors = %+v, want %+v", rep.Errors, wantErrors)
			}
			var got []string
			for _, im := range rep.Imported {
				got = append(got, fmt.Sprintf("%s line %d duplicate=%v", im.OrderNumber, im.FirstLine, im.Duplicate))
			}
			dup := run.duplicates > 0
			wantImported := []string{
				fmt.Sprintf("SO-1 line 2 duplicate=%v", dup),
				fmt.Sprintf("SO-3 line 5 duplicate=%v", dup),
				fmt.Sprintf("SO-5 line 8 duplicate=%v", dup),
			}
			if !slices.Equal(got, wantImported) {
				t.Errorf("imported = %q, want %q", got, wantImported)
			}
		})
	}

	// The order ids in the report are those the hub stored.
	st := openStore(t, db)
	_, stdout, _ := paklog(t, "import", "--json", "--config", cfg, file)
	var rep csvimport.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	for _, im := range rep.Imported {
		if n := storetest.Count(t, st, `SELECT COUNT(*) FROM order_ids WHERE external_id = ? AND order_id = ?`, im.OrderNumber, im.OrderID); n != 1 {
			t.Errorf("%s: the report's order id %s is not in the database", im.OrderNumber, im.OrderID)
		}
	}
}

// "-" reads the file from stdin. cli.Main reads os.Stdin, so this drives the root
// command directly.
func TestImportStdin(t *testing.T) {
	cleanEnv(t)
	cfg, db := hubConfig(t)
	var out, errOut bytes.Buffer
	root := cli.Root(&out, &errOut)
	root.SetIn(strings.NewReader("order_number,ship_to_name,ship_to_address1,ship_to_city,ship_to_country,sku,quantity\nSO-7,Ida,7 Elm St,Austin,US,TENT-2P-GRN,1\n"))
	root.SetArgs([]string{"import", "--config", cfg, "--partner", "acme", "-"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("paklog import -: %v\nstderr:\n%s", err, errOut.String())
	}
	if got, want := out.String(), "1 orders read: 1 accepted, 0 already imported, 0 rejected\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	st := openStore(t, db)
	if n := storetest.Count(t, st, `SELECT COUNT(*) FROM order_ids WHERE channel = 'csv' AND partner = 'acme' AND external_id = 'SO-7'`); n != 1 {
		t.Errorf("order SO-7 of partner acme: %d in the database, want 1", n)
	}
}

// PAKLOG_DATA_DIR moves the database, over the file's store.sqlite.path.
func TestImportDataDirFromEnvironment(t *testing.T) {
	cleanEnv(t)
	cfg, fileDB := hubConfig(t)
	dataDir := t.TempDir()
	t.Setenv(config.EnvDataDir, dataDir)
	file := writeFile(t, filepath.Dir(cfg), "orders.csv", "order_number,ship_to_name,ship_to_address1,ship_to_city,ship_to_country,sku,quantity\nSO-8,Jo,8 Elm St,Austin,US,TENT-2P-GRN,1\n")
	if code, stdout, stderr := paklog(t, "import", "--config", cfg, file); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(fileDB); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file's database %s was created (err %v); PAKLOG_DATA_DIR should override it", fileDB, err)
	}
	st := openStore(t, filepath.Join(dataDir, "paklog.db"))
	if n := storetest.Count(t, st, `SELECT COUNT(*) FROM order_ids WHERE external_id = 'SO-8'`); n != 1 {
		t.Errorf("order SO-8 in $PAKLOG_DATA_DIR/paklog.db: %d, want 1", n)
	}
}

// --columns lists every column of the format, required or optional, with its format.
func TestImportColumns(t *testing.T) {
	cleanEnv(t)
	code, stdout, stderr := paklog(t, "import", "--columns")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	cols := csvorders.Columns()
	if len(lines) != len(cols) {
		t.Fatalf("%d lines, want one per column (%d):\n%s", len(lines), len(cols), stdout)
	}
	for i, c := range cols {
		need := "optional"
		if c.Required {
			need = "required"
		}
		f := strings.Fields(lines[i])
		if len(f) < 3 || f[0] != c.Name || f[1] != need || strings.Join(f[2:], " ") != strings.Join(strings.Fields(c.Format), " ") {
			t.Errorf("line %d = %q, want %s %s %s", i+1, lines[i], c.Name, need, c.Format)
		}
	}
}

// flakyHandler fails permanently for the orders in broken until fixed.
type flakyHandler struct {
	mu     sync.Mutex
	broken map[string]bool // order numbers
	done   map[string]int  // order number → successful deliveries
}

const flakyName = "test.warehouse"

func (f *flakyHandler) handle(ctx context.Context, tx *router.Tx, msg *message.Message) error {
	o, err := canonical.DecodeOrder(msg.Payload)
	if err != nil {
		return fault.AsValidation(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken[o.OrderNumber] {
		return fault.AsPermanent(fmt.Errorf("mapping the warehouse: %w", errors.New("no warehouse serves SKU-1")))
	}
	f.done[o.OrderNumber]++
	return nil
}

func (f *flakyHandler) fix(orderNumber string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.broken, orderNumber)
}

func (f *flakyHandler) deliveries(orderNumber string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done[orderNumber]
}

// startRouter runs a router with the core handlers, the DLQ and h on fulfilment.orders
// over st until the test ends, as `paklog serve` would.
func startRouter(t *testing.T, st *store.Store, h *flakyHandler) {
	t.Helper()
	hubtest.StartRouter(t, st, func(r *router.Router) error {
		return r.Handle(flakyName, router.TopicFulfilmentOrders, h.handle)
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// showJSON is `paklog dlq show ID --json`.
func showJSON(t *testing.T, cfg string, id int64) dlq.Entry {
	t.Helper()
	code, stdout, stderr := paklog(t, "dlq", "show", fmt.Sprint(id), "--json", "--config", cfg)
	if code != 0 {
		t.Fatalf("dlq show %d --json: exit %d: %s", id, code, stderr)
	}
	var e dlq.Entry
	if err := json.Unmarshal([]byte(stdout), &e); err != nil {
		t.Fatalf("dlq show --json: %v\n%s", err, stdout)
	}
	return e
}

// TestDLQ dead-letters two orders in a running router, then works the queue with
// `paklog dlq` as an operator would: list, show, replay one after the fix (the router
// delivers it once), discard the other.
func TestDLQ(t *testing.T) {
	cleanEnv(t)
	cfg, db := hubConfig(t)
	st := openStore(t, db)

	if code, stdout, stderr := paklog(t, "dlq", "list", "--config", cfg); code != 0 || stdout != "the dead-letter queue is empty\n" || stderr != "" {
		t.Fatalf("dlq list on an empty queue: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := paklog(t, "dlq", "list", "--json", "--config", cfg); code != 0 || stdout != "{\n  \"entries\": []\n}\n" {
		t.Fatalf("dlq list --json on an empty queue: exit %d\n%s%s", code, stdout, stderr)
	}

	h := &flakyHandler{broken: map[string]bool{"T-1": true, "T-2": true}, done: map[string]int{}}
	startRouter(t, st, h)
	in := intake.New(st, router.Topics{}, intake.Config{}, nil)
	t.Cleanup(in.Close)
	ids := map[string]string{} // order number → order id
	for n := 1; n <= 3; n++ {
		o := &canonical.Order{
			Source:      canonical.Source{Channel: canonical.ChannelAPI, Partner: "test", ExternalID: fmt.Sprintf("EXT-%d", n), Document: "api"},
			OrderNumber: fmt.Sprintf("T-%d", n),
			ShipTo:      canonical.Address{Name: "Test Person", Address1: "1 Main St", City: "Springfield", Country: "US"},
			Lines:       []canonical.Line{{LineNumber: "1", SKU: "SKU-1", Quantity: 1}},
		}
		res, err := in.Accept(context.Background(), intake.Item{Source: "api", Partner: "test", IdempotencyKey: fmt.Sprintf("key-%d", n),
			Payload: []byte(fmt.Sprintf(`{"n":%d}`, n)), Order: o})
		if err != nil {
			t.Fatal(err)
		}
		ids[o.OrderNumber] = res.OrderID
	}
	console := dlq.NewConsole(st, router.Topics{})
	entryOf := map[string]dlq.Entry{} // order number → its DLQ entry
	waitFor(t, "two DLQ entries", func() bool {
		entries, err := console.List(context.Background(), dlq.Filter{})
		if err != nil || len(entries) != 2 {
			return false
		}
		for _, e := range entries {
			for num, id := range ids {
				if e.OrderID == id {
					entryOf[num] = e
				}
			}
		}
		return true
	})
	waitFor(t, "T-3 to pass the handler", func() bool { return h.deliveries("T-3") == 1 })
	e1, e2 := entryOf["T-1"], entryOf["T-2"]
	if e1.ID == 0 || e2.ID == 0 {
		t.Fatalf("DLQ entries by order: %+v", entryOf)
	}
	const reason = "mapping the warehouse: no warehouse serves SKU-1"

	t.Run("list", func(t *testing.T) {
		code, stdout, stderr := paklog(t, "dlq", "list", "--config", cfg)
		if code != 0 || stderr != "" {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != 3 || !regexp.MustCompile(`^ID\s+STATUS\s+FAILED\s+HANDLER\s+CLASS\s+ATTEMPTS\s+ORDER\s+REASON$`).MatchString(lines[0]) {
			t.Fatalf("want a header and two rows:\n%s", stdout)
		}
		// Newest first.
		newer, older := e1, e2
		if older.ID > newer.ID {
			newer, older = older, newer
		}
		for i, e := range []dlq.Entry{newer, older} {
			row := regexp.MustCompile(fmt.Sprintf(`^%d\s+open\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+%s\s+permanent\s+1\s+%s\s+%s$`,
				e.ID, regexp.QuoteMeta(flakyName), e.OrderID, regexp.QuoteMeta(reason)))
			if !row.MatchString(lines[i+1]) {
				t.Errorf("row %d = %q, want entry %d: open, %s, permanent, 1 attempt, %s, %q", i+1, lines[i+1], e.ID, flakyName, e.OrderID, reason)
			}
		}
		// Columns line up: every row's STATUS starts under the header's.
		col := strings.Index(lines[0], "STATUS")
		for _, l := range lines[1:] {
			if !strings.HasPrefix(l[col:], "open ") {
				t.Errorf("row %q: STATUS is not in its column", l)
			}
		}
	})

	t.Run("list --json", func(t *testing.T) {
		code, stdout, stderr := paklog(t, "dlq", "list", "--json", "--status", "open", "--order", ids["T-1"], "--config", cfg)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var got struct{ Entries []dlq.Entry }
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		if len(got.Entries) != 1 {
			t.Fatalf("%d entries for order %s, want 1:\n%s", len(got.Entries), ids["T-1"], stdout)
		}
		e := got.Entries[0]
		if e.ID != e1.ID || e.Status != dlq.StatusOpen || e.Handler != flakyName || e.Topic != router.TopicFulfilmentOrders ||
			e.ErrorClass != "permanent" || e.Attempts != 1 || e.Reason != reason || e.Payload != nil {
			t.Errorf("entry = %+v", e)
		}
	})

	t.Run("show", func(t *testing.T) {
		code, stdout, stderr := paklog(t, "dlq", "show", fmt.Sprint(e1.ID), "--config", cfg)
		if code != 0 || stderr != "" {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		// The golden file has the entry with its ids and times replaced.
		got := strings.NewReplacer(e1.OrderID, "<order-id>", e1.MessageUUID, "<message-uuid>", e1.CorrelationID, "<correlation-id>").Replace(stdout)
		got = regexp.MustCompile(`(?m)^id( +)\d+$`).ReplaceAllString(got, "id${1}<id>")
		got = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`).ReplaceAllString(got, "<time>")
		checkGolden(t, "dlq-show.golden", got)
		// And the payload is the order as the handler got it.
		payload := stdout[strings.Index(stdout, "\npayload:\n")+len("\npayload:\n"):]
		if o, err := canonical.DecodeOrder([]byte(payload)); err != nil || o.OrderID != ids["T-1"] || o.OrderNumber != "T-1" {
			t.Errorf("payload is not order T-1 (%v):\n%s", err, payload)
		}
	})

	errorCases := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"list with a misspelt status", []string{"dlq", "list", "--status", "opn"}, `paklog: --status "opn": must be open, replayed or discarded` + "\n"},
		{"show unknown id", []string{"dlq", "show", "999"}, "paklog: DLQ entry 999: not found\n"},
		{"show not an id", []string{"dlq", "show", "abc"}, `paklog: "abc" is not a DLQ entry id (paklog dlq list shows them)` + "\n"},
		{"replay unknown id", []string{"dlq", "replay", "999"}, "paklog: DLQ entry 999: not found\n"},
		{"discard without reason", []string{"dlq", "discard", fmt.Sprint(e2.ID)}, "paklog: say why the entry is discarded (--reason)\n"},
		{"discard unknown id", []string{"dlq", "discard", "999", "--reason", "x"}, "paklog: DLQ entry 999: not found\n"},
	}
	for _, c := range errorCases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := paklog(t, append(c.args, "--config", cfg)...)
			if code != 1 || stdout != "" || stderr != c.stderr {
				t.Errorf("paklog %s = exit %d, stdout %q, stderr %q; want exit 1, stderr %q", strings.Join(c.args, " "), code, stdout, stderr, c.stderr)
			}
		})
	}
	if e := showJSON(t, cfg, e2.ID); e.Status != dlq.StatusOpen {
		t.Fatalf("entry %d is %s after a discard without a reason, want open", e2.ID, e.Status)
	}

	t.Run("replay", func(t *testing.T) {
		h.fix("T-1")
		code, stdout, stderr := paklog(t, "dlq", "replay", fmt.Sprint(e1.ID), "--config", cfg)
		want := fmt.Sprintf("entry %d replayed to %s (replay #1); the running hub delivers it\n", e1.ID, flakyName)
		if code != 0 || stdout != want || stderr != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q; want stdout %q", code, stdout, stderr, want)
		}
		if e := showJSON(t, cfg, e1.ID); e.Status != dlq.StatusReplayed || e.ReplayCount != 1 || e.ReplayedAt == nil {
			t.Errorf("after replay: status %s, %d replays, replayed at %v; want replayed, 1", e.Status, e.ReplayCount, e.ReplayedAt)
		}
		waitFor(t, "the router to deliver the replay", func() bool { return h.deliveries("T-1") > 0 })

		code, stdout, stderr = paklog(t, "dlq", "replay", fmt.Sprint(e1.ID), "--config", cfg)
		wantErr := fmt.Sprintf("paklog: DLQ entry %d is replayed: entry is not open (use --force to replay it anyway)\n", e1.ID)
		if code != 1 || stdout != "" || stderr != wantErr {
			t.Errorf("replaying again: exit %d, stdout %q, stderr %q; want exit 1, %q", code, stdout, stderr, wantErr)
		}
		// A forced replay of a message the handler processed is skipped by its dedupe.
		code, stdout, _ = paklog(t, "dlq", "replay", "--force", fmt.Sprint(e1.ID), "--config", cfg)
		if want := fmt.Sprintf("entry %d replayed to %s (replay #2); the running hub delivers it\n", e1.ID, flakyName); code != 0 || stdout != want {
			t.Errorf("replay --force: exit %d, stdout %q, want %q", code, stdout, want)
		}
		time.Sleep(300 * time.Millisecond)
		if n := h.deliveries("T-1"); n != 1 {
			t.Errorf("the replayed order reached the handler %d times, want once", n)
		}
		if n := h.deliveries("T-2"); n != 0 {
			t.Errorf("replaying T-1 delivered T-2 %d times", n)
		}
	})

	t.Run("discard", func(t *testing.T) {
		code, stdout, stderr := paklog(t, "dlq", "discard", fmt.Sprint(e2.ID), "--reason", "duplicate test order", "--config", cfg)
		if want := fmt.Sprintf("entry %d discarded\n", e2.ID); code != 0 || stdout != want || stderr != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, stdout, stderr, want)
		}
		e := showJSON(t, cfg, e2.ID)
		if want := reason + " [discarded: duplicate test order]"; e.Status != dlq.StatusDiscarded || e.Reason != want {
			t.Errorf("after discard: status %s, reason %q; want discarded, %q", e.Status, e.Reason, want)
		}
		code, _, stderr = paklog(t, "dlq", "discard", fmt.Sprint(e2.ID), "--reason", "again", "--config", cfg)
		if want := fmt.Sprintf("paklog: DLQ entry %d: entry is not open\n", e2.ID); code != 1 || stderr != want {
			t.Errorf("discarding again: exit %d, stderr %q; want 1, %q", code, stderr, want)
		}
		code, stdout, _ = paklog(t, "dlq", "list", "--status", "open", "--json", "--config", cfg)
		if code != 0 || stdout != "{\n  \"entries\": []\n}\n" {
			t.Errorf("open entries after replay and discard: exit %d\n%s", code, stdout)
		}
	})
}

func TestConfigCheck(t *testing.T) {
	cleanEnv(t)
	dir := t.TempDir()
	bad := writeFile(t, dir, "hub.yaml", `# a typo and a limit
stroe:
  driver: sqlite
http:
  addr: 127.0.0.1:8080
  max_body_bytes: 2GiB
`)
	goodPath, _ := hubConfig(t)
	cases := []struct {
		name   string
		file   string
		env    map[string]string
		code   int
		stdout string
		stderr string
	}{
		{
			name: "unknown field and value over the limit",
			file: bad,
			code: 1,
			stderr: "paklog: " + bad + `:2: stroe: unknown field (did you mean "store"?)` + "\n" +
				bad + `:6: http.max_body_bytes: must be between 1KiB and 1GiB, got "2GiB"` + "\n",
		},
		{
			name:   "valid",
			file:   goodPath,
			stdout: "configuration is valid: store sqlite, http 127.0.0.1:8080\n",
		},
		{
			name:   "environment overrides the file",
			file:   goodPath,
			env:    map[string]string{config.EnvHTTPAddr: "127.0.0.1:9090"},
			stdout: "configuration is valid: store sqlite, http 127.0.0.1:9090\n",
		},
		{
			name:   "invalid environment",
			file:   goodPath,
			env:    map[string]string{config.EnvStoreDriver: "mysql"},
			code:   1,
			stderr: `paklog: environment: PAKLOG_STORE_DRIVER: must be "sqlite" or "postgres", got "mysql"` + "\n",
		},
		{
			name:   "no such file",
			file:   filepath.Join(dir, "nope.yaml"),
			code:   1,
			stderr: "paklog: reading config: open " + filepath.Join(dir, "nope.yaml") + ": no such file or directory\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := paklog(t, "config", "check", "--config", c.file)
			if code != c.code || stdout != c.stdout || stderr != c.stderr {
				t.Errorf("exit %d\n--- stdout\n%s--- stderr\n%s\nwant exit %d\n--- stdout\n%s--- stderr\n%s", code, stdout, stderr, c.code, c.stdout, c.stderr)
			}
		})
	}
}

// `config example` prints the documented file, and config.Parse accepts it.
func TestConfigExample(t *testing.T) {
	cleanEnv(t)
	code, stdout, stderr := paklog(t, "config", "example")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if stdout != string(config.ExampleYAML()) {
		t.Errorf("paklog config example does not print config.ExampleYAML():\n%s", stdout)
	}
	// config's own tests check that it loads to config.Default().
	cfg, err := config.Parse("example", []byte(stdout), func(string) string { return "" })
	if err != nil {
		t.Fatalf("paklog config example prints a file config.Parse rejects:\n%v", err)
	}
	if cfg.Store.Driver != config.DriverSQLite || cfg.HTTP.Addr != "127.0.0.1:8080" {
		t.Errorf("the example loads to store %s, http %s; want the defaults", cfg.Store.Driver, cfg.HTTP.Addr)
	}
	// And `config check` accepts it as a file.
	file := writeFile(t, t.TempDir(), "hub.yaml", stdout)
	if code, _, stderr := paklog(t, "config", "check", "--config", file); code != 0 {
		t.Errorf("config check on the example: exit %d: %s", code, stderr)
	}
}

// The demo runs the whole chain and exits 0 when all fifteen sample orders (3 API,
// 6 CSV, 2 Shopify, 1 Magento, 2 X12 by file, 1 X12 by AS2) reach the end, and every
// source that takes shipments back has them: fulfilments in the shop, a shipment in
// Magento, 856s and a 945 beside the partners' 997s.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a hub")
	}
	cleanEnv(t)
	code, stdout, stderr := paklog(t, "demo", "--timeout", "30s", "--data", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\n--- stdout\n%s--- stderr\n%s", code, stdout, stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^CHANNEL\s+ORDER\s+ORDER ID\s+STAGE\s+TRAIL\s+TIME$`),
		regexp.MustCompile(`(?m)^Dead-letter queue: 0 open entries$`),
		regexp.MustCompile(`(?m)^All 15 orders reached the end: accepted > routed > packed > labelled > shipped, and > confirmed for the 6 whose source takes shipments back\.$`),
		// The shop: a forged webhook refused, a duplicate delivery, a lost webhook the
		// reconciliation poll finds, and one fulfilment per order back.
		regexp.MustCompile(`(?m)^   a forged webhook -> 401, nothing stored$`),
		regexp.MustCompile(`(?m)^   #1042 created in the shop; Shopify delivers orders/create twice -> \[200 200\]`),
		regexp.MustCompile(`(?m)^   the reconciliation poll \(every 5m; the demo runs one now\) read 2 orders`),
		regexp.MustCompile(`(?m)^   #1042: fulfilled in the shop, \S+ [0-9A-Z]+$`),
		regexp.MustCompile(`(?m)^   #1043: fulfilled in the shop, \S+ [0-9A-Z]+$`),
		// Magento: the trigger, and one shipment of the configurable's parent item.
		regexp.MustCompile(`(?m)^   order 000000501 .* the store's event -> 202, the hub fetches it now$`),
		regexp.MustCompile(`(?m)^   000000501: shipped in Magento \(shipment \d+, item 10 × 2, tracking [0-9A-Z]+\)`),
		// The partners' 850 files: polled from an SFTP server and uploaded to the inbox;
		// the 997s and the ship notices go back the same ways, and the polled file is
		// archived.
		regexp.MustCompile(`(?m)^   demo-sftp: (856_\d{9}\.edi, 997_\d{9}\.edi|997_\d{9}\.edi, 856_\d{9}\.edi) in its SFTP server's /inbound$`),
		regexp.MustCompile(`(?m)^   demo-inbox: (945_\d{9}\.edi, 997_\d{9}\.edi|997_\d{9}\.edi, 945_\d{9}\.edi) in its /outbound in the hosted inbox$`),
		regexp.MustCompile(`(?m)^   demo-sftp: SFTP-1001\.edi moved to /archive on its server once the hub had committed it$`),
		// AS2: the partner's 850 gets a verified signed MDN; its 997 and 856 go back
		// over AS2.
		regexp.MustCompile(`(?m)^   demo-as2 sends AS2-3001\.edi signed and encrypted to POST /as2; the hub's signed MDN: processed, MIC \S+, sha-256 verified$`),
		regexp.MustCompile(`(?m)^   demo-as2: (997_\d{9}\.edi, 856_\d{9}\.edi|856_\d{9}\.edi, 997_\d{9}\.edi) received over AS2`),
		// UPS fails after two labels; its breaker opens and the others label the rest.
		regexp.MustCompile(`(?m)^   UPS answered 503 to \d+ label requests; its breaker is open\. Labels sold: UPS 2, FedEx \d+, USPS \d+\.$`),
	} {
		if !want.MatchString(stdout) {
			t.Errorf("stdout lacks %s:\n%s", want, stdout)
		}
	}
	shipped := regexp.MustCompile(`(?m)^(api|csv)\s+\S+\s+ord_\S+\s+shipped\s+accepted > routed > packed > labelled > shipped\s+\d+(\.\d+)?m?s$`).FindAllString(stdout, -1)
	confirmed := regexp.MustCompile(`(?m)^(shopify|magento|edi/sftp|edi/inbox|edi/as2)\s+\S+\s+ord_\S+\s+confirmed\s+accepted > routed > packed > labelled > shipped > confirmed\s+\d+(\.\d+)?m?s$`).FindAllString(stdout, -1)
	if len(shipped) != 9 || len(confirmed) != 6 {
		t.Errorf("%d orders shipped and %d confirmed in the table, want 9 and 6:\n%s", len(shipped), len(confirmed), stdout)
	}
	labels := regexp.MustCompile(`(?m)^ord_\S+\s+(ups|fedex|usps)-sim\s+\S+\s+\S+\s+(1Z[0-9A-Z]{16}|\d{12}|\d{22})\s+ZPL$`).FindAllString(stdout, -1)
	if len(labels) != 15 {
		t.Errorf("%d labels in the table, want 15:\n%s", len(labels), stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	cleanEnv(t)
	cases := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{args: []string{"frob"}, code: 1, stderr: "paklog: unknown command \"frob\" for \"paklog\"\n"},
		{args: []string{"improt"}, code: 1, stderr: "paklog: unknown command \"improt\" for \"paklog\"\n\nDid you mean this?\n\timport\n\n"},
		{args: []string{"dlq", "list", "--frob"}, code: 1, stderr: "paklog: unknown flag: --frob\n"},
		{args: []string{"--version"}, code: 0, stdout: "paklog version dev\n"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, stdout, stderr := paklog(t, c.args...)
			if code != c.code || stdout != c.stdout || stderr != c.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr %q", code, stdout, stderr, c.code, c.stdout, c.stderr)
			}
		})
	}
}
