package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// env returns a getenv over a fixed set of variables.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// lines joins its arguments with newlines, for files and expected errors.
func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

func TestParseProblems(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "missing-secret")
	tests := []struct {
		name string
		file string
		env  func(string) string
		want string // the whole Error() text
	}{
		{
			name: "brief examples",
			file: lines(
				"stroe:",                 // 1
				"  driver: sqlite",       // 2
				"http:",                  // 3
				"  addr: 127.0.0.1:8080", // 4
				"  max_body_bytes: 2GiB", // 5
				"store:",                 // 6
				"  driver: postgres",     // 7
				"  postgres:",            // 8
				"    max_conns: lots",    // 9
			),
			want: lines(
				`hub.yaml:1: stroe: unknown field (did you mean "store"?)`,
				`hub.yaml:5: http.max_body_bytes: must be between 1KiB and 1GiB, got "2GiB"`,
				`hub.yaml:8: store.postgres.dsn: is required when store.driver is "postgres"`,
				`hub.yaml:9: store.postgres.max_conns: must be an integer, got "lots"`,
			),
		},
		{
			name: "unknown fields at every depth",
			file: lines(
				"store:",
				"  drivr: sqlite",
				"  sqlite:",
				"    pth: x.db",
				"htpp:",
				"  addr: :80",
				"router:",
				"  retry:",
				"    max_retires: 2",
				"    backoff: 1s",
				"logging: {}",
			),
			want: lines(
				`hub.yaml:2: store.drivr: unknown field (did you mean "driver"?)`,
				`hub.yaml:4: store.sqlite.pth: unknown field (did you mean "path"?)`,
				`hub.yaml:5: htpp: unknown field (did you mean "http"?)`,
				`hub.yaml:9: router.retry.max_retires: unknown field (did you mean "max_retries"?)`,
				`hub.yaml:10: router.retry.backoff: unknown field (known fields: max_retries, initial_interval, max_interval, multiplier)`,
				`hub.yaml:11: logging: unknown field (known fields: store, http, router, ingest, log, partners, channels, carriers, sftp_inbox, as2)`,
			),
		},
		{
			name: "suggestion by case and by prefix",
			file: lines(
				"Store: {}",
				"http:",
				"  max_body: 1MiB",
				"  ReadTimeout: 1s",
			),
			want: lines(
				`hub.yaml:1: Store: unknown field (did you mean "store"?)`,
				`hub.yaml:3: http.max_body: unknown field (did you mean "max_body_bytes"?)`,
				`hub.yaml:4: http.ReadTimeout: unknown field (did you mean "read_timeout"?)`,
			),
		},
		{
			name: "type errors",
			file: lines(
				"store:",
				"  driver: [sqlite]",
				"  postgres:",
				"    max_conns: 1.5",
				"http:",
				"  max_body_bytes: lots",
				"  read_timeout: 30",
				"  write_timeout: {s: 1}",
				"router:",
				"  batch_size: 99999999999999999999",
				"  retry:",
				"    multiplier: fast",
				"ingest: 5",
				"log:",
				"  - level: info",
			),
			want: lines(
				`hub.yaml:2: store.driver: must be a string, got a list`,
				`hub.yaml:4: store.postgres.max_conns: must be an integer, got "1.5"`,
				`hub.yaml:6: http.max_body_bytes: must be a size such as "512KiB" or "1MiB" (units B, KiB, MiB, GiB, or a plain number of bytes), got "lots"`,
				`hub.yaml:7: http.read_timeout: must be a duration such as "250ms", "30s" or "1m30s" (a unit is required: ns, us, ms, s, m or h), got "30"`,
				`hub.yaml:8: http.write_timeout: must be a duration such as "250ms", "30s" or "1m30s", got a mapping`,
				`hub.yaml:10: router.batch_size: must be an integer, got "99999999999999999999"`,
				`hub.yaml:12: router.retry.multiplier: must be a number, got "fast"`,
				`hub.yaml:13: ingest: must be a mapping of fields, got "5"`,
				`hub.yaml:14: log: must be a mapping of fields, got a list`,
			),
		},
		{
			name: "out of range values",
			file: lines(
				"store:",
				"  driver: mysql",
				"  sqlite:",
				"    synchronous: off",
				"  postgres:",
				"    max_conns: 0",
				"http:",
				"  addr: localhost",
				"  max_body_bytes: 512",
				"  read_timeout: 2h",
				"  write_timeout: 500ms",
				"  shutdown_timeout: -1s",
				"router:",
				"  topic_prefix: a b",
				"  batch_size: 1001",
				"  poll_interval: 0s",
				"  handler_timeout: 1ms",
				"  retry:",
				"    max_retries: 21",
				"    initial_interval: 2m",
				"    max_interval: 11m",
				"    multiplier: 0.5",
				"ingest:",
				"  max_batch: 0",
				"  max_wait: 2s",
				"log:",
				"  level: verbose",
				"  format: xml",
			),
			want: lines(
				`hub.yaml:2: store.driver: must be "sqlite" or "postgres", got "mysql"`,
				`hub.yaml:4: store.sqlite.synchronous: must be "full" or "normal", got "off"`,
				`hub.yaml:6: store.postgres.max_conns: must be between 1 and 1000, got 0`,
				`hub.yaml:8: http.addr: must be host:port such as "127.0.0.1:8080" or ":8080", got "localhost"`,
				`hub.yaml:9: http.max_body_bytes: must be between 1KiB and 1GiB, got "512B"`,
				`hub.yaml:10: http.read_timeout: must be between 1s and 1h, got "2h"`,
				`hub.yaml:11: http.write_timeout: must be between 1s and 1h, got "500ms"`,
				`hub.yaml:12: http.shutdown_timeout: must be between 0s and 10m, got "-1s"`,
				`hub.yaml:14: router.topic_prefix: must contain only letters, digits, "_", "." and "-", got "a b"`,
				`hub.yaml:15: router.batch_size: must be between 1 and 1000, got 1001`,
				`hub.yaml:16: router.poll_interval: must be between 1ms and 10s, got "0s"`,
				`hub.yaml:17: router.handler_timeout: must be between 10ms and 1h, got "1ms"`,
				`hub.yaml:19: router.retry.max_retries: must be between 0 and 20, got 21`,
				`hub.yaml:20: router.retry.initial_interval: must be between 1ms and 1m, got "2m"`,
				`hub.yaml:21: router.retry.max_interval: must be between 1ms and 10m, got "11m"`,
				`hub.yaml:22: router.retry.multiplier: must be between 1 and 10, got 0.5`,
				`hub.yaml:24: ingest.max_batch: must be between 1 and 10000, got 0`,
				`hub.yaml:25: ingest.max_wait: must be between 0s and 1s, got "2s"`,
				`hub.yaml:27: log.level: must be "debug", "info", "warn" or "error", got "verbose"`,
				`hub.yaml:28: log.format: must be "text" or "json", got "xml"`,
			),
		},
		{
			name: "cross-field rules",
			file: lines(
				"store:",
				"  sqlite:",
				`    path: ""`,
				"http:",
				"  addr: :99999",
				"router:",
				"  retry:",
				"    initial_interval: 1s",
				"    max_interval: 500ms",
			),
			want: lines(
				`hub.yaml:3: store.sqlite.path: is required when store.driver is "sqlite"`,
				`hub.yaml:5: http.addr: must have a port number between 0 and 65535, got ":99999"`,
				`hub.yaml:9: router.retry.max_interval: must be at least router.retry.initial_interval (1s), got "500ms"`,
			),
		},
		{
			name: "required field missing: line of the nearest enclosing field",
			file: lines(
				"log:",
				"  level: debug",
				"store:",
				"  driver: postgres",
			),
			want: lines(
				`hub.yaml:3: store.postgres.dsn: is required when store.driver is "postgres"`,
			),
		},
		{
			name: "required field missing from the file entirely: no line",
			file: "log: {level: debug}\n",
			env:  env(EnvStoreDriver, "postgres"),
			want: lines(
				`hub.yaml: store.postgres.dsn: is required when store.driver is "postgres"`,
			),
		},
		{
			name: "problems without a line come last",
			file: lines("log: {level: loud}"),
			env:  env(EnvStoreDriver, "postgres"),
			want: lines(
				`hub.yaml:1: log.level: must be "debug", "info", "warn" or "error", got "loud"`,
				`hub.yaml: store.postgres.dsn: is required when store.driver is "postgres"`,
			),
		},
		{
			name: "secrets that cannot be read",
			file: lines(
				"store:",
				"  driver: postgres",
				"  postgres:",
				"    dsn: {env: PAKLOG_TEST_UNSET}",
			),
			want: lines(
				`hub.yaml:4: store.postgres.dsn: environment variable PAKLOG_TEST_UNSET is not set`,
			),
		},
		{
			name: "secret file that cannot be read",
			file: lines(
				"store:",
				"  driver: postgres",
				"  postgres:",
				"    dsn:",
				"      file: "+secretFile,
			),
			want: lines(
				`hub.yaml:4: store.postgres.dsn: reading secret file: open ` + secretFile + `: no such file or directory`,
			),
		},
		{
			name: "secret with both env and file",
			file: lines(
				"store:",
				"  postgres:",
				"    dsn: {env: A, file: /b}",
			),
			want: lines(
				`hub.yaml:3: store.postgres.dsn: must set one of env or file, not both`,
			),
		},
		{
			name: "secret with an unknown key",
			file: lines(
				"store:",
				"  driver: postgres",
				"  postgres:",
				"    dsn:",
				"      enw: PAKLOG_POSTGRES_DSN",
			),
			want: lines(
				`hub.yaml:5: store.postgres.dsn.enw: unknown field (did you mean "env"?)`,
			),
		},
		{
			name: "second document",
			file: lines(
				"store: {}",
				"---",
				"http: {}",
			),
			want: lines(
				`hub.yaml:2: a second YAML document (after ---) is not allowed: the configuration is one document`,
			),
		},
		{
			name: "bad secret variable name",
			file: lines(
				"store:",
				"  postgres:",
				`    dsn: {env: "my var"}`,
				"  driver: postgres",
			),
			want: lines(
				`hub.yaml:3: store.postgres.dsn.env: must be an environment variable name such as PAKLOG_POSTGRES_DSN, got "my var"`,
			),
		},
		{
			name: "secret as a list",
			file: lines(
				"store:",
				"  driver: postgres",
				"  postgres:",
				"    dsn: [a]",
			),
			want: lines(
				`hub.yaml:4: store.postgres.dsn: must be a string, {env: NAME} or {file: PATH}, got a list`,
			),
		},
		{
			name: "empty secret mapping",
			file: lines(
				"store:",
				"  postgres:",
				"    dsn: {}",
				"    max_conns: 2",
			),
			want: lines(
				`hub.yaml:3: store.postgres.dsn: must set env or file, such as {env: PAKLOG_POSTGRES_DSN}`,
			),
		},
		{
			name: "duplicate fields",
			file: lines(
				"http:",
				"  addr: :1",
				"  addr: :2",
				"http: {}",
			),
			want: lines(
				`hub.yaml:3: http.addr: is set twice (first on line 2)`,
				`hub.yaml:4: http: is set twice (first on line 1)`,
			),
		},
		{
			name: "partners must be mappings; a shop needs a domain and a secret",
			file: lines(
				"partners:",
				"  - name: acme",
				"  - just-a-string",
				"channels: {shopify: {shops: [{name: acme, mapping: {sku_fallbak: x}}]}}",
			),
			want: lines(
				`hub.yaml:3: partners[1]: must be a mapping of fields, got "just-a-string"`,
				`hub.yaml:4: channels.shopify.shops[0].mapping.sku_fallbak: unknown field (did you mean "sku_fallback"?)`,
				`hub.yaml:4: channels.shopify.shops[0].domain: is required (the shop's myshopify.com domain)`,
				`hub.yaml:4: channels.shopify.shops[0].secrets: needs the app's client secret that signs the webhooks`,
			),
		},
		{
			name: "partner problems name the partner's fields",
			file: lines(
				"partners:",
				"  - name: acme",
				"    x12:",
				"      ack: 998",
				"      mapping:",
				"        ship_to_entity: ST",
				"        sku_precedence: [VP, 7]",
				"        carrierz: {UPSN: UPS}",
				"  - name: acme",
				"  - x12: {skip_accepted: maybe}",
			),
			want: lines(
				`hub.yaml:4: partners[0].x12.ack: must be "997", "999" or "by_version", got "998"`,
				`hub.yaml:8: partners[0].x12.mapping.carrierz: unknown field (did you mean "carriers"?)`,
				`hub.yaml:9: partners[1].name: "acme" is already partners[0]`,
				`hub.yaml:10: partners[2].x12.skip_accepted: must be true or false, got "maybe"`,
				`hub.yaml:10: partners[2].name: is required`,
			),
		},
		{
			name: "carriers",
			file: lines(
				"carriers:",
				"  accounts:",
				"    - name: ups-main",
				"      carrier: dhl",
				"      url: onlinetools.ups.com",
				"      client_id: abc",
				"  rules:",
				"    - name: ground",
				"      service_levels: [ground, slow]",
				"      use: [\"ups-main:03\", \"fedex-main:FEDEX_GROUND\", \"usps\"]",
			),
			want: lines(
				`hub.yaml:3: carriers.accounts[0].client_secret: is required (the OAuth client secret)`,
				`hub.yaml:3: carriers.accounts[0].account_number: is required (the account labels are billed to)`,
				`hub.yaml:4: carriers.accounts[0].carrier: must be "fedex", "ups" or "usps", got "dhl"`,
				`hub.yaml:5: carriers.accounts[0].url: must be the carrier API's base URL such as "https://apis.fedex.com", got "onlinetools.ups.com"`,
				`hub.yaml:9: carriers.rules[0].service_levels[1]: must be "", "ground", "economy", "two_day", "next_day", "same_day", "freight" or "pickup", got "slow"`,
				`hub.yaml:10: carriers.rules[0].use[1]: names account "fedex-main", which is not in carriers.accounts`,
				`hub.yaml:10: carriers.rules[0].use[2]: must be "account:service" such as "ups-main:03", got "usps"`,
			),
		},
		{
			name: "merge keys",
			file: lines(
				"base: &b {addr: ':1'}",
				"http:",
				"  <<: *b",
			),
			want: lines(
				`hub.yaml:1: base: unknown field (known fields: store, http, router, ingest, log, partners, channels, carriers, sftp_inbox, as2)`,
				`hub.yaml:3: http.<<: merge keys are not supported: write the fields out`,
			),
		},
		{
			name: "not a mapping",
			file: "- store\n",
			want: lines(`hub.yaml:1: the configuration must be a mapping of sections (store:, http:, ...), got a list`),
		},
		{
			name: "syntax error",
			file: lines("store:", "  driver: [sqlite", "http: {}"),
			want: lines(`hub.yaml:1: invalid YAML: did not find expected ',' or ']'`),
		},
		{
			name: "tab indentation",
			file: "store:\n\tdriver: sqlite\n",
			want: lines(`hub.yaml:2: invalid YAML: found character that cannot start any token`),
		},
		{
			name: "invalid environment reported apart from the file",
			file: lines("http:", "  max_body_bytes: 0"),
			env:  env(EnvStoreDriver, "mysql", EnvHTTPAddr, "nope"),
			want: lines(
				`hub.yaml:2: http.max_body_bytes: must be between 1KiB and 1GiB, got "0B"`,
				`environment: PAKLOG_STORE_DRIVER: must be "sqlite" or "postgres", got "mysql"`,
				`environment: PAKLOG_HTTP_ADDR: must be host:port such as "127.0.0.1:8080" or ":8080", got "nope"`,
			),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := tt.env
			if getenv == nil {
				getenv = env()
			}
			cfg, err := Parse("hub.yaml", []byte(tt.file), getenv)
			if err == nil {
				t.Fatalf("Parse succeeded, want\n%s", tt.want)
			}
			if got := err.Error() + "\n"; got != tt.want {
				t.Errorf("Parse errors:\n%s\nwant:\n%s", got, tt.want)
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Parse error %T is not a *Error", err)
			}
			if !reflect.DeepEqual(cfg, Config{}) {
				t.Errorf("Parse returned a Config with its error: %+v", cfg)
			}
		})
	}
}

func TestParseErrorFields(t *testing.T) {
	file := lines(
		"store:",
		"  driver: postgres",
		"http:",
		"  max_body_bytes: 2GiB",
	)
	_, err := Parse("hub.yaml", []byte(file), env())
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Parse error = %v, want *Error", err)
	}
	want := &Error{File: "hub.yaml", Problems: []Problem{
		{Line: 1, Field: "store.postgres.dsn", Message: `is required when store.driver is "postgres"`},
		{Line: 4, Field: "http.max_body_bytes", Message: `must be between 1KiB and 1GiB, got "2GiB"`},
	}}
	if !reflect.DeepEqual(cerr, want) {
		t.Errorf("Parse error =\n%#v\nwant\n%#v", cerr, want)
	}
}

func TestParseKeepsDefaults(t *testing.T) {
	for _, file := range []string{"", "# only a comment\n", "---\n", "null\n", "store:\nhttp: ~\npartners:\n"} {
		cfg, err := Parse("hub.yaml", []byte(file), env())
		if err != nil {
			t.Fatalf("Parse(%q): %v", file, err)
		}
		if !reflect.DeepEqual(cfg, Default()) {
			t.Errorf("Parse(%q) =\n%+v\nwant Default()\n%+v", file, cfg, Default())
		}
	}

	file := lines(
		"http:",
		"  addr: 0.0.0.0:9000",
		"  max_body_bytes: 4194304",
		"router:",
		"  retry: {max_retries: 0, multiplier: 1.5}",
		"anchors-are-fine: &x 5", // unknown, on purpose below
	)
	_, err := Parse("hub.yaml", []byte(file), env())
	if err == nil || !strings.Contains(err.Error(), "anchors-are-fine: unknown field") {
		t.Fatalf("Parse error = %v, want the unknown field", err)
	}

	file = lines(
		"http:",
		"  addr: 0.0.0.0:9000",
		"  max_body_bytes: 4194304",
		"  read_timeout: &t 20s",
		"  write_timeout: *t",
		"router:",
		"  retry: {max_retries: 0, multiplier: 1.5}",
		"partners:",
		"  - name: acme",
		"    x12:",
		"      ack: \"999\"",
		"      skip_accepted: true",
		"      mapping: {ship_to_entity: BS, sku_precedence: [BP, VP], carriers: {ODFL: Old Dominion}, cancel_statuses: [F, D]}",
	)
	cfg, err := Parse("hub.yaml", []byte(file), env())
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.HTTP.Addr = "0.0.0.0:9000"
	want.HTTP.MaxBodyBytes = 4 * MiB
	want.HTTP.ReadTimeout = 20 * sec
	want.HTTP.WriteTimeout = 20 * sec
	want.Router.Retry.MaxRetries = 0
	want.Router.Retry.Multiplier = 1.5
	want.Partners = cfg.Partners
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", cfg, want)
	}
	p := cfg.Partners
	if len(p) != 1 || p[0].Name != "acme" || p[0].X12.Ack != "999" || !p[0].X12.SkipAccepted ||
		p[0].X12.Mapping.ShipToEntity != "BS" || !reflect.DeepEqual(p[0].X12.Mapping.SKUPrecedence, []string{"BP", "VP"}) ||
		p[0].X12.Mapping.Carriers["ODFL"] != "Old Dominion" || !reflect.DeepEqual(p[0].X12.Mapping.CancelStatuses, []string{"F", "D"}) {
		t.Fatalf("Partners = %+v", p)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv(EnvStoreDriver, "")
	t.Setenv(EnvPostgresDSN, "")
	t.Setenv(EnvHTTPAddr, "")
	t.Setenv(EnvDataDir, "")

	t.Run("file", func(t *testing.T) {
		p := write("good.yaml", "log: {level: debug}\n")
		cfg, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Log.Level != "debug" {
			t.Errorf("Log.Level = %q, want debug", cfg.Log.Level)
		}
	})
	t.Run("no file is the default", func(t *testing.T) {
		cfg, err := Load("")
		if err != nil || !reflect.DeepEqual(cfg, Default()) {
			t.Errorf("Load(\"\") = %+v, %v; want Default()", cfg, err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := Load(filepath.Join(dir, "nope.yaml"))
		if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "reading config: open ") {
			t.Errorf("Load(missing) = %v, want a wrapped fs.ErrNotExist", err)
		}
	})
	t.Run("bad file names the path", func(t *testing.T) {
		p := write("bad.yaml", "log:\n  level: loud\n")
		_, err := Load(p)
		want := p + `:2: log.level: must be "debug", "info", "warn" or "error", got "loud"`
		if err == nil || err.Error() != want {
			t.Errorf("Load(bad) = %v, want %s", err, want)
		}
	})
	t.Run("too large", func(t *testing.T) {
		p := write("big.yaml", "#"+strings.Repeat("x", int(MaxFileSize))+"\n")
		_, err := Load(p)
		want := p + ": file is larger than the 4MiB limit"
		if err == nil || err.Error() != want {
			t.Errorf("Load(big) = %v, want %s", err, want)
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv(EnvStoreDriver, "postgres")
		t.Setenv(EnvPostgresDSN, "postgres://u:hunter2@db/paklog")
		p := write("pg.yaml", "store: {driver: sqlite}\n")
		cfg, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Store.Driver != DriverPostgres || cfg.Store.Postgres.DSN.Value() != "postgres://u:hunter2@db/paklog" {
			t.Errorf("Store = %+v, want postgres from the environment", cfg.Store)
		}
	})
}

func TestLineOf(t *testing.T) {
	root, problems := parseYAML([]byte(lines(
		"store:",             // 1
		"  driver: postgres", // 2
		"  postgres:",        // 3
		"    max_conns: 3",   // 4
		"partners:",          // 5
		"  - id: a",          // 6
		"  - id: b",          // 7
		"    as2:",           // 8
		"      url: x",       // 9
	)))
	if problems != nil {
		t.Fatal(problems)
	}
	for path, want := range map[string]int{
		"store":                  1,
		"store.driver":           2,
		"store.postgres.dsn":     3,
		"store.postgres.dsn.env": 3,
		"store.sqlite.path":      1,
		"http.addr":              0,
		"partners[1]":            7,
		"partners[1].as2.url":    9,
		"partners[1].as2.cert":   8,
		"partners[5].id":         5,
		"":                       0,
	} {
		if got := lineOf(root, path); got != want {
			t.Errorf("lineOf(%q) = %d, want %d", path, got, want)
		}
	}
	if got := lineOf(nil, "store"); got != 0 {
		t.Errorf("lineOf(nil) = %d, want 0", got)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"store", "http", "router", "ingest", "log", "partners", "channels"}
	for name, want := range map[string]string{
		"stroe":    "store",
		"sotre":    "store",
		"STORE":    "store",
		"htp":      "http",
		"routers":  "router",
		"partner":  "partners",
		"chan":     "channels",
		"logs":     "log",
		"database": "",
		"x":        "",
		"ing":      "ingest",
	} {
		if got := suggest(name, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", name, got, want)
		}
	}
}
