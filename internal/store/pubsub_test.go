package store_test

import (
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
	tests.TestPubSub(t, universalFeatures, pubsub, group)
}

func TestUniversalPubSubPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("the universal suite takes a minute; run without -short")
	}
	get := perTestStore(func(t testing.TB) store.Config {
		cfg := storetest.PostgresConfig(t)
		// TestConcurrentSubscribe runs 50 subscribers of one group, each holding a
		// connection while it waits for its turn on the group's offsets row.
		cfg.MaxConns = 80
		return cfg
	})
	pubsub, group := universalConstructors(get)
	tests.TestPubSub(t, universalFeatures, pubsub, group)
}
