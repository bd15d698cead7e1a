package monitor

import "github.com/prometheus/client_golang/prometheus"

// lockdownMetrics count what someone walking card numbers leaves behind:
// card-reader pauses after a run of unknown cards and the reads ignored
// meanwhile. (Wrong technician PINs: PINFailure in monitor.go.)
type lockdownMetrics struct {
	cardPauses  prometheus.Counter
	cardIgnored prometheus.Counter
}

func newLockdownMetrics(reg *prometheus.Registry) lockdownMetrics {
	l := lockdownMetrics{
		cardPauses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_card_reader_pauses_total", Help: "Times the card reader was paused after a run of unregistered cards.",
		}),
		cardIgnored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_card_reads_ignored_total", Help: "Card reads ignored while the card reader was paused.",
		}),
	}
	reg.MustRegister(l.cardPauses, l.cardIgnored)
	return l
}

// CardPause counts one pause of the card reader.
func (m *Metrics) CardPause() { m.lockdown.cardPauses.Inc() }

// CardIgnored counts one card read ignored during a pause.
func (m *Metrics) CardIgnored() { m.lockdown.cardIgnored.Inc() }
