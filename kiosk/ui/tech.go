package ui

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/gdamore/tcell/v2"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk"
)

// Technician is what the technician menu needs from the daemon (which adapts
// the journal and the booking queue to it). Calls may do I/O: the UI makes
// them on its own goroutines, never on the event loop.
type Technician interface {
	// Cash is the money taken since the last cash-up.
	Cash() (CashReport, error)
	// Queue lists finished sessions not yet committed to MyQ.
	Queue() ([]QueueItem, error)
	// FlushNow asks the booking queue to retry now.
	FlushNow()
	// Cashup closes the cash period in the name of by (who emptied the
	// box) and returns what it held.
	Cashup(by string) (CashReport, error)
}

// CashReport is the cash box since a cash-up.
type CashReport struct {
	Since time.Time // the last cash-up; zero when never
	By    string    // who made the last cash-up
	Lines []CashLine
	// Unclaimed is money inserted with no session that no card claimed.
	Unclaimed int64
	// Unrecognised lists cash that matched no configured value ("7 pulses").
	Unrecognised []string
	// Vouchers redeemed since the cash-up: not cash, not in the box, not
	// in Total.
	VoucherCount int
	Vouchers     int64
	// Alerts stay until a technician deals with them (journal damage:
	// kioskctl journal ack-damage); shown above the cash, never cut.
	Alerts []string
}

// Total is the sum of all lines and unclaimed money.
func (r CashReport) Total() int64 {
	t := r.Unclaimed
	for _, l := range r.Lines {
		t += l.Value * int64(l.Count)
	}
	return t
}

// CashLine is one denomination of one device.
type CashLine struct {
	Device string
	Value  int64 // minor units
	Count  int
}

// QueueItem is one session waiting to be booked.
type QueueItem struct {
	Reference      string
	Amount         int64
	User           string // username or full name; empty when only the card is known
	Card           string // masked
	FinishedAt     time.Time
	Attempts       int
	NeedsAttention bool
	LastError      string
}

type techMode int

const (
	techClosed techMode = iota
	techPIN
	techMenu
	techConfirm
)

// techState is the technician overlay, touched only on the event loop.
type techState struct {
	mode    techMode
	pin     string
	tries   int
	busy    bool // checking a PIN or waiting out the delay
	nag     bool // keys came while PINs were not taken: say so
	msg     string
	lastKey time.Time
	cash    *CashReport
	queue   []QueueItem
	dataErr string
	action  string // result of the last action
	name    string // typed at the cash-up prompt
	loadSeq int    // ignores results of loads started before a newer one
}

func (u *UI) openPIN() {
	if u.opts.Technician == nil || u.opts.PINFile == "" {
		u.log.Info("ui: technician key pressed, but no technician menu is configured")
		return
	}
	u.tech = techState{mode: techPIN, lastKey: u.now()}
}

func (u *UI) closeTech() {
	u.tech = techState{}
}

// techKey handles keys while the PIN prompt or the menu is open.
func (u *UI) techKey(ev *tcell.EventKey) {
	t := &u.tech
	t.lastKey = u.now()
	switch t.mode {
	case techPIN:
		if ev.Key() == tcell.KeyEscape {
			u.closeTech()
			return
		}
		if t.busy || u.pinWait() > 0 {
			// Not dropped silently: the screen says to wait.
			if ev.Key() == tcell.KeyRune || ev.Key() == tcell.KeyEnter {
				t.pin, t.nag = "", true
			}
			return
		}
		t.nag = false
		switch ev.Key() {
		case tcell.KeyBackspace, tcell.KeyBackspace2:
			if t.pin != "" {
				t.pin = t.pin[:len(t.pin)-1]
			}
		case tcell.KeyEnter:
			if t.pin == "" {
				return
			}
			pin := t.pin
			t.pin, t.busy, t.msg = "", true, "Checking…"
			u.spawn(func(ctx context.Context) { u.checkPIN(ctx, pin) })
		case tcell.KeyRune:
			if r := ev.Rune(); r >= '0' && r <= '9' && len(t.pin) < maxPINDigits {
				t.pin += string(r)
			}
		}
	case techMenu:
		switch {
		case ev.Key() == tcell.KeyEscape:
			u.closeTech()
		case ev.Key() == tcell.KeyRune:
			switch ev.Rune() {
			case 'f', 'F':
				t.action = "Flush requested…"
				u.spawn(func(ctx context.Context) {
					u.opts.Technician.FlushNow()
					u.loadTechData(ctx, "Flush requested.")
				})
			case 'c', 'C':
				t.mode, t.name = techConfirm, ""
			case 'r', 'R':
				u.refreshTech("")
			}
		}
	case techConfirm:
		switch ev.Key() {
		case tcell.KeyEscape:
			t.mode = techMenu
		case tcell.KeyBackspace, tcell.KeyBackspace2:
			if r := []rune(t.name); len(r) > 0 {
				t.name = string(r[:len(r)-1])
			}
		case tcell.KeyRune:
			if r := ev.Rune(); unicode.IsPrint(r) && len([]rune(t.name)) < maxCashupName {
				t.name += string(r)
			}
		case tcell.KeyEnter:
			by := strings.TrimSpace(t.name)
			if by == "" {
				return // the journal records who emptied the box
			}
			t.mode, t.action = techMenu, "Cash-up running…"
			u.spawn(func(ctx context.Context) {
				rep, err := u.opts.Technician.Cashup(by)
				msg := ""
				if err != nil {
					msg = "Cash-up FAILED: " + err.Error()
				} else {
					msg = fmt.Sprintf("Cash-up by %s done: %s taken out (period since %s).", by, u.techMoney(rep.Total()), stamp(rep.Since))
				}
				u.loadTechData(ctx, msg)
			})
		}
	}
}

// maxCashupName bounds the name typed at the cash-up prompt.
const maxCashupName = 40

// checkPIN runs off the event loop: reading the file and the slow hash.
func (u *UI) checkPIN(ctx context.Context, pin string) {
	if u.pinWait() > 0 { // the lockout began while this PIN was typed
		u.update(func() { u.tech.busy, u.tech.nag = false, true })
		return
	}
	ok := false
	stored, err := ReadPINFile(u.opts.PINFile)
	if err == nil {
		ok, err = CheckPIN(stored, pin)
	}
	if err != nil {
		u.log.Error("ui: technician pin", "err", err)
	}
	lock := u.opts.PINLock
	if ok {
		if lock != nil {
			if err := lock.Succeeded(); err != nil {
				u.log.Error("ui: technician pin lockout", "err", err)
			}
		}
		u.log.Info("ui: technician menu opened")
		u.update(func() {
			if u.tech.mode == techPIN {
				u.tech = techState{mode: techMenu, lastKey: u.now(), action: "Loading…"}
				u.refreshTech("")
			}
		})
		return
	}
	var wait time.Duration
	left := -1
	if err == nil { // a wrong PIN, not a broken PIN file
		if u.opts.OnPINFailure != nil {
			u.opts.OnPINFailure()
		}
		if lock != nil {
			var lerr error
			if wait, lerr = lock.Failed(); lerr != nil {
				u.log.Error("ui: technician pin lockout", "err", lerr)
			}
			left = lock.Left()
		}
	}
	u.log.Warn("ui: wrong technician pin", "lockout", wait)
	u.update(func() {
		if u.tech.mode != techPIN {
			return
		}
		u.tech.tries++
		switch {
		case err != nil:
			u.tech.msg = "PIN file unusable: see the log"
		case wait > 0:
			u.tech.msg = "Wrong PIN"
		case left > 0:
			u.tech.msg = fmt.Sprintf("Wrong PIN (%d of %d); %d more before a wait", u.tech.tries, maxPINTries, left)
		default:
			u.tech.msg = fmt.Sprintf("Wrong PIN (%d of %d)", u.tech.tries, maxPINTries)
		}
	})
	// The delay makes guessing slow; it runs here, not on the event loop.
	select {
	case <-ctx.Done():
		return
	case <-time.After(u.pinDelay):
	}
	u.update(func() {
		if u.tech.mode != techPIN {
			return
		}
		// A lockout keeps the prompt open: it shows the time left.
		if u.tech.tries >= maxPINTries && u.pinWait() == 0 {
			u.closeTech()
			return
		}
		u.tech.busy = false
	})
}

// refreshTech reloads the menu's data. On the event loop.
func (u *UI) refreshTech(msg string) {
	u.spawn(func(ctx context.Context) { u.loadTechData(ctx, msg) })
}

// loadTechData fetches cash and queue off the event loop.
func (u *UI) loadTechData(ctx context.Context, msg string) {
	cash, cerr := u.opts.Technician.Cash()
	queue, qerr := u.opts.Technician.Queue()
	u.update(func() {
		if u.tech.mode == techClosed {
			return
		}
		var errs []string
		if cerr != nil {
			errs = append(errs, "cash: "+cerr.Error())
		} else {
			u.tech.cash = &cash
		}
		if qerr != nil {
			errs = append(errs, "queue: "+qerr.Error())
		} else {
			u.tech.queue = queue
		}
		u.tech.dataErr = strings.Join(errs, "; ")
		u.tech.action = msg
	})
}

func (u *UI) techMoney(m int64) string { return FormatMoney("en", u.currency(), m) }

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// drawTech draws the PIN prompt or the technician menu (English only).
func (u *UI) drawTech(c *canvas) {
	t := &u.tech
	c.fill(0, 0, c.w, 1, u.p.bar)
	c.text(1, 0, "Technician", u.p.barKey)
	if u.opts.KioskID != "" {
		c.text(13, 0, u.opts.KioskID, u.p.bar)
	}
	c.fill(0, c.h-1, c.w, 1, u.p.bar)
	left := u.techTimeout - u.now().Sub(t.lastKey)
	closes := fmt.Sprintf("closes in %d s without keys", max(int((left+time.Second-1)/time.Second), 0))
	c.text(c.w-1-width(closes), 0, closes, u.p.bar)

	if t.mode == techPIN {
		y := c.h/2 - 2
		label := "Technician PIN: " + strings.Repeat("*", len(t.pin)) + "_"
		wait := u.pinWait()
		switch {
		case wait > 0:
			label = "Technician PIN: locked"
		case t.busy:
			label = "Technician PIN: please wait"
		}
		c.text((c.w-width(label))/2, y, label, u.p.title)
		if wait > 0 {
			msg := "Too many wrong PINs: try again in " + FormatWait(wait)
			c.text(max((c.w-width(msg))/2, 0), y+2, msg, u.p.bad)
			if t.nag {
				msg = "Please wait: no PIN is taken until then."
				c.text(max((c.w-width(msg))/2, 0), y+4, msg, u.p.warn)
			}
		} else if t.nag && t.busy {
			msg := "Please wait…"
			c.text((c.w-width(msg))/2, y+4, msg, u.p.warn)
		}
		if t.msg != "" && wait == 0 {
			st := u.p.info
			if strings.HasPrefix(t.msg, "Wrong") || strings.HasPrefix(t.msg, "PIN file") {
				st = u.p.bad
			}
			c.text((c.w-width(t.msg))/2, y+2, t.msg, st)
		}
		c.text(1, c.h-1, "digits, Enter: open   Esc: back to the kiosk screen", u.p.bar)
		return
	}

	now := u.now()
	y := 2
	put := func(x int, s string, st tcell.Style) {
		if y < c.h-2 {
			c.text(x, y, runeTrunc(s, c.w-x-1), st)
		}
	}
	put(1, "Devices", u.p.title)
	y++
	devs := sortedDevices(u.st.Devices)
	if len(devs) == 0 {
		put(3, "no device has reported yet", u.p.info)
		y++
	}
	for _, d := range devs {
		st := u.p.good
		if !d.Status.Healthy() {
			st = u.p.bad
		}
		put(3, fmt.Sprintf("%-10s", d.Device), u.p.body)
		put(14, fmt.Sprintf("%-16s", d.Status), st)
		// The age first: a long detail (a port path, an error) wraps
		// onto one more line rather than cutting it off.
		age := ago(now, d.At) + " ago"
		if d.Detail != "" {
			age += ", " + d.Detail
		}
		lines := wrap(age, c.w-31-1)
		for i, l := range lines {
			if i == 2 {
				break
			}
			put(31, l, u.p.body)
			y++
		}
		if len(lines) == 0 {
			y++
		}
	}
	for _, f := range u.st.Cashboxes {
		if f.Capacity > 0 {
			st := u.p.body
			if f.NearFull {
				st = u.p.warn
			}
			put(3, cashboxLine(f), st)
			y++
		}
	}
	y++
	q := u.st.Queue
	online := "MyQ online"
	if !q.Online {
		online = "MyQ OFFLINE"
	}
	oldest := ""
	if q.Pending > 0 && !q.OldestPending.IsZero() {
		oldest = fmt.Sprintf(", oldest %s ago", ago(now, q.OldestPending))
	}
	put(1, fmt.Sprintf("Queue: %d pending, %d need attention%s, %s", q.Pending, q.NeedsAttention, oldest, online), u.p.title)
	y++
	if q.LastError != "" {
		put(3, "last error: "+q.LastError, u.p.bad)
		y++
	}
	for i, it := range t.queue {
		if i >= 5 {
			put(3, fmt.Sprintf("… and %d more", len(t.queue)-i), u.p.info)
			y++
			break
		}
		who := it.User
		if who == "" {
			who = "card " + devices.MaskCard(it.Card)
		}
		st := u.p.body
		flag := ""
		if it.NeedsAttention {
			st, flag = u.p.bad, " NEEDS ATTENTION"
		}
		put(3, fmt.Sprintf("%s  %s  %s  %d tries%s", it.Reference, u.techMoney(it.Amount), who, it.Attempts, flag), st)
		y++
		// The reason says how to fix it: wrapped, never cut.
		for _, l := range wrap(it.LastError, c.w-7) {
			put(5, l, st)
			y++
		}
	}
	y++
	if t.cash != nil {
		since := "no cash-up yet"
		if !t.cash.Since.IsZero() {
			since = "since the cash-up of " + stamp(t.cash.Since)
			if t.cash.By != "" {
				since += " by " + t.cash.By
			}
		}
		for _, a := range t.cash.Alerts {
			for _, l := range wrap("ALERT: "+a, c.w-2) {
				put(1, l, u.p.bad)
				y++
			}
		}
		put(1, fmt.Sprintf("Cash in the box (%s): %s", since, u.techMoney(t.cash.Total())), u.p.title)
		y++
		for _, l := range t.cash.Lines {
			put(3, fmt.Sprintf("%-10s %10s x %4d = %s", l.Device, u.techMoney(l.Value), l.Count, u.techMoney(l.Value*int64(l.Count))), u.p.body)
			y++
		}
		if t.cash.Unclaimed > 0 {
			put(3, "unclaimed (no card tapped): "+u.techMoney(t.cash.Unclaimed), u.p.warn)
			y++
		}
		for _, s := range t.cash.Unrecognised {
			put(3, "unrecognised: "+s, u.p.warn)
			y++
		}
		if t.cash.VoucherCount > 0 {
			put(3, fmt.Sprintf("vouchers (not cash, not in the box): %d, %s", t.cash.VoucherCount, u.techMoney(t.cash.Vouchers)), u.p.body)
			y++
		}
	}
	if t.dataErr != "" {
		put(1, t.dataErr, u.p.bad)
		y++
	}
	if t.action != "" {
		y = max(y, c.h-3)
		put(1, t.action, u.p.info)
	}
	if t.mode == techConfirm {
		var msg []string
		msg = append(msg, wrap("Cash-up: empty the cash box now and start a new period.", c.w-4)...)
		msg = append(msg, wrap("Your name or initials: "+t.name+"_", c.w-4)...)
		msg = append(msg, wrap("Enter = cash-up, Esc = cancel", c.w-4)...)
		top := c.h - 2 - len(msg)
		c.fill(0, top-1, c.w, len(msg)+1, u.p.badge)
		for i, l := range msg {
			c.text(2, top+i, l, u.p.badge)
		}
	}
	c.text(1, c.h-1, "F: flush queue now   C: cash-up   R: refresh   Esc: close", u.p.bar)
}

func runeTrunc(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if width(s) <= w {
		return s
	}
	r := []rune(s)
	for width(string(r)) > w {
		r = r[:len(r)-1]
	}
	return string(r)
}

// cashboxLine is one acceptor's cash-box fill for the technician.
func cashboxLine(f kiosk.CashboxFill) string {
	s := fmt.Sprintf("%-10s cash box %d of %d pieces (%d%%)", f.Device, f.Pieces, f.Capacity, f.Percent)
	switch {
	case f.Refusing:
		s += ": NEAR FULL, refusing cash"
	case f.NearFull:
		s += ": NEAR FULL, cannot refuse"
	}
	return s
}
