// Package storetest opens throw-away stores for tests: a SQLite file in t.TempDir() and
// a fresh PostgreSQL schema, dropped when the test ends.
//
// PostgreSQL is found at PAKLOG_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it does not answer the
// PostgreSQL half of a test is skipped — unless PAKLOG_REQUIRE_SERVICES=1 (CI sets it),
// in which case the test fails.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/paklog/integration-hub/internal/store"
)

// DefaultPostgres is the test database used when PAKLOG_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// RequireServices reports whether missing services must fail tests instead of skipping.
func RequireServices() bool { return os.Getenv("PAKLOG_REQUIRE_SERVICES") == "1" }

// SQLiteConfig is a store config for a new SQLite file under t.TempDir().
func SQLiteConfig(t testing.TB) store.Config {
	return store.Config{Driver: store.SQLite, SQLitePath: filepath.Join(t.TempDir(), "paklog.db"), Synchronous: "normal"}
}

// PostgresConfig creates a fresh schema on the test server and returns a config whose
// connections use it; the schema is dropped in t.Cleanup. It skips (or fails, when
// services are required) if the server does not answer.
func PostgresConfig(t testing.TB) store.Config {
	t.Helper()
	base := os.Getenv("PAKLOG_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgres
	}
	pcfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatalf("PAKLOG_TEST_POSTGRES: %v", err)
	}
	admin := stdlib.OpenDB(*pcfg)
	t.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		if RequireServices() {
			t.Fatalf("PostgreSQL at %s is required (PAKLOG_REQUIRE_SERVICES=1) but does not answer: %v", pcfg.Host, err)
		}
		t.Skipf("PostgreSQL at %s does not answer (%v); set PAKLOG_TEST_POSTGRES or PAKLOG_REQUIRE_SERVICES=1", pcfg.Host, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "paklog_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("creating test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Logf("dropping test schema %s: %v", schema, err)
		}
	})
	return store.Config{Driver: store.Postgres, PostgresDSN: WithSearchPath(t, base, schema), MaxConns: 16}
}

// WithSearchPath returns dsn with its search_path set to schema.
func WithSearchPath(t testing.TB, dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Fatalf("PAKLOG_TEST_POSTGRES must be a postgres:// URL, got %q", dsn)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens a store for cfg and closes it in t.Cleanup.
func Open(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("opening %s store: %v", cfg.Driver, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Dialects runs fn once per dialect as a subtest, with a fresh store each time.
func Dialects(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, Open(t, SQLiteConfig(t))) })
	t.Run("postgres", func(t *testing.T) { fn(t, Open(t, PostgresConfig(t))) })
}

// Count runs a COUNT query (with `?` placeholders) and returns the number.
func Count(t testing.TB, s *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.ReadDB().QueryRow(s.Rebind(q), args...).Scan(&n); err != nil && err != sql.ErrNoRows {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
