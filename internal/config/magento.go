package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	magentoadapter "github.com/paklog/integration-hub/adapters/magento"
	"github.com/paklog/integration-hub/connectors/magento"
	magentomap "github.com/paklog/integration-hub/transforms/magento"
)

// Magento configures the Magento 2 / Adobe Commerce stores the hub polls for orders
// (GET /rest/<store_code>/V1/orders), and whose trigger endpoint,
// POST /webhooks/magento/{name}, fetches one order at once.
type Magento struct {
	Stores []MagentoStore `yaml:"stores"`
}

// MagentoStore is one Magento store view.
type MagentoStore struct {
	Name      string             `yaml:"name"`       // the store's key: source.partner of its orders and the {store} of the trigger URL
	BaseURL   string             `yaml:"base_url"`   // the Magento base URL without /rest, e.g. https://shop.example.com
	StoreCode string             `yaml:"store_code"` // the <store> of /rest/<store>/V1/orders; default "default"
	Auth      MagentoAuth        `yaml:"auth"`       // the integration's credentials
	Poll      MagentoPoll        `yaml:"poll"`       // how often and how much to poll
	Mapping   magentomap.Options `yaml:"mapping"`    // release rules and mapping (transforms/magento.Options)
	Trigger   MagentoTrigger     `yaml:"trigger"`    // who may call the trigger endpoint; empty turns it off
	Ship      MagentoShip        `yaml:"ship"`       // shipments back to Magento
}

// The ways the hub authenticates to Magento.
const (
	MagentoOAuth1 = string(magento.AuthOAuth1) // OAuth 1.0a with the integration's four credentials
	MagentoBearer = string(magento.AuthBearer) // the access token as a bearer token
)

// MagentoAuth is the Magento integration's credentials (System → Extensions →
// Integrations).
type MagentoAuth struct {
	Mode              string `yaml:"mode"`                // "oauth1" (default) or "bearer"
	ConsumerKey       Secret `yaml:"consumer_key"`        // oauth1
	ConsumerSecret    Secret `yaml:"consumer_secret"`     // oauth1
	AccessToken       Secret `yaml:"access_token"`        // oauth1
	AccessTokenSecret Secret `yaml:"access_token_secret"` // oauth1
	SignatureMethod   string `yaml:"signature_method"`    // oauth1: "HMAC-SHA256" (default; Magento 2.4.4+) or "HMAC-SHA1"
	Token             Secret `yaml:"token"`               // bearer: the integration's access token, or an admin token
}

// MagentoPoll tunes the order poll.
type MagentoPoll struct {
	Interval Duration `yaml:"interval"`  // between passes, 10s..24h; default 1m
	Overlap  Duration `yaml:"overlap"`   // each pass starts this far before the watermark, 1s..24h; default 5m
	PageSize int      `yaml:"page_size"` // orders per request, 1..500; default 50
	Lookback Duration `yaml:"lookback"`  // where the first pass of a store never polled starts, before now, 1m..365d; default 24h
}

// MagentoTrigger lists the credentials of POST /webhooks/magento/{name}: an
// X-Paklog-Signature header (hex HMAC-SHA256 of the body) under one of the secrets, or
// "Authorization: Bearer" with one of the tokens. Two of each during a rotation.
type MagentoTrigger struct {
	HMACSecrets  []Secret `yaml:"hmac_secrets"`  // keys of X-Paklog-Signature
	BearerTokens []Secret `yaml:"bearer_tokens"` // tokens of Authorization: Bearer
}

// MagentoShip is how shipments go back to Magento (POST /V1/order/{id}/ship).
type MagentoShip struct {
	Back string `yaml:"back"` // "on" (default): shipments go back to Magento; "off"
}

// Magento defaults.
const (
	DefaultMagentoPollInterval = magento.DefaultPollInterval
	DefaultMagentoOverlap      = magento.DefaultOverlap
	DefaultMagentoPageSize     = magento.DefaultPageSize
	DefaultMagentoLookback     = 24 * time.Hour
)

// Code is the store code, "default" when unset.
func (s MagentoStore) Code() string {
	if s.StoreCode == "" {
		return magento.DefaultStore
	}
	return s.StoreCode
}

// AuthMode is the authentication mode, "oauth1" when unset.
func (s MagentoStore) AuthMode() string {
	if s.Auth.Mode == "" {
		return MagentoOAuth1
	}
	return s.Auth.Mode
}

// ShipBack reports whether shipments go back to the store.
func (s MagentoStore) ShipBack() bool { return s.Ship.Back != "off" }

// MagentoClientConfig is the store's connection as connectors/magento takes it,
// secrets resolved.
func MagentoClientConfig(s MagentoStore) magento.Config {
	c := magento.Config{
		BaseURL:         s.BaseURL,
		Store:           s.Code(),
		Auth:            magento.AuthMode(s.AuthMode()),
		SignatureMethod: s.Auth.SignatureMethod,
	}
	switch c.Auth {
	case magento.AuthBearer:
		c.AccessToken = magento.Secret(s.Auth.Token.Value())
	default:
		c.ConsumerKey = s.Auth.ConsumerKey.Value()
		c.ConsumerSecret = magento.Secret(s.Auth.ConsumerSecret.Value())
		c.AccessToken = magento.Secret(s.Auth.AccessToken.Value())
		c.AccessTokenSecret = magento.Secret(s.Auth.AccessTokenSecret.Value())
	}
	return c
}

// MagentoPollerConfig is the store's poll settings as connectors/magento takes them,
// defaults applied. The logger is left for the adapter to set.
func MagentoPollerConfig(s MagentoStore) magento.PollerConfig {
	c := magento.PollerConfig{Interval: s.Poll.Interval.Std(), Overlap: s.Poll.Overlap.Std(), PageSize: s.Poll.PageSize}
	if c.Interval == 0 {
		c.Interval = DefaultMagentoPollInterval
	}
	if c.Overlap == 0 {
		c.Overlap = DefaultMagentoOverlap
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultMagentoPageSize
	}
	return c
}

// MagentoAdapterConfig is every configured store as adapters/magento takes them,
// secrets resolved; its Registerer is left for the hub to set.
func MagentoAdapterConfig(c Config) magentoadapter.Config {
	out := magentoadapter.Config{MaxBody: int64(c.HTTP.MaxBodyBytes)}
	for _, s := range c.Channels.Magento.Stores {
		sc := magentoadapter.StoreConfig{Name: s.Name, Client: MagentoClientConfig(s), Poll: MagentoPollerConfig(s),
			Lookback: s.Poll.Lookback.Std()}
		if sc.Lookback == 0 {
			sc.Lookback = DefaultMagentoLookback
		}
		for _, sec := range s.Trigger.HMACSecrets {
			sc.Trigger.HMACSecrets = append(sc.Trigger.HMACSecrets, sec.Value())
		}
		for _, tok := range s.Trigger.BearerTokens {
			sc.Trigger.BearerTokens = append(sc.Trigger.BearerTokens, tok.Value())
		}
		out.Stores = append(out.Stores, sc)
	}
	return out
}

// Mappings are the stores' release rules and mapping by store name, for
// router.MagentoConfig.Stores.
func (m Magento) Mappings() map[string]magentomap.Options {
	out := make(map[string]magentomap.Options, len(m.Stores))
	for _, s := range m.Stores {
		out[s.Name] = s.Mapping
	}
	return out
}

func (c Config) validateMagento(v *validator) {
	names := map[string]int{}
	for i, s := range c.Channels.Magento.Stores {
		field := fmt.Sprintf("channels.magento.stores[%d]", i)
		switch {
		case !topicPrefixRE.MatchString(s.Name) || s.Name == "" || len(s.Name) > 64:
			v.add(field+".name", fmt.Sprintf(`must be 1 to 64 letters, digits, "_", "." or "-", got %q`, s.Name))
		default:
			if first, dup := names[s.Name]; dup {
				v.add(field+".name", fmt.Sprintf("%q is already channels.magento.stores[%d]", s.Name, first))
			}
			names[s.Name] = i
		}
		u, err := url.Parse(s.BaseURL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			v.add(field+".base_url", fmt.Sprintf("must be the store's base URL such as \"https://shop.example.com\", got %q", s.BaseURL))
		case strings.Contains(u.Path+"/", "/rest/"):
			v.add(field+".base_url", fmt.Sprintf("must be the base URL without /rest (the hub adds /rest/<store_code>/V1), got %q", s.BaseURL))
		case u.RawQuery != "" || u.Fragment != "":
			v.add(field+".base_url", fmt.Sprintf("must not have a query or fragment, got %q", s.BaseURL))
		}
		if code := s.StoreCode; code != "" && (url.PathEscape(code) != code || code == "." || code == "..") {
			v.add(field+".store_code", fmt.Sprintf("must be a Magento store code such as \"default\" or \"en_us\", got %q", code))
		}
		c.validateMagentoAuth(v, field+".auth", s.Auth)

		p := s.Poll
		if p.Interval != 0 {
			v.durRange(field+".poll.interval", p.Interval, 10*sec, 24*60*minute)
		}
		if p.Overlap != 0 {
			v.durRange(field+".poll.overlap", p.Overlap, sec, 24*60*minute)
		}
		if p.PageSize != 0 {
			v.intRange(field+".poll.page_size", p.PageSize, 1, 500)
		}
		if p.Lookback != 0 {
			v.durRange(field+".poll.lookback", p.Lookback, minute, 365*24*60*minute)
		}

		for _, e := range joined(s.Mapping.Validate()) {
			// The options name their field first: "release_states[0]: ...".
			sub, msg, ok := strings.Cut(e.Error(), ": ")
			if !ok || strings.ContainsAny(sub, " \"") {
				v.add(field+".mapping", e.Error())
				continue
			}
			v.add(field+".mapping."+sub, msg)
		}

		for j, sec := range s.Trigger.HMACSecrets {
			v.secret(fmt.Sprintf("%s.trigger.hmac_secrets[%d]", field, j), sec, "is empty")
		}
		for j, tok := range s.Trigger.BearerTokens {
			v.secret(fmt.Sprintf("%s.trigger.bearer_tokens[%d]", field, j), tok, "is empty")
		}

		if s.Ship.Back != "" {
			v.oneOf(field+".ship.back", s.Ship.Back, "on", "off")
		}
	}
}

// validateMagentoAuth checks the credentials the mode needs; a reference that cannot be
// read is reported whatever the mode.
func (c Config) validateMagentoAuth(v *validator, field string, a MagentoAuth) {
	mode := a.Mode
	if mode == "" {
		mode = MagentoOAuth1
	}
	v.oneOf(field+".mode", mode, MagentoOAuth1, MagentoBearer)
	oauth := []struct {
		name string
		s    Secret
	}{
		{"consumer_key", a.ConsumerKey}, {"consumer_secret", a.ConsumerSecret},
		{"access_token", a.AccessToken}, {"access_token_secret", a.AccessTokenSecret},
	}
	switch mode {
	case MagentoOAuth1:
		for _, f := range oauth {
			v.secret(field+"."+f.name, f.s, `is required with auth.mode "oauth1" (System → Extensions → Integrations)`)
		}
		if a.SignatureMethod != "" {
			v.oneOf(field+".signature_method", a.SignatureMethod, magento.HMACSHA256, magento.HMACSHA1)
		}
		if !a.Token.IsZero() {
			v.add(field+".token", `is used with auth.mode "bearer" only; set mode: bearer or remove it`)
		}
	case MagentoBearer:
		v.secret(field+".token", a.Token, `is required with auth.mode "bearer" (the integration's access token)`)
		for _, f := range oauth {
			v.secretRef(field+"."+f.name, f.s)
		}
		if a.SignatureMethod != "" {
			v.add(field+".signature_method", `is used with auth.mode "oauth1" only`)
		}
	}
}
