// Package store is the hub's one SQL database: SQLite (the embedded default, through the
// pure-Go modernc.org/sqlite driver, in WAL mode) or PostgreSQL (through pgx/v5's
// database/sql driver).
//
// The same database carries the hub's tables (accepted payloads, order ids, the order
// trail, processed idempotency keys, the dead-letter queue) and Watermill's SQL pub/sub
// tables, so that accepting a payload, recording its dedupe key and publishing the
// inbound message commit in one transaction: the transactional outbox by construction.
//
// Queries are written once with `?` placeholders; [Store.Rebind] turns them into `$n`
// for PostgreSQL. Migrations are versioned per dialect (migrations/<dialect>/*.sql) and
// applied by [Open].
//
// SQLite allows one writer at a time. The store keeps a single write connection whose
// transactions start with BEGIN IMMEDIATE, so writers queue in Go instead of spinning in
// SQLite's busy handler, and a separate pool of read-only connections for queries. Code
// that holds a write transaction (every router handler does) must do all its database
// work through that transaction: asking the write pool for a second connection while
// holding the first waits forever.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	wmsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect names the SQL database behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config says which database to open.
type Config struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver Dialect
	// SQLitePath is the database file; its directory is created if missing.
	SQLitePath string
	// Synchronous is SQLite's synchronous pragma: "full" (default; a commit survives a
	// power loss) or "normal" (a commit survives a process crash, not a power loss).
	Synchronous string
	// PostgresDSN is a pgx connection string (URL or key=value).
	PostgresDSN string
	// MaxConns caps PostgreSQL connections (default 16) and SQLite read connections
	// (default 4).
	MaxConns int
	// BusyTimeout is how long a SQLite writer waits for another process's write lock
	// (default 10s).
	BusyTimeout time.Duration
}

// Store is an open database with its migrations applied.
type Store struct {
	dialect Dialect
	db      *sql.DB // writes (and, on PostgreSQL, reads too)
	rdb     *sql.DB // reads
	logger  *slog.Logger

	schema  wmsql.SchemaAdapter
	offsets wmsql.OffsetsAdapter

	maxConns int // PostgreSQL pool size
}

//go:embed migrations
var migrations embed.FS

// Open opens the database and applies any migration it has not seen. Cancelling ctx
// aborts opening; it does not affect the returned Store.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var s *Store
	var err error
	switch cfg.Driver {
	case SQLite, "":
		s, err = openSQLite(cfg)
	case Postgres:
		s, err = openPostgres(cfg)
	default:
		return nil, fmt.Errorf("store driver %q: must be %q or %q", cfg.Driver, SQLite, Postgres)
	}
	if err != nil {
		return nil, err
	}
	s.logger = logger
	if err := s.db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connecting to %s: %w", s.dialect, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(cfg Config) (*Store, error) {
	path := cfg.SQLitePath
	if path == "" {
		path = filepath.Join("paklog-data", "paklog.db")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("creating the SQLite data directory: %w", err)
	}
	sync := strings.ToUpper(cfg.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlite synchronous %q: must be full or normal", cfg.Synchronous)
	}
	busy := cfg.BusyTimeout
	if busy == 0 {
		busy = 10 * time.Second
	}
	params := url.Values{}
	params.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "synchronous("+sync+")")
	params.Add("_pragma", "foreign_keys(1)")
	params.Set("_txlock", "immediate")
	params.Set("_time_format", "sqlite")
	w, err := sql.Open("sqlite", "file:"+path+"?"+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening SQLite database %s: %w", path, err)
	}
	// One writer: SQLite serialises writers anyway; queueing them in Go is fair and
	// fast, where SQLite's busy handler sleeps in steps of milliseconds.
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	rparams := url.Values{}
	rparams.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	rparams.Add("_pragma", "query_only(1)")
	rparams.Set("_time_format", "sqlite")
	r, err := sql.Open("sqlite", "file:"+path+"?"+rparams.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening SQLite database %s: %w", path, err)
	}
	n := cfg.MaxConns
	if n <= 0 {
		n = 4
	}
	r.SetMaxOpenConns(n)
	return &Store{
		dialect: SQLite,
		db:      w,
		rdb:     r,
		schema:  SQLiteSchema{},
		offsets: SQLiteOffsets{},
	}, nil
}

func openPostgres(cfg Config) (*Store, error) {
	if cfg.PostgresDSN == "" {
		return nil, errors.New("store driver postgres needs a DSN (store.postgres.dsn or PAKLOG_POSTGRES_DSN)")
	}
	pcfg, err := pgx.ParseConfig(cfg.PostgresDSN)
	if err != nil {
		// pgx's message may quote the DSN, password included: keep only its kind.
		return nil, errors.New("parsing the PostgreSQL DSN: not a valid URL or key=value connection string")
	}
	db := stdlib.OpenDB(*pcfg)
	n := cfg.MaxConns
	if n <= 0 {
		n = 16
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	return &Store{
		dialect:  Postgres,
		maxConns: n,
		db:       db,
		rdb:      db,
		schema:   PostgresSchema{},
		offsets:  PostgresOffsets{},
	}, nil
}

func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return err
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
		// Several hub instances may start at once on one database.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.db, sub, opts...)
	if err != nil {
		return fmt.Errorf("preparing %s migrations: %w", s.dialect, err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("applying %s migrations: %w", s.dialect, err)
	}
	for _, r := range results {
		s.logger.Info("applied migration", "dialect", s.dialect, "version", r.Source.Version, "file", filepath.Base(r.Source.Path))
	}
	return nil
}

// EnsureConns raises the PostgreSQL pool to at least n connections. Every consumer
// holds a connection while it polls and while its handler runs; a pool smaller than
// the consumers plus the intake's writers starves them. SQLite's single writer
// queues instead.
func (s *Store) EnsureConns(n int) {
	if s.dialect != Postgres || n <= s.maxConns {
		return
	}
	s.logger.Info("raising the PostgreSQL pool to fit the consumers", "from", s.maxConns, "to", n)
	s.maxConns = n
	s.db.SetMaxOpenConns(n)
	s.db.SetMaxIdleConns(n)
}

// Dialect reports which database this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB is the write pool. On SQLite it has one connection: see the package comment.
func (s *Store) DB() *sql.DB { return s.db }

// ReadDB is the pool for queries that write nothing.
func (s *Store) ReadDB() *sql.DB { return s.rdb }

// Close closes both pools.
func (s *Store) Close() error {
	var errs []error
	errs = append(errs, s.db.Close())
	if s.rdb != s.db {
		errs = append(errs, s.rdb.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Rebind rewrites `?` placeholders as `$1, $2, …` for PostgreSQL. Queries must not
// contain a literal `?`.
func (s *Store) Rebind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// InTx runs fn in a write transaction and commits it if fn returns nil. The transaction
// is rolled back if fn fails or panics, or if ctx ends first.
func (s *Store) InTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// Now is the time the store records, in UTC with microsecond precision (what both
// databases keep).
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
