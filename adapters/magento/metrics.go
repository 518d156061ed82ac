package magento

import "github.com/prometheus/client_golang/prometheus"

// metrics are the adapter's Prometheus series. Only configured stores are labels:
// a trigger for an unknown store is not counted, so a caller cannot grow the series.
type metrics struct {
	orders   *prometheus.CounterVec
	triggers *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		orders: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paklog_magento_orders_total",
			Help: "Magento order versions handed to the intake, by result (stored, duplicate, conflict, failed)."}, []string{"store", "result"}),
		triggers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paklog_magento_triggers_total",
			Help: "Calls of a store's trigger endpoint, by result (queued, unauthorized, refused)."}, []string{"store", "result"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.orders, m.triggers} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// seed creates a store's series at zero, so they exist before the first event.
func (m *metrics) seed(store string) {
	for _, r := range []string{"stored", "duplicate", "conflict", "failed"} {
		m.orders.WithLabelValues(store, r)
	}
	for _, r := range []string{"queued", "unauthorized", "refused"} {
		m.triggers.WithLabelValues(store, r)
	}
}
