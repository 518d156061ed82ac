package config

import (
	"path/filepath"
	"reflect"
	"testing"
)

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     func(string) string
		want    func(*Config)
		wantErr string
	}{
		{name: "nothing set", env: env(), want: func(*Config) {}},
		{name: "empty values are unset", env: env(EnvStoreDriver, "", EnvHTTPAddr, ""), want: func(*Config) {}},
		{
			name: "all set",
			env: env(EnvStoreDriver, "postgres", EnvPostgresDSN, "postgres://x", EnvHTTPAddr, "0.0.0.0:9090",
				EnvDataDir, "/var/lib/paklog"),
			want: func(c *Config) {
				c.Store.Driver = DriverPostgres
				c.Store.Postgres.DSN = Secret{value: "postgres://x", kind: "env", name: EnvPostgresDSN}
				c.HTTP.Addr = "0.0.0.0:9090"
				c.Store.SQLite.Path = filepath.Join("/var/lib/paklog", "paklog.db")
			},
		},
		{
			name:    "invalid values are reported and not applied; valid ones are",
			env:     env(EnvStoreDriver, "Postgres", EnvHTTPAddr, "8080", EnvDataDir, "data"),
			want:    func(c *Config) { c.Store.SQLite.Path = filepath.Join("data", "paklog.db") },
			wantErr: "environment: PAKLOG_STORE_DRIVER: must be \"sqlite\" or \"postgres\", got \"Postgres\"\nenvironment: PAKLOG_HTTP_ADDR: must be host:port such as \"127.0.0.1:8080\" or \":8080\", got \"8080\"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Default()
			err := ApplyEnv(&got, tt.env)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("ApplyEnv: %v", err)
			}
			if tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("ApplyEnv error = %v\nwant %s", err, tt.wantErr)
			}
			want := Default()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ApplyEnv =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// TestPrecedence checks defaults < file < environment < flags.
func TestPrecedence(t *testing.T) {
	file := "http:\n  addr: 127.0.0.1:7000\n  max_body_bytes: 2MiB\nstore:\n  sqlite: {path: /file/paklog.db}\n"

	cfg, err := Parse("hub.yaml", []byte(file), env())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != "127.0.0.1:7000" || cfg.HTTP.MaxBodyBytes != 2*MiB || cfg.HTTP.ReadTimeout != 15*sec {
		t.Errorf("file over defaults: %+v", cfg.HTTP)
	}

	cfg, err = Parse("hub.yaml", []byte(file), env(EnvHTTPAddr, ":9000", EnvDataDir, "/env"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != ":9000" || cfg.Store.SQLite.Path != filepath.Join("/env", "paklog.db") || cfg.HTTP.MaxBodyBytes != 2*MiB {
		t.Errorf("environment over file: %+v %+v", cfg.HTTP, cfg.Store.SQLite)
	}

	// Flags are the caller's: set the field, validate again.
	cfg.HTTP.Addr = ":9100"
	if err := cfg.Validate(); err != nil || cfg.HTTP.Addr != ":9100" {
		t.Errorf("flags over environment: %v %v", cfg.HTTP.Addr, err)
	}
	cfg.HTTP.Addr = "bad"
	if err := cfg.Validate(); err == nil || err.Error() != `http.addr: must be host:port such as "127.0.0.1:8080" or ":8080", got "bad"` {
		t.Errorf("Validate after a bad flag = %v", err)
	}
}

// TestEnvSuppliesRequiredSecret: a file that selects PostgreSQL may leave the
// DSN to the environment.
func TestEnvSuppliesRequiredSecret(t *testing.T) {
	cfg, err := Parse("hub.yaml", []byte("store: {driver: postgres}\n"), env(EnvPostgresDSN, "postgres://x"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.Postgres.DSN.Value() != "postgres://x" || cfg.Store.Postgres.DSN.String() != "[REDACTED env:PAKLOG_POSTGRES_DSN]" {
		t.Errorf("DSN = %q %s", cfg.Store.Postgres.DSN.Value(), cfg.Store.Postgres.DSN)
	}
}
