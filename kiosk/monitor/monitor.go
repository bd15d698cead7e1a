// Package monitor owns the kiosk's optional monitoring endpoint: Prometheus
// metrics on /metrics and the control status as JSON on /status, served on
// the `[monitor] listen` address.
// See docs/ARCHITECTURE.md for its place among the packages.
//
// Figures that are state (queue depth, device connected) are read when
// scraped from the same Status the control socket serves, so they cannot
// drift from what the technician sees; events (top-ups, API errors, fsync
// latency) are counted as they happen.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/printroom/voucherkiosk/kiosk/control"
)

// Metrics are the counters the daemon feeds as things happen.
type Metrics struct {
	reg       *prometheus.Registry
	topups    prometheus.Counter
	amount    prometheus.Counter
	apiErrors *prometheus.CounterVec
	fsync     prometheus.Histogram
	pinFails  prometheus.Counter
	lockdown  lockdownMetrics
}

// StatusFunc returns the daemon's current status; it must not block long.
type StatusFunc func(ctx context.Context) (control.Status, error)

// New builds the registry. status feeds the state gauges at scrape time.
func New(status StatusFunc) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.topups = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kiosk_topups_total", Help: "Top-ups committed in MyQ.",
	})
	m.amount = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kiosk_topup_amount_minor_total", Help: "Money committed in MyQ, in minor units (cents).",
	})
	m.apiErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kiosk_myq_errors_total", Help: "MyQ API errors by kind (transient, permanent, auth, ambiguous).",
	}, []string{"kind"})
	m.fsync = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kiosk_journal_fsync_seconds",
		Help:    "Time for a journal append to become durable (write + fsync).",
		Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1},
	})
	m.pinFails = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kiosk_technician_pin_failures_total", Help: "Wrong PINs entered at the technician menu.",
	})
	m.reg.MustRegister(m.topups, m.amount, m.apiErrors, m.fsync, m.pinFails,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&stateCollector{status: status})
	m.lockdown = newLockdownMetrics(m.reg)
	return m
}

// Topup counts one committed top-up of amount minor units.
func (m *Metrics) Topup(amount int64) {
	m.topups.Inc()
	m.amount.Add(float64(amount)) // a metric, not money: float is fine here
}

// APIError counts a MyQ error of a kind.
func (m *Metrics) APIError(kind string) { m.apiErrors.WithLabelValues(kind).Inc() }

// Fsync records how long one journal append took to become durable.
func (m *Metrics) Fsync(d time.Duration) { m.fsync.Observe(d.Seconds()) }

// PINFailure counts one wrong technician PIN.
func (m *Metrics) PINFailure() { m.pinFails.Inc() }

// Registry exposes the registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

var (
	descPending   = prometheus.NewDesc("kiosk_queue_pending", "Finished top-ups not yet committed in MyQ.", nil, nil)
	descOldest    = prometheus.NewDesc("kiosk_queue_oldest_pending_seconds", "Age of the oldest pending top-up.", nil, nil)
	descAttention = prometheus.NewDesc("kiosk_queue_needs_attention", "Pending top-ups MyQ refused for a lasting reason.", nil, nil)
	descOnline    = prometheus.NewDesc("kiosk_myq_online", "1 when the last MyQ request got an answer.", nil, nil)
	descUnclaimed = prometheus.NewDesc("kiosk_unclaimed_minor", "Cash inserted with no session, not yet claimed (minor units).", nil, nil)
	descDevice    = prometheus.NewDesc("kiosk_device_connected", "1 when the device's port is open and it answers.", []string{"device"}, nil)
	descService   = prometheus.NewDesc("kiosk_out_of_service", "1 when the kiosk cannot take money.", nil, nil)
	descBoxPieces = prometheus.NewDesc("kiosk_cashbox_pieces", "Coins or notes an acceptor put in its cash box since the last cash-up.", []string{"acceptor"}, nil)
	descBoxFill   = prometheus.NewDesc("kiosk_cashbox_fill_ratio", "Cash-box fill from pieces since the last cash-up over cashbox_capacity (0..1, more when overfull); only acceptors with a capacity.", []string{"acceptor"}, nil)
	descDamage    = prometheus.NewDesc("kiosk_journal_damage", "Journal byte ranges cut at start and kept, not yet acknowledged (kioskctl journal ack-damage).", nil, nil)
)

type stateCollector struct{ status StatusFunc }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPending, descOldest, descAttention, descOnline, descUnclaimed, descDevice, descService, descBoxPieces, descBoxFill, descDamage} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.status(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descPending, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(st.Pending))
	oldest := 0.0
	if st.Oldest != nil {
		oldest = time.Since(*st.Oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, oldest)
	ch <- prometheus.MustNewConstMetric(descAttention, prometheus.GaugeValue, float64(st.Attention))
	ch <- prometheus.MustNewConstMetric(descOnline, prometheus.GaugeValue, b2f(st.Online))
	ch <- prometheus.MustNewConstMetric(descUnclaimed, prometheus.GaugeValue, float64(st.Unclaimed))
	ch <- prometheus.MustNewConstMetric(descService, prometheus.GaugeValue, b2f(st.Phase == "out of service"))
	ch <- prometheus.MustNewConstMetric(descDamage, prometheus.GaugeValue, float64(len(st.JournalDamage)))
	for name, d := range st.Devices {
		ch <- prometheus.MustNewConstMetric(descDevice, prometheus.GaugeValue, b2f(d.Status != "disconnected" && d.Status != "unknown"), name)
	}
	for _, b := range st.Cashbox {
		ch <- prometheus.MustNewConstMetric(descBoxPieces, prometheus.GaugeValue, float64(b.Pieces), b.Acceptor)
		if b.Capacity > 0 {
			ch <- prometheus.MustNewConstMetric(descBoxFill, prometheus.GaugeValue, float64(b.Pieces)/float64(b.Capacity), b.Acceptor)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Server serves /metrics and /status.
type Server struct {
	srv *http.Server
	ln  net.Listener
	wg  sync.WaitGroup
}

// Options configures Listen.
type Options struct {
	// Addr is host:port. A host that is not loopback (an empty host
	// included: every interface) is refused unless AllowRemote.
	Addr        string
	AllowRemote bool
	// MaxConns bounds the connections served at once; more wait in the
	// kernel's backlog, holding no descriptor of ours. 0: DefaultMaxConns.
	MaxConns int
	Metrics  *Metrics
	Backend  control.Backend
	Log      *slog.Logger
}

// DefaultMaxConns is plenty for a scraper or two and a curl.
const DefaultMaxConns = 16

// timeouts bound every connection: a client that connects and stalls, or
// keeps a connection idle, cannot pile up descriptors and memory in the
// process that takes the money. Variables so tests can shorten them.
type timeouts struct {
	header, read, write, idle time.Duration
}

var defaultTimeouts = timeouts{header: 5 * time.Second, read: 10 * time.Second, write: 30 * time.Second, idle: 30 * time.Second}

// Loopback reports whether addr's host only reaches this machine.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Listen starts serving until Close.
func Listen(o Options) (*Server, error) {
	return listen(o, defaultTimeouts)
}

func listen(o Options, to timeouts) (*Server, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	remote := !Loopback(o.Addr)
	if remote && !o.AllowRemote {
		return nil, fmt.Errorf("monitor: listen %s: not a loopback address; set [monitor] allow_remote = true to serve the network", o.Addr)
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if remote {
		o.Log.Warn("monitor: serving /metrics and /status to the network (allow_remote = true)", "addr", o.Addr)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("monitor: listen %s: %w", o.Addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics.reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /status", control.Handler(o.Backend))
	s := &Server{ln: netutil.LimitListener(ln, o.MaxConns), srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: to.header,
		ReadTimeout:       to.read,
		WriteTimeout:      to.write,
		IdleTimeout:       to.idle,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn),
	}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.Log.Error("monitor stopped", "err", err)
		}
	}()
	return s, nil
}

// Addr is the address actually listened on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	s.wg.Wait()
	return err
}
