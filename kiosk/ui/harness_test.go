package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/kiosk"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // golden screens show local times
	goleak.VerifyTestMain(m)
}

// chanEngine is the view's input: states go in on a channel, keys the UI
// forwards are recorded.
type chanEngine struct {
	states chan kiosk.State
	mu     sync.Mutex
	keys   []kiosk.Key
	unsub  int
	// barriers counts barrierKey presses (keysSoFar).
	barriers int
}

func newChanEngine() *chanEngine { return &chanEngine{states: make(chan kiosk.State, 64)} }

func (e *chanEngine) Key(k kiosk.Key) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if k == barrierKey {
		e.barriers++
		return
	}
	e.keys = append(e.keys, k)
}

// barrierKey is no key of the engine's: keysSoFar sends it behind the keys
// already on their way, so a "no key reached the engine" check cannot pass
// just because the pump has not delivered a key yet.
const barrierKey kiosk.Key = -1

// keysSoFar returns every key the UI sent the engine before now.
func (h *harness) keysSoFar() []kiosk.Key {
	h.t.Helper()
	var want int
	h.onLoop(func() {
		h.eng.mu.Lock()
		want = h.eng.barriers + 1
		h.eng.mu.Unlock()
		h.u.sendKey(barrierKey)
	})
	h.waitFor("the keys sent so far at the engine", func() bool {
		h.eng.mu.Lock()
		defer h.eng.mu.Unlock()
		return h.eng.barriers >= want
	})
	return h.eng.gotKeys()
}

func (e *chanEngine) Subscribe() (<-chan kiosk.State, func()) {
	return e.states, func() {
		e.mu.Lock()
		e.unsub++
		e.mu.Unlock()
	}
}

func (e *chanEngine) gotKeys() []kiosk.Key {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]kiosk.Key(nil), e.keys...)
}

var (
	testNow = time.Date(2025, 3, 14, 9, 26, 40, 0, time.UTC)
	testKey = []byte("receipt key for the ui tests!!!!")
)

// harness runs a UI on a simulation screen.
type harness struct {
	t      *testing.T
	scr    tcell.SimulationScreen
	eng    *chanEngine
	u      *UI
	cancel context.CancelFunc
	done   chan error
	seq    uint64
	clock  *fakeClock
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func startUI(t *testing.T, w, h int, tweak func(*Options, *UI)) *harness {
	t.Helper()
	scr := tcell.NewSimulationScreen("UTF-8")
	eng := newChanEngine()
	o := Options{
		Screen:     scr,
		Engine:     eng,
		Languages:  []string{"en", "cs", "de"},
		Currency:   "EUR",
		KioskID:    "library-ground-floor",
		ReceiptKey: testKey,
	}
	if tweak != nil {
		tweak(&o, nil)
	}
	u, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	scr.SetSize(w, h)
	clock := &fakeClock{t: testNow}
	u.now = clock.now
	if tweak != nil {
		tweak(nil, u)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hs := &harness{t: t, scr: scr, eng: eng, u: u, cancel: cancel, done: make(chan error, 1), clock: clock}
	go func() { hs.done <- u.Run(ctx) }()
	t.Cleanup(hs.stop)
	return hs
}

func (h *harness) stop() {
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
		h.done <- nil // later stops see it ended
	case <-time.After(10 * time.Second):
		h.t.Fatal("Run did not return after its context ended")
	}
}

// onLoop runs f on the UI's event loop.
func (h *harness) onLoop(f func()) {
	h.t.Helper()
	done := make(chan struct{})
	go func() {
		h.u.app.QueueUpdate(f)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		h.t.Fatal("event loop did not answer")
	}
}

// show feeds a state and waits until the screen shows it.
func (h *harness) show(st kiosk.State) {
	h.t.Helper()
	h.seq++
	st.Seq = h.seq
	if st.Now.IsZero() {
		st.Now = testNow
	}
	if st.Currency == "" {
		st.Currency = "EUR"
	}
	h.eng.states <- st
	h.waitFor("state applied", func() bool { return h.u.st.Seq == st.Seq })
}

// waitFor polls cond on the event loop for up to 10 s.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		h.onLoop(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; screen:\n%s", what, h.text())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) waitText(s string) {
	h.t.Helper()
	h.waitFor("screen to show "+s, func() bool { return strings.Contains(h.textNow(), s) })
}

// cells reads the screen on the event loop.
func (h *harness) cells() ([]tcell.SimCell, int, int) {
	var cells []tcell.SimCell
	var w, ht int
	h.onLoop(func() {
		c, cw, ch := h.scr.GetContents()
		cells, w, ht = append([]tcell.SimCell(nil), c...), cw, ch
	})
	return cells, w, ht
}

func (h *harness) text() string {
	var s string
	h.onLoop(func() { s = h.textNow() })
	return s
}

// textNow renders the screen as text; call on the event loop.
func (h *harness) textNow() string {
	cells, w, ht := h.scr.GetContents()
	return cellsText(cells, w, ht)
}

func cellsText(cells []tcell.SimCell, w, h int) string {
	var b strings.Builder
	for y := 0; y < h; y++ {
		var row strings.Builder
		for x := 0; x < w; x++ {
			c := cells[y*w+x]
			if len(c.Runes) == 0 {
				row.WriteRune(' ')
				continue
			}
			row.WriteString(string(c.Runes))
		}
		b.WriteString(strings.TrimRight(row.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

func (h *harness) key(k tcell.Key, r rune, m tcell.ModMask) { h.scr.InjectKey(k, r, m) }

// setLang switches the screen's language and waits for the redraw.
func (h *harness) setLang(i int) {
	h.t.Helper()
	h.onLoop(func() {})
	done := make(chan struct{})
	h.u.app.QueueUpdateDraw(func() {
		h.u.lang = i
		close(done)
	})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		h.t.Fatal("event loop did not answer")
	}
}
