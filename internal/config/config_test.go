package config

import (
	"errors"
	"log/slog"
	"testing"
)

func TestDefault(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	checks := []struct {
		field string
		got   any
		want  any
	}{
		{"store.driver", cfg.Store.Driver, DriverSQLite},
		{"store.sqlite.path", cfg.Store.SQLite.Path, "./paklog-data/paklog.db"},
		{"store.sqlite.synchronous", cfg.Store.SQLite.Synchronous, SyncFull},
		{"store.postgres.dsn", cfg.Store.Postgres.DSN.IsZero(), true},
		{"store.postgres.max_conns", cfg.Store.Postgres.MaxConns, 16},
		{"http.addr", cfg.HTTP.Addr, "127.0.0.1:8080"},
		{"http.max_body_bytes", cfg.HTTP.MaxBodyBytes.String(), "1MiB"},
		{"http.read_timeout", cfg.HTTP.ReadTimeout.String(), "15s"},
		{"http.write_timeout", cfg.HTTP.WriteTimeout.String(), "30s"},
		{"http.shutdown_timeout", cfg.HTTP.ShutdownTimeout.String(), "10s"},
		{"router.topic_prefix", cfg.Router.TopicPrefix, ""},
		{"router.batch_size", cfg.Router.BatchSize, 100},
		{"router.poll_interval", cfg.Router.PollInterval.String(), "50ms"},
		{"router.handler_timeout", cfg.Router.HandlerTimeout.String(), "30s"},
		{"router.retry.max_retries", cfg.Router.Retry.MaxRetries, 3},
		{"router.retry.initial_interval", cfg.Router.Retry.InitialInterval.String(), "100ms"},
		{"router.retry.max_interval", cfg.Router.Retry.MaxInterval.String(), "2s"},
		{"router.retry.multiplier", cfg.Router.Retry.Multiplier, 2.0},
		{"ingest.max_batch", cfg.Ingest.MaxBatch, 256},
		{"ingest.max_wait", cfg.Ingest.MaxWait.String(), "2ms"},
		{"log.level", cfg.Log.Level, "info"},
		{"log.format", cfg.Log.Format, "text"},
		{"partners", len(cfg.Partners), 0},
		{"channels.shopify.shops", len(cfg.Channels.Shopify.Shops), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("Default %s = %v, want %v", c.field, c.got, c.want)
		}
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	cfg := Default()
	cfg.Store.Driver = DriverPostgres
	cfg.HTTP.MaxBodyBytes = 2 * GiB
	cfg.Router.TopicPrefix = "x/y"
	cfg.Log.Level = ""

	err := cfg.Validate()
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Validate() = %v, want *Error", err)
	}
	want := []Problem{
		{Field: "store.postgres.dsn", Message: `is required when store.driver is "postgres"`},
		{Field: "http.max_body_bytes", Message: `must be between 1KiB and 1GiB, got "2GiB"`},
		{Field: "router.topic_prefix", Message: `must contain only letters, digits, "_", "." and "-", got "x/y"`},
		{Field: "log.level", Message: `must be "debug", "info", "warn" or "error", got ""`},
	}
	if len(cerr.Problems) != len(want) {
		t.Fatalf("Validate() =\n%v\nwant %d problems", err, len(want))
	}
	for i := range want {
		if cerr.Problems[i] != want[i] {
			t.Errorf("problem %d = %+v, want %+v", i, cerr.Problems[i], want[i])
		}
	}
	wantText := "store.postgres.dsn: is required when store.driver is \"postgres\"\n" +
		"http.max_body_bytes: must be between 1KiB and 1GiB, got \"2GiB\"\n" +
		"router.topic_prefix: must contain only letters, digits, \"_\", \".\" and \"-\", got \"x/y\"\n" +
		"log.level: must be \"debug\", \"info\", \"warn\" or \"error\", got \"\""
	if err.Error() != wantText {
		t.Errorf("Error() =\n%s\nwant\n%s", err, wantText)
	}
}

func TestValidateEdges(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // "" for valid
	}{
		{"port 0 picks a free port", func(c *Config) { c.HTTP.Addr = ":0" }, ""},
		{"IPv6 address", func(c *Config) { c.HTTP.Addr = "[::1]:8080" }, ""},
		{"named port", func(c *Config) { c.HTTP.Addr = "localhost:http" }, `http.addr: must have a port number between 0 and 65535, got "localhost:http"`},
		{"limits are inclusive", func(c *Config) {
			c.HTTP.MaxBodyBytes, c.Router.BatchSize, c.Ingest.MaxBatch, c.Ingest.MaxWait = GiB, 1000, 10000, sec
			c.Router.Retry.MaxRetries, c.Router.Retry.Multiplier = 20, 10
		}, ""},
		{"max_wait zero", func(c *Config) { c.Ingest.MaxWait = 0 }, ""},
		{"equal intervals", func(c *Config) { c.Router.Retry.MaxInterval = c.Router.Retry.InitialInterval }, ""},
		{"NaN multiplier", func(c *Config) { c.Router.Retry.Multiplier = nan() }, `router.retry.multiplier: must be between 1 and 10, got NaN`},
		{"topic prefix length", func(c *Config) {
			c.Router.TopicPrefix = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm"
		}, `router.topic_prefix: must be at most 64 characters, got 65`},
		{"postgres ignores sqlite path", func(c *Config) {
			c.Store.Driver, c.Store.SQLite.Path, c.Store.Postgres.DSN = DriverPostgres, "", NewSecret("postgres://x")
		}, ""},
		{"unread secret reference", func(c *Config) {
			c.Store.Driver, c.Store.Postgres.DSN = DriverPostgres, EnvSecret("PAKLOG_TEST_NOT_SET", env())
		}, `store.postgres.dsn: environment variable PAKLOG_TEST_NOT_SET is not set`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			tt.modify(&cfg)
			err := cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("Validate() = %v, want %s", err, tt.want)
			}
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestSlogLevel(t *testing.T) {
	for level, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "": slog.LevelInfo,
	} {
		if got := (Log{Level: level}).SlogLevel(); got != want {
			t.Errorf("SlogLevel(%q) = %v, want %v", level, got, want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{File: "hub.yaml", Problems: []Problem{
		{Line: 3, Field: "a.b", Message: "m1"},
		{Field: "c", Message: "m2"},
		{Line: 4, Message: "invalid YAML: x"},
	}}
	if got, want := e.Error(), "hub.yaml:3: a.b: m1\nhub.yaml: c: m2\nhub.yaml:4: invalid YAML: x"; got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	e.File = ""
	if got, want := e.Error(), "line 3: a.b: m1\nc: m2\nline 4: invalid YAML: x"; got != want {
		t.Errorf("Error() without a file =\n%s\nwant\n%s", got, want)
	}
}
