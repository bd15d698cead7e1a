package coin_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/card"
	"github.com/printroom/voucherkiosk/devices/coin"
	"github.com/printroom/voucherkiosk/devices/devsim"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIdleCPU measures the process CPU while a card reader and a ccTalk
// acceptor (polled every 100 ms, the default) sit idle for 10 s. The
// simulators run in the same process, so the figure includes the simulated
// acceptor's answers: it is an upper bound. Goal: <= 0.5 % of a core.
func BenchmarkIdleCPU(b *testing.B) {
	rsim, err := devsim.NewRDM6300("")
	if err != nil {
		b.Fatal(err)
	}
	defer rsim.Close()
	csim, err := devsim.NewCCTalk("", simCoins)
	if err != nil {
		b.Fatal(err)
	}
	defer csim.Close()
	r, _ := card.NewReader(card.Config{Name: "card", Port: rsim.Path(), Format: "rdm6300"})
	a, _ := coin.NewCCTalk(coin.CCTalkConfig{Name: "coins", Port: csim.Path(), Values: ccValues})
	hr := run(b, r)
	ha := run(b, a)
	waitFor(b, "both connected", func() bool {
		return len(hr.statuses(devices.StatusConnected)) == 1 && len(ha.statuses(devices.StatusConnected)) == 1
	})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		polls0 := csim.Polls()
		c0, t0 := cpuTime(), time.Now()
		time.Sleep(10 * time.Second)
		cpu, wall := cpuTime()-c0, time.Since(t0)
		b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%cpu")
		b.ReportMetric(float64(csim.Polls()-polls0)/wall.Seconds(), "polls/s")
	}
	b.StopTimer()
	hr.stop()
	ha.stop()
}

// BenchmarkPulseThroughput feeds coins at the bridge's real pace (30 ms
// pulses, 200 ms between coins, a 100 ms gap) and prints coins per second
// and how many coins were misread. A figure, not a pass/fail: the timing of
// a pulse line depends on the machine's load (issue 11 item 13).
func BenchmarkPulseThroughput(b *testing.B) {
	sim, err := devsim.NewPulseBridge("", 30*time.Millisecond)
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	sim.SetCoinGap(200 * time.Millisecond)
	p, _ := coin.NewPulse(coin.PulseConfig{Name: "coins", Port: sim.Path(), Gap: 100 * time.Millisecond, Values: pulseValues})
	h := run(b, p)
	waitFor(b, "connected", func() bool { return len(h.statuses(devices.StatusConnected)) == 1 })
	seq := []int{1, 2, 5, 10}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		sim.InsertCoin(seq[i%len(seq)])
	}
	waitFor(b, "coins", func() bool { return h.coins() >= b.N || len(h.unrecognised()) > 0 })
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "coins/s")
	b.ReportMetric(float64(len(h.unrecognised())), "misread")
}
