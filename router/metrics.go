package router

import (
	"encoding/json"

	"github.com/prometheus/client_golang/prometheus"
)

type routerMetrics struct {
	parked     *prometheus.CounterVec
	duplicates *prometheus.CounterVec
	retries    *prometheus.CounterVec
	prepared   *prometheus.CounterVec
}

func newRouterMetrics(reg prometheus.Registerer) (*routerMetrics, error) {
	m := &routerMetrics{
		parked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paklog", Subsystem: "router", Name: "dlq_parked_total",
			Help: "Messages a handler parked in the dead-letter queue, by error class.",
		}, []string{"handler", "class"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paklog", Subsystem: "router", Name: "duplicates_skipped_total",
			Help: "Messages skipped because the handler had processed their idempotency key.",
		}, []string{"handler"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paklog", Subsystem: "router", Name: "retries_total",
			Help: "Retries of transient handler errors.",
		}, []string{"handler"}),
		prepared: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paklog", Subsystem: "router", Name: "prepared_total",
			Help: "Messages of a handler with read-ahead preparation: hit (prepared ahead, outside the consumer's transaction) or miss (prepared inside it).",
		}, []string{"handler", "outcome"}),
	}
	for _, c := range []prometheus.Collector{m.parked, m.duplicates, m.retries, m.prepared} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
