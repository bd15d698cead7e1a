package monitor

import "github.com/prometheus/client_golang/prometheus"

// lockdownMetrics count what someone trying the kiosk leaves behind: wrong
// technician PINs and card-reader pauses after a run of unknown cards.
type lockdownMetrics struct {
	pinFailures prometheus.Counter
	cardPauses  prometheus.Counter
	cardIgnored prometheus.Counter
}

func newLockdownMetrics(reg *prometheus.Registry) lockdownMetrics {
	l := lockdownMetrics{
		pinFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_technician_pin_failures_total", Help: "Wrong technician PINs typed.",
		}),
		cardPauses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_card_reader_pauses_total", Help: "Times the card reader was paused after a run of unregistered cards.",
		}),
		cardIgnored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_card_reads_ignored_total", Help: "Card reads ignored while the card reader was paused.",
		}),
	}
	reg.MustRegister(l.pinFailures, l.cardPauses, l.cardIgnored)
	return l
}

// PINFailure counts one wrong technician PIN.
func (m *Metrics) PINFailure() { m.lockdown.pinFailures.Inc() }

// CardPause counts one pause of the card reader.
func (m *Metrics) CardPause() { m.lockdown.cardPauses.Inc() }

// CardIgnored counts one card read ignored during a pause.
func (m *Metrics) CardIgnored() { m.lockdown.cardIgnored.Inc() }
