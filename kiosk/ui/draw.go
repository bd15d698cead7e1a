package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/boombuler/barcode/qr"
	"github.com/gdamore/tcell/v2"
	"github.com/mattn/go-runewidth"
	"github.com/rivo/tview"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/receipt"
)

// palette is the screen's styles: only the 8 basic colours, so the Linux
// console shows the same screen as xterm.
type palette struct {
	body, bar, barKey, title, good, warn, bad, info, big, badge, offline, urgent tcell.Style
}

func newPalette(highContrast bool) palette {
	body := tcell.StyleDefault.Foreground(tcell.ColorSilver).Background(tcell.ColorBlack)
	bar := tcell.StyleDefault.Foreground(tcell.ColorSilver).Background(tcell.ColorNavy)
	p := palette{
		body:    body,
		bar:     bar,
		barKey:  bar.Bold(true),
		title:   body.Bold(true),
		good:    body.Foreground(tcell.ColorGreen).Bold(true),
		warn:    body.Foreground(tcell.ColorOlive).Bold(true),
		bad:     body.Foreground(tcell.ColorMaroon).Bold(true),
		info:    body.Foreground(tcell.ColorTeal),
		big:     body.Foreground(tcell.ColorGreen),
		badge:   tcell.StyleDefault.Foreground(tcell.ColorSilver).Background(tcell.ColorMaroon).Bold(true),
		offline: tcell.StyleDefault.Foreground(tcell.ColorBlack).Background(tcell.ColorOlive).Bold(true),
		urgent:  tcell.StyleDefault.Foreground(tcell.ColorBlack).Background(tcell.ColorOlive).Bold(true),
	}
	if highContrast {
		// Bold light text on black everywhere (bold is the bright colour on
		// the console), the bars black on light; warnings on a solid ground.
		lit := body.Bold(true)
		p.body, p.title, p.info, p.big, p.good = lit, lit, lit, lit, lit
		p.bar = tcell.StyleDefault.Foreground(tcell.ColorBlack).Background(tcell.ColorSilver)
		p.barKey = p.bar.Bold(true)
		p.warn = tcell.StyleDefault.Foreground(tcell.ColorBlack).Background(tcell.ColorOlive).Bold(true)
		p.bad = tcell.StyleDefault.Foreground(tcell.ColorSilver).Background(tcell.ColorMaroon).Bold(true)
		p.urgent = tcell.StyleDefault.Foreground(tcell.ColorBlack).Background(tcell.ColorSilver).Bold(true)
	}
	return p
}

// minTextCols is the narrowest text column beside a QR code.
const minTextCols = 30

// canvas draws clipped text on a screen region.
type canvas struct {
	scr  tcell.Screen
	w, h int
}

func (c *canvas) set(x, y int, r rune, st tcell.Style) {
	if x >= 0 && y >= 0 && x < c.w && y < c.h {
		c.scr.SetContent(x, y, r, nil, st)
	}
}

// text draws s from x, y and returns the column after it.
func (c *canvas) text(x, y int, s string, st tcell.Style) int {
	for _, r := range s {
		c.set(x, y, r, st)
		x += max(runewidth.RuneWidth(r), 1)
	}
	return x
}

func (c *canvas) fill(x, y, w, h int, st tcell.Style) {
	for j := y; j < y+h; j++ {
		for i := x; i < x+w; i++ {
			c.set(i, j, ' ', st)
		}
	}
}

func width(s string) int { return runewidth.StringWidth(s) }

// line is one line of a screen's text block.
type line struct {
	s  string
	st tcell.Style
}

// wrap breaks s into lines of at most w columns at spaces; a word longer
// than w is cut after its last '/' or '-' that fits, else at w.
func wrap(s string, w int) []string {
	if w <= 0 {
		return nil
	}
	var out []string
	cur := ""
	for _, word := range strings.Fields(s) {
		for width(word) > w {
			if cur != "" {
				out = append(out, cur)
				cur = ""
			}
			cut := runewidth.Truncate(word, w, "")
			// A reference breaks after a '/' or '-', so each line is
			// whole tokens to read out or type.
			if i := strings.LastIndexAny(cut, "/-"); i > 0 {
				cut = cut[:i+1]
			}
			out = append(out, cut)
			word = word[len(cut):]
		}
		switch {
		case cur == "":
			cur = word
		case width(cur)+1+width(word) <= w:
			cur += " " + word
		default:
			out = append(out, cur)
			cur = word
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// screenView draws the whole screen from the UI's state.
type screenView struct {
	*tview.Box
	u *UI
}

func (v *screenView) Draw(scr tcell.Screen) {
	w, h := scr.Size()
	c := &canvas{scr: scr, w: w, h: h}
	u := v.u
	for ; u.bells > 0; u.bells-- {
		_ = scr.Beep() // no bell on this terminal: nothing to do
		u.rung++
	}
	c.fill(0, 0, w, h, u.p.body)
	if u.tech.mode != techClosed {
		u.drawTech(c)
		return
	}
	u.drawKiosk(c)
}

func (u *UI) money(minor int64) string {
	return FormatMoney(u.langCode(), u.currency(), minor)
}

func (u *UI) currency() string {
	if u.st.Currency != "" {
		return u.st.Currency
	}
	return u.opts.Currency
}

func (u *UI) t(key string, args ...any) string { return tr(u.langCode(), key, args...) }

// drawKiosk draws the student's screen: header, body, footer.
func (u *UI) drawKiosk(c *canvas) {
	st := &u.st
	bodyX, bodyW := 0, c.w

	// A receipt takes the right side, from the top row down to the footer.
	var code string
	var m *qrMatrix
	if (st.Phase == kiosk.PhaseCredited || st.Phase == kiosk.PhaseSavedOffline) && st.Receipt != nil {
		code = u.receiptCode(st.Receipt)
		if m = u.rc.fitQR(c.w-minTextCols-1, c.h-1); m != nil {
			bodyW = c.w - m.cols() - 1
			m.draw(c, c.w-m.cols(), (c.h-1-m.rows())/2)
		}
	}
	u.drawHeader(c, bodyW)
	footRows := u.drawFooter(c, m != nil)
	bodyTop, bodyH := 1, c.h-1-footRows

	var lines []line
	var big string
	bigAt := -1 // index in lines before which the big amount goes
	add := func(st tcell.Style, s string) {
		for _, l := range wrap(s, bodyW-4) {
			lines = append(lines, line{l, st})
		}
	}
	blank := func() { lines = append(lines, line{}) }
	unrecognised := func() {
		if st.Unrecognised > 0 {
			blank()
			add(u.p.warn, u.t("unrecognised"))
		}
	}

	switch st.Phase {
	case kiosk.PhaseIdle:
		if !u.have {
			add(u.p.info, u.t("please_wait"))
			break
		}
		add(u.p.title, u.t("tap_card"))
		add(u.p.body, u.t("tap_card_sub"))
		blank()
		u.cardPaused(add, blank)
		if st.Unclaimed > 0 {
			add(u.p.warn, u.t("unclaimed", u.money(st.Unclaimed)))
			blank()
		}
		if len(st.Accepted) > 0 {
			vals := make([]string, len(st.Accepted))
			for i, a := range st.Accepted {
				vals[i] = u.money(a)
			}
			add(u.p.body, u.t("accepted", strings.Join(vals, "  ")))
		}
		if !st.Queue.Online {
			blank()
			add(u.p.warn, u.t("offline_idle"))
		}
		unrecognised()
		u.drawIdleVoucher(add, blank)
		if len(u.opts.Languages) > 1 {
			blank()
			names := make([]string, len(u.opts.Languages))
			for i, l := range u.opts.Languages {
				names[i] = tr(l, "lang_name")
				if i == u.lang {
					names[i] = "[" + names[i] + "]"
				}
			}
			add(u.p.info, u.t("lang_hint")+"  "+strings.Join(names, " · "))
		}
	case kiosk.PhaseLookingUp:
		add(u.p.title, u.t("looking_up"))
		if st.Card != "" {
			add(u.p.body, u.t("card", devices.MaskCard(st.Card)))
		}
		blank()
		add(u.p.info, u.t("please_wait"))
	case kiosk.PhaseNotRegistered:
		// Never an invitation to claim money here: the student whose card
		// was refused must not put more in.
		title, help := "not_registered", "not_registered_help"
		if st.Inactive {
			title, help = "not_active", "not_active_help"
		}
		add(u.p.bad, u.t(title))
		if st.Card != "" {
			add(u.p.body, u.t("card", devices.MaskCard(st.Card)))
		}
		blank()
		add(u.p.body, u.t(help))
		u.cardPaused(add, blank)
		unrecognised()
	case kiosk.PhaseSession:
		u.greeting(add)
		if st.Offline {
			blank()
			if st.User == nil {
				add(u.p.warn, u.t("offline_unverified"))
			} else {
				add(u.p.warn, u.t("offline_session"))
			}
		}
		blank()
		label, amount := u.t("inserted"), st.Total
		if v := st.Voucher; v != nil && v.Credited > 0 {
			// A big "Inserted €0.00" after a €5.00 voucher read as if the
			// voucher had not counted: the big figure is the session's.
			label, amount = u.vt("v_session_total"), st.Total+v.Credited
		}
		add(u.p.body, label)
		bigAt = len(lines)
		big = u.money(amount)
		blank()
		refused := refusedKey(*st)
		switch {
		case st.MaxReached:
			add(u.p.warn, u.t("max_reached"))
		case st.BelowMin:
			add(u.p.warn, u.t("below_min", u.money(st.MinTopup)))
			if refused != "" {
				add(u.p.warn, u.t(refused))
			}
		case refused != "":
			add(u.p.warn, u.t(refused))
		default:
			add(u.p.body, u.t("insert_money"))
		}
		_, warn := u.warning()
		cst := u.p.info
		if warn {
			cst = u.p.urgent
		}
		if s, ok := u.countdown(st.FinishAt); ok {
			add(cst, u.t("auto_finish", s))
		} else if s, ok := u.countdown(st.CloseAt); ok {
			add(cst, u.t("closes_in", s))
		}
		if warn {
			add(u.p.urgent, u.t("more_time"))
		}
		if st.Notice != kiosk.NoticeNone && u.engineNow().Before(st.NoticeUntil) {
			blank()
			switch st.Notice {
			case kiosk.NoticeEscRefused:
				add(u.p.warn, u.t("esc_refused"))
			case kiosk.NoticeSecondCard:
				add(u.p.warn, u.t("second_card"))
			}
		}
		unrecognised()
		u.drawVoucher(add, blank)
	case kiosk.PhaseBooking:
		u.greeting(add)
		blank()
		add(u.p.title, u.t("booking", u.money(st.Total)))
		add(u.p.info, u.t("please_wait"))
	case kiosk.PhaseCredited, kiosk.PhaseSavedOffline:
		r := st.Receipt
		amount := st.Total
		if r != nil {
			// Credited: everything that reached the account, vouchers
			// included (each on its line below). Saved offline: the cash
			// still to be added; vouchers never wait offline.
			amount = r.Amount
			if st.Phase == kiosk.PhaseCredited {
				amount = r.Added()
			}
		}
		bigAt = 0
		big = u.money(amount)
		if st.Phase == kiosk.PhaseCredited {
			if r != nil && allPending(r) {
				// MyQ has not confirmed any of it yet: not "added".
				add(u.p.warn, u.vt("v_all_pending_sub"))
			} else {
				add(u.p.good, u.t("credited_sub"))
			}
			if st.User != nil && st.User.FullName != "" {
				add(u.p.body, u.t("credited_to", u.name(st.User.FullName)))
			}
			if r != nil && r.NewBalance != nil && u.showBalance() {
				key := "new_balance"
				if r.BalanceAbout {
					key = "new_balance_about"
				}
				add(u.p.body, u.t(key, u.money(*r.NewBalance)))
			}
			u.drawReceiptVouchers(add)
		} else {
			if st.Offline && st.User == nil {
				add(u.p.warn, u.t("saved_unverified"))
			} else {
				add(u.p.warn, u.t("saved_offline"))
			}
			add(u.p.body, u.t("saved_offline_sub"))
			u.drawReceiptVouchers(add)
		}
		unrecognised()
		if code != "" {
			blank()
			if m != nil {
				add(u.p.title, u.t("photo_receipt"))
			} else {
				add(u.p.info, u.t("qr_too_small"))
			}
			add(u.p.body, u.t("receipt_code"))
			for _, l := range wrap(code, bodyW-4) {
				lines = append(lines, line{l, u.p.title})
			}
		}
	case kiosk.PhaseOutOfService:
		add(u.p.bad, u.t("out_of_service"))
		blank()
		if st.OutOfService != "" {
			add(u.p.body, capitalise(st.OutOfService))
			blank()
		}
		add(u.p.body, u.t("out_of_service_sub"))
	}

	// Centre the block vertically; lines are left-aligned at a margin when
	// a QR code shares the screen, centred otherwise. The big amount takes
	// the largest scale the space allows.
	total := len(lines)
	scale := 1
	if bigAt >= 0 {
		scale = bigScale(big, bodyW-4, bodyH-total-2)
		total += bigRows*scale + 1
	}
	y := bodyTop + max((bodyH-total)/2, 0)
	drawAmount := func() {
		bw := bigWidth(big, scale)
		drawBig(c, bodyX+max((bodyW-bw)/2, 0), y, big, u.p.big, scale)
		y += bigRows*scale + 1
	}
	for i, l := range lines {
		if i == bigAt {
			drawAmount()
		}
		x := bodyX + 2
		if m == nil {
			x = bodyX + max((bodyW-width(l.s))/2, 0)
		}
		if y < bodyTop+bodyH {
			c.text(x, y, l.s, l.st)
		}
		y++
	}
	if bigAt == len(lines) {
		drawAmount()
	}
}

func (u *UI) greeting(add func(tcell.Style, string)) {
	st := &u.st
	switch {
	case st.User != nil && st.User.FullName != "":
		add(u.p.title, u.t("hello", u.name(st.User.FullName)))
	case st.User != nil && st.User.Username != "":
		add(u.p.title, u.t("hello", u.name(st.User.Username)))
	case st.Card != "":
		add(u.p.title, u.t("hello_card", devices.MaskCard(st.Card)))
	}
	if st.User != nil && st.User.Balance != nil && u.showBalance() {
		add(u.p.body, u.t("balance", u.money(*st.User.Balance)))
	}
}

// countdown gives the whole seconds left until at, rounded up, on the
// engine's clock: the engine's Now plus the time since the state arrived.
func (u *UI) countdown(at time.Time) (int, bool) {
	if at.IsZero() {
		return 0, false
	}
	left := at.Sub(u.engineNow())
	if left <= 0 {
		return 0, true
	}
	return int((left + time.Second - 1) / time.Second), true
}

// engineNow is the engine's clock now, as far as the screen knows.
func (u *UI) engineNow() time.Time { return u.st.Now.Add(u.now().Sub(u.recvAt)) }

func (u *UI) drawHeader(c *canvas, w int) {
	hc := &canvas{scr: c.scr, w: w, h: c.h}
	hc.fill(0, 0, w, 1, u.p.bar)
	// Right side first (language, offline badge): they matter more than
	// the title when the header shares the top row with a QR code.
	right := w - 1
	code := strings.ToUpper(u.langCode())
	right -= width(code)
	hc.text(right, 0, code, u.p.bar)
	if u.have && !u.st.Queue.Online {
		b := " " + u.t("offline_badge") + " "
		right -= width(b) + 1
		hc.text(right, 0, b, u.p.offline)
	}
	room := right - 2
	title := u.t("title")
	for width(title) > room && strings.Contains(title, " ") {
		title = title[:strings.LastIndexByte(title, ' ')] // whole words only
	}
	title = runeTrunc(title, room)
	x := hc.text(1, 0, title, u.p.barKey)
	if id := u.opts.KioskID; id != "" && x+2+width(id) < right-1 {
		hc.text(x+2, 0, id, u.p.bar)
	}
}

// drawFooter draws the keys the student can press on the bottom row and
// returns the rows it took. Extra keys (the demo's) go on rows above, as
// many as they need, so none is cut; with a QR code on screen they get only
// what fits beside the student's keys, so the code keeps its height.
func (u *UI) drawFooter(c *canvas, compact bool) int {
	var hints []string
	switch u.st.Phase {
	case kiosk.PhaseIdle:
		if len(u.opts.Languages) > 1 {
			hints = append(hints, u.t("key_lang"))
		}
	case kiosk.PhaseSession:
		if u.st.Total > 0 && !u.st.BelowMin {
			// Only when Enter adds something: with nothing in, or below
			// the minimum, the engine does nothing on Enter.
			hints = append(hints, u.t("key_enter_book"))
		}
		if u.st.Total == 0 && !u.footerShows(tcell.KeyEscape) {
			hints = append(hints, u.t("key_esc_cancel"))
		}
		hints = u.voucherHints(hints)
	case kiosk.PhaseNotRegistered:
		hints = append(hints, u.t("key_enter_ok"))
	case kiosk.PhaseCredited, kiosk.PhaseSavedOffline:
		if s, ok := u.countdown(u.st.MessageUntil); ok {
			hints = append(hints, u.t("key_enter_done", s))
		} else {
			hints = append(hints, u.t("key_enter_ok"))
		}
	}
	var extra []string
	for _, f := range u.opts.Footer {
		extra = append(extra, keyName(f.Key, f.Rune)+" "+f.Label)
	}
	const sep = "  "
	room := c.w - 2
	student := strings.Join(hints, sep)
	var rows []string
	if compact {
		row := student
		for _, e := range extra {
			if width(row)+width(sep)+width(e) <= room {
				if row != "" {
					row += sep
				}
				row += e
			}
		}
		rows = []string{row}
	} else {
		cur := ""
		for _, e := range extra {
			if cur != "" && width(cur)+width(sep)+width(e) > room {
				rows = append(rows, cur)
				cur = ""
			}
			if cur != "" {
				cur += sep
			}
			cur += e
		}
		switch {
		case cur != "" && width(cur)+width(sep)+width(student) <= room:
			if student != "" {
				cur = student + sep + cur
			}
			rows = append(rows, cur)
		default:
			if cur != "" {
				rows = append(rows, cur)
			}
			rows = append(rows, student)
		}
	}
	for i, r := range rows {
		y := c.h - len(rows) + i
		c.fill(0, y, c.w, 1, u.p.bar)
		c.text(1, y, runeTrunc(r, room), u.p.bar)
	}
	return len(rows)
}

// receiptCode signs the receipt on screen once and caches its QR codes.
func (u *UI) receiptCode(r *kiosk.Receipt) string {
	// The code vouches for what the session put on the account, cash and
	// vouchers: the screen says the same in large digits.
	amount := r.Added()
	if u.rc.code != "" && u.rc.ref == r.Reference && u.rc.amount == amount {
		return u.rc.code
	}
	code := receipt.SignText(u.opts.ReceiptKey, u.opts.KioskID, r.Reference, u.currency(), amount, r.At)
	u.rc = receiptCache{ref: r.Reference, amount: amount, code: code}
	for _, lvl := range []qr.ErrorCorrectionLevel{qr.M, qr.L} {
		m, err := encodeQR(code, lvl)
		if err != nil {
			u.log.Warn("ui: receipt qr code", "level", lvl, "err", err)
			continue
		}
		m.level = map[qr.ErrorCorrectionLevel]string{qr.M: "M", qr.L: "L"}[lvl]
		u.rc.qrs = append(u.rc.qrs, m)
	}
	return code
}

// sortedDevices lists device statuses by name for the technician.
func sortedDevices(m map[string]devices.StatusChange) []devices.StatusChange {
	out := make([]devices.StatusChange, 0, len(m))
	for name, s := range m {
		if s.Device == "" {
			s.Device = name
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Device < out[j].Device })
	return out
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return fmt.Sprint(d)
}

func capitalise(s string) string {
	r := []rune(s)
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}

// footerShows reports whether an extra footer key already names k.
func (u *UI) footerShows(k tcell.Key) bool {
	for _, f := range u.opts.Footer {
		if f.Key == k {
			return true
		}
	}
	return false
}

// refusedKey names the text for cash an acceptor refuses because its cash
// box is near full ("" when every kind of cash is taken).
func refusedKey(st kiosk.State) string {
	switch {
	case st.NotesRefused && st.CoinsRefused:
		return "cash_refused"
	case st.NotesRefused:
		return "notes_refused"
	case st.CoinsRefused:
		return "coins_refused"
	}
	return ""
}
