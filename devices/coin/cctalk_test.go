package coin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/coin"
	"github.com/printroom/voucherkiosk/devices/devsim"
)

var simCoins = map[int]string{1: "EU010A", 2: "EU020A", 3: "EU050A", 4: "EU100A", 5: "EU200A"}
var ccValues = map[int]int64{1: 10, 2: 20, 3: 50, 4: 100}

func newCCTalk(t testing.TB, crc bool) (*devsim.CCTalk, *coin.CCTalk, *harness) {
	return newCCTalkWith(t, crc, func(*devsim.CCTalk) {})
}

func newCCTalkWith(t testing.TB, crc bool, setup func(*devsim.CCTalk)) (*devsim.CCTalk, *coin.CCTalk, *harness) {
	sim, err := devsim.NewCCTalk("", simCoins)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	sim.SetCRC16(crc)
	setup(sim)
	a, err := coin.NewCCTalk(coin.CCTalkConfig{Name: "coins", Port: sim.Path(), CRC16: crc, Values: ccValues,
		PollInterval: 20 * time.Millisecond, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h := run(t, a)
	waitFor(t, "connected", func() bool { return len(h.statuses(devices.StatusConnected)) == 1 })
	return sim, a, h
}

func TestCCTalkOverPty(t *testing.T) {
	for _, crc := range []bool{false, true} {
		sim, a, h := newCCTalk(t, crc)
		info := a.Info()
		if info.Manufacturer != "SIM" || info.Product != "CoinSim" || info.Serial != "123456" || info.Coins[3] != "EU050A" || len(info.Coins) != 5 {
			t.Fatalf("info %+v", info)
		}
		if sim.Mask() != 0x000F {
			t.Fatalf("inhibit mask %04x, want only the 4 configured positions", sim.Mask())
		}
		// Starts inhibited: a coin is returned, no event.
		if sim.Accepting() || sim.InsertCoin(1) {
			t.Fatal("acceptor accepts before SetAccepting(true)")
		}
		a.SetAccepting(true)
		waitFor(t, "accepting", sim.Accepting)
		if sim.InsertCoin(5) {
			t.Fatal("position 5 is not configured and must stay inhibited")
		}
		sim.InsertCoin(3)
		sim.InsertCoin(4)
		waitFor(t, "credits", func() bool { return len(h.credits()) == 2 })
		cs := h.credits()
		if cs[0].Key != "3" || cs[0].Amount != 50 || cs[0].Counter != 1 || cs[1].Key != "4" || cs[1].Counter != 2 {
			t.Fatalf("credits %+v", cs)
		}
		sim.Error(14)
		waitFor(t, "sensor blocked", func() bool { return len(h.statuses(devices.StatusSensorBlocked)) == 1 })
		sim.Error(1)
		waitFor(t, "coin rejected", func() bool { return len(h.statuses(devices.StatusCoinRejected)) == 1 })
		sim.Error(99)
		waitFor(t, "fault", func() bool { return len(h.statuses(devices.StatusFault)) == 1 })
		if d := h.statuses(devices.StatusFault)[0]; !strings.Contains(d, "99") {
			t.Fatalf("fault detail %q", d)
		}
		// A swallowed coin is money in the box: unrecognised cash with its
		// event counter, so the journal resumes after it on a restart.
		sim.Error(36)
		waitFor(t, "swallowed coin", func() bool { return len(h.unrecognisedEvents()) == 1 })
		if u := h.unrecognisedEvents()[0]; u.What != "swallowed coin" || u.Counter != 6 {
			t.Fatalf("swallowed coin %+v, want counter 6 (after 2 coins and 3 errors)", u)
		}
		a.SetAccepting(false)
		waitFor(t, "inhibited", func() bool { return !sim.Accepting() })

		// Power glitch: the driver notices and applies its inhibits again.
		a.SetAccepting(true)
		waitFor(t, "accepting", sim.Accepting)
		sim.ResetDevice()
		waitFor(t, "reset", func() bool { return len(h.statuses(devices.StatusReset)) == 1 })
		waitFor(t, "accepting after reset", func() bool { return sim.Accepting() && sim.Mask() == 0x000F })
		sim.InsertCoin(1)
		waitFor(t, "credit after reset", func() bool { return len(h.credits()) == 3 })
		if c := h.credits()[2]; c.Counter != 1 || c.Amount != 10 {
			t.Fatalf("credit after reset %+v", c)
		}
		h.stop()
		sim.Close()
	}
}

// A restart hands the driver the last journaled counter: coins the device
// buffered meanwhile are credited once, and more than 5 raise an alarm.
func TestCCTalkRestartAndLostEvents(t *testing.T) {
	sim, a, h := newCCTalk(t, false)
	a.SetAccepting(true)
	waitFor(t, "accepting", sim.Accepting)
	sim.InsertCoin(1)
	waitFor(t, "credit", func() bool { return len(h.credits()) == 1 })
	h.stop() // the kiosk stops; the acceptor stays enabled
	last := h.credits()[0].Counter

	for i := 0; i < 3; i++ {
		sim.InsertCoin(2)
	}
	b, _ := coin.NewCCTalk(coin.CCTalkConfig{Name: "coins", Port: sim.Path(), Values: ccValues, LastCounter: last,
		PollInterval: 20 * time.Millisecond})
	b.SetAccepting(true)
	h2 := run(t, b)
	waitFor(t, "buffered credits", func() bool { return len(h2.credits()) == 3 })
	if c := h2.credits(); c[0].Counter != 2 || c[2].Counter != 4 || sum(c) != 60 {
		t.Fatalf("credits after restart %+v", c)
	}
	h2.stop()
	last = b.LastCounter()

	for i := 0; i < 8; i++ { // more than the 5-deep buffer
		sim.InsertCoin(4)
	}
	c, _ := coin.NewCCTalk(coin.CCTalkConfig{Name: "coins", Port: sim.Path(), Values: ccValues, LastCounter: last,
		PollInterval: 20 * time.Millisecond})
	h3 := run(t, c)
	waitFor(t, "events lost", func() bool { return len(h3.statuses(devices.StatusEventsLost)) == 1 })
	waitFor(t, "the 5 buffered", func() bool { return len(h3.credits()) == 5 })
	if d := h3.statuses(devices.StatusEventsLost)[0]; !strings.HasPrefix(d, "3 events lost") {
		t.Fatalf("lost detail %q", d)
	}
	if got := h3.credits()[4].Counter; got != 12 {
		t.Fatalf("last counter %d, want 12", got)
	}
}

func TestCCTalkReconnect(t *testing.T) {
	sim, a, h := newCCTalk(t, false)
	a.SetAccepting(true)
	waitFor(t, "accepting", sim.Accepting)
	sim.Disconnect()
	waitFor(t, "disconnected", func() bool { return len(h.statuses(devices.StatusDisconnected)) == 1 })
	sim.ResetDevice() // a replugged device powers up inhibited
	if err := sim.Reconnect(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reconnected", func() bool { return len(h.statuses(devices.StatusConnected)) == 2 })
	waitFor(t, "accepting again", sim.Accepting)
	sim.InsertCoin(2)
	waitFor(t, "credit", func() bool { return len(h.credits()) == 1 })
	if n := len(h.statuses(devices.StatusDisconnected)); n != 1 {
		t.Fatalf("%d disconnected reports for one unplug", n)
	}
}

// A stream of coins over ccTalk: nothing lost, nothing doubled. Each coin
// goes in once the driver has polled since the last one, so the result
// cannot depend on the scheduler (the device buffers 5 events); the rate is
// printed, never asserted.
func TestCCTalkThroughput(t *testing.T) {
	sim, a, h := newCCTalk(t, false)
	a.SetAccepting(true)
	waitFor(t, "accepting", sim.Accepting)
	const n = 60
	var want int64
	start := time.Now()
	for i := 0; i < n; i++ {
		pos := 1 + i%4
		polls := sim.Polls()
		if !sim.InsertCoin(pos) {
			t.Fatal("coin refused")
		}
		want += ccValues[pos]
		waitFor(t, "a poll after the coin", func() bool { return sim.Polls() > polls+1 })
	}
	waitFor(t, "all credits", func() bool { return len(h.credits()) >= n })
	el := time.Since(start)
	cs := h.credits()
	if len(cs) != n || sum(cs) != want || len(h.statuses(devices.StatusEventsLost)) != 0 {
		t.Fatalf("%d credits summing %d, lost alarms %v; want %d summing %d", len(cs), sum(cs), h.statuses(devices.StatusEventsLost), n, want)
	}
	for i, c := range cs {
		if c.Counter != i+1 {
			t.Fatalf("credit %d has counter %d", i, c.Counter)
		}
	}
	t.Logf("ccTalk: %d coins in %v = %.1f coins/s, %d polls", n, el.Round(time.Millisecond), float64(n)/el.Seconds(), sim.Polls())
}

func TestNewCCTalkRejectsBadConfig(t *testing.T) {
	for _, c := range []coin.CCTalkConfig{
		{Port: "/dev/x", Values: ccValues},
		{Name: "c", Values: ccValues},
		{Name: "c", Port: "/dev/x"},
		{Name: "c", Port: "/dev/x", Values: map[int]int64{17: 10}},
		{Name: "c", Port: "/dev/x", Values: map[int]int64{1: 0}},
		{Name: "c", Port: "/dev/x", Values: ccValues, Address: 1},
		{Name: "c", Port: "/dev/x", Values: ccValues, LastCounter: 256},
	} {
		if _, err := coin.NewCCTalk(c); err == nil {
			t.Errorf("NewCCTalk(%+v) accepted", c)
		}
	}
}

// Native USB acceptors and some interfaces give no echo: the driver reads
// the reply straight away. Before the fix every request timed out.
func TestCCTalkWithoutEcho(t *testing.T) {
	for _, crc := range []bool{false, true} {
		sim, a, h := newCCTalkWith(t, crc, func(s *devsim.CCTalk) { s.SetEcho(false) })
		if info := a.Info(); info.Echo || info.Coins[3] != "EU050A" {
			t.Fatalf("info %+v, want no echo and the coin table", info)
		}
		a.SetAccepting(true)
		waitFor(t, "accepting", sim.Accepting)
		sim.InsertCoin(2)
		waitFor(t, "credit", func() bool { return len(h.credits()) == 1 })
		if c := h.credits()[0]; c.Amount != 20 {
			t.Fatalf("credit %+v", c)
		}
	}
}

// A NAK to "read coin id" (184) for a position the acceptor lacks means no
// coin there, not a broken connection. Before the fix it aborted start-up.
func TestCCTalkCoinIDNAKIsNoCoin(t *testing.T) {
	sim, a, h := newCCTalkWith(t, false, func(s *devsim.CCTalk) { s.SetCoinIDNAK(true) })
	if info := a.Info(); len(info.Coins) != len(simCoins) || !info.Echo {
		t.Fatalf("coins %v (echo %v), want the %d programmed ones", info.Coins, info.Echo, len(simCoins))
	}
	a.SetAccepting(true)
	waitFor(t, "accepting", sim.Accepting)
	sim.InsertCoin(1)
	waitFor(t, "credit", func() bool { return len(h.credits()) == 1 })
}
