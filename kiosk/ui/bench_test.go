package ui

import (
	"testing"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/gdamore/tcell/v2"

	"github.com/printroom/voucherkiosk/kiosk"
)

// BenchmarkDrawSession is one full repaint of the session screen (the
// countdown repaints once a second).
func BenchmarkDrawSession(b *testing.B) {
	benchDraw(b, kiosk.State{Phase: kiosk.PhaseSession, User: jana, Total: 1250, FinishAt: testNow.Add(15 * time.Second), Now: testNow, Currency: "EUR", Queue: online})
}

// BenchmarkDrawReceipt repaints the receipt screen with its QR code (signed
// and encoded once, then cached).
func BenchmarkDrawReceipt(b *testing.B) {
	benchDraw(b, kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Total: 1250, Receipt: testReceipt(), Now: testNow, Currency: "EUR", Queue: online})
}

func benchDraw(b *testing.B, st kiosk.State) {
	scr := tcell.NewSimulationScreen("UTF-8")
	u, err := New(Options{Screen: scr, Engine: newChanEngine(), Languages: []string{"en"}, Currency: "EUR", KioskID: "library-ground-floor", ReceiptKey: testKey})
	if err != nil {
		b.Fatal(err)
	}
	defer scr.Fini()
	scr.SetSize(80, 24)
	u.now = func() time.Time { return testNow }
	u.apply(st)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		u.view.Draw(scr)
		scr.Show()
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/repaint")
}

// BenchmarkReceiptQR signs a receipt and encodes its QR codes (M and L):
// the work done once when the receipt screen appears.
func BenchmarkReceiptQR(b *testing.B) {
	u := &UI{opts: Options{ReceiptKey: testKey, KioskID: "library-ground-floor"}}
	r := &kiosk.Receipt{Reference: "library-ground-floor/000123", Amount: 1250, At: testNow}
	b.ReportAllocs()
	var m *qrMatrix
	for b.Loop() {
		u.rc = receiptCache{}
		u.receiptCode(r)
		m = u.rc.fitQR(80-minTextCols-1, 23)
	}
	if m == nil {
		b.Fatal("does not fit 80x24")
	}
	_ = qr.L
	b.ReportMetric(float64(m.size-2*qrQuiet), "modules")
	b.ReportMetric(float64(m.rows()), "rows-at-80x24")
}
