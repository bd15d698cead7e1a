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

// The palette: only the 8 basic colours, so the Linux console shows the
// same screen as xterm.
var (
	stBody    = tcell.StyleDefault.Foreground(tcell.ColorSilver).Background(tcell.ColorBlack)
	stBar     = tcell.StyleDefault.Foreground(tcell.ColorSilver).Background(tcell.ColorNavy)
	stBarKey  = stBar.Bold(true)
	stTitle   = stBody.Bold(true)
	stGood    = stBody.Foreground(tcell.ColorGreen).Bold(true)
	stWarn    = stBody.Foreground(tcell.ColorOlive).Bold(true)
	stBad     = stBody.Foreground(tcell.ColorMaroon).Bold(true)
	stInfo    = stBody.Foreground(tcell.ColorTeal)
	stBig     = stBody.Foreground(tcell.ColorGreen)
	stBadge   = tcell.StyleDefault.Foreground(tcell.ColorSilver).Background(tcell.ColorMaroon).Bold(true)
	stLangCur = stBar.Reverse(true)
)

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
// than w is cut.
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

// splitCode breaks a receipt code into lines of at most w columns after its
// '|' separators, so each line can be read and typed in one go.
func splitCode(code string, w int) []string {
	var out []string
	cur := ""
	for _, f := range strings.SplitAfter(code, "|") {
		if cur != "" && width(cur)+width(f) > w {
			out = append(out, cur)
			cur = ""
		}
		cur += f
	}
	if cur != "" {
		out = append(out, cur)
	}
	var res []string
	for _, l := range out {
		for width(l) > w {
			res = append(res, l[:w])
			l = l[w:]
		}
		res = append(res, l)
	}
	return res
}

// screenView draws the whole screen from the UI's state.
type screenView struct {
	*tview.Box
	u *UI
}

func (v *screenView) Draw(scr tcell.Screen) {
	w, h := scr.Size()
	c := &canvas{scr: scr, w: w, h: h}
	c.fill(0, 0, w, h, stBody)
	u := v.u
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
	bodyTop, bodyH := 1, c.h-2

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
	u.drawFooter(c)

	var lines []line
	var big string
	bigAt := -1 // index in lines after which the big total goes
	add := func(st tcell.Style, s string) {
		for _, l := range wrap(s, bodyW-4) {
			lines = append(lines, line{l, st})
		}
	}
	blank := func() { lines = append(lines, line{}) }

	switch st.Phase {
	case kiosk.PhaseIdle:
		if !u.have {
			add(stInfo, u.t("please_wait"))
			break
		}
		add(stTitle, u.t("tap_card"))
		add(stBody, u.t("tap_card_sub"))
		blank()
		if st.Unclaimed > 0 {
			add(stWarn, u.t("unclaimed", u.money(st.Unclaimed)))
			blank()
		}
		if len(st.Accepted) > 0 {
			vals := make([]string, len(st.Accepted))
			for i, a := range st.Accepted {
				vals[i] = u.money(a)
			}
			add(stBody, u.t("accepted", strings.Join(vals, "  ")))
		}
		if !st.Queue.Online {
			blank()
			add(stWarn, u.t("myq_offline"))
		}
		if len(u.opts.Languages) > 1 {
			blank()
			names := make([]string, len(u.opts.Languages))
			for i, l := range u.opts.Languages {
				names[i] = tr(l, "lang_name")
				if i == u.lang {
					names[i] = "[" + names[i] + "]"
				}
			}
			add(stInfo, u.t("lang_hint")+"  "+strings.Join(names, " · "))
		}
	case kiosk.PhaseLookingUp:
		add(stTitle, u.t("looking_up"))
		if st.Card != "" {
			add(stBody, u.t("card", devices.MaskCard(st.Card)))
		}
		blank()
		add(stInfo, u.t("please_wait"))
	case kiosk.PhaseNotRegistered:
		add(stBad, u.t("not_registered"))
		if st.Card != "" {
			add(stBody, u.t("card", devices.MaskCard(st.Card)))
		}
		blank()
		add(stBody, u.t("not_registered_help"))
		if st.Unclaimed > 0 {
			blank()
			add(stWarn, u.t("unclaimed", u.money(st.Unclaimed)))
		}
	case kiosk.PhaseSession:
		u.greeting(add)
		if st.Offline {
			blank()
			add(stWarn, u.t("offline_session"))
		}
		blank()
		add(stBody, u.t("inserted"))
		bigAt = len(lines)
		big = u.money(st.Total)
		blank()
		refused := refusedKey(*st)
		switch {
		case st.MaxReached:
			add(stWarn, u.t("max_reached"))
		case st.BelowMin:
			add(stWarn, u.t("below_min", u.money(st.MinTopup)))
			if refused != "" {
				add(stWarn, u.t(refused))
			}
		case refused != "":
			add(stWarn, u.t(refused))
		default:
			add(stBody, u.t("insert_money"))
		}
		if s, ok := u.countdown(st.FinishAt); ok {
			add(stInfo, u.t("auto_finish", s))
		} else if s, ok := u.countdown(st.CloseAt); ok {
			add(stInfo, u.t("closes_in", s))
		}
	case kiosk.PhaseBooking:
		u.greeting(add)
		blank()
		add(stTitle, u.t("booking", u.money(st.Total)))
		add(stInfo, u.t("please_wait"))
	case kiosk.PhaseCredited, kiosk.PhaseSavedOffline:
		r := st.Receipt
		amount := st.Total
		if r != nil {
			amount = r.Amount
		}
		if st.Phase == kiosk.PhaseCredited {
			add(stGood, u.t("credited", u.money(amount)))
			if st.User != nil && st.User.FullName != "" {
				add(stBody, u.t("credited_to", st.User.FullName))
			}
			if r != nil && r.NewBalance != nil {
				add(stBody, u.t("new_balance", u.money(*r.NewBalance)))
			}
		} else {
			add(stWarn, u.t("saved_offline", u.money(amount)))
			add(stBody, u.t("saved_offline_sub"))
		}
		if code != "" {
			blank()
			add(stBody, u.t("receipt"))
			for _, l := range splitCode(code, bodyW-4) {
				lines = append(lines, line{l, stTitle})
			}
			if m == nil {
				add(stInfo, u.t("qr_too_small"))
			}
			if st.Phase == kiosk.PhaseSavedOffline {
				blank()
				add(stBody, u.t("keep_receipt"))
			}
		}
	case kiosk.PhaseOutOfService:
		add(stBad, u.t("out_of_service"))
		blank()
		if st.OutOfService != "" {
			add(stBody, capitalise(st.OutOfService))
			blank()
		}
		add(stBody, u.t("out_of_service_sub"))
	}

	// Centre the block vertically; lines are left-aligned at a margin when
	// a QR code shares the screen, centred otherwise.
	total := len(lines)
	if bigAt >= 0 {
		total += bigRows + 1
	}
	y := bodyTop + max((bodyH-total)/2, 0)
	for i, l := range lines {
		if i == bigAt {
			bw := bigWidth(big)
			drawBig(c, bodyX+max((bodyW-bw)/2, 0), y, big, stBig)
			y += bigRows + 1
		}
		x := bodyX + 2
		if m == nil {
			x = bodyX + max((bodyW-width(l.s))/2, 0)
		}
		c.text(x, y, l.s, l.st)
		y++
	}
	if bigAt == len(lines) {
		drawBig(c, bodyX+max((bodyW-bigWidth(big))/2, 0), y, big, stBig)
	}
}

func (u *UI) greeting(add func(tcell.Style, string)) {
	st := &u.st
	switch {
	case st.User != nil && st.User.FullName != "":
		add(stTitle, u.t("hello", st.User.FullName))
	case st.User != nil && st.User.Username != "":
		add(stTitle, u.t("hello", st.User.Username))
	case st.Card != "":
		add(stTitle, u.t("hello_card", devices.MaskCard(st.Card)))
	}
	if st.User != nil && st.User.Balance != nil {
		add(stBody, u.t("balance", u.money(*st.User.Balance)))
	}
}

// countdown gives the whole seconds left until at, rounded up, on the
// engine's clock: the engine's Now plus the time since the state arrived.
func (u *UI) countdown(at time.Time) (int, bool) {
	if at.IsZero() {
		return 0, false
	}
	left := at.Sub(u.st.Now) - u.now().Sub(u.recvAt)
	if left <= 0 {
		return 0, true
	}
	return int((left + time.Second - 1) / time.Second), true
}

func (u *UI) drawHeader(c *canvas, w int) {
	hc := &canvas{scr: c.scr, w: w, h: c.h}
	hc.fill(0, 0, w, 1, stBar)
	// Right side first (language, offline badge): they matter more than
	// the title when the header shares the top row with a QR code.
	right := w - 1
	code := strings.ToUpper(u.langCode())
	right -= width(code)
	hc.text(right, 0, code, stBar)
	if u.have && !u.st.Queue.Online {
		b := " " + u.t("myq_offline_badge") + " "
		right -= width(b) + 1
		hc.text(right, 0, b, stBadge)
	}
	room := right - 2
	title := u.t("title")
	for width(title) > room && strings.Contains(title, " ") {
		title = title[:strings.LastIndexByte(title, ' ')] // whole words only
	}
	title = runeTrunc(title, room)
	x := hc.text(1, 0, title, stBarKey)
	if id := u.opts.KioskID; id != "" && x+2+width(id) < right-1 {
		hc.text(x+2, 0, id, stBar)
	}
}

func (u *UI) drawFooter(c *canvas) {
	y := c.h - 1
	c.fill(0, y, c.w, 1, stBar)
	var hints []string
	switch u.st.Phase {
	case kiosk.PhaseIdle:
		if len(u.opts.Languages) > 1 {
			hints = append(hints, u.t("key_lang"))
		}
	case kiosk.PhaseSession:
		hints = append(hints, u.t("key_enter_book"))
		if u.st.Total == 0 {
			hints = append(hints, u.t("key_esc_cancel"))
		}
	case kiosk.PhaseCredited, kiosk.PhaseSavedOffline, kiosk.PhaseNotRegistered:
		hints = append(hints, u.t("key_enter_ok"))
	}
	var extra []string
	for _, f := range u.opts.Footer {
		extra = append(extra, keyName(f.Key, f.Rune)+" "+f.Label)
	}
	all := strings.Join(append(append([]string(nil), hints...), extra...), "  ")
	if len(extra) == 0 || runewidth.StringWidth(all) <= c.w-2 {
		c.text(1, y, all, stBar)
		return
	}
	// The demo's keys do not fit beside the student's: they get the row
	// above, so no key a newcomer needs is cut off.
	c.fill(0, y-1, c.w, 1, stBar)
	c.text(1, y-1, strings.Join(extra, "  "), stBar)
	c.text(1, y, strings.Join(hints, "  "), stBar)
}

// receiptCode signs the receipt on screen once and caches its QR codes.
func (u *UI) receiptCode(r *kiosk.Receipt) string {
	if u.rc.code != "" && u.rc.ref == r.Reference && u.rc.amount == r.Amount {
		return u.rc.code
	}
	code := receipt.Sign(u.opts.ReceiptKey, u.opts.KioskID, r.Reference, r.Amount, r.At)
	u.rc = receiptCache{ref: r.Reference, amount: r.Amount, code: code}
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
