package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// The environment variables [ApplyEnv] reads: the few settings ops set per
// machine. They override the file; command-line flags override them.
const (
	EnvStoreDriver = "PAKLOG_STORE_DRIVER" // store.driver: "sqlite" or "postgres"
	EnvPostgresDSN = "PAKLOG_POSTGRES_DSN" // store.postgres.dsn, as a Secret
	EnvHTTPAddr    = "PAKLOG_HTTP_ADDR"    // http.addr: host:port
	EnvDataDir     = "PAKLOG_DATA_DIR"     // store.sqlite.path becomes DIR/paklog.db
)

// ApplyEnv overrides c with the environment variables ops set per machine,
// read with getenv (os.Getenv when nil; tests pass their own). An unset or
// empty variable changes nothing. A variable whose value is invalid is not
// applied and is reported in an [*Error] whose File is "environment" and
// whose problems name the variable as their Field; the valid ones are
// applied all the same.
//
// Precedence is defaults < file < environment < flags: call ApplyEnv after
// reading the file ([Load] and [Parse] do) and before applying flags.
func ApplyEnv(c *Config, getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	var problems []Problem
	bad := func(name, msg string) {
		problems = append(problems, Problem{Field: name, Message: msg})
	}

	if v := getenv(EnvStoreDriver); v != "" {
		switch d := Driver(v); d {
		case DriverSQLite, DriverPostgres:
			c.Store.Driver = d
		default:
			bad(EnvStoreDriver, fmt.Sprintf("must be %s, got %q", quoteList([]string{string(DriverSQLite), string(DriverPostgres)}, "or"), v))
		}
	}
	if v := getenv(EnvPostgresDSN); v != "" {
		c.Store.Postgres.DSN = Secret{value: v, kind: "env", name: EnvPostgresDSN}
	}
	if v := getenv(EnvHTTPAddr); v != "" {
		if msg := checkAddr(v); msg != "" {
			bad(EnvHTTPAddr, msg)
		} else {
			c.HTTP.Addr = v
		}
	}
	if v := getenv(EnvDataDir); v != "" {
		c.Store.SQLite.Path = filepath.Join(v, "paklog.db")
	}

	if len(problems) == 0 {
		return nil
	}
	return &Error{File: "environment", Problems: problems}
}
