package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	magentoapi "github.com/paklog/integration-hub/connectors/magento"
	"github.com/paklog/integration-hub/internal/config"
)

const magentoYAML = `
channels:
  magento:
    stores:
      - name: us-store
        base_url: https://shop.example.com
        auth:
          consumer_key: {env: MAGENTO_KEY}
          consumer_secret: {env: MAGENTO_SECRET}
          access_token: {env: MAGENTO_TOKEN}
          access_token_secret: {env: MAGENTO_TOKEN_SECRET}
        mapping:
          release_states: [new, processing]
          service_levels: {ups_gnd: two_day}
        trigger:
          hmac_secrets: [{env: MAGENTO_TRIGGER_NEW}, {env: MAGENTO_TRIGGER_OLD}]
      - name: eu.store
        base_url: http://magento.internal:8080/shop
        store_code: en_gb
        auth:
          mode: bearer
          token: {env: MAGENTO_BEARER}
        poll: {interval: 30s, overlap: 10m, page_size: 100, lookback: 72h}
        trigger:
          bearer_tokens: [trigger-token]
        ship: {back: "off"}
`

var magentoEnv = map[string]string{
	"MAGENTO_KEY": "ck", "MAGENTO_SECRET": "cs", "MAGENTO_TOKEN": "at", "MAGENTO_TOKEN_SECRET": "ats",
	"MAGENTO_TRIGGER_NEW": "new-trigger", "MAGENTO_TRIGGER_OLD": "old-trigger", "MAGENTO_BEARER": "bearer-token",
}

func magentoGetenv(k string) string { return magentoEnv[k] }

func TestMagentoConfigLoads(t *testing.T) {
	cfg, err := config.Parse("hub.yaml", []byte(magentoYAML), magentoGetenv)
	if err != nil {
		t.Fatal(err)
	}
	stores := cfg.Channels.Magento.Stores
	if len(stores) != 2 {
		t.Fatalf("%d stores", len(stores))
	}
	us, eu := stores[0], stores[1]

	if got, want := config.MagentoClientConfig(us), (magentoapi.Config{BaseURL: "https://shop.example.com", Store: "default", Auth: magentoapi.AuthOAuth1,
		ConsumerKey: "ck", ConsumerSecret: "cs", AccessToken: "at", AccessTokenSecret: "ats"}); got != want {
		t.Errorf("us-store client %+v, want %+v", got, want)
	}
	if got, want := config.MagentoClientConfig(eu), (magentoapi.Config{BaseURL: "http://magento.internal:8080/shop", Store: "en_gb",
		Auth: magentoapi.AuthBearer, AccessToken: "bearer-token"}); got != want {
		t.Errorf("eu.store client %+v, want %+v", got, want)
	}
	for _, s := range stores {
		if err := config.MagentoClientConfig(s).Validate(); err != nil {
			t.Errorf("%s: the connector refuses the client config: %v", s.Name, err)
		}
	}
	if got := config.MagentoPollerConfig(us); got.Interval != time.Minute || got.Overlap != 5*time.Minute || got.PageSize != 50 {
		t.Errorf("us-store poll defaults %+v", got)
	}
	if got := config.MagentoPollerConfig(eu); got.Interval != 30*time.Second || got.Overlap != 10*time.Minute || got.PageSize != 100 {
		t.Errorf("eu.store poll %+v", got)
	}
	if !us.ShipBack() || eu.ShipBack() {
		t.Errorf("ship back: us %v, eu %v", us.ShipBack(), eu.ShipBack())
	}

	ac := config.MagentoAdapterConfig(cfg)
	if err := ac.Validate(); err != nil {
		t.Fatalf("the adapter refuses the config: %v", err)
	}
	if len(ac.Stores) != 2 || ac.MaxBody != int64(cfg.HTTP.MaxBodyBytes) {
		t.Fatalf("adapter config %+v", ac)
	}
	a, b := ac.Stores[0], ac.Stores[1]
	if a.Name != "us-store" || !slices.Equal(a.Trigger.HMACSecrets, []string{"new-trigger", "old-trigger"}) || a.Trigger.BearerTokens != nil ||
		a.Lookback != 24*time.Hour || a.Poll.PageSize != 50 {
		t.Errorf("us-store adapter config %+v", a)
	}
	if b.Name != "eu.store" || !slices.Equal(b.Trigger.BearerTokens, []string{"trigger-token"}) || b.Lookback != 72*time.Hour || b.Poll.Interval != 30*time.Second {
		t.Errorf("eu.store adapter config %+v", b)
	}

	m := cfg.Channels.Magento.Mappings()
	if !slices.Equal(m["us-store"].ReleaseStates, []string{"new", "processing"}) || m["us-store"].ServiceLevels["ups_gnd"] != canonical.ServiceTwoDay {
		t.Errorf("us-store mapping %+v", m["us-store"])
	}
	if _, ok := m["eu.store"]; !ok || len(m) != 2 {
		t.Errorf("mappings %+v", m)
	}
}

// TestMagentoExampleLoads: the commented store in hub.example.yaml, uncommented, is a
// valid configuration, so the example cannot drift from the code.
func TestMagentoExampleLoads(t *testing.T) {
	lines := strings.Split(string(config.ExampleYAML()), "\n")
	start := slices.Index(lines, "    # stores: one entry per store view:")
	end := slices.Index(lines, "    stores: []")
	if start < 0 || end < start {
		t.Fatal("the example's magento store is not where this test looks for it")
	}
	var b strings.Builder
	b.WriteString("channels:\n  magento:\n    stores:\n")
	for _, l := range lines[start+1 : end] {
		b.WriteString("    " + strings.TrimPrefix(l, "    # ") + "\n")
	}
	getenv := func(k string) string {
		if strings.HasPrefix(k, "MAGENTO_") {
			return "value-of-" + k
		}
		return ""
	}
	cfg, err := config.Parse("example", []byte(b.String()), getenv)
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	s := cfg.Channels.Magento.Stores[0]
	if s.Name != "us-store" || s.Trigger.HMACSecrets[0].Value() != "value-of-MAGENTO_US_TRIGGER_SECRET" || !s.ShipBack() {
		t.Errorf("store %+v", s)
	}
}

// validMagento is a valid configuration with one store, for the cases to break.
func validMagento(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Channels.Magento.Stores = []config.MagentoStore{{
		Name:    "us-store",
		BaseURL: "https://shop.example.com",
		Auth: config.MagentoAuth{ConsumerKey: config.NewSecret("ck"), ConsumerSecret: config.NewSecret("cs"),
			AccessToken: config.NewSecret("at"), AccessTokenSecret: config.NewSecret("ats")},
	}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestMagentoBadFieldsAreNamed(t *testing.T) {
	const at = "channels.magento.stores[0]."
	unset := config.EnvSecret("PAKLOG_TEST_MAGENTO_UNSET", func(string) string { return "" })
	tests := []struct {
		name   string
		change func(s *config.MagentoStore)
		field  string
		msg    string // a part of the message
	}{
		{"empty name", func(s *config.MagentoStore) { s.Name = "" }, at + "name", `got ""`},
		{"name with a slash", func(s *config.MagentoStore) { s.Name = "us/store" }, at + "name", `letters, digits`},
		{"no base URL", func(s *config.MagentoStore) { s.BaseURL = "" }, at + "base_url", `such as "https://shop.example.com"`},
		{"base URL not http", func(s *config.MagentoStore) { s.BaseURL = "ftp://shop.example.com" }, at + "base_url", `got "ftp://shop.example.com"`},
		{"base URL with /rest", func(s *config.MagentoStore) { s.BaseURL = "https://shop.example.com/rest/default" }, at + "base_url", "without /rest"},
		{"store code with a slash", func(s *config.MagentoStore) { s.StoreCode = "en/us" }, at + "store_code", `got "en/us"`},
		{"unknown auth mode", func(s *config.MagentoStore) { s.Auth.Mode = "basic" }, at + "auth.mode", `must be "oauth1" or "bearer", got "basic"`},
		{"oauth1 without consumer secret", func(s *config.MagentoStore) { s.Auth.ConsumerSecret = config.Secret{} }, at + "auth.consumer_secret", `required with auth.mode "oauth1"`},
		{"oauth1 secret unreadable", func(s *config.MagentoStore) { s.Auth.AccessTokenSecret = unset }, at + "auth.access_token_secret", "PAKLOG_TEST_MAGENTO_UNSET is not set"},
		{"oauth1 with a bearer token", func(s *config.MagentoStore) { s.Auth.Token = config.NewSecret("t") }, at + "auth.token", `set mode: bearer`},
		{"unknown signature method", func(s *config.MagentoStore) { s.Auth.SignatureMethod = "PLAINTEXT" }, at + "auth.signature_method", `got "PLAINTEXT"`},
		{"bearer without token", func(s *config.MagentoStore) { s.Auth.Mode = "bearer" }, at + "auth.token", `required with auth.mode "bearer"`},
		{"interval too short", func(s *config.MagentoStore) { s.Poll.Interval = config.Duration(time.Second) }, at + "poll.interval", `between 10s and 24h`},
		{"overlap too long", func(s *config.MagentoStore) { s.Poll.Overlap = config.Duration(48 * time.Hour) }, at + "poll.overlap", `got "48h"`},
		{"page size too large", func(s *config.MagentoStore) { s.Poll.PageSize = 501 }, at + "poll.page_size", "between 1 and 500, got 501"},
		{"negative page size", func(s *config.MagentoStore) { s.Poll.PageSize = -1 }, at + "poll.page_size", "got -1"},
		{"lookback too short", func(s *config.MagentoStore) { s.Poll.Lookback = config.Duration(time.Second) }, at + "poll.lookback", `got "1s"`},
		{"unknown release state", func(s *config.MagentoStore) { s.Mapping.ReleaseStates = []string{"paid"} }, at + "mapping.release_states[0]", `"paid" is not a Magento order state`},
		{"bad bundle shipment", func(s *config.MagentoStore) { s.Mapping.BundleShipment = "apart" }, at + "mapping.bundle_shipment", `"apart"`},
		{"empty trigger secret", func(s *config.MagentoStore) {
			s.Trigger.HMACSecrets = []config.Secret{config.NewSecret("a"), config.NewSecret("")}
		}, at + "trigger.hmac_secrets[1]", "is empty"},
		{"unreadable trigger token", func(s *config.MagentoStore) { s.Trigger.BearerTokens = []config.Secret{unset} }, at + "trigger.bearer_tokens[0]", "is not set"},
		{"ship back neither on nor off", func(s *config.MagentoStore) { s.Ship.Back = "yes" }, at + "ship.back", `must be "on" or "off", got "yes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validMagento(t)
			tt.change(&cfg.Channels.Magento.Stores[0])
			var cerr *config.Error
			if err := cfg.Validate(); !errors.As(err, &cerr) {
				t.Fatalf("Validate() = %v", err)
			}
			if len(cerr.Problems) != 1 || cerr.Problems[0].Field != tt.field || !strings.Contains(cerr.Problems[0].Message, tt.msg) {
				t.Errorf("problems %+v; want one for %s containing %q", cerr.Problems, tt.field, tt.msg)
			}
		})
	}
}

// Every problem of every store is reported, with its line in the file.
func TestMagentoEveryProblemWithItsLine(t *testing.T) {
	file := `channels:
  magento:
    stores:
      - name: us-store
        base_url: shop.example.com
        auth: {mode: bearer}
      - name: us-store
        base_url: https://shop.example.com
        auth: {mode: bearer, token: t}
        poll: {page_sise: 10}
`
	_, err := config.Parse("hub.yaml", []byte(file), func(string) string { return "" })
	want := []string{
		`hub.yaml:5: channels.magento.stores[0].base_url: must be the store's base URL such as "https://shop.example.com", got "shop.example.com"`,
		`hub.yaml:6: channels.magento.stores[0].auth.token: is required with auth.mode "bearer" (the integration's access token)`,
		`hub.yaml:7: channels.magento.stores[1].name: "us-store" is already channels.magento.stores[0]`,
		`hub.yaml:10: channels.magento.stores[1].poll.page_sise: unknown field (did you mean "page_size"?)`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("Parse =\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
}
