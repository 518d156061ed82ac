package config

import (
	shopifymap "github.com/paklog/integration-hub/transforms/shopify"

	x12map "github.com/paklog/integration-hub/transforms/x12"

	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is the hub's configuration: the YAML file, over [Default], with
// environment overrides applied. The yaml tags are the file's field names.
type Config struct {
	Store  Store  `yaml:"store"`
	HTTP   HTTP   `yaml:"http"`
	Router Router `yaml:"router"`
	Ingest Ingest `yaml:"ingest"`
	Log    Log    `yaml:"log"`

	// Partners are the trading partners: their X12 policy (acknowledgements,
	// mapping, ship notices) and their endpoints (SFTP, FTP, the hosted inbox, AS2).
	Partners []Partner `yaml:"partners"`
	// Channels are the sales channels the hub takes orders from.
	Channels Channels `yaml:"channels"`
	// Carriers are the carrier accounts labels are bought from and the rules that
	// choose among them.
	Carriers Carriers `yaml:"carriers"`
	// SFTPInbox is the hosted SFTP server partners with an inbox upload to.
	SFTPInbox SFTPInbox `yaml:"sftp_inbox"`
	// AS2 is our AS2 identity (POST /as2).
	AS2 AS2 `yaml:"as2"`
}

// Carriers configures label purchase: when the fulfilment core packs a shipment,
// the first rule that takes it names the carrier services to try, in order.
type Carriers struct {
	Accounts []CarrierAccount `yaml:"accounts"`
	Rules    []CarrierRule    `yaml:"rules"`
	Breaker  CarrierBreaker   `yaml:"breaker"`
	Retry    CarrierRetry     `yaml:"retry"`
	Labels   LabelStore       `yaml:"labels"`
}

// The carriers an account can be with.
const (
	CarrierFedEx = "fedex"
	CarrierUPS   = "ups"
	CarrierUSPS  = "usps"
)

// CarrierAccount is one account with a carrier's REST API.
type CarrierAccount struct {
	Name          string   `yaml:"name"`           // the account's key in rules: letters, digits, "_", "." and "-"
	Carrier       string   `yaml:"carrier"`        // "fedex", "ups" or "usps"
	URL           string   `yaml:"url"`            // API host, e.g. https://apis.fedex.com, https://onlinetools.ups.com, https://apis.usps.com
	ClientID      Secret   `yaml:"client_id"`      // OAuth client id (API key, consumer key)
	ClientSecret  Secret   `yaml:"client_secret"`  // OAuth client secret
	AccountNumber string   `yaml:"account_number"` // FedEx 9-digit account, UPS 6-character shipper number, USPS EPS account
	Timeout       Duration `yaml:"timeout"`        // one HTTP call, 1s..2m; default 20s
	Version       string   `yaml:"version"`        // UPS Ship API version; default v2409
	CRID          string   `yaml:"crid"`           // USPS Customer Registration ID (payer and label owner)
	MID           string   `yaml:"mid"`            // USPS Mailer ID
	ManifestMID   string   `yaml:"manifest_mid"`   // USPS manifest Mailer ID; default mid
}

// CarrierRule maps shipments to carrier services. Empty conditions match all.
type CarrierRule struct {
	Name          string   `yaml:"name"`
	ServiceLevels []string `yaml:"service_levels"` // ground, economy, two_day, next_day, same_day, freight, pickup; "" for none stated
	Countries     []string `yaml:"countries"`      // destination countries, ISO 3166-1 alpha-2
	Partners      []string `yaml:"partners"`       // source partners or shops
	MaxWeightLb   float64  `yaml:"max_weight_lb"`  // heaviest package the rule takes; 0 = no limit
	// Use lists "account:service" in the order to try, the service being the
	// carrier's own code: UPS "03", FedEx "FEDEX_GROUND", USPS "USPS_GROUND_ADVANTAGE".
	Use []string `yaml:"use"`
}

// CarrierBreaker is when a carrier account's circuit breaker opens (per operation).
type CarrierBreaker struct {
	MinRequests  int      `yaml:"min_requests"`  // calls a window needs before the ratio counts, 1..1000; default 5
	FailureRatio float64  `yaml:"failure_ratio"` // failures per call that open it, 0.01..1; default 0.5
	Window       Duration `yaml:"window"`        // counting window of a closed breaker, 1s..1h; default 60s
	OpenFor      Duration `yaml:"open_for"`      // how long it stays open before a probe, 1s..1h; default 30s
}

// CarrierRetry bounds the retries of one carrier call (transient and throttled
// errors only).
type CarrierRetry struct {
	Attempts int      `yaml:"attempts"` // calls, the first included, 1..10; default 3
	Initial  Duration `yaml:"initial"`  // first backoff cap, 1ms..10s; default 200ms (full jitter)
	Max      Duration `yaml:"max"`      // largest backoff cap, initial..1m; default 2s
	Budget   Duration `yaml:"budget"`   // all retries of a call, 100ms..5m; default 8s
}

// LabelStore says where label files go and how label work runs.
type LabelStore struct {
	Dir            string   `yaml:"dir"`             // directory for label files; empty keeps them in the database
	Workers        int      `yaml:"workers"`         // shipments labelled at once, 1..64; default 4
	ReconcileAfter Duration `yaml:"reconcile_after"` // settle time before an unknown outcome is looked up, 0..1h; default 30s
}

// Channels configures the sales channels.
type Channels struct {
	Shopify Shopify `yaml:"shopify"`
	Magento Magento `yaml:"magento"`
	Custom  Custom  `yaml:"custom"`
}

// Shopify configures the Shopify channel: the shops whose webhooks the hub takes at
// POST /webhooks/shopify.
type Shopify struct {
	Shops []Shop `yaml:"shops"`
}

// Shop is one Shopify shop.
type Shop struct {
	// Name is the shop's key: source.partner of its orders.
	Name string `yaml:"name"`
	// Domain is the shop's myshopify domain (X-Shopify-Shop-Domain).
	Domain string `yaml:"domain"`
	// Secrets are the app's client secrets that sign the webhooks: one, or two
	// during a rotation.
	Secrets []Secret `yaml:"secrets"`
	// Mapping is the shop's release rules and mapping (transforms/shopify.Options).
	Mapping shopifymap.Options `yaml:"mapping"`
	// Admin is the shop's Admin API access: the reconciliation poll, the webhook
	// subscription check and fulfilments back. Without it the hub only takes webhooks.
	Admin ShopAdmin `yaml:"admin"`
}

// Partner is one trading partner.
type Partner struct {
	// Name is the partner's key: the "partner" of its messages, its DLQ entries and
	// its control-number sequences. Letters, digits, "_", "." and "-".
	Name string `yaml:"name"`
	// X12 is how the hub reads and answers the partner's X12.
	X12 X12Partner `yaml:"x12"`
	// SFTP lists the partner's SFTP servers the hub polls for files.
	SFTP []SFTPPoll `yaml:"sftp"`
	// FTP lists the partner's FTP servers the hub polls for files.
	FTP []FTPPoll `yaml:"ftp"`
	// Inbox lets the partner upload to the hub's hosted SFTP inbox.
	Inbox Inbox `yaml:"inbox"`
	// Outbound is how files for the partner (acknowledgements, 856, 945) reach it.
	Outbound Outbound `yaml:"outbound"`
	// AS2 is the partner's AS2 profile: what it sends to POST /as2 and, with
	// outbound via as2, how files go back.
	AS2 AS2Partner `yaml:"as2"`
}

// X12Partner is a partner's X12 policy.
type X12Partner struct {
	// Ack is the functional acknowledgement the partner wants: "997", "999" or
	// "by_version" (999 for 005010 and later, 997 before; the default).
	Ack string `yaml:"ack"`
	// SkipAccepted sends no 997/999 for groups whose sets were all accepted.
	SkipAccepted bool `yaml:"skip_accepted"`
	// Mapping is how the partner's 850s and 940s become canonical orders: SKU
	// precedence, ship-to entity, service-level codes, carriers, … (the fields of
	// transforms/x12.Options; unset fields keep their defaults).
	Mapping x12map.Options `yaml:"mapping"`
	// ShipNotice is what the partner gets when its order ships: "856" (ship notice),
	// "945" (shipping advice) or "" (nothing). It goes back the partner's outbound way.
	ShipNotice string `yaml:"ship_notice"`
}

// Driver names the database that holds messages, the outbox and the DLQ.
type Driver string

// The store drivers.
const (
	DriverSQLite   Driver = "sqlite"   // one file, no server: the default, for one machine
	DriverPostgres Driver = "postgres" // PostgreSQL through pgx, for several hub processes
)

// Store selects and configures the database.
type Store struct {
	Driver   Driver   `yaml:"driver"`   // "sqlite" (default) or "postgres"
	SQLite   SQLite   `yaml:"sqlite"`   // used when Driver is "sqlite"
	Postgres Postgres `yaml:"postgres"` // used when Driver is "postgres"
}

// Synchronous is SQLite's PRAGMA synchronous: what an acknowledged write
// survives.
type Synchronous string

// The SQLite durability levels.
const (
	SyncFull   Synchronous = "full"   // a 202 survives power loss (default)
	SyncNormal Synchronous = "normal" // a 202 survives a process crash, not power loss
)

// SQLite configures the embedded database.
type SQLite struct {
	Path        string      `yaml:"path"`        // database file; default ./paklog-data/paklog.db (PAKLOG_DATA_DIR moves it)
	Synchronous Synchronous `yaml:"synchronous"` // "full" (default) or "normal"
}

// Postgres configures the PostgreSQL pool.
type Postgres struct {
	DSN      Secret `yaml:"dsn"`       // connection string; required when the driver is "postgres"
	MaxConns int    `yaml:"max_conns"` // pool size, 1..1000; default 16
}

// HTTP configures the one listener: webhooks, AS2, API, console, metrics.
type HTTP struct {
	Addr            string   `yaml:"addr"`             // host:port; default 127.0.0.1:8080; port 0 picks a free port
	MaxBodyBytes    Size     `yaml:"max_body_bytes"`   // request body cap (413 above it), 1KiB..1GiB; default 1MiB
	ReadTimeout     Duration `yaml:"read_timeout"`     // whole request, 1s..1h; default 15s
	WriteTimeout    Duration `yaml:"write_timeout"`    // whole response, 1s..1h; default 30s
	ShutdownTimeout Duration `yaml:"shutdown_timeout"` // grace for in-flight requests on stop, 0..10m; default 10s
}

// Router configures the Watermill router over the SQL store.
type Router struct {
	TopicPrefix    string   `yaml:"topic_prefix"`    // prefix for every topic, [A-Za-z0-9_.-]*, at most 64; default ""
	BatchSize      int      `yaml:"batch_size"`      // messages a consumer reads per transaction, 1..1000; default 100
	PollInterval   Duration `yaml:"poll_interval"`   // wait between empty polls, 1ms..10s; default 50ms
	HandlerTimeout Duration `yaml:"handler_timeout"` // one handler call, 10ms..1h; default 30s
	Retry          Retry    `yaml:"retry"`           // retries of transient errors before the DLQ
}

// Retry is the backoff for transient handler errors; permanent errors go to
// the DLQ at once.
type Retry struct {
	MaxRetries      int      `yaml:"max_retries"`      // 0..20; default 3
	InitialInterval Duration `yaml:"initial_interval"` // first wait, 1ms..1m; default 100ms
	MaxInterval     Duration `yaml:"max_interval"`     // longest wait, initial_interval..10m; default 2s
	Multiplier      float64  `yaml:"multiplier"`       // growth per retry, 1..10; default 2
}

// Ingest configures group commit of accepted requests: a request is
// acknowledged once the transaction holding it commits.
type Ingest struct {
	MaxBatch int      `yaml:"max_batch"` // requests committed together, 1..10000; default 256
	MaxWait  Duration `yaml:"max_wait"`  // longest a request waits for others, 0..1s; default 2ms
}

// Log configures the process logger.
type Log struct {
	Level  string `yaml:"level"`  // "debug", "info" (default), "warn" or "error"
	Format string `yaml:"format"` // "text" (default) or "json"
}

// SlogLevel returns Level as a [slog.Level]; info when Level is not valid.
func (l Log) SlogLevel() slog.Level {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return slog.LevelInfo
	}
	return lv
}

// Default returns the configuration used when there is no file, and the
// value of every field a file leaves out: SQLite in ./paklog-data, HTTP on
// 127.0.0.1:8080.
func Default() Config {
	return Config{
		Store: Store{
			Driver:   DriverSQLite,
			SQLite:   SQLite{Path: "./paklog-data/paklog.db", Synchronous: SyncFull},
			Postgres: Postgres{MaxConns: 16},
		},
		HTTP: HTTP{
			Addr:            "127.0.0.1:8080",
			MaxBodyBytes:    1 * MiB,
			ReadTimeout:     15 * sec,
			WriteTimeout:    30 * sec,
			ShutdownTimeout: 10 * sec,
		},
		Router: Router{
			BatchSize:      100,
			PollInterval:   50 * ms,
			HandlerTimeout: 30 * sec,
			Retry: Retry{
				MaxRetries:      3,
				InitialInterval: 100 * ms,
				MaxInterval:     2 * sec,
				Multiplier:      2,
			},
		},
		Ingest: Ingest{MaxBatch: 256, MaxWait: 2 * ms},
		Carriers: Carriers{
			Breaker: CarrierBreaker{MinRequests: 5, FailureRatio: 0.5, Window: 60 * sec, OpenFor: 30 * sec},
			Retry:   CarrierRetry{Attempts: 3, Initial: 200 * ms, Max: 2 * sec, Budget: 8 * sec},
			Labels:  LabelStore{Workers: 4, ReconcileAfter: 30 * sec},
		},
		SFTPInbox: SFTPInbox{Addr: "127.0.0.1:2222", MaxFileSize: 256 * MiB, IdleTimeout: 5 * minute, After: "archive"},
		AS2:       AS2{MaxBody: 64 * MiB, RefusedBodyMax: DefaultAS2RefusedBodyMax, ExpiryWarning: Duration(DefaultAS2ExpiryWarning)},
		Log:       Log{Level: "info", Format: "text"},
	}
}

// Units for the limits checked by Validate.
const (
	ms     = Duration(time.Millisecond)
	sec    = Duration(time.Second)
	minute = Duration(time.Minute)
)

var topicPrefixRE = regexp.MustCompile(`^[A-Za-z0-9_.-]*$`)

// Validate checks every field and returns an [*Error] listing every problem,
// each naming the field, the value and the limit; nil when c is valid. The
// problems carry no file or line: [Load] adds them.
func (c *Config) Validate() error {
	var v validator

	v.oneOf("store.driver", string(c.Store.Driver), string(DriverSQLite), string(DriverPostgres))
	switch c.Store.Driver {
	case DriverSQLite:
		if strings.TrimSpace(c.Store.SQLite.Path) == "" {
			v.add("store.sqlite.path", `is required when store.driver is "sqlite"`)
		}
	case DriverPostgres:
		v.secret("store.postgres.dsn", c.Store.Postgres.DSN, `is required when store.driver is "postgres"`)
	}
	v.oneOf("store.sqlite.synchronous", string(c.Store.SQLite.Synchronous), string(SyncFull), string(SyncNormal))
	v.intRange("store.postgres.max_conns", c.Store.Postgres.MaxConns, 1, 1000)

	if msg := checkAddr(c.HTTP.Addr); msg != "" {
		v.add("http.addr", msg)
	}
	if s := c.HTTP.MaxBodyBytes; s < KiB || s > GiB {
		v.add("http.max_body_bytes", fmt.Sprintf("must be between %s and %s, got %q", KiB, GiB, s))
	}
	v.durRange("http.read_timeout", c.HTTP.ReadTimeout, sec, 60*minute)
	v.durRange("http.write_timeout", c.HTTP.WriteTimeout, sec, 60*minute)
	v.durRange("http.shutdown_timeout", c.HTTP.ShutdownTimeout, 0, 10*minute)

	if p := c.Router.TopicPrefix; !topicPrefixRE.MatchString(p) {
		v.add("router.topic_prefix", fmt.Sprintf(`must contain only letters, digits, "_", "." and "-", got %q`, p))
	} else if len(p) > 64 {
		v.add("router.topic_prefix", fmt.Sprintf("must be at most 64 characters, got %d", len(p)))
	}
	v.intRange("router.batch_size", c.Router.BatchSize, 1, 1000)
	v.durRange("router.poll_interval", c.Router.PollInterval, ms, 10*sec)
	v.durRange("router.handler_timeout", c.Router.HandlerTimeout, 10*ms, 60*minute)
	r := c.Router.Retry
	v.intRange("router.retry.max_retries", r.MaxRetries, 0, 20)
	v.durRange("router.retry.initial_interval", r.InitialInterval, ms, minute)
	if r.MaxInterval < r.InitialInterval && r.InitialInterval >= ms && r.InitialInterval <= minute {
		v.add("router.retry.max_interval", fmt.Sprintf("must be at least router.retry.initial_interval (%s), got %q", r.InitialInterval, r.MaxInterval))
	} else {
		v.durRange("router.retry.max_interval", r.MaxInterval, ms, 10*minute)
	}
	if m := r.Multiplier; !(m >= 1 && m <= 10) {
		v.add("router.retry.multiplier", fmt.Sprintf("must be between 1 and 10, got %s", strconv.FormatFloat(m, 'g', -1, 64)))
	}

	v.intRange("ingest.max_batch", c.Ingest.MaxBatch, 1, 10000)
	v.durRange("ingest.max_wait", c.Ingest.MaxWait, 0, sec)

	seen := map[string]int{}
	for i, p := range c.Partners {
		field := fmt.Sprintf("partners[%d]", i)
		switch {
		case p.Name == "":
			v.add(field+".name", "is required")
		case !topicPrefixRE.MatchString(p.Name) || len(p.Name) > 64:
			v.add(field+".name", fmt.Sprintf(`must be 1 to 64 letters, digits, "_", "." or "-", got %q`, p.Name))
		default:
			if first, dup := seen[p.Name]; dup {
				v.add(field+".name", fmt.Sprintf("%q is already partners[%d]", p.Name, first))
			}
			seen[p.Name] = i
		}
		if p.X12.Ack != "" {
			v.oneOf(field+".x12.ack", p.X12.Ack, "997", "999", "by_version")
		}
		if err := p.X12.Mapping.Validate(); err != nil {
			v.add(field+".x12.mapping", err.Error())
		}
		if p.X12.ShipNotice != "" {
			v.oneOf(field+".x12.ship_notice", p.X12.ShipNotice, "856", "945")
		}
		c.validateFiles(&v, i, p)
	}
	c.validateInbox(&v)

	shops := map[string]int{}
	for i, sh := range c.Channels.Shopify.Shops {
		field := fmt.Sprintf("channels.shopify.shops[%d]", i)
		switch {
		case !topicPrefixRE.MatchString(sh.Name) || sh.Name == "" || len(sh.Name) > 64:
			v.add(field+".name", fmt.Sprintf(`must be 1 to 64 letters, digits, "_", "." or "-", got %q`, sh.Name))
		default:
			if first, dup := shops[sh.Name]; dup {
				v.add(field+".name", fmt.Sprintf("%q is already channels.shopify.shops[%d]", sh.Name, first))
			}
			shops[sh.Name] = i
		}
		if strings.TrimSpace(sh.Domain) == "" {
			v.add(field+".domain", "is required (the shop's myshopify.com domain)")
		}
		if len(sh.Secrets) == 0 {
			v.add(field+".secrets", "needs the app's client secret that signs the webhooks")
		}
		for j, sec := range sh.Secrets {
			v.secret(fmt.Sprintf("%s.secrets[%d]", field, j), sec, "is empty")
		}
		if err := sh.Mapping.Validate(); err != nil {
			v.add(field+".mapping", err.Error())
		}
	}

	c.validateShopAdmin(&v)
	c.validateAS2(&v)
	c.validateMagento(&v)
	c.validateCarriers(&v)
	c.validateCustom(&v)

	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")

	if len(v.problems) == 0 {
		return nil
	}
	return &Error{Problems: v.problems}
}

// validator collects the problems of Validate.
type validator struct{ problems []Problem }

func (v *validator) add(field, msg string) {
	v.problems = append(v.problems, Problem{Field: field, Message: msg})
}

func (v *validator) oneOf(field, got string, allowed ...string) {
	for _, a := range allowed {
		if got == a {
			return
		}
	}
	v.add(field, fmt.Sprintf("must be %s, got %q", quoteList(allowed, "or"), got))
}

func (v *validator) intRange(field string, got, lo, hi int) {
	if got < lo || got > hi {
		v.add(field, fmt.Sprintf("must be between %d and %d, got %d", lo, hi, got))
	}
}

func (v *validator) durRange(field string, got, lo, hi Duration) {
	if got < lo || got > hi {
		v.add(field, fmt.Sprintf("must be between %s and %s, got %q", lo, hi, got))
	}
}

// secret reports s when it is required: why its reference could not be read,
// or missing when it is unset.
func (v *validator) secret(field string, s Secret, missing string) {
	switch {
	case s.err != nil:
		v.add(field, s.err.Error())
	case s.value == "":
		v.add(field, missing)
	}
}

// checkAddr returns what is wrong with a host:port listen address, or "".
func checkAddr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf(`must be host:port such as "127.0.0.1:8080" or ":8080", got %q`, addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("must have a port number between 0 and 65535, got %q", addr)
	}
	return ""
}

// quoteList formats ["a", "b", "c"] as `"a", "b" or "c"`.
func quoteList(items []string, conj string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}

// ServiceLevels are the values of carriers.rules[].service_levels.
var ServiceLevels = []string{"", "ground", "economy", "two_day", "next_day", "same_day", "freight", "pickup"}

func (c *Config) validateCarriers(v *validator) {
	accounts := map[string]int{}
	for i, a := range c.Carriers.Accounts {
		field := fmt.Sprintf("carriers.accounts[%d]", i)
		switch {
		case !topicPrefixRE.MatchString(a.Name) || a.Name == "" || len(a.Name) > 64:
			v.add(field+".name", fmt.Sprintf(`must be 1 to 64 letters, digits, "_", "." or "-", got %q`, a.Name))
		default:
			if first, dup := accounts[a.Name]; dup {
				v.add(field+".name", fmt.Sprintf("%q is already carriers.accounts[%d]", a.Name, first))
			}
			accounts[a.Name] = i
		}
		v.oneOf(field+".carrier", a.Carrier, CarrierFedEx, CarrierUPS, CarrierUSPS)
		if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.add(field+".url", fmt.Sprintf("must be the carrier API's base URL such as \"https://apis.fedex.com\", got %q", a.URL))
		}
		v.secret(field+".client_id", a.ClientID, "is required (the OAuth client id from the carrier's developer portal)")
		v.secret(field+".client_secret", a.ClientSecret, "is required (the OAuth client secret)")
		if strings.TrimSpace(a.AccountNumber) == "" {
			v.add(field+".account_number", "is required (the account labels are billed to)")
		}
		if a.Timeout != 0 {
			v.durRange(field+".timeout", a.Timeout, sec, 2*minute)
		}
		if a.Carrier == CarrierUSPS {
			if a.CRID == "" {
				v.add(field+".crid", "is required for USPS (the Customer Registration ID that pays for the labels)")
			}
			if a.MID == "" {
				v.add(field+".mid", "is required for USPS (the Mailer ID of the tracking numbers)")
			}
		}
	}
	for i, r := range c.Carriers.Rules {
		field := fmt.Sprintf("carriers.rules[%d]", i)
		if r.Name == "" {
			v.add(field+".name", "is required (it is recorded with every label the rule chooses)")
		}
		for j, sl := range r.ServiceLevels {
			v.oneOf(fmt.Sprintf("%s.service_levels[%d]", field, j), sl, ServiceLevels...)
		}
		for j, cc := range r.Countries {
			if len(cc) != 2 {
				v.add(fmt.Sprintf("%s.countries[%d]", field, j), fmt.Sprintf("must be a two-letter country code, got %q", cc))
			}
		}
		if r.MaxWeightLb < 0 {
			v.add(field+".max_weight_lb", fmt.Sprintf("must be 0 (no limit) or more, got %g", r.MaxWeightLb))
		}
		if len(r.Use) == 0 {
			v.add(field+".use", `needs at least one "account:service", e.g. "ups-main:03"`)
		}
		for j, u := range r.Use {
			acct, svc, ok := strings.Cut(u, ":")
			f := fmt.Sprintf("%s.use[%d]", field, j)
			switch {
			case !ok || acct == "" || svc == "":
				v.add(f, fmt.Sprintf(`must be "account:service" such as "ups-main:03", got %q`, u))
			default:
				if _, known := accounts[acct]; !known {
					v.add(f, fmt.Sprintf("names account %q, which is not in carriers.accounts", acct))
				}
			}
		}
	}
	b := c.Carriers.Breaker
	v.intRange("carriers.breaker.min_requests", b.MinRequests, 1, 1000)
	if !(b.FailureRatio >= 0.01 && b.FailureRatio <= 1) {
		v.add("carriers.breaker.failure_ratio", fmt.Sprintf("must be between 0.01 and 1, got %g", b.FailureRatio))
	}
	v.durRange("carriers.breaker.window", b.Window, sec, 60*minute)
	v.durRange("carriers.breaker.open_for", b.OpenFor, sec, 60*minute)
	rt := c.Carriers.Retry
	v.intRange("carriers.retry.attempts", rt.Attempts, 1, 10)
	v.durRange("carriers.retry.initial", rt.Initial, ms, 10*sec)
	v.durRange("carriers.retry.max", rt.Max, rt.Initial, minute)
	v.durRange("carriers.retry.budget", rt.Budget, 100*ms, 5*minute)
	v.intRange("carriers.labels.workers", c.Carriers.Labels.Workers, 1, 64)
	v.durRange("carriers.labels.reconcile_after", c.Carriers.Labels.ReconcileAfter, 0, 60*minute)
}
