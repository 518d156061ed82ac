// Package config loads the hub's one YAML configuration file, the file that
// `paklog serve --config hub.yaml` reads.
//
// # The file
//
// The file has one section per part of the hub: store (SQLite or
// PostgreSQL), http (the listener and its limits), router (Watermill topics,
// batching and retries), ingest (group commit of accepted requests), log, and
// the partners and channels lists that later issues fill in. Every field is
// optional: a field the file leaves out, or leaves empty (`key:`), keeps its
// value from [Default], so an empty file, or no file at all, is the default
// configuration. `paklog config example` prints a commented file that lists
// every field ([ExampleYAML]). A small production file:
//
//	store:
//	  driver: postgres
//	  postgres:
//	    dsn: {env: PAKLOG_POSTGRES_DSN}
//	http:
//	  addr: 0.0.0.0:8080
//	  max_body_bytes: 4MiB
//	log:
//	  format: json
//
// Sizes take the units B, KiB, MiB and GiB, or a plain number of bytes
// ([Size]); durations use Go syntax such as "100ms" or "1m30s" ([Duration]).
// Relative paths are relative to the working directory of the process.
//
// # Errors
//
// The whole file is checked before the hub starts, and every problem is
// reported at once as an [*Error], one line per problem with the file, the
// line and the field path: unknown fields (with a suggestion), values of the
// wrong type, values out of range and inconsistent combinations.
//
//	hub.yaml:3: stroe: unknown field (did you mean "store"?)
//	hub.yaml:7: http.max_body_bytes: must be between 1KiB and 1GiB, got "2GiB"
//	hub.yaml:14: store.postgres.dsn: is required when store.driver is "postgres"
//
// # Precedence
//
// Later sources override earlier ones:
//
//  1. the defaults ([Default]);
//  2. the file;
//  3. the environment variables ops set per machine ([ApplyEnv]):
//     PAKLOG_STORE_DRIVER, PAKLOG_POSTGRES_DSN, PAKLOG_HTTP_ADDR and
//     PAKLOG_DATA_DIR;
//  4. command-line flags.
//
// [Load] and [Parse] apply the first three and validate the result. The
// caller applies its flags to the returned [Config] and calls
// [Config.Validate] again.
//
// # Secrets
//
// A password or DSN is a [Secret]. The file names where it lives rather than
// holding it: `{env: NAME}` reads an environment variable and `{file: PATH}`
// reads a file (a mounted Kubernetes or Docker secret; surrounding white
// space is trimmed) when the configuration is loaded. A plain string is
// accepted too, but then the secret sits in the file. A secret that cannot be
// read is a problem only where it is needed: store.postgres.dsn must resolve
// when store.driver is "postgres", and may name an unset variable otherwise.
//
// A Secret never prints its value: String, GoString, Format (every fmt verb),
// MarshalJSON, MarshalYAML and LogValue all give "[REDACTED]" or
// "[REDACTED env:NAME]", so logging a whole Config with slog or fmt is safe.
// Only [Secret.Value] returns the value, for the code that dials the database.
package config
