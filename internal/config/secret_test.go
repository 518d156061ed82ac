package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const hunter2 = "postgres://paklog:hunter2@db.internal/paklog"

func TestSecretSources(t *testing.T) {
	dir := t.TempDir()
	pgFile := filepath.Join(dir, "pg_dsn")
	if err := os.WriteFile(pgFile, []byte("\n  "+hunter2+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bigFile := filepath.Join(dir, "big")
	if err := os.WriteFile(bigFile, bytes.Repeat([]byte("x"), maxSecretFile+1), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		dsn        string
		env        func(string) string
		wantValue  string
		wantSource string
		wantErr    string // the whole error, or "" for none
	}{
		{name: "inline", dsn: `"` + hunter2 + `"`, wantValue: hunter2},
		{name: "env", dsn: "{env: PG}", env: env("PG", hunter2), wantValue: hunter2, wantSource: "env:PG"},
		{name: "env block style", dsn: "\n      env: PG", env: env("PG", hunter2), wantValue: hunter2, wantSource: "env:PG"},
		{name: "file, trimmed", dsn: "{file: " + pgFile + "}", wantValue: hunter2, wantSource: "file:" + pgFile},
		{
			name: "env unset", dsn: "{env: PG}",
			wantErr: `hub.yaml:4: store.postgres.dsn: environment variable PG is not set`,
		},
		{
			name: "file empty", dsn: "{file: " + emptyFile + "}",
			wantErr: `hub.yaml:4: store.postgres.dsn: secret file ` + emptyFile + ` is empty`,
		},
		{
			name: "file too large", dsn: "{file: " + bigFile + "}",
			wantErr: `hub.yaml:4: store.postgres.dsn: reading secret file: ` + bigFile + ` is larger than the 64KiB limit`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := "store:\n  driver: postgres\n  postgres:\n    dsn: " + tt.dsn + "\n"
			getenv := tt.env
			if getenv == nil {
				getenv = env()
			}
			cfg, err := Parse("hub.yaml", []byte(file), getenv)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Parse error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			dsn := cfg.Store.Postgres.DSN
			if dsn.Value() != tt.wantValue || dsn.Source() != tt.wantSource {
				t.Errorf("DSN = %q from %q, want %q from %q", dsn.Value(), dsn.Source(), tt.wantValue, tt.wantSource)
			}
		})
	}
}

func TestSecretUnusedReferenceIsNotAProblem(t *testing.T) {
	// The example file names PAKLOG_POSTGRES_DSN; with SQLite it need not be set.
	cfg, err := Parse("hub.yaml", []byte("store:\n  postgres:\n    dsn: {env: PAKLOG_POSTGRES_DSN}\n"), env())
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Store.Postgres.DSN.String(); got != "[REDACTED env:PAKLOG_POSTGRES_DSN]" {
		t.Errorf("DSN = %s", got)
	}
}

func TestSecretConstructors(t *testing.T) {
	if s := NewSecret("x"); s.Value() != "x" || s.Source() != "" || s.IsZero() {
		t.Errorf("NewSecret = %q %q %v", s.Value(), s.Source(), s.IsZero())
	}
	if s := EnvSecret("PG", env("PG", "v")); s.Value() != "v" || s.Source() != "env:PG" {
		t.Errorf("EnvSecret = %q %q", s.Value(), s.Source())
	}
	if s := EnvSecret("PG", env()); s.Value() != "" || s.IsZero() || s.err == nil {
		t.Errorf("EnvSecret(unset) = %q, zero %v, err %v", s.Value(), s.IsZero(), s.err)
	}
	p := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(p, []byte("v\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s := FileSecret(p); s.Value() != "v" || s.Source() != "file:"+p {
		t.Errorf("FileSecret = %q %q", s.Value(), s.Source())
	}
	if !(Secret{}).IsZero() {
		t.Error("Secret{}.IsZero() = false")
	}
}

func TestSecretUnmarshalYAML(t *testing.T) {
	t.Setenv("PAKLOG_TEST_SECRET", hunter2)
	var partner struct {
		Key Secret `yaml:"key"`
	}
	if err := yaml.Unmarshal([]byte("key: {env: PAKLOG_TEST_SECRET}\n"), &partner); err != nil {
		t.Fatal(err)
	}
	if partner.Key.Value() != hunter2 {
		t.Errorf("Key = %q", partner.Key.Value())
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("null"), &n); err != nil {
		t.Fatal(err)
	}
	if err := partner.Key.UnmarshalYAML(n.Content[0]); err != nil || !partner.Key.IsZero() {
		t.Errorf("UnmarshalYAML(null) = %q, %v; want an unset Secret", partner.Key.Value(), err)
	}
	for src, want := range map[string]string{
		"key: {env: PAKLOG_TEST_UNSET_SECRET}\n": "environment variable PAKLOG_TEST_UNSET_SECRET is not set",
		"key: {enw: X}\n":                        `line 1: enw: unknown field (did you mean "env"?)`,
		"key: [a]\n":                             `line 1: must be a string, {env: NAME} or {file: PATH}, got a list`,
	} {
		err := yaml.Unmarshal([]byte(src), &partner)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Unmarshal(%q) = %v, want %s", src, err, want)
		}
	}
}

// TestSecretRedaction checks every way a Config reaches a log or a screen.
func TestSecretRedaction(t *testing.T) {
	cfg, err := Parse("hub.yaml", []byte("store:\n  driver: postgres\n  postgres:\n    dsn: {env: PG}\n"), env("PG", hunter2))
	if err != nil {
		t.Fatal(err)
	}
	inline := Default()
	inline.Store.Postgres.DSN = NewSecret(hunter2)

	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"env", cfg, "[REDACTED env:PG]"},
		{"inline", inline, "[REDACTED]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dsn := c.cfg.Store.Postgres.DSN
			if dsn.Value() != hunter2 {
				t.Fatalf("Value() = %q, want the secret", dsn.Value())
			}
			var outputs []string
			for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10.3s"} {
				outputs = append(outputs, fmt.Sprintf(f, c.cfg), fmt.Sprintf(f, &c.cfg), fmt.Sprintf(f, dsn), fmt.Sprintf(f, &dsn))
			}
			outputs = append(outputs, fmt.Sprint(c.cfg), fmt.Sprintln(dsn), dsn.String(), dsn.GoString())

			var text, js bytes.Buffer
			for _, h := range []slog.Handler{slog.NewTextHandler(&text, nil), slog.NewJSONHandler(&js, nil)} {
				log := slog.New(h)
				log.Info("loaded", "config", c.cfg, "dsn", dsn, "store", c.cfg.Store, "pg", &c.cfg.Store.Postgres)
				log.Info("group", slog.Group("g", "dsn", dsn), slog.Any("dsnptr", &dsn))
			}
			outputs = append(outputs, text.String(), js.String())

			j, err := json.Marshal(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			y, err := yaml.Marshal(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			outputs = append(outputs, string(j), string(y))

			for _, out := range outputs {
				if strings.Contains(out, "hunter2") || strings.Contains(out, hex(hunter2)) {
					t.Errorf("output leaks the secret:\n%s", out)
				}
			}
			for _, out := range []string{fmt.Sprintf("%v", c.cfg), fmt.Sprintf("%+v", c.cfg), text.String(), js.String(), string(j)} {
				if !strings.Contains(out, c.want) {
					t.Errorf("output lacks %s:\n%s", c.want, out)
				}
			}
			if got := fmt.Sprintf("%#v", dsn); got != "config.Secret("+c.want+")" {
				t.Errorf("%%#v = %s", got)
			}
			if !strings.Contains(fmt.Sprintf("%#v", c.cfg), "config.Secret("+c.want+")") {
				t.Errorf("%%#v of the Config lacks the redacted Secret: %#v", c.cfg)
			}
			if got := dsn.LogValue(); got.String() != c.want {
				t.Errorf("LogValue = %s", got)
			}
		})
	}
}

func hex(s string) string { return fmt.Sprintf("%x", s) }

func TestSecretMarshalYAMLRoundTrip(t *testing.T) {
	cfg, err := Parse("hub.yaml", []byte("store:\n  driver: postgres\n  postgres:\n    dsn: {env: PG}\n"), env("PG", hunter2))
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "dsn:\n            env: PG\n") {
		t.Errorf("yaml.Marshal = \n%s\nwant the reference {env: PG}", out)
	}
	again, err := Parse("again.yaml", out, env("PG", hunter2))
	if err != nil {
		t.Fatalf("re-parsing marshalled config: %v\n%s", err, out)
	}
	if again.Store.Postgres.DSN != cfg.Store.Postgres.DSN || again.HTTP != cfg.HTTP || again.Router != cfg.Router {
		t.Errorf("round trip changed the config:\n%+v\n%+v", again, cfg)
	}
}
