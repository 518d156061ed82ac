// Package hubtest starts hub pieces for tests: a router with the core handlers and the
// DLQ consumer, as `paklog serve` runs them, stopped when the test ends.
package hubtest

import (
	"context"
	"testing"
	"time"

	"github.com/paklog/integration-hub/dlq"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

// StartRouter runs a router over st with the core handlers, the DLQ consumer and what
// register adds, with short poll and retry intervals, until the test ends.
func StartRouter(t testing.TB, st *store.Store, register func(r *router.Router) error) *router.Router {
	t.Helper()
	r, err := router.New(st, router.Config{
		BatchSize:    10,
		PollInterval: 10 * time.Millisecond,
		Retry:        router.RetryConfig{MaxRetries: 2, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond},
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := router.RegisterCore(r); err != nil {
		t.Fatal(err)
	}
	if err := dlq.Register(r); err != nil {
		t.Fatal(err)
	}
	r.DeclareTopics(router.InboundTopic("api"), router.InboundTopic("csv"))
	if register != nil {
		if err := register(r); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case <-r.Running():
	case err := <-done:
		t.Fatalf("router stopped: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = r.Close()
		<-done
	})
	return r
}
