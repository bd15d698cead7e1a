package ui

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/receipt"
)

var update = flag.Bool("update", false, "rewrite the golden screens in testdata")

func ptr(v int64) *int64 { return &v }

var accepted = []int64{10, 20, 50, 100, 200, 500, 1000, 2000}

var jana = &kiosk.User{ID: 42, Username: "jnovak", FullName: "Jana Nováková", Balance: ptr(320)}

func testReceipt() *kiosk.Receipt {
	return &kiosk.Receipt{Reference: "library-ground-floor/000123", Amount: 1250, At: testNow, NewBalance: ptr(1570)}
}

var online = kiosk.QueueStatus{Online: true}

// screenCases are every state the student can see; each is drawn in every
// language at every size.
var screenCases = []struct {
	name string
	st   kiosk.State
}{
	{"idle", kiosk.State{Phase: kiosk.PhaseIdle, Accepted: accepted, Queue: online}},
	{"idle_czk", kiosk.State{Phase: kiosk.PhaseIdle, Currency: "CZK", Accepted: []int64{100, 200, 500, 1000, 2000, 5000}, Queue: online}},
	{"idle_offline_unclaimed", kiosk.State{Phase: kiosk.PhaseIdle, Accepted: accepted, Unclaimed: 150}},
	{"idle_unrecognised", kiosk.State{Phase: kiosk.PhaseIdle, Accepted: accepted, Unclaimed: 50, Unrecognised: 1, Queue: online}},
	{"looking_up", kiosk.State{Phase: kiosk.PhaseLookingUp, Card: "0004417823", Queue: online}},
	// Money taken while the card was checked is never offered to the
	// student whose card was refused.
	{"not_registered", kiosk.State{Phase: kiosk.PhaseNotRegistered, Card: "0004417823", Unclaimed: 50, Queue: online,
		MessageUntil: testNow.Add(12 * time.Second)}},
	{"not_active", kiosk.State{Phase: kiosk.PhaseNotRegistered, Inactive: true, Card: "0004417823", Queue: online,
		MessageUntil: testNow.Add(12 * time.Second)}},
	{"session_empty", kiosk.State{Phase: kiosk.PhaseSession, User: jana, Card: "******7823", MinTopup: 50, MaxTopup: 5000,
		CloseAt: testNow.Add(25 * time.Second), Accepted: accepted, Queue: online}},
	{"session_empty_warning", kiosk.State{Phase: kiosk.PhaseSession, User: jana, Card: "******7823", MinTopup: 50, MaxTopup: 5000,
		CloseAt: testNow.Add(7 * time.Second), Accepted: accepted, Queue: online}},
	{"session", kiosk.State{Phase: kiosk.PhaseSession, User: jana, Card: "******7823", Total: 1250, MinTopup: 50, MaxTopup: 5000,
		FinishAt: testNow.Add(15 * time.Second), Accepted: accepted, Queue: online}},
	{"session_warning", kiosk.State{Phase: kiosk.PhaseSession, User: jana, Card: "******7823", Total: 1250, MinTopup: 50, MaxTopup: 5000,
		FinishAt: testNow.Add(9 * time.Second), Accepted: accepted, Queue: online}},
	{"session_esc_refused", kiosk.State{Phase: kiosk.PhaseSession, User: jana, Total: 200, MinTopup: 50, MaxTopup: 5000,
		FinishAt: testNow.Add(18 * time.Second), Notice: kiosk.NoticeEscRefused, NoticeUntil: testNow.Add(5 * time.Second), Queue: online}},
	{"session_second_card", kiosk.State{Phase: kiosk.PhaseSession, User: jana, Total: 200, MinTopup: 50, MaxTopup: 5000,
		FinishAt: testNow.Add(18 * time.Second), Notice: kiosk.NoticeSecondCard, NoticeUntil: testNow.Add(5 * time.Second), Queue: online}},
	{"session_unrecognised", kiosk.State{Phase: kiosk.PhaseSession, User: jana, Total: 200, MinTopup: 50, MaxTopup: 5000,
		FinishAt: testNow.Add(18 * time.Second), Unrecognised: 1, Queue: online}},
	{"session_below_min_czk", kiosk.State{Phase: kiosk.PhaseSession, Currency: "CZK", User: jana, Total: 1000, MinTopup: 2000, MaxTopup: 100000,
		BelowMin: true, FinishAt: testNow.Add(20 * time.Second), Queue: online}},
	{"session_max", kiosk.State{Phase: kiosk.PhaseSession, User: jana, Total: 5000, MinTopup: 50, MaxTopup: 5000,
		MaxReached: true, FinishAt: testNow.Add(19*time.Second + 300*time.Millisecond), Queue: online}},
	{"session_notes_refused", kiosk.State{Phase: kiosk.PhaseSession, User: jana, Card: "******7823", Total: 200, MinTopup: 50, MaxTopup: 5000,
		NotesRefused: true, FinishAt: testNow.Add(15 * time.Second), Accepted: accepted, Queue: online}},
	{"session_notes_refused_below_min", kiosk.State{Phase: kiosk.PhaseSession, User: jana, Total: 20, MinTopup: 50, MaxTopup: 5000,
		BelowMin: true, NotesRefused: true, FinishAt: testNow.Add(15 * time.Second), Queue: online}},
	{"session_offline_cached_user", kiosk.State{Phase: kiosk.PhaseSession, User: jana, Card: "******7823", Offline: true, Total: 200, MinTopup: 50, MaxTopup: 5000,
		FinishAt: testNow.Add(20 * time.Second)}},
	{"session_offline_card", kiosk.State{Phase: kiosk.PhaseSession, Card: "0004417823", Offline: true, Total: 200, MinTopup: 50, MaxTopup: 5000,
		FinishAt: testNow.Add(20 * time.Second)}},
	{"booking", kiosk.State{Phase: kiosk.PhaseBooking, User: jana, Total: 1250, Queue: online}},
	{"credited", kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Total: 1250, Receipt: testReceipt(), Queue: online,
		MessageUntil: testNow.Add(15 * time.Second)}},
	{"credited_late_balance", kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Total: 1250, Queue: online,
		Receipt:      &kiosk.Receipt{Reference: "library-ground-floor/000123", Amount: 1250, At: testNow, NewBalance: ptr(1570), BalanceAbout: true},
		MessageUntil: testNow.Add(15 * time.Second)}},
	{"credited_unrecognised", kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Total: 1250, Receipt: testReceipt(), Queue: online,
		Unrecognised: 1, MessageUntil: testNow.Add(15 * time.Second)}},
	{"saved_offline", kiosk.State{Phase: kiosk.PhaseSavedOffline, User: jana, Card: "******7823", Offline: true, Total: 1250,
		Receipt: &kiosk.Receipt{Reference: "library-ground-floor/000124", Amount: 1250, At: testNow}, MessageUntil: testNow.Add(15 * time.Second)}},
	{"saved_offline_card", kiosk.State{Phase: kiosk.PhaseSavedOffline, Card: "******7823", Offline: true, Total: 1250,
		Receipt: &kiosk.Receipt{Reference: "library-ground-floor/000124", Amount: 1250, At: testNow}, MessageUntil: testNow.Add(15 * time.Second)}},
	// Vouchers: what reached the account is the headline, cash and
	// vouchers; each voucher on its own line below.
	{"credited_voucher_only", kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Queue: online,
		Receipt: &kiosk.Receipt{Reference: "library-ground-floor/000125", At: testNow, NewBalance: ptr(820),
			Vouchers: []kiosk.VoucherLine{{Reference: "library-ground-floor/000125/v1", Masked: "**********0001", Amount: 500}}},
		MessageUntil: testNow.Add(15 * time.Second)}},
	{"credited_cash_and_voucher", kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Total: 200, Queue: online,
		Receipt: &kiosk.Receipt{Reference: "library-ground-floor/000126", Amount: 200, At: testNow, NewBalance: ptr(1020),
			Vouchers: []kiosk.VoucherLine{{Reference: "library-ground-floor/000126/v1", Masked: "**********0001", Amount: 500}}},
		MessageUntil: testNow.Add(15 * time.Second)}},
	{"saved_offline_with_voucher", kiosk.State{Phase: kiosk.PhaseSavedOffline, User: jana, Total: 200,
		Receipt: &kiosk.Receipt{Reference: "library-ground-floor/000127", Amount: 200, At: testNow,
			Vouchers: []kiosk.VoucherLine{{Reference: "library-ground-floor/000127/v1", Masked: "**********0001", Amount: 500}}},
		MessageUntil: testNow.Add(15 * time.Second)}},
	{"out_of_service", kiosk.State{Phase: kiosk.PhaseOutOfService, OutOfService: "the journal disk is full", Queue: online}},
}

var sizes = [][2]int{{80, 24}, {120, 40}}

func TestScreensGolden(t *testing.T) {
	captures := map[string]string{} // "<case>_<lang>" at 80x24, for docs/SCREENS.md
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			h := startUI(t, sz[0], sz[1], nil)
			for _, c := range screenCases {
				for lang, code := range h.u.opts.Languages {
					h.show(c.st)
					h.setLang(lang)
					got := h.text()
					cells, w, ht := h.cells()
					checkPalette(t, c.name, cells, w, ht)
					if strings.Contains(got, "0004417823") {
						t.Errorf("%s: the whole card number is on screen", c.name)
					}
					golden(t, fmt.Sprintf("%s_%s_%dx%d.txt", c.name, code, sz[0], sz[1]), got)
					if sz == [2]int{80, 24} {
						captures[c.name+"_"+code] = got
					}
				}
			}
		})
	}
	screensDoc(t, captures)
}

// TestScreensGolden keeps docs/SCREENS.md, the screens as text for people,
// the same as the golden files: -update rewrites it too.
func screensDoc(t *testing.T, captures map[string]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# The kiosk's screens at 80x24\n\n")
	b.WriteString("Captured from the simulation screen by `go test ./kiosk/ui/` (TestScreensGolden; `-update`\n")
	b.WriteString("rewrites this file with the golden files in kiosk/ui/testdata, which hold every state in\n")
	b.WriteString("English, Czech and German at 80x24 and 120x40). English unless the heading says otherwise;\n")
	b.WriteString("colours are not shown: the QR code is black on white, the offline badge amber.\n")
	shot := func(title, key string) {
		fmt.Fprintf(&b, "\n## %s\n\n```\n%s```\n", title, captures[key])
	}
	for _, c := range screenCases {
		shot(strings.ReplaceAll(c.name, "_", " "), c.name+"_en")
	}
	for _, k := range []string{"session_cs", "session_warning_de", "not_registered_cs", "credited_de", "saved_offline_card_cs"} {
		shot(strings.ReplaceAll(k, "_", " "), k)
	}
	for _, f := range []string{"technician_80x24.txt", "technician_cashup_80x24.txt"} {
		tech, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "\n## %s (English only)\n\n```\n%s```\n", strings.ReplaceAll(strings.TrimSuffix(f, "_80x24.txt"), "_", " "), tech)
	}
	path := filepath.Join("..", "..", "docs", "SCREENS.md")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./kiosk/ui/ -update to create it)", err)
	}
	if string(want) != b.String() {
		t.Errorf("%s differs from the screens: run go test ./kiosk/ui/ -update and review the diff", path)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

var basicColours = map[tcell.Color]bool{
	tcell.ColorBlack: true, tcell.ColorMaroon: true, tcell.ColorGreen: true, tcell.ColorOlive: true,
	tcell.ColorNavy: true, tcell.ColorPurple: true, tcell.ColorTeal: true, tcell.ColorSilver: true,
}

// checkPalette: every cell uses explicit basic colours, so the Linux
// console shows what xterm shows.
func checkPalette(t *testing.T, name string, cells []tcell.SimCell, w, h int) {
	t.Helper()
	for i, c := range cells {
		fg, bg, _ := c.Style.Decompose()
		if !basicColours[fg] || !basicColours[bg] {
			t.Errorf("%s: cell %d,%d uses colours %v on %v: want one of the 8 basic colours", name, i%w, i/w, fg, bg)
			return
		}
	}
}

func TestReceiptQRDecodes(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			h := startUI(t, sz[0], sz[1], nil)
			r := testReceipt()
			h.show(kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Total: r.Amount, Receipt: r, Queue: online})
			want := receipt.SignText(testKey, "library-ground-floor", r.Reference, "EUR", r.Amount, r.At)
			cells, w, ht := h.cells()
			got, err := decodeScreenQR(cells, w, ht)
			if err != nil {
				t.Fatalf("decode the QR code on screen: %v\n%s", err, h.text())
			}
			if got != want {
				t.Fatalf("QR code says %q, want %q", got, want)
			}
			claim, err := receipt.Verify(testKey, got)
			if err != nil {
				t.Fatalf("scanned code does not verify: %v", err)
			}
			if !strings.HasPrefix(got, "Receipt 12.50 EUR library-ground-floor/000123 2025-03-14T09:26:40Z ") {
				t.Errorf("QR code says %q: want it to read as a receipt", got)
			}
			if claim.Amount != 1250 || claim.Reference != r.Reference || claim.Currency != "EUR" {
				t.Errorf("claim %+v", claim)
			}
			// The text code is on screen too, for typing it in.
			if sig := want[strings.LastIndexByte(want, ' ')+1:]; !strings.Contains(h.text(), sig) {
				t.Error("the receipt code is not on screen as text")
			}
		})
	}
}

// The lead's bug: a session with only a €5.00 voucher ended on "€0.00 added
// to your account" and a code reading "Receipt 0.00 EUR". The headline and
// the signed code say what reached the account; the code still verifies.
func TestReceiptCountsVouchers(t *testing.T) {
	cases := []struct {
		name     string
		cash     int64
		headline string
		code     string
		amount   int64
	}{
		{"voucher only", 0, "€5.00", "Receipt 5.00 EUR ", 500},
		{"cash and voucher", 200, "€7.00", "Receipt 7.00 EUR ", 700},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := startUI(t, 80, 24, nil)
			r := &kiosk.Receipt{Reference: "library-ground-floor/000125", Amount: c.cash, At: testNow,
				Vouchers: []kiosk.VoucherLine{{Reference: "library-ground-floor/000125/v1", Masked: "**********0001", Amount: 500}}}
			h.show(kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Total: c.cash, Receipt: r, Queue: online,
				MessageUntil: testNow.Add(15 * time.Second)})
			h.waitText("Voucher €5.00 (**********0001)")
			cells, w, ht := h.cells()
			txt := h.text()
			for _, row := range bigText(t, c.headline) {
				if !strings.Contains(txt, row) {
					t.Fatalf("headline is not %s:\n%s", c.headline, txt)
				}
			}
			got, err := decodeScreenQR(cells, w, ht)
			if err != nil {
				t.Fatalf("decode the QR code on screen: %v\n%s", err, h.text())
			}
			if !strings.HasPrefix(got, c.code) {
				t.Errorf("QR code says %q, want it to start %q", got, c.code)
			}
			claim, err := receipt.Verify(testKey, got)
			if err != nil || claim.Amount != c.amount {
				t.Errorf("verify %q: %+v, %v; want amount %d", got, claim, err, c.amount)
			}
		})
	}
}

// bigText is s in the block font at scale 1, row by row, as screen text
// shows it (outer spaces trimmed).
func bigText(t *testing.T, s string) []string { return bigTextAt(t, s, 1) }

// hasBig: s is on screen in the block font at some scale.
func hasBig(t *testing.T, txt, s string) bool {
	for k := 1; k <= 3; k++ {
		all := true
		for _, row := range bigTextAt(t, s, k) {
			all = all && strings.Contains(txt, row)
		}
		if all {
			return true
		}
	}
	return false
}

func bigTextAt(t *testing.T, s string, k int) []string {
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		t.Fatal(err)
	}
	defer scr.Fini()
	w := bigWidth(s, k)
	scr.SetSize(w, bigRows*k)
	drawBig(&canvas{scr: scr, w: w, h: bigRows * k}, 0, 0, s, tcell.StyleDefault, k)
	scr.Show()
	cells, cw, ch := scr.GetContents()
	var rows []string
	for _, r := range strings.Split(cellsText(cells, cw, ch), "\n") {
		if r = strings.TrimSpace(r); r != "" {
			rows = append(rows, r)
		}
	}
	return rows
}

// decodeScreenQR turns the QR cells (explicit black on silver half blocks)
// into an image, two pixels rows per cell, and decodes it.
func decodeScreenQR(cells []tcell.SimCell, w, h int) (string, error) {
	minX, minY, maxX, maxY := w, h, -1, -1
	for i, c := range cells {
		if _, bg, _ := c.Style.Decompose(); bg == tcell.ColorSilver {
			x, y := i%w, i/w
			minX, minY, maxX, maxY = min(minX, x), min(minY, y), max(maxX, x), max(maxY, y)
		}
	}
	if maxX < 0 {
		return "", fmt.Errorf("no QR cells on screen")
	}
	const px = 4 // pixels per module
	img := image.NewGray(image.Rect(0, 0, (maxX-minX+1)*px, (maxY-minY+1)*2*px))
	lum := func(c tcell.Color) uint8 {
		r, g, b := c.RGB()
		return uint8((r*299 + g*587 + b*114) / 1000)
	}
	for y := minY; y <= maxY; y++ {
		for x := minX; x <= maxX; x++ {
			c := cells[y*w+x]
			fg, bg, _ := c.Style.Decompose()
			r := ' '
			if len(c.Runes) > 0 {
				r = c.Runes[0]
			}
			top, bottom := bg, bg
			switch r {
			case '█':
				top, bottom = fg, fg
			case '▀':
				top = fg
			case '▄':
				bottom = fg
			case ' ':
			default:
				return "", fmt.Errorf("cell %d,%d in the QR code holds %q", x, y, r)
			}
			for dy := 0; dy < px; dy++ {
				for dx := 0; dx < px; dx++ {
					img.SetGray((x-minX)*px+dx, (y-minY)*2*px+dy, color.Gray{lum(top)})
					img.SetGray((x-minX)*px+dx, (y-minY)*2*px+px+dy, color.Gray{lum(bottom)})
				}
			}
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// TestQRFitsConsole: realistic codes fit 80x24 beside a usable text column,
// with the quiet zone; longer ones fall back to error correction L.
func TestQRFitsConsole(t *testing.T) {
	cases := []struct {
		kiosk, ref string
		fits       bool
	}{
		{"demo", "demo/1", true},
		{"demo-kiosk", "demo-kiosk/261123-221530-7f3a9c", true},
		{"library-ground-floor", "library-ground-floor/000123", true},
		{"library-ground-floor", "library-ground-floor/261123-221530-7f3a9c", true}, // a real one, 99 bytes
		{"library-ground-floor-2", "library-ground-floor-2/261123-221530-7f3a9c", true},
		{"library-ground-floor-east-wing", "library-ground-floor-east-wing/261123-221530-7f3a9c", true},     // 104 bytes
		{"library-ground-floor-east-wing-2", "library-ground-floor-east-wing-2/261123-221530-7f3a9c", true}, // the longest id config allows: 106 bytes, the most version 5-L holds
		{strings.Repeat("k", 60), strings.Repeat("k", 60) + "/1", false},
	}
	for _, c := range cases {
		u := &UI{opts: Options{ReceiptKey: testKey, KioskID: c.kiosk}}
		code := u.receiptCode(&kiosk.Receipt{Reference: c.ref, Amount: 5000, At: testNow})
		m := u.rc.fitQR(80-minTextCols-1, 24-1)
		if (m != nil) != c.fits {
			t.Errorf("code of %d bytes: fits=%v, want %v", len(code), m != nil, c.fits)
			continue
		}
		if m != nil {
			t.Logf("%d-byte code: %dx%d cells at level %s (QR version %d)", len(code), m.cols(), m.rows(), m.level, (m.size-2*qrQuiet-17)/4)
		}
	}
}

func TestReceiptTooBigShowsText(t *testing.T) {
	long := strings.Repeat("k", 60)
	h := startUI(t, 80, 24, func(o *Options, _ *UI) {
		if o != nil {
			o.KioskID = long
		}
	})
	h.show(kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Total: 100,
		Receipt: &kiosk.Receipt{Reference: long + "/1", Amount: 100, At: testNow}, Queue: online})
	h.waitText("screen too small for the QR code")
	cells, _, _ := h.cells()
	for _, c := range cells {
		if _, bg, _ := c.Style.Decompose(); bg == tcell.ColorSilver {
			t.Fatal("a QR code that does not fit was drawn")
		}
	}
}

func TestCountdownTicks(t *testing.T) {
	h := startUI(t, 80, 24, func(_ *Options, u *UI) {
		if u != nil {
			u.tickEvery = 20 * time.Millisecond
		}
	})
	h.show(kiosk.State{Phase: kiosk.PhaseSession, User: jana, Total: 100, FinishAt: testNow.Add(15 * time.Second), Queue: online})
	h.waitText("Adding to your account in 15 s")
	h.clock.add(3 * time.Second)
	h.waitText("Adding to your account in 12 s")
	h.clock.add(20 * time.Second)
	h.waitText("Adding to your account in 0 s")
	if got := h.eng.gotKeys(); len(got) != 0 {
		t.Errorf("the countdown sent keys %v: the engine decides when to book", got)
	}
}

func TestMaskedCardOnly(t *testing.T) {
	h := startUI(t, 80, 24, nil)
	// Even if an engine handed over a whole number, the screen masks it.
	h.show(kiosk.State{Phase: kiosk.PhaseLookingUp, Card: "1234567890", Queue: online})
	txt := h.text()
	if strings.Contains(txt, "1234567890") || !strings.Contains(txt, "******7890") {
		t.Errorf("card not masked:\n%s", txt)
	}
}

func TestDeviceStatusInState(t *testing.T) {
	// sortedDevices fills in missing names and sorts.
	got := sortedDevices(map[string]devices.StatusChange{"notes": {Status: devices.StatusJammed}, "card": {Device: "card"}})
	if len(got) != 2 || got[0].Device != "card" || got[1].Device != "notes" {
		t.Errorf("sortedDevices = %+v", got)
	}
}
