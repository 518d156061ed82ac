package store_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	wmsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"

	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
)

// universalFeatures is what the hub claims of its SQL transport on both dialects, and
// what Watermill's own universal pub/sub suite checks: see docs/TRANSPORT.md.
var universalFeatures = tests.Features{
	ConsumerGroups:      true,
	ExactlyOnceDelivery: true,
	GuaranteedOrder:     true,
	Persistent:          true,
}

// perTestStore opens one store per test of the suite: a test builds several publishers
// and subscribers that must see each other's messages (the suite's Persistent feature),
// while tests running in parallel stay apart, as separate hubs would.
func perTestStore(open func(testing.TB) store.Config) func(t *testing.T) *store.Store {
	var mu sync.Mutex
	stores := map[string]*store.Store{}
	return func(t *testing.T) *store.Store {
		mu.Lock()
		defer mu.Unlock()
		if s, ok := stores[t.Name()]; ok {
			return s
		}
		s := storetest.Open(t, open(t))
		stores[t.Name()] = s
		return s
	}
}

func universalConstructors(get func(t *testing.T) *store.Store) (tests.PubSubConstructor, tests.ConsumerGroupPubSubConstructor) {
	withGroup := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		s := get(t)
		pub, err := wmsql.NewPublisher(s.DB(), wmsql.PublisherConfig{
			SchemaAdapter:        s.Schema(0),
			AutoInitializeSchema: true,
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ack := 10 * time.Second
		sub, err := wmsql.NewSubscriber(s.DB(), wmsql.SubscriberConfig{
			ConsumerGroup:    group,
			AckDeadline:      &ack,
			PollInterval:     5 * time.Millisecond,
			ResendInterval:   5 * time.Millisecond,
			SchemaAdapter:    s.Schema(0),
			OffsetsAdapter:   s.Offsets(),
			InitializeSchema: true,
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return pub, sub
	}
	return func(t *testing.T) (message.Publisher, message.Subscriber) { return withGroup(t, "") }, withGroup
}

func TestUniversalPubSubSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("the universal suite takes a minute; run without -short")
	}
	get := perTestStore(storetest.SQLiteConfig)
	pubsub, group := universalConstructors(get)
	// One process holds SQLite's one write connection; a subscriber holds it from its
	// SELECT until its consumer takes the message. The suite's multiplied subscribers
	// subscribe 10 or 50 instances before reading anything, so the second waits for a
	// connection the first will not release: a harness shape the hub never has (one
	// subscriber per handler, read at once). Several hub processes on one SQLite file
	// is not a supported deployment: that is what PostgreSQL is for.
	features := universalFeatures
	features.RequireSingleInstance = true
	tests.TestPubSub(t, features, pubsub, group)
}

func TestUniversalPubSubPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("the universal suite takes a minute; run without -short")
	}
	get := perTestStore(func(t testing.TB) store.Config {
		cfg := storetest.PostgresConfig(t)
		// TestConcurrentSubscribe subscribes 50 subscribers of one group before it reads
		// any message; each holds a connection (the first waiting for its message to be
		// taken, the others for the group's offsets row), so the 51st subscription needs
		// a 51st connection. The others subscribe at most 10 (16 is enough); the server allows 100.
		cfg.MaxConns = 16
		if strings.Contains(t.Name(), "TestConcurrentSubscribe") {
			cfg.MaxConns = 56
		}
		return cfg
	})
	pubsub, group := universalConstructors(get)
	tests.TestPubSub(t, universalFeatures, pubsub, group)
}
