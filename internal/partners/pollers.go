package partners

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker"

	"github.com/paklog/integration-hub/adapters/filedrop"
	"github.com/paklog/integration-hub/adapters/ftp"
	"github.com/paklog/integration-hub/adapters/sftp"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/fault"
)

// BreakerSettings is when an endpoint's circuit breaker opens: after Failures
// connection failures in a row; it stays open for OpenFor, then lets one poll through.
type BreakerSettings struct {
	Failures uint32
	OpenFor  time.Duration
}

// DefaultBreaker opens after 3 failed connections in a row, for 1 minute.
var DefaultBreaker = BreakerSettings{Failures: 3, OpenFor: time.Minute}

// Metrics are the partner endpoints' Prometheus series.
type Metrics struct {
	polls     *prometheus.CounterVec
	files     *prometheus.CounterVec
	up        *prometheus.GaugeVec
	lastOK    *prometheus.GaugeVec
	breaker   *prometheus.GaugeVec
	delivered *prometheus.CounterVec
	pending   *prometheus.GaugeVec
	awaiting  *prometheus.GaugeVec
}

// NewMetrics registers the series with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paklog_partner_polls_total",
			Help: "Polls of partner endpoints, by result (ok, error)."}, []string{"partner", "endpoint", "result"}),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paklog_partner_files_total",
			Help: "Files seen on partner endpoints, by outcome (taken, duplicate, failed)."}, []string{"partner", "endpoint", "outcome"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "paklog_partner_endpoint_up",
			Help: "1 when the endpoint's last poll or delivery succeeded, 0 when it failed."}, []string{"partner", "endpoint"}),
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "paklog_partner_endpoint_last_success_timestamp_seconds",
			Help: "When the endpoint last worked, in Unix seconds."}, []string{"partner", "endpoint"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "paklog_partner_breaker_state",
			Help: "The endpoint's circuit breaker: 0 closed, 1 half-open, 2 open."}, []string{"partner", "endpoint"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paklog_partner_deliveries_total",
			Help: "Files put to partners, by result (delivered, retry, deferred, parked)."}, []string{"partner", "via", "result"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "paklog_partner_deliveries_pending",
			Help: "Files waiting to be put to a partner."}, []string{"partner"}),
		awaiting: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "paklog_partner_deliveries_awaiting_receipt",
			Help: "Files sent to a partner whose receipt (an asynchronous AS2 MDN) has not come yet."}, []string{"partner"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.polls, m.files, m.up, m.lastOK, m.breaker, m.delivered, m.pending, m.awaiting} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// newBreaker returns an endpoint's breaker, its state exported to m. Only failures to
// reach the server count (connection errors, transient failures): a changed host key
// stops the endpoint instead, and a refused file is that file's problem.
func newBreaker(name, partner, endpoint string, s BreakerSettings, m *Metrics, log *slog.Logger) *gobreaker.CircuitBreaker {
	m.breaker.WithLabelValues(partner, endpoint).Set(0)
	return gobreaker.NewCircuitBreaker(gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     s.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= s.Failures },
		IsSuccessful: func(err error) bool {
			if err == nil || errors.Is(err, filedrop.ErrPermanent) {
				return true
			}
			return !errors.Is(err, filedrop.ErrConnection) && fault.ClassOf(err) != fault.Transient
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			m.breaker.WithLabelValues(partner, endpoint).Set(float64(to))
			log.Warn("partner endpoint circuit breaker", "partner", partner, "endpoint", endpoint, "from", from.String(), "to", to.String())
		},
	})
}

// breakerDialer sends every connection attempt through the endpoint's breaker; an
// open breaker fails at once, as a connection error the poller backs off from.
type breakerDialer struct {
	d  filedrop.Dialer
	cb *gobreaker.CircuitBreaker
}

func (b breakerDialer) Dial(ctx context.Context) (filedrop.FS, error) {
	v, err := b.cb.Execute(func() (any, error) { return b.d.Dial(ctx) })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return nil, fmt.Errorf("%w: circuit breaker %s is open after repeated connection failures", filedrop.ErrConnection, b.cb.Name())
	}
	if err != nil {
		return nil, err
	}
	return v.(filedrop.FS), nil
}

// Poller is one partner endpoint being polled.
type Poller struct {
	Partner, Endpoint string
	P                 *filedrop.Poller
}

// BuildPollers returns a poller for every SFTP and FTP endpoint of the configured
// partners, each storing into sink behind its own breaker, reporting to h and m.
func BuildPollers(cfg config.Config, sink filedrop.Sink, h *Health, m *Metrics, bs BreakerSettings, log *slog.Logger) ([]Poller, error) {
	var out []Poller
	for _, p := range cfg.Partners {
		for i, e := range p.SFTP {
			ep := fmt.Sprintf("sftp[%d]", i)
			d, err := sftp.NewDialer(config.SFTPPollConfig(p, e))
			if err != nil {
				return nil, err
			}
			pl, err := build(p.Name, ep, config.SFTPPollConfig(p, e).Config, d, sink, h, m, bs, log.With("adapter", "sftp", "endpoint", ep))
			if err != nil {
				return nil, err
			}
			out = append(out, pl)
		}
		for i, e := range p.FTP {
			ep := fmt.Sprintf("ftp[%d]", i)
			fc, err := config.FTPPollConfig(p, e)
			if err != nil {
				return nil, err
			}
			d, err := ftp.NewDialer(fc)
			if err != nil {
				return nil, err
			}
			pl, err := build(p.Name, ep, fc.Config, d, sink, h, m, bs, log.With("adapter", "ftp", "endpoint", ep))
			if err != nil {
				return nil, err
			}
			out = append(out, pl)
		}
	}
	return out, nil
}

func build(partner, ep string, fc filedrop.Config, d filedrop.Dialer, sink filedrop.Sink, h *Health, m *Metrics, bs BreakerSettings, log *slog.Logger) (Poller, error) {
	cb := newBreaker(partner+"/"+ep, partner, ep, bs, m, log)
	p, err := filedrop.New(fc, breakerDialer{d: d, cb: cb}, sink, log)
	if err != nil {
		return Poller{}, err
	}
	h.Register(partner, ep)
	p.Observe(func(rep filedrop.Report, err error) {
		m.files.WithLabelValues(partner, ep, "taken").Add(float64(len(rep.Taken)))
		m.files.WithLabelValues(partner, ep, "duplicate").Add(float64(len(rep.Duplicates)))
		m.files.WithLabelValues(partner, ep, "failed").Add(float64(len(rep.Errors)))
		if err != nil {
			m.polls.WithLabelValues(partner, ep, "error").Inc()
			m.up.WithLabelValues(partner, ep).Set(0)
			h.Failed(partner, ep, err, errors.Is(err, filedrop.ErrPermanent))
			return
		}
		m.polls.WithLabelValues(partner, ep, "ok").Inc()
		m.up.WithLabelValues(partner, ep).Set(1)
		m.lastOK.WithLabelValues(partner, ep).SetToCurrentTime()
		h.OK(partner, ep)
	})
	return Poller{Partner: partner, Endpoint: ep, P: p}, nil
}

// RunPollers runs every poller until ctx ends, each on its own. A poller that stops
// for good (a changed host key) is logged and shown on /readyz; the others go on.
func RunPollers(ctx context.Context, ps []Poller, log *slog.Logger) {
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() {
			err := p.P.Run(ctx)
			if ctx.Err() == nil && err != nil {
				log.Error("partner endpoint stopped; fix its configuration or the server and restart", "partner", p.Partner, "endpoint", p.Endpoint, "error", err)
			}
		})
	}
	wg.Wait()
}
